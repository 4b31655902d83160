"""Every event the platform publishes: its type and the pydantic model of its ``data``.

Producers build the payload model and hand it to :func:`cpd_common.events.outbox.add_event`;
consumers receive the same model, parsed and validated, in their handler. A change that
would break a consumer gets a new ``.v2`` type beside the old one.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Payload(BaseModel):
    # Consumers accept fields added later (additive changes stay v1).
    model_config = ConfigDict(extra="ignore")


# ---- directory (gateway) ----------------------------------------------------------------

PERSON_UPSERTED = "cpd.directory.person.upserted.v1"
PERSON_ERASED = "cpd.directory.person.erased.v1"
SCHOOL_UPSERTED = "cpd.directory.school.upserted.v1"


class PersonUpserted(Payload):
    """A person was created or changed. Carries what services need for audiences and
    breakdowns, never contact details."""

    person_id: uuid.UUID
    trust_id: uuid.UUID
    school_ids: list[uuid.UUID] = Field(default_factory=list)
    name: str
    staff_group: str | None = None
    department: str | None = None
    career_stage: str | None = None
    fte: float | None = None
    start_date: date | None = None
    line_manager_id: uuid.UUID | None = None
    roles: list[str] = Field(default_factory=list)
    active: bool = True


class PersonErased(Payload):
    """Right to erasure: every service deletes or anonymises what it holds about the person."""

    person_id: uuid.UUID
    trust_id: uuid.UUID


class SchoolUpserted(Payload):
    school_id: uuid.UUID
    trust_id: uuid.UUID
    name: str
    phase: str | None = None


# ---- audit ------------------------------------------------------------------------------

AUDIT_OPENED = "cpd.audit.audit.opened.v1"
AUDIT_CLOSED = "cpd.audit.audit.closed.v1"
NEED_RECORDED = "cpd.audit.need.recorded.v1"


class AuditScope(Payload):
    kind: Literal["school", "schools", "trust"]
    school_ids: list[uuid.UUID] = Field(default_factory=list)


class AuditOpened(Payload):
    audit_id: uuid.UUID
    trust_id: uuid.UUID
    instrument_id: uuid.UUID
    instrument_key: str | None = None
    instrument_version: int
    title: str
    scope: AuditScope
    audience_size: int


class ItemAggregate(Payload):
    """One item's figures over the whole audit. ``withheld`` is set (and figures are null)
    when fewer than the audit's ``min_group_size`` answered."""

    item_key: str
    n: int | None = None
    mean: float | None = None
    sd: float | None = None
    mean_values: float | None = None
    sd_values: float | None = None
    mean_practice: float | None = None
    sd_practice: float | None = None
    gap: float | None = None
    percent_agree: float | None = None
    withheld: str | None = None


class AuditClosed(Payload):
    audit_id: uuid.UUID
    trust_id: uuid.UUID
    instrument_id: uuid.UUID
    instrument_key: str | None = None
    instrument_version: int
    title: str
    scope: AuditScope
    respondent_count: int | None = None
    min_group_size: int
    items: list[ItemAggregate] = Field(default_factory=list)


class NeedRecorded(Payload):
    need_id: uuid.UUID
    trust_id: uuid.UUID
    school_id: uuid.UUID | None = None
    level: Literal["whole_school", "team", "individual"]
    need_types: list[Literal["knowledge", "skills", "attitudes"]] = Field(default_factory=list)
    priority: str | None = None
    audit_id: uuid.UUID | None = None
    item_keys: list[str] = Field(default_factory=list)


# ---- lesson study ---------------------------------------------------------------------------

STUDY_STARTED = "cpd.lessonstudy.study.started.v1"
LESSON_COMPLETED = "cpd.lessonstudy.lesson.completed.v1"
STUDY_COMPLETED = "cpd.lessonstudy.study.completed.v1"


class StudyMember(Payload):
    person_id: uuid.UUID | None = None  # null for an erased "former member"
    role: Literal["teacher", "observer", "facilitator", "knowledgeable_other"]


class StudyStarted(Payload):
    study_id: uuid.UUID
    trust_id: uuid.UUID
    school_ids: list[uuid.UUID]
    title: str
    subject: str | None = None
    year_group: str | None = None
    focus: str
    research_question: str | None = None
    members: list[StudyMember]
    planned_cycles: int


class MemberHours(Payload):
    person_id: uuid.UUID | None = None
    hours: float


class StagePoint(Payload):
    stage: int
    outcome: Literal["met", "partly", "not_yet"] | None = None


class CasePupilProgress(Payload):
    label: str
    starting_point: str | None = None
    success_criteria: str | None = None
    stages: list[StagePoint] = Field(default_factory=list)


class LessonCompleted(Payload):
    study_id: uuid.UUID
    lesson_id: uuid.UUID
    trust_id: uuid.UUID
    school_ids: list[uuid.UUID]
    cycle: int
    case_pupils: list[CasePupilProgress]
    hours: list[MemberHours]


class StudyCompleted(Payload):
    study_id: uuid.UUID
    trust_id: uuid.UUID
    school_ids: list[uuid.UUID]
    cycles_completed: int
    findings: list[str]
    hours: list[MemberHours]


CATALOGUE: dict[str, tuple[type[Payload], str]] = {
    PERSON_UPSERTED: (PersonUpserted, "A person was created or changed in the directory."),
    PERSON_ERASED: (PersonErased, "A person exercised the right to erasure."),
    SCHOOL_UPSERTED: (SchoolUpserted, "A school was created or changed."),
    AUDIT_OPENED: (AuditOpened, "An audit round opened for responses."),
    AUDIT_CLOSED: (AuditClosed, "An audit round closed; carries suppressed per-item aggregates."),
    NEED_RECORDED: (NeedRecorded, "A CPD need was recorded in the needs register."),
    STUDY_STARTED: (StudyStarted, "A lesson study's members were fixed and its cycles began."),
    LESSON_COMPLETED: (LessonCompleted, "A research lesson's post-lesson discussion is done."),
    STUDY_COMPLETED: (StudyCompleted, "A lesson study's findings were agreed."),
}


def payload_model(event_type: str) -> type[Payload]:
    try:
        return CATALOGUE[event_type][0]
    except KeyError as exc:
        raise KeyError(f"unknown event type {event_type!r}") from exc


def asyncapi_document() -> dict[str, Any]:
    """The catalogue as an AsyncAPI 3.0 document (channels = NATS subjects)."""
    from cpd_common.events.envelope import nats_subject

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, (model, summary) in CATALOGUE.items():
        name = model.__name__
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub_name, sub in schema.pop("$defs", {}).items():
            schemas[sub_name] = sub
        schemas[name] = schema
        messages[name] = {
            "name": event_type,
            "summary": summary,
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
        }
        channel_id = nats_subject(event_type).replace(".", "_")
        channels[channel_id] = {
            "address": nats_subject(event_type),
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": summary,
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "CPD platform events", "version": "1.0.0"},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
