"""The event catalogue: every type is versioned, maps to a subject in the stream, and renders
as an AsyncAPI document."""

from __future__ import annotations

import re

from cpd_common.events import catalogue
from cpd_common.events.envelope import nats_subject, source_of

TYPE = re.compile(r"^cpd\.[a-z]+\.[a-z_]+\.[a-z_]+\.v\d+$")


def test_every_event_type_is_versioned_and_has_a_payload_model() -> None:
    for event_type, (model, summary) in catalogue.CATALOGUE.items():
        assert TYPE.match(event_type), event_type
        assert issubclass(model, catalogue.Payload)
        assert summary
        assert nats_subject(event_type).startswith("cpd.")
        assert source_of(event_type) == "cpd/" + event_type.split(".")[1]


def test_design_catalogue_is_covered() -> None:
    expected = {
        "cpd.directory.person.upserted.v1",
        "cpd.directory.person.erased.v1",
        "cpd.directory.school.upserted.v1",
        "cpd.audit.audit.opened.v1",
        "cpd.audit.audit.closed.v1",
        "cpd.audit.need.recorded.v1",
        "cpd.lessonstudy.study.started.v1",
        "cpd.lessonstudy.lesson.completed.v1",
        "cpd.lessonstudy.study.completed.v1",
    }
    assert expected <= set(catalogue.CATALOGUE)


def test_asyncapi_document_lists_every_channel_and_resolves_refs() -> None:
    doc = catalogue.asyncapi_document()
    assert doc["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {nats_subject(t) for t in catalogue.CATALOGUE}

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            out = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return out + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        target: object = doc
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, ref
            target = target[part]
