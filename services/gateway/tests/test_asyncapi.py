"""The events document: the gateway serves the catalogue as AsyncAPI 3.0 at ``/asyncapi.json``,
valid against the AsyncAPI 3.0.0 JSON Schema, with every catalogue event in it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import jsonschema

from cpd_common.events.catalogue import CATALOGUE, asyncapi_document
from cpd_local.stack import Stack

SCHEMA = Path(__file__).parent / "data" / "asyncapi-3.0.0.schema.json.gz"


def asyncapi_errors(doc: dict[str, Any]) -> list[str]:
    schema = json.loads(gzip.decompress(SCHEMA.read_bytes()))
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


async def test_gateway_serves_a_valid_asyncapi_document_with_every_event(seeded: Stack) -> None:
    resp = await seeded.gateway.get("/asyncapi.json")  # no token: it is documentation
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    doc = resp.json()
    assert doc == json.loads(json.dumps(asyncapi_document()))
    assert doc["asyncapi"] == "3.0.0"
    assert asyncapi_errors(doc) == []

    messages = doc["components"]["messages"]
    assert {m["name"] for m in messages.values()} == set(CATALOGUE)
    for event_type, model in CATALOGUE.items():
        (message,) = [m for m in messages.values() if m["name"] == event_type]
        envelope = message["payload"]["properties"]
        assert envelope["type"]["const"] == event_type
        assert envelope["source"]["const"] == model.source
        assert envelope["data"]["$ref"] == f"#/components/schemas/{model.__name__}"
        channels = [c for c in doc["channels"].values() if c["address"] == model.nats_subject]
        assert len(channels) == 1, event_type
        assert set(model.model_fields) == set(
            doc["components"]["schemas"][model.__name__]["properties"]
        )
    # Each channel is sent on by exactly one operation, naming the channel's messages.
    for channel_id, channel in doc["channels"].items():
        (operation,) = [
            o
            for o in doc["operations"].values()
            if o["channel"]["$ref"] == f"#/channels/{channel_id}"
        ]
        assert operation["action"] == "send"
        assert len(operation["messages"]) == len(channel["messages"])


def test_the_schema_check_rejects_a_broken_document() -> None:
    """The validator is not vacuous: AsyncAPI 2's ``publish`` action and a channel without
    its address map are refused."""
    doc = asyncapi_document()
    operation = next(iter(doc["operations"].values()))
    operation["action"] = "publish"
    assert asyncapi_errors(doc)
    doc = asyncapi_document()
    doc["channels"]["x"] = {"address": 42}
    assert asyncapi_errors(doc)
