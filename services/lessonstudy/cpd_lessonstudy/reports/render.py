"""The lesson study write-up as HTML and Markdown, readable by a colleague who was not there.

Both come from Jinja2 templates (``templates/``). Every piece of text a user wrote is escaped
by the template engine, never by hand: HTML by Jinja2's autoescaping, Markdown by an
environment whose every ``{{ value }}`` is Markdown-escaped unless it is one of our own
formatted pieces (:class:`MarkdownText`).
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from cpd_lessonstudy.reports.service import LessonRecord, SeenResponse, StudyRecord
from cpd_lessonstudy.terms import OUTCOME_WORDS

TEMPLATES = Path(__file__).parent / "templates"

STATUS_WORDS = {
    "planning": "being planned",
    "in_cycle": "in its research-lesson cycles",
    "findings": "agreeing its findings",
    "completed": "completed",
    "shared": "completed and shared in an open-house lesson",
}
ROLE_WORDS = {
    "teacher": "teacher",
    "observer": "observer",
    "facilitator": "facilitator",
    "knowledgeable_other": "knowledgeable other",
}
HOW_TO_READ = (
    "A lesson study follows a few case pupils, known only by a label, through a series of "
    "research lessons. Before each lesson the group wrote down how they predicted each case "
    "pupil would respond at each stage; during the lesson observers recorded what each pupil "
    "actually did and whether they met their success criteria at that point (met, partly, not "
    "yet); afterwards the group interviewed pupils and discussed what they had learnt about "
    "each pupil's learning, then what to change for the next lesson. The grids below put the "
    "prediction beside the observation for every stage and case pupil. The observations are "
    "about the pupils' learning, not a judgement of the teacher."
)


def _day(d: date | datetime | None) -> str:
    if d is None:
        return "not yet"
    return f"{d.day} {d:%B %Y}"


def _pct(part: int, whole: int) -> str:
    return f"{part} of {whole} ({round(100 * part / whole)}%)" if whole else "none yet"


def distinct_responses(seen: list[SeenResponse]) -> list[SeenResponse]:
    """Observers who wrote the same thing are shown once."""
    out: list[SeenResponse] = []
    for s in seen:
        if all((s.response, s.notes) != (o.response, o.notes) for o in out):
            out.append(s)
    return out


def observed_headline(
    seen: list[SeenResponse], consensus: str | None, *, taught: bool = True
) -> str:
    """'met', or 'partly (met 1, partly 2)' when observers differ; 'not observed'."""
    if not taught:
        return "not taught yet"
    if not seen or consensus is None:
        return "not observed"
    tally = Counter(s.outcome for s in seen)
    word = OUTCOME_WORDS[consensus]
    if len(tally) == 1:
        return word if len(seen) == 1 else f"{word} ({len(seen)} observers)"
    parts = ", ".join(f"{OUTCOME_WORDS[o]} {n}" for o, n in sorted(tally.items()))
    return f"{word} ({parts})"


def journey(lesson: LessonRecord, pupil_id: uuid.UUID) -> str:
    """A case pupil's outcomes across a lesson's stages: '1 met · 2 partly · 3 not yet'."""
    if lesson.lesson.status == "planned":
        return "not taught yet"
    return " · ".join(
        f"{s.position} {OUTCOME_WORDS.get(lesson.consensus.get((s.id, pupil_id), ''), 'not observed')}"
        for s in lesson.stages
    )


def _changes(record: StudyRecord) -> list[tuple[int, str | None, str | None, str | None]]:
    """(cycle, what the previous discussion agreed to change, its plan, what this lesson
    changed) for each lesson after the first."""
    out = []
    for prev, nxt in zip(record.lessons, record.lessons[1:], strict=False):
        d = prev.discussion
        out.append(
            (
                nxt.lesson.cycle,
                d.what_to_change if d else None,
                d.next_lesson_plan if d else None,
                nxt.lesson.changes_from_previous,
            )
        )
    return out


def _title_line(lesson: LessonRecord) -> str:
    title = f"Research lesson {lesson.lesson.cycle}"
    if lesson.lesson.title:
        title += f": {lesson.lesson.title}"
    return title


def _lesson_meta(lesson: LessonRecord) -> str:
    taught = lesson.lesson.taught_on
    if taught:
        observed_by = f"; observed by {', '.join(lesson.observers)}" if lesson.observers else ""
        return f"taught on {_day(taught)} by {lesson.teacher_name}{observed_by}"
    return f"planned for {_day(lesson.lesson.planned_for)}, to be taught by {lesson.teacher_name}"


# ---- templates --------------------------------------------------------------------------------


class MarkdownText(str):
    """Text that is already Markdown (our own formatting): not escaped again."""


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MD_BLOCK_START = re.compile(r"^(\s*)([#>+=-])")
_MD_ORDERED_START = re.compile(r"^(\s*\d+)([.)])")


def markdown_escape(text: str | None) -> str:
    """User text as Markdown that shows it literally: punctuation that would format or
    link, raw HTML, and a leading block marker (heading, list, quote) are escaped; line
    breaks become <br> (a value sits on one line, often in a table cell)."""
    lines = []
    for line in (text or "").replace("&", "&amp;").splitlines():
        line = _MD_SPECIAL.sub(r"\\\1", line)
        line = _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)
        lines.append(_MD_ORDERED_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line))
    return "<br>".join(lines)


def _markdown_finalize(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, MarkdownText) or not isinstance(value, str):
        return str(value)
    return markdown_escape(value)


def _html_lines(text: str | None) -> Markup:
    return Markup("<br>").join(escape(text or "").split("\n"))


_OPTIONS: dict[str, Any] = {
    "loader": FileSystemLoader(TEMPLATES),
    "undefined": StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}


def _helpers(safe: Callable[[str], str]) -> dict[str, Any]:
    """What both templates call; ``safe`` marks our own formatted text for the format."""

    def observed(lesson: LessonRecord, cell: tuple[uuid.UUID, uuid.UUID]) -> str:
        return observed_headline(
            lesson.observations.get(cell, []),
            lesson.consensus.get(cell),
            taught=lesson.lesson.status != "planned",
        )

    return {
        "STATUS_WORDS": STATUS_WORDS,
        "ROLE_WORDS": ROLE_WORDS,
        "HOW_TO_READ": safe(HOW_TO_READ),
        "journey": journey,
        "observed_headline": observed,
        "distinct_responses": distinct_responses,
        "title_line": _title_line,
        "lesson_meta": _lesson_meta,
        "pct": lambda part, whole: safe(_pct(part, whole)),
    }


@cache
def html_environment() -> Environment:
    env = Environment(autoescape=True, **_OPTIONS)
    env.filters.update(lines=_html_lines, day=_day, g=lambda x: f"{x:g}")
    env.globals.update(_helpers(str))
    return env


@cache
def markdown_environment() -> Environment:
    # HTML autoescaping would be wrong for Markdown: ``finalize`` escapes every value instead.
    env = Environment(autoescape=False, finalize=_markdown_finalize, **_OPTIONS)  # noqa: S701
    env.filters.update(day=lambda d: MarkdownText(_day(d)), g=lambda x: MarkdownText(f"{x:g}"))
    env.globals.update(_helpers(MarkdownText))
    return env


def _context(record: StudyRecord) -> dict[str, Any]:
    return {
        "r": record,
        "s": record.study,
        "hours": {h.member_id: h.hours for h in record.hours.members},
        "changes": _changes(record),
    }


def render_html(record: StudyRecord) -> str:
    return html_environment().get_template("report.html.j2").render(_context(record))


def render_markdown(record: StudyRecord) -> str:
    return markdown_environment().get_template("report.md.j2").render(_context(record))
