"""Every event the platform publishes: the pydantic model of its ``data``, which declares
the event's type, version and subject.

``class AuditOpened(Event, type="cpd.audit.audit.opened", version=1, subject="audit_id")``
registers ``cpd.audit.audit.opened.v1`` in :data:`CATALOGUE`; the first paragraph of the
class docstring is its summary. Producers hand an instance to :func:`cpd_common.events.add`, which
derives the type, the NATS subject and the envelope from it; consumers register handlers by
class and receive the same model, parsed and validated. A change that would break a consumer
gets a new class with ``version=2`` beside the old one.

Why this file is long: it is the one list of every event of the platform, read whole by
producers, consumers, the AsyncAPI document and ``docs/events.md`` (checked by
``tests/test_docs.py``); each area appends its events in its own section.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

TYPE_PATTERN = r"^cpd\.[a-z]+\.[a-z_]+\.[a-z_]+$"


class Payload(BaseModel):
    """A part of an event's ``data``. Consumers accept fields added later (additive changes
    stay the same version)."""

    model_config = ConfigDict(extra="ignore")


class Event(Payload):
    """An event's ``data``: subclasses declare ``type``, ``version`` and ``subject`` (the field
    holding the id of what the event is about: the CloudEvents ``subject``)."""

    event_type: ClassVar[str]
    """``cpd.<service>.<entity>.<event>.v<version>``: the CloudEvents ``type``."""
    nats_subject: ClassVar[str]
    """``cpd.<service>.<entity>.<event>``: where it travels in the stream."""
    subject_field: ClassVar[str]
    """The field whose value is the CloudEvents ``subject``: the id of what it is about."""
    source: ClassVar[str]
    """``cpd/<service>``: the CloudEvents ``source``."""

    trust_id: uuid.UUID
    """Every event belongs to one trust (the envelope's ``trustid``)."""

    def __init_subclass__(cls, *, type: str, version: int, subject: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not re.match(TYPE_PATTERN, type):
            raise TypeError(f"{cls.__name__}: type {type!r} is not cpd.<service>.<entity>.<event>")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise TypeError(f"{cls.__name__}: version must be a positive int")
        cls.event_type = f"{type}.v{version}"
        cls.nats_subject = type
        cls.source = "cpd/" + type.split(".")[1]
        cls.subject_field = subject

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.subject_field not in cls.model_fields:
            raise TypeError(f"{cls.__name__}: subject field {cls.subject_field!r} is not a field")
        if cls.event_type in CATALOGUE:
            raise TypeError(f"{cls.event_type} is declared twice")
        CATALOGUE[cls.event_type] = cls

    @classmethod
    def summary(cls) -> str:
        """The docstring's first paragraph."""
        return " ".join((cls.__doc__ or cls.__name__).strip().split("\n\n")[0].split())

    def subject_id(self) -> str:
        return str(getattr(self, self.subject_field))


CATALOGUE: dict[str, type[Event]] = {}
"""Every declared event class by its type (``cpd....v1``), filled as the classes are defined."""


# ---- directory (gateway) ----------------------------------------------------------------


class PersonUpserted(Event, type="cpd.directory.person.upserted", version=1, subject="person_id"):
    """A person was created or changed in the directory.

    Carries what services need for audiences and breakdowns, never contact details."""

    person_id: uuid.UUID
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


class PersonErased(Event, type="cpd.directory.person.erased", version=1, subject="person_id"):
    """A person exercised the right to erasure.

    Every service deletes or anonymises what it holds about the person."""

    person_id: uuid.UUID


class ClientRevoked(Event, type="cpd.directory.client.revoked", version=1, subject="client_id"):
    """An API client was revoked.

    Its tokens stop working at every service at once."""

    client_id: str


class SchoolUpserted(Event, type="cpd.directory.school.upserted", version=1, subject="school_id"):
    """A school was created or changed."""

    school_id: uuid.UUID
    name: str
    phase: str | None = None


# ---- erasure confirmations (each service, read by the gateway's erasure report) ----------


class AuditErasureCompleted(
    Event, type="cpd.audit.erasure.completed", version=1, subject="person_id"
):
    """The audit service finished erasing a person (after `directory.person.erased`).

    Published in the same transaction as the erasure, so it is never told before it is done."""

    person_id: uuid.UUID


class LessonStudyErasureCompleted(
    Event, type="cpd.lessonstudy.erasure.completed", version=1, subject="person_id"
):
    """The lesson study service finished erasing a person (after `directory.person.erased`).

    Published in the same transaction as the erasure, so it is never told before it is done."""

    person_id: uuid.UUID


class EvaluationErasureCompleted(
    Event, type="cpd.evaluation.erasure.completed", version=1, subject="person_id"
):
    """The evaluation service finished erasing a person (after `directory.person.erased`).

    Published in the same transaction as the erasure, so it is never told before it is done."""

    person_id: uuid.UUID


# ---- audit ------------------------------------------------------------------------------


class AuditScope(Payload):
    kind: Literal["school", "schools", "trust"]
    school_ids: list[uuid.UUID] = Field(default_factory=list)


class AuditOpened(Event, type="cpd.audit.audit.opened", version=1, subject="audit_id"):
    """An audit round opened for responses."""

    audit_id: uuid.UUID
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


class AuditClosed(Event, type="cpd.audit.audit.closed", version=1, subject="audit_id"):
    """An audit round closed.

    Carries the per-item aggregates exactly as the results show them (suppressed)."""

    audit_id: uuid.UUID
    instrument_id: uuid.UUID
    instrument_key: str | None = None
    instrument_version: int
    title: str
    scope: AuditScope
    respondent_count: int | None = None
    min_group_size: int
    items: list[ItemAggregate] = Field(default_factory=list)


class NeedRecorded(Event, type="cpd.audit.need.recorded", version=1, subject="need_id"):
    """A CPD need was recorded in the needs register."""

    need_id: uuid.UUID
    school_id: uuid.UUID | None = None
    level: Literal["whole_school", "team", "individual"]
    need_types: list[Literal["knowledge", "skills", "attitudes"]] = Field(default_factory=list)
    priority: str | None = None
    audit_id: uuid.UUID | None = None
    item_keys: list[str] = Field(default_factory=list)


# ---- lesson study ---------------------------------------------------------------------------


class StudyMember(Payload):
    person_id: uuid.UUID | None = None  # null for an erased "former member"
    role: Literal["teacher", "observer", "facilitator", "knowledgeable_other"]


class StudyStarted(Event, type="cpd.lessonstudy.study.started", version=1, subject="study_id"):
    """A lesson study's members were fixed and its cycles began."""

    study_id: uuid.UUID
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


class LessonCompleted(
    Event, type="cpd.lessonstudy.lesson.completed", version=1, subject="lesson_id"
):
    """A research lesson's post-lesson discussion is done."""

    study_id: uuid.UUID
    lesson_id: uuid.UUID
    school_ids: list[uuid.UUID]
    cycle: int
    # The day the lesson was taught (added later: older events lack it).
    taught_on: date | None = None
    case_pupils: list[CasePupilProgress]
    hours: list[MemberHours]


class StudyCompleted(Event, type="cpd.lessonstudy.study.completed", version=1, subject="study_id"):
    """A lesson study's findings were agreed."""

    study_id: uuid.UUID
    school_ids: list[uuid.UUID]
    cycles_completed: int
    findings: list[str]
    hours: list[MemberHours]


# ---- collaborative enquiry (lesson study service) ---------------------------------------------

EnquiryStage = Literal[
    "question", "data_collection", "analysis", "validity_checking", "replication", "reporting"
]


class EnquiryMember(Payload):
    person_id: uuid.UUID | None = None  # null for an erased "former member"
    role: Literal["coordinator", "member"]


class EnquiryStarted(
    Event, type="cpd.lessonstudy.enquiry.started", version=1, subject="enquiry_id"
):
    """A classroom action enquiry began collecting data.

    Its members are the people taking part in it as CPD."""

    enquiry_id: uuid.UUID
    school_ids: list[uuid.UUID]
    title: str
    subject: str | None = None
    question: str
    members: list[EnquiryMember]
    need_ids: list[uuid.UUID] = Field(default_factory=list)
    community_id: uuid.UUID | None = None
    replicates_enquiry_id: uuid.UUID | None = None
    starts_on: date | None = None
    ends_on: date | None = None


class EnquiryCompleted(
    Event, type="cpd.lessonstudy.enquiry.completed", version=1, subject="enquiry_id"
):
    """A classroom action enquiry was completed.

    Carries the stages it reached and each member's hours (null person for a former member)."""

    enquiry_id: uuid.UUID
    school_ids: list[uuid.UUID]
    title: str
    subject: str | None = None
    stages_reached: list[EnquiryStage]
    findings: list[str] = Field(default_factory=list)
    replicates_enquiry_id: uuid.UUID | None = None
    community_id: uuid.UUID | None = None
    completed_on: date | None = None
    hours: list[MemberHours]


class CommunityMeetingHeld(
    Event, type="cpd.lessonstudy.community.meeting_held", version=1, subject="meeting_id"
):
    """A learning community met.

    Each member who attended spent the meeting's hours."""

    community_id: uuid.UUID
    meeting_id: uuid.UUID
    school_ids: list[uuid.UUID]
    name: str
    held_on: date
    cycle: int | None = None
    hours: list[MemberHours]


# ---- evaluation ---------------------------------------------------------------------------


class ActivityRecorded(
    Event, type="cpd.evaluation.activity.recorded", version=1, subject="activity_id"
):
    """A CPD activity was recorded or changed.

    Consumers upsert by ``activity_id``; ``removed`` is set when it was deleted as recorded
    in error. Whether it is sustained is derived from its sessions."""

    activity_id: uuid.UUID
    school_ids: list[uuid.UUID]
    title: str
    kind: str
    status: Literal["active", "cancelled"]
    provider_id: uuid.UUID | None = None
    subject_specific: bool
    subject: str | None = None
    need_ids: list[uuid.UUID] = Field(default_factory=list)
    starts_on: date | None = None
    ends_on: date | None = None
    sustained: bool
    total_cost: float
    # `manual`, or the service whose events it comes from (`lessonstudy`) and that id.
    origin: str
    origin_id: uuid.UUID | None = None
    removed: bool = False


class ParticipationRecorded(
    Event, type="cpd.evaluation.participation.recorded", version=1, subject="participation_id"
):
    """A person's participation in a CPD activity was recorded, changed or removed.

    Consumers upsert by ``participation_id``; ``person_id`` is null once the person was
    erased; ``hours`` are the hours that count for the person."""

    participation_id: uuid.UUID
    activity_id: uuid.UUID
    person_id: uuid.UUID | None = None
    role: str
    hours: float
    removed: bool = False


class FollowUpDue(Event, type="cpd.evaluation.follow_up.due", version=1, subject="item_id"):
    """Something to follow up on a CPD activity fell due: a gap task, a delegate's impact
    report, the next coaching session or feedback still to give. Told once per item and due
    date (a new due date is a new notice).

    ``item_id`` is the participation (gap task, impact report, feedback) or the coaching log
    entry that set the next session; ``person_ids`` are who it is due from."""

    kind: Literal["gap_task", "impact_report", "coaching_session", "feedback"]
    item_id: uuid.UUID
    activity_id: uuid.UUID
    school_ids: list[uuid.UUID]
    person_ids: list[uuid.UUID]
    due_on: date


class EvaluationDataDue(
    Event, type="cpd.evaluation.evaluation.data_due", version=1, subject="evaluation_id"
):
    """A data point of an evaluation plan fell due and is not captured yet: the baseline, the
    short-term or medium-term outcome data, or the report. Told once per point and due date.

    ``person_ids`` holds the person responsible for the plan (empty when none is named);
    ``school_ids`` are the plan's schools, whose leaders follow it up."""

    evaluation_id: uuid.UUID
    point: Literal["baseline", "short_term", "medium_term", "report"]
    school_ids: list[uuid.UUID]
    person_ids: list[uuid.UUID]
    due_on: date


class EvaluationReported(
    Event, type="cpd.evaluation.evaluation.reported", version=1, subject="evaluation_id"
):
    """An evaluation plan reached the status reported: its findings went to those it names.

    Told once per plan (a plan's status never goes back). ``activity_ids`` are the activities
    it evaluated; the report itself is read at ``/v1/evaluations/{id}/report``."""

    evaluation_id: uuid.UUID
    title: str
    school_ids: list[uuid.UUID]
    activity_ids: list[uuid.UUID]
    levels: list[str]
    reported_at: datetime


class RequestSubmitted(
    Event, type="cpd.evaluation.request.submitted", version=1, subject="request_id"
):
    """A member of staff asked for a place on a programme run or for support with
    professional study. ``decided_by_trust`` says whether the trust team (trust-funded
    places) or a leader of ``school_id`` decides."""

    request_id: uuid.UUID
    person_id: uuid.UUID | None = None
    school_id: uuid.UUID
    kind: Literal["place", "study"]
    run_id: uuid.UUID | None = None
    programme_id: uuid.UUID | None = None
    starts_on: date
    cost: float
    decided_by_trust: bool


class RequestDecided(Event, type="cpd.evaluation.request.decided", version=1, subject="request_id"):
    """A request was approved or declined (with the reason given)."""

    request_id: uuid.UUID
    person_id: uuid.UUID | None = None
    school_id: uuid.UUID
    kind: Literal["place", "study"]
    decision: Literal["approved", "declined"]
    decided_by: uuid.UUID | None = None
    cost: float


class PlaceBooked(Event, type="cpd.evaluation.place.booked", version=1, subject="request_id"):
    """An approved request booked a place on a run: the person joined the run's activity."""

    request_id: uuid.UUID
    run_id: uuid.UUID
    programme_id: uuid.UUID
    activity_id: uuid.UUID
    person_id: uuid.UUID | None = None
    participation_id: uuid.UUID | None = None
    places_left: int


class RequestCancelled(
    Event, type="cpd.evaluation.request.cancelled", version=1, subject="request_id"
):
    """A request was withdrawn or cancelled (with its run); a booked place and the committed
    cost were released."""

    request_id: uuid.UUID
    person_id: uuid.UUID | None = None
    school_id: uuid.UUID
    released_place: bool


def asyncapi_document() -> dict[str, Any]:
    """The catalogue as an AsyncAPI 3.0 document: a channel per NATS subject, a message per
    event type (the CloudEvents envelope with the event's model as ``data``), and the
    operation of the service that sends it."""
    from cpd_common.events.envelope import SPEC_VERSION

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, model in sorted(CATALOGUE.items()):
        name = model.__name__ if model.event_type.endswith(".v1") else model.event_type
        name = name.replace(".", "_")
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        messages[name] = {
            "name": event_type,
            "title": model.__name__,
            "summary": model.summary(),
            "description": (model.__doc__ or "").strip(),
            "contentType": "application/cloudevents+json",
            "payload": {
                "type": "object",
                "required": ["specversion", "id", "source", "type", "subject", "time", "data"],
                "properties": {
                    "specversion": {"type": "string", "const": SPEC_VERSION},
                    "id": {"type": "string", "description": "UUIDv7; Nats-Msg-Id"},
                    "source": {"type": "string", "const": model.source},
                    "type": {"type": "string", "const": event_type},
                    "subject": {
                        "type": "string",
                        "description": f"The event's {model.subject_field}.",
                    },
                    "time": {"type": "string", "format": "date-time"},
                    "datacontenttype": {"type": "string", "const": "application/json"},
                    "trustid": {"type": "string", "format": "uuid"},
                    "data": {"$ref": f"#/components/schemas/{model.__name__}"},
                },
            },
        }
        channel_id = model.nats_subject.replace(".", "_")
        channel = channels.setdefault(channel_id, {"address": model.nats_subject, "messages": {}})
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        operation = operations.setdefault(
            f"send_{channel_id}",
            {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"{model.source} publishes on {model.nats_subject}.",
                "messages": [],
            },
        )
        operation["messages"].append({"$ref": f"#/channels/{channel_id}/messages/{name}"})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CPD platform events",
            "version": "1.0.0",
            "description": "Every integration event, as carried by the NATS JetStream stream "
            "`CPD` (subjects `cpd.>`), in CloudEvents 1.0 structured JSON.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
