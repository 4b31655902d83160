"""The event catalogue: every event class declares a versioned type, a subject in the stream
and a subject field; a mismatched or duplicated declaration is refused; the catalogue renders
as an AsyncAPI document whose references all resolve."""

from __future__ import annotations

import re
import uuid

import pytest

from cpd_common import events
from cpd_common.events import catalogue

TYPE = re.compile(r"^cpd\.[a-z]+\.[a-z_]+\.[a-z_]+\.v\d+$")


class _Session:
    """Stands in for the session: ``events.add`` only adds the outbox row."""

    def __init__(self) -> None:
        self.rows: list[object] = []

    def add(self, row: object) -> None:
        self.rows.append(row)


def test_every_event_type_is_versioned_and_has_a_payload_model() -> None:
    for event_type, model in catalogue.CATALOGUE.items():
        assert TYPE.match(event_type), event_type
        assert model.event_type == event_type
        assert issubclass(model, catalogue.Event)
        assert model.summary()
        assert event_type == f"{model.nats_subject}.v1"
        assert model.source == "cpd/" + event_type.split(".")[1]
        assert model.subject_field in model.model_fields


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


def test_add_derives_type_subject_and_envelope_from_the_event() -> None:
    session = _Session()
    need_id, trust_id = uuid.uuid4(), uuid.uuid4()
    envelope = events.add(
        session,  # type: ignore[arg-type]
        catalogue.NeedRecorded(need_id=need_id, trust_id=trust_id, level="whole_school"),
    )
    (row,) = session.rows
    assert isinstance(row, events.outbox.OutboxRecord)
    assert row.type == envelope.type == "cpd.audit.need.recorded.v1"
    assert row.subject == "cpd.audit.need.recorded"
    assert row.event_id == uuid.UUID(envelope.id)
    assert envelope.source == "cpd/audit"
    assert envelope.subject == str(need_id)
    assert envelope.trustid == str(trust_id)
    assert row.envelope["data"]["need_id"] == str(need_id)


def test_a_bad_declaration_is_refused() -> None:
    with pytest.raises(TypeError, match="declared twice"):

        class Again(catalogue.Event, type="cpd.audit.audit.opened", version=1, subject="audit_id"):
            audit_id: uuid.UUID

    with pytest.raises(TypeError, match="not a field"):

        class NoSubject(catalogue.Event, type="cpd.test.thing.made", version=1, subject="x_id"):
            y_id: uuid.UUID

    with pytest.raises(TypeError, match="version"):

        class NoVersion(catalogue.Event, type="cpd.test.thing.made", version=0, subject="x_id"):
            x_id: uuid.UUID

    with pytest.raises(TypeError, match="is not cpd"):

        class Versioned(catalogue.Event, type="cpd.test.thing.made.v1", version=1, subject="x"):
            x: uuid.UUID

    assert "cpd.test.thing.made.v1" not in catalogue.CATALOGUE


def test_asyncapi_document_lists_every_channel_and_resolves_refs() -> None:
    doc = catalogue.asyncapi_document()
    assert doc["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {m.nats_subject for m in catalogue.CATALOGUE.values()}

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
