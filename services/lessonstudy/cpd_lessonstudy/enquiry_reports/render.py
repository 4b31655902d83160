"""The enquiry report as HTML, from a Jinja2 template with autoescaping on: every piece of text
a user wrote is escaped by the template engine, never by hand."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cpd_lessonstudy.enquiry_reports.service import EnquiryRecord

TEMPLATES = Path(__file__).parent / "templates"

STATUS_WORDS = {
    "planning": "framing its question",
    "active": "collecting and analysing data",
    "completed": "completed",
}
STAGE_WORDS = {
    "question": "(a) a clear, focused question",
    "data_collection": "(b) collection of relevant data",
    "analysis": "(c) systematic analysis",
    "validity_checking": "(d) validity checking",
    "replication": "(e) replication",
    "reporting": "(f) reporting and dissemination",
}
METHOD_WORDS = {
    "book_sample": "book sample",
    "observation": "classroom observation",
    "learning_walk": "learning walk",
    "assessment": "assessment",
    "questionnaire": "questionnaire",
    "interview": "interview",
    "concept_mapping": "concept mapping",
    "climate_mapping": "climate mapping",
    "hot_spotting": "hot spotting",
    "other": "other",
}
HELD_WORDS = {
    "pending": "not known yet",
    "held": "the conclusions held",
    "partly": "the conclusions partly held",
    "not_held": "the conclusions did not hold",
}
FORM_WORDS = {
    "sharing_session": "sharing session",
    "presentation": "presentation",
    "written_report": "written report",
    "poster": "poster",
    "open_house": "open-house lesson",
    "tool_or_artefact": "tool or artefact for others",
    "pupil_feedback": "feedback to pupils",
    "other": "other",
}
VOICE_WORDS = {"views": "views", "critique": "critique", "co_design": "co-design"}
ANSWER_WORDS = {"yes": "yes", "partly": "partly", "no": "no", "not_checked": "not checked"}


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "not yet"
    return f"{value.day} {value:%B %Y}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = _day
    env.globals.update(
        STATUS_WORDS=STATUS_WORDS,
        STAGE_WORDS=STAGE_WORDS,
        METHOD_WORDS=METHOD_WORDS,
        HELD_WORDS=HELD_WORDS,
        FORM_WORDS=FORM_WORDS,
        VOICE_WORDS=VOICE_WORDS,
        ANSWER_WORDS=ANSWER_WORDS,
    )
    return env


def render_html(record: EnquiryRecord) -> str:
    data_by_id = {d.id: d for d in record.data}
    return (
        environment()
        .get_template("enquiry_report.html.j2")
        .render(r=record, e=record.enquiry, data_by_id=data_by_id)
    )
