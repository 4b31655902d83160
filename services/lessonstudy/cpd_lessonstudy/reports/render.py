"""The lesson study write-up as HTML and Markdown, readable by a colleague who was not there.

Every piece of text a user wrote is escaped (HTML entities, or Markdown punctuation).
"""

from __future__ import annotations

import html
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime

from cpd_lessonstudy.reports.service import LessonRecord, SeenResponse, StudyRecord
from cpd_lessonstudy.terms import OUTCOME_WORDS

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


def journey(record: StudyRecord, lesson: LessonRecord, pupil_id: uuid.UUID) -> str:
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


# ---- HTML -------------------------------------------------------------------------------------


def _h(text: str | None) -> str:
    return html.escape(text or "").replace("\n", "<br>")


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:72rem;margin:2rem auto;
padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{margin-bottom:.2rem}.meta{color:#555}.draft{background:#fff4d6;border:1px solid #e5c46b;
padding:.5rem 1rem;border-radius:4px}table{border-collapse:collapse;margin:.6rem 0 1.2rem;
font-size:.92rem;width:100%}th,td{border:1px solid #ccc;padding:.35rem .5rem;vertical-align:top;
text-align:left}th{background:#f3f4f6}.met{color:#0a6b2f;font-weight:600}
.partly{color:#8a5a00;font-weight:600}.not_yet{color:#a11;font-weight:600}
td.pred{background:#fafafa}.small{font-size:.85rem;color:#555}section{margin-top:1.6rem}
"""


def _html_observed(lesson: LessonRecord, cell: tuple[uuid.UUID, uuid.UUID]) -> str:
    seen = lesson.observations.get(cell, [])
    consensus = lesson.consensus.get(cell)
    headline = observed_headline(seen, consensus, taught=lesson.lesson.status != "planned")
    cls = consensus or ""
    parts = [f'<span class="{cls}">{_h(headline)}</span>']
    for s in distinct_responses(seen):
        line = _h(s.response)
        if s.notes:
            line += f' <span class="small">({_h(s.notes)})</span>'
        parts.append(line)
    return "<br>".join(parts)


def _html_grid(record: StudyRecord, lesson: LessonRecord) -> str:
    head = "".join(
        f"<th>{_h(p.label)}: predicted</th><th>{_h(p.label)}: observed</th>"
        for p in record.case_pupils
    )
    rows = []
    for stage in lesson.stages:
        cells = []
        for pupil in record.case_pupils:
            cell = (stage.id, pupil.id)
            predicted = lesson.predictions.get(cell)
            cells.append(
                f'<td class="pred">{_h(predicted) if predicted else "<em>no prediction</em>"}</td>'
                f"<td>{_html_observed(lesson, cell)}</td>"
            )
        desc = (
            f'<br><span class="small">{_h(stage.description)}</span>' if stage.description else ""
        )
        rows.append(f"<tr><th>{stage.position}. {_h(stage.title)}{desc}</th>{''.join(cells)}</tr>")
    return (
        f'<table class="grid" data-cycle="{lesson.lesson.cycle}"><thead><tr><th>Stage</th>{head}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _html_list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def render_html(record: StudyRecord) -> str:
    s = record.study
    out: list[str] = []
    add = out.append
    add(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_h(s.title)}'
        f" - lesson study report</title><style>{CSS}</style></head><body>"
    )
    add(f"<h1>{_h(s.title)}</h1>")
    facts = [", ".join(_h(n) for n in record.school_names)]
    if s.subject:
        facts.append(_h(s.subject))
    if s.year_group:
        facts.append(_h(s.year_group))
    add(
        f'<p class="meta">Lesson study · {" · ".join(facts)} · {STATUS_WORDS[s.status]}'
        f" · {len(record.lessons)} of {s.planned_cycles} planned research lessons</p>"
    )
    if s.status not in ("completed", "shared"):
        add(
            '<p class="draft">Work in progress: this study is not completed yet, so this report '
            "is a draft.</p>"
        )
    add(f"<section><h2>How to read this report</h2><p>{_h(HOW_TO_READ)}</p></section>")

    add("<section><h2>Focus</h2><dl>")
    add(f"<dt>What pupils should learn better</dt><dd>{_h(s.learning_goal)}</dd>")
    if s.success_evidence:
        add(f"<dt>How we will know</dt><dd>{_h(s.success_evidence)}</dd>")
    if s.technique:
        add(f"<dt>The technique we set out to develop</dt><dd>{_h(s.technique)}</dd>")
    if s.research_question:
        add(f"<dt>Research question</dt><dd>{_h(s.research_question)}</dd>")
    add("</dl></section>")

    add(
        "<section><h2>The group</h2><table><thead><tr><th>Member</th><th>Role</th>"
        "<th>Hours</th></tr></thead><tbody>"
    )
    hours = {h.member_id: h.hours for h in record.hours.members}
    for m in record.members:
        add(
            f"<tr><td>{_h(m.name)}</td><td>{ROLE_WORDS[m.role]}</td>"
            f"<td>{hours.get(m.id, 0):g}</td></tr>"
        )
    add(
        f'</tbody></table><p class="small">{record.hours.total_hours:g} hours in all.</p></section>'
    )

    add(
        '<section><h2>Case pupils</h2><p class="small">Pupils are known only by a label.'
        "</p><table><thead><tr><th>Pupil</th><th>Profile</th><th>Starting point</th>"
        "<th>Success criteria</th></tr></thead><tbody>"
    )
    for p in record.case_pupils:
        add(
            f"<tr><th>{_h(p.label)}</th><td>{_h(p.profile)}</td><td>{_h(p.starting_point)}</td>"
            f"<td>{_h(p.success_criteria)}</td></tr>"
        )
    add("</tbody></table></section>")

    add(
        "<section><h2>Case pupils' journeys across the cycles</h2>"
        '<p class="small">Per research lesson: the outcome at each stage (stage number, then '
        "met / partly / not yet as most observers saw it), and what the group learnt about "
        "the pupil's learning.</p>"
    )
    for p in record.case_pupils:
        add(
            f"<h3>Case pupil {_h(p.label)}</h3><table><thead><tr><th>Lesson</th>"
            "<th>Stage by stage</th><th>What we learnt about their learning</th></tr></thead><tbody>"
        )
        for lesson in record.lessons:
            add(
                f"<tr><th>{lesson.lesson.cycle}</th><td>{_h(journey(record, lesson, p.id))}</td>"
                f"<td>{_h(lesson.reflections.get(p.id)) or '<em>not discussed yet</em>'}</td></tr>"
            )
        add("</tbody></table>")
    add("</section>")

    add("<section><h2>Research lessons</h2>")
    for lesson in record.lessons:
        add(f'<h3>{_h(_title_line(lesson))}</h3><p class="meta">{_h(_lesson_meta(lesson))}</p>')
        if lesson.lesson.plan_summary:
            add(f"<p><strong>Plan:</strong> {_h(lesson.lesson.plan_summary)}</p>")
        if lesson.lesson.changes_from_previous:
            add(
                f"<p><strong>Changed from the previous lesson:</strong> "
                f"{_h(lesson.lesson.changes_from_previous)}</p>"
            )
        add(_html_grid(record, lesson))
        if lesson.interviews:
            add("<h4>What pupils said</h4>")
            add(
                _html_list(
                    f"<strong>{_h(label) if label else 'Another pupil'}:</strong> {_h(notes)}"
                    for label, notes in lesson.interviews
                )
            )
        d = lesson.discussion
        if d is not None:
            add("<h4>Post-lesson discussion</h4>")
            add(
                _html_list(
                    f"<strong>{_h(p.label)}:</strong> {_h(lesson.reflections[p.id])}"
                    for p in record.case_pupils
                    if p.id in lesson.reflections
                )
            )
            if d.what_to_change:
                add(f"<p><strong>What to change:</strong> {_h(d.what_to_change)}</p>")
            if d.next_lesson_plan:
                add(f"<p><strong>Plan for the next lesson:</strong> {_h(d.next_lesson_plan)}</p>")
    add("</section>")

    changes = _changes(record)
    if changes:
        add("<section><h2>What changed between lessons</h2>")
        for cycle, agreed, plan, changed in changes:
            add(f"<h3>From lesson {cycle - 1} to lesson {cycle}</h3><ul>")
            if agreed:
                add(f"<li><strong>The group agreed to change:</strong> {_h(agreed)}</li>")
            if plan:
                add(f"<li><strong>Plan:</strong> {_h(plan)}</li>")
            if changed:
                add(f"<li><strong>In lesson {cycle}:</strong> {_h(changed)}</li>")
            add("</ul>")
        add("</section>")

    f = record.findings
    add("<section><h2>Findings</h2>")
    if f is None:
        add("<p><em>Not agreed yet.</em></p>")
    else:
        if f.summary:
            add(f"<p>{_h(f.summary)}</p>")
        add("<h3>Practices we discovered</h3>" + _html_list(_h(x) for x in f.practices))
        if f.what_worked:
            add(
                "<h3>What worked, for which pupils</h3>"
                + _html_list(
                    f"<strong>{_h(', '.join(w.case_pupil_labels))}:</strong> {_h(w.text)}"
                    for w in f.what_worked
                )
            )
        if f.to_share:
            add("<h3>What to share</h3>" + _html_list(_h(x) for x in f.to_share))
    add("</section>")

    if record.open_house is not None:
        o = record.open_house
        add(
            f"<section><h2>Open-house lesson</h2><p>Held on {_day(o.held_on)} for "
            f"{o.audience_count} colleagues.</p>"
        )
        if o.notes:
            add(f"<p>{_h(o.notes)}</p>")
        add("</section>")

    h = record.health
    add("<section><h2>How the process was followed</h2>")
    add(
        _html_list(
            [
                f"Research lessons completed: {h.cycles_completed} of {h.cycles_planned} planned",
                f"Predictions written before teaching: {_pct(h.predictions_before_teaching, h.prediction_cells)}",
                f"Stage x case pupil cells observed: {_pct(h.cells_observed, h.prediction_cells)}",
                f"Discussions started from pupil evidence: {h.discussions_from_pupil_evidence} of {h.discussions_held}",
                "Days between research lessons: "
                + (", ".join(str(d) for d in h.days_between_cycles) or "not applicable yet"),
            ]
        )
    )
    add("</section></body></html>")
    return "\n".join(out)


# ---- Markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MD_BLOCK_START = re.compile(r"^(\s*)([#>+=-])")
_MD_ORDERED_START = re.compile(r"^(\s*\d+)([.)])")


def _m(text: str | None) -> str:
    """Markdown-escapes user text: punctuation that would format or link, raw HTML, and a
    leading block marker (heading, list, quote); line breaks become <br>."""
    lines = []
    for line in (text or "").replace("&", "&amp;").splitlines():
        line = _MD_SPECIAL.sub(r"\\\1", line)
        line = _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)
        lines.append(_MD_ORDERED_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line))
    return "<br>".join(lines)


def _mc(text: str | None) -> str:
    """For a table cell: escaped, on one line."""
    return _m(text)


def _md_observed(lesson: LessonRecord, cell: tuple[uuid.UUID, uuid.UUID]) -> str:
    seen = lesson.observations.get(cell, [])
    headline = observed_headline(
        seen,
        lesson.consensus.get(cell),
        taught=lesson.lesson.status != "planned",
    )
    details = " / ".join(
        _mc(s.response) + (f" ({_mc(s.notes)})" if s.notes else "")
        for s in distinct_responses(seen)
    )
    return f"**{_mc(headline)}**" + (f": {details}" if details else "")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]


def render_markdown(record: StudyRecord) -> str:
    s = record.study
    out: list[str] = []
    add: Callable[[str], None] = out.append
    add(f"# {_m(s.title)}")
    add("")
    facts = [", ".join(_m(n) for n in record.school_names)]
    if s.subject:
        facts.append(_m(s.subject))
    if s.year_group:
        facts.append(_m(s.year_group))
    add(
        f"Lesson study · {' · '.join(facts)} · {STATUS_WORDS[s.status]} · "
        f"{len(record.lessons)} of {s.planned_cycles} planned research lessons"
    )
    add("")
    if s.status not in ("completed", "shared"):
        add("> **Work in progress:** this study is not completed yet, so this report is a draft.")
        add("")
    add("## How to read this report")
    add("")
    add(HOW_TO_READ)
    add("")
    add("## Focus")
    add("")
    add(f"- **What pupils should learn better:** {_m(s.learning_goal)}")
    if s.success_evidence:
        add(f"- **How we will know:** {_m(s.success_evidence)}")
    if s.technique:
        add(f"- **The technique we set out to develop:** {_m(s.technique)}")
    if s.research_question:
        add(f"- **Research question:** {_m(s.research_question)}")
    add("")
    add("## The group")
    add("")
    hours = {h.member_id: h.hours for h in record.hours.members}
    out.extend(
        _md_table(
            ["Member", "Role", "Hours"],
            [[_mc(m.name), ROLE_WORDS[m.role], f"{hours.get(m.id, 0):g}"] for m in record.members],
        )
    )
    add(f"{record.hours.total_hours:g} hours in all.")
    add("")
    add("## Case pupils")
    add("")
    add("Pupils are known only by a label.")
    add("")
    out.extend(
        _md_table(
            ["Pupil", "Profile", "Starting point", "Success criteria"],
            [
                [_mc(p.label), _mc(p.profile), _mc(p.starting_point), _mc(p.success_criteria)]
                for p in record.case_pupils
            ],
        )
    )
    add("## Case pupils' journeys across the cycles")
    add("")
    add(
        "Per research lesson: the outcome at each stage (stage number, then met / partly / not "
        "yet as most observers saw it), and what the group learnt about the pupil's learning."
    )
    add("")
    for p in record.case_pupils:
        add(f"### Case pupil {_m(p.label)}")
        add("")
        out.extend(
            _md_table(
                ["Lesson", "Stage by stage", "What we learnt about their learning"],
                [
                    [
                        str(lesson.lesson.cycle),
                        _mc(journey(record, lesson, p.id)),
                        _mc(lesson.reflections.get(p.id)) or "_not discussed yet_",
                    ]
                    for lesson in record.lessons
                ],
            )
        )
    add("## Research lessons")
    add("")
    for lesson in record.lessons:
        add(f"### {_m(_title_line(lesson))}")
        add("")
        add(f"_{_m(_lesson_meta(lesson))}_")
        add("")
        if lesson.lesson.plan_summary:
            add(f"**Plan:** {_m(lesson.lesson.plan_summary)}")
            add("")
        if lesson.lesson.changes_from_previous:
            add(f"**Changed from the previous lesson:** {_m(lesson.lesson.changes_from_previous)}")
            add("")
        header = ["Stage"]
        for p in record.case_pupils:
            header += [f"{_mc(p.label)}: predicted", f"{_mc(p.label)}: observed"]
        rows = []
        for stage in lesson.stages:
            row = [f"{stage.position}. {_mc(stage.title)}"]
            for p in record.case_pupils:
                cell = (stage.id, p.id)
                predicted = lesson.predictions.get(cell)
                row += [
                    _mc(predicted) if predicted else "_no prediction_",
                    _md_observed(lesson, cell),
                ]
            rows.append(row)
        out.extend(_md_table(header, rows))
        if lesson.interviews:
            add("**What pupils said**")
            add("")
            for label, notes in lesson.interviews:
                add(f"- **{_m(label) if label else 'Another pupil'}:** {_m(notes)}")
            add("")
        d = lesson.discussion
        if d is not None:
            add("**Post-lesson discussion**")
            add("")
            for p in record.case_pupils:
                if p.id in lesson.reflections:
                    add(f"- **{_m(p.label)}:** {_m(lesson.reflections[p.id])}")
            add("")
            if d.what_to_change:
                add(f"**What to change:** {_m(d.what_to_change)}")
                add("")
            if d.next_lesson_plan:
                add(f"**Plan for the next lesson:** {_m(d.next_lesson_plan)}")
                add("")
    changes = _changes(record)
    if changes:
        add("## What changed between lessons")
        add("")
        for cycle, agreed, plan, changed in changes:
            add(f"### From lesson {cycle - 1} to lesson {cycle}")
            add("")
            if agreed:
                add(f"- **The group agreed to change:** {_m(agreed)}")
            if plan:
                add(f"- **Plan:** {_m(plan)}")
            if changed:
                add(f"- **In lesson {cycle}:** {_m(changed)}")
            add("")
    add("## Findings")
    add("")
    f = record.findings
    if f is None:
        add("_Not agreed yet._")
        add("")
    else:
        if f.summary:
            add(_m(f.summary))
            add("")
        add("### Practices we discovered")
        add("")
        out.extend(f"- {_m(x)}" for x in f.practices)
        add("")
        if f.what_worked:
            add("### What worked, for which pupils")
            add("")
            out.extend(
                f"- **{_m(', '.join(w.case_pupil_labels))}:** {_m(w.text)}" for w in f.what_worked
            )
            add("")
        if f.to_share:
            add("### What to share")
            add("")
            out.extend(f"- {_m(x)}" for x in f.to_share)
            add("")
    if record.open_house is not None:
        o = record.open_house
        add("## Open-house lesson")
        add("")
        add(f"Held on {_day(o.held_on)} for {o.audience_count} colleagues.")
        add("")
        if o.notes:
            add(_m(o.notes))
            add("")
    h = record.health
    add("## How the process was followed")
    add("")
    add(f"- Research lessons completed: {h.cycles_completed} of {h.cycles_planned} planned")
    add(
        f"- Predictions written before teaching: {_pct(h.predictions_before_teaching, h.prediction_cells)}"
    )
    add(f"- Stage x case pupil cells observed: {_pct(h.cells_observed, h.prediction_cells)}")
    add(
        f"- Discussions started from pupil evidence: {h.discussions_from_pupil_evidence} of {h.discussions_held}"
    )
    add(
        "- Days between research lessons: "
        + (", ".join(str(d) for d in h.days_between_cycles) or "not applicable yet")
    )
    add("")
    return "\n".join(out)
