"""A CPD record to take elsewhere: CSV for a spreadsheet, xAPI 2.0 statements for a learning
record store."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from cpd_common.csv_safety import safe_cell
from cpd_evaluation.records.schemas import CpdRecord, RecordActivity
from cpd_evaluation.terms import KIND_LABELS

COLUMNS = [
    "academic_year",
    "activity_id",
    "title",
    "kind",
    "role",
    "starts_on",
    "ends_on",
    "hours",
    "hours_basis",
    "subject_specific",
    "subject",
    "sustained",
]

XAPI_BASE = "https://cpd.example/xapi"
XAPI_VERSION = "2.0.0"
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
MEETING_TYPE = "http://adlnet.gov/expapi/activities/meeting"
COURSE_KINDS = frozenset({"course", "online_course", "accredited_programme"})
STATEMENT_NAMESPACE = uuid.UUID("3f7b9a1e-6c2d-5e8f-a0b1-c2d3e4f5a6b7")


def neutralise(value: Any) -> str:
    """A cell as text: yes/no for flags, formulas neutralised (CSV injection)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return safe_cell(value)


def to_csv(record: CpdRecord) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for a in record.activities:
        row = {"academic_year": record.academic_year, **a.model_dump(mode="json")}
        writer.writerow([neutralise(row.get(c)) for c in COLUMNS])
    for label, hours in (
        ("Total", record.total_hours),
        ("Pro-rated entitlement", record.entitlement.target_hours),
    ):
        summary = {"academic_year": record.academic_year, "title": label, "hours": hours}
        writer.writerow([neutralise(summary.get(c)) for c in COLUMNS])
    return out.getvalue()


def _duration(hours: float) -> str:
    minutes = round(hours * 60)
    return f"PT{minutes // 60}H{minutes % 60}M"


def _activity_type(kind: str) -> str:
    if kind in COURSE_KINDS:
        return COURSE_TYPE
    if kind in {"inset", "conference"}:
        return MEETING_TYPE
    return f"{XAPI_BASE}/activity-types/{kind}"


def statement(record: CpdRecord, a: RecordActivity) -> dict[str, Any]:
    """One xAPI 2.0 statement: the person attended the activity, with the hours that count."""
    when = a.starts_on or record.period_start
    return {
        "id": str(uuid.uuid5(STATEMENT_NAMESPACE, f"{record.person_id}:{a.activity_id}")),
        "actor": {
            "objectType": "Agent",
            "name": record.name,
            "account": {"homePage": "https://cpd.example", "name": str(record.person_id)},
        },
        "verb": {"id": ATTENDED, "display": {"en-GB": "attended"}},
        "object": {
            "objectType": "Activity",
            "id": f"https://cpd.example/activities/{a.activity_id}",
            "definition": {
                "name": {"en-GB": a.title},
                "description": {"en-GB": KIND_LABELS.get(a.kind, a.kind)},
                "type": _activity_type(a.kind),
                "extensions": {
                    f"{XAPI_BASE}/extensions/kind": a.kind,
                    f"{XAPI_BASE}/extensions/subject-specific": a.subject_specific,
                    f"{XAPI_BASE}/extensions/subject": a.subject,
                    f"{XAPI_BASE}/extensions/sustained": a.sustained,
                },
            },
        },
        "result": {
            "duration": _duration(a.hours),
            "extensions": {
                f"{XAPI_BASE}/extensions/hours": a.hours,
                f"{XAPI_BASE}/extensions/hours-basis": a.hours_basis,
            },
        },
        "context": {
            "platform": "CPD platform",
            "language": "en-GB",
            "extensions": {
                f"{XAPI_BASE}/extensions/academic-year": record.academic_year,
                f"{XAPI_BASE}/extensions/role": a.role,
            },
        },
        "timestamp": f"{when.isoformat()}T00:00:00Z",
        "version": XAPI_VERSION,
    }


def to_xapi(record: CpdRecord) -> list[dict[str, Any]]:
    return [statement(record, a) for a in record.activities]
