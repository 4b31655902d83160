"""The governor-ready evaluation report as HTML, and its charts as SVG, from Jinja2 templates
(``templates/``) with autoescaping: every piece of text a user wrote (titles, outcomes,
support notes, measure names) is escaped by the template engine, never by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cpd_evaluation.impact.schemas import GroupGap, PhaseComparison
from cpd_evaluation.reports.service import ReportRecord

TEMPLATES = Path(__file__).parent / "templates"

STATUS_WORDS = {
    "planned": "planned: no data captured yet",
    "baseline_captured": "baseline captured",
    "short_term_captured": "short-term outcomes captured",
    "medium_term_captured": "medium-term outcomes captured",
    "reported": "reported",
}
LEVEL_WORDS = {
    "reactions": "1. Participants' reactions",
    "learning": "2. Participants' learning",
    "organisational_support": "3. Organisational support",
    "use_of_knowledge_and_skills": "4. Use of new knowledge and skills",
    "pupil_outcomes": "5. Pupil outcomes",
}
PHASE_WORDS = {
    "baseline": "baseline",
    "short_term": "end of the CPD",
    "medium_term": "a couple of terms later",
}
KIND_WORDS = {
    "test_score": "test score",
    "teacher_assessment": "teacher assessment",
    "observation_rating": "observation rating",
    "work_sample_rating": "work sample rating",
    "pupil_attitude_survey": "pupil attitude survey",
    "attendance": "attendance",
    "behaviour_points": "behaviour points",
    "staff_survey_item": "staff survey item",
    "staff_confidence": "staff confidence",
}
HOW_TO_READ = (
    "An effect size says how big a change is in standard deviations, so that changes on "
    "different tests can be compared: about 0.2 is small, 0.5 medium and 0.8 large. The 95% "
    "interval shows how sure we can be: the true effect probably lies within it, and when it "
    "includes zero we cannot rule out that the CPD made no difference. The fewer pupils or "
    "staff measured, the wider the interval: below 10 no effect size is given at all."
)

# ---- chart geometry ---------------------------------------------------------------------------

CHART_WIDTH = 760
ROW_HEIGHT = 34
LABEL_WIDTH = 300
PLOT_LEFT = LABEL_WIDTH + 20
PLOT_RIGHT = CHART_WIDTH - 30
COST_COLOURS = {
    "fees": "#1b5e9e",
    "materials": "#6a8fbf",
    "supply_cover": "#d9480f",
    "staff_time": "#2f7d4f",
}
COST_WORDS = {
    "fees": "Fees",
    "materials": "Materials",
    "supply_cover": "Supply cover",
    "staff_time": "Staff time",
}


def day(d: date | None) -> str:
    return "not set" if d is None else f"{d.day} {d:%B %Y}"


def pounds(value: float | Decimal | None) -> str:
    if value is None:
        return "not known"
    return f"£{float(value):,.2f}"


def number(value: float | Decimal | int | None, places: int = 2) -> str:
    if value is None:
        return "\u2013"
    text = f"{float(value):,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed(value: float | None) -> str:
    if value is None:
        return "\u2013"
    return f"{value:+.2f}".replace("-", "\u2212")


FLAG_WORDS = {"disadvantaged": "Disadvantaged pupils", "send": "Pupils with SEND"}


@dataclass(frozen=True)
class ImpactLine:
    measure: str
    kind: str
    subjects: str
    phases: str
    design: str
    sizes: str
    mean_change: float | None
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    reading: str
    warnings: list[str]
    higher_is_better: bool = True
    gaps: tuple[str, ...] = ()


def _gap_line(gap: GroupGap) -> str:
    who = FLAG_WORDS.get(gap.flag) or f"Year group {gap.value}"
    if gap.withheld is not None or gap.gap_before is None or gap.gap_after is None:
        return f"{who}: withheld, fewer than 5 pupils on one side."
    verdict = "narrowed" if gap.narrowed else "did not narrow"
    return (
        f"{who}: gap to the others {signed(gap.gap_before)} before and "
        f"{signed(gap.gap_after)} after (in the measure's units, positive when behind): "
        f"it {verdict}."
    )


def _sizes(comparison: PhaseComparison) -> str:
    return ", ".join(
        f"{arm.n} ({'CPD group' if arm.arm == 'cpd' else 'comparison'})"
        if len(comparison.arms) > 1
        else str(arm.n)
        for arm in comparison.arms
    )


def impact_lines(record: ReportRecord) -> list[ImpactLine]:
    lines: list[ImpactLine] = []
    for measure in record.impact.measures:
        for c in measure.comparisons:
            cpd = next((a for a in c.arms if a.arm == "cpd"), None)
            effect = c.effect_size
            lines.append(
                ImpactLine(
                    measure=measure.name,
                    kind=KIND_WORDS.get(measure.kind, measure.kind),
                    subjects=measure.subjects,
                    phases=f"{PHASE_WORDS[c.from_phase]} to {PHASE_WORDS[c.to_phase]}",
                    design=c.design_label,
                    sizes=_sizes(c),
                    mean_change=cpd.mean_change if cpd is not None else None,
                    effect=effect.value if effect is not None else None,
                    ci_low=effect.ci_low if effect is not None else None,
                    ci_high=effect.ci_high if effect is not None else None,
                    reading=c.reading,
                    warnings=[w.message for w in c.warnings],
                    higher_is_better=measure.higher_is_better,
                    gaps=tuple(_gap_line(g) for g in c.gaps if g.flag != "year_group"),
                )
            )
    perception = record.impact.perception
    if perception is not None:
        for item in perception.items:
            effect = item.effect_size
            lines.append(
                ImpactLine(
                    measure=f"{perception.title}: {item.item_key}",
                    kind="staff perception (audit)",
                    subjects="staff",
                    phases="baseline round to outcome round",
                    design="Audit rounds before and after",
                    sizes=f"{item.baseline.n or 0} then {item.outcome.n or 0}",
                    mean_change=item.mean_change,
                    effect=effect.value if effect is not None else None,
                    ci_low=effect.ci_low if effect is not None else None,
                    ci_high=effect.ci_high if effect is not None else None,
                    reading=item.withheld or item.reading,
                    warnings=[w.message for w in item.warnings],
                )
            )
    return lines


# ---- the charts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectRow:
    label: str
    detail: str
    y: float
    x: float
    x_low: float
    x_high: float


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class CostBar:
    key: str
    label: str
    x: float
    width: float
    colour: str
    amount: str


def _better(line: ImpactLine) -> tuple[float, float, float]:
    """The effect and its interval turned so that right is always better."""
    g, low, high = line.effect or 0.0, line.ci_low or 0.0, line.ci_high or 0.0
    return (g, low, high) if line.higher_is_better else (-g, -high, -low)


def _scale(lines: Sequence[ImpactLine]) -> tuple[float, float]:
    values = [v for ln in lines for v in _better(ln)[1:]]
    bound = max([1.0, *(abs(v) for v in values)])
    bound = float(int(bound * 2 + 0.999)) / 2  # round up to the next 0.5
    return -bound, bound


def chart_context(record: ReportRecord) -> dict[str, Any]:
    lines = [ln for ln in impact_lines(record) if ln.effect is not None]
    lo, hi = _scale(lines)

    def x_of(value: float) -> float:
        return PLOT_LEFT + (value - lo) / (hi - lo) * (PLOT_RIGHT - PLOT_LEFT)

    top = 90
    rows = [
        EffectRow(
            label=ln.measure,
            detail=ln.phases + ("" if ln.higher_is_better else ", lower is better"),
            y=top + i * ROW_HEIGHT,
            x=x_of(_better(ln)[0]),
            x_low=x_of(_better(ln)[1]),
            x_high=x_of(_better(ln)[2]),
        )
        for i, ln in enumerate(lines)
    ]
    steps = round((hi - lo) / 0.5)
    ticks = [Tick(x_of(lo + k * 0.5), signed(lo + k * 0.5)) for k in range(steps + 1)]
    effects_bottom = top + max(len(rows), 1) * ROW_HEIGHT
    costs = record.value.costs
    parts = [
        ("fees", costs.fees),
        ("materials", costs.materials),
        ("supply_cover", costs.supply_cover),
        ("staff_time", costs.staff_time or 0.0),
    ]
    total = sum(v for _, v in parts)
    bars: list[CostBar] = []
    x = float(PLOT_LEFT - LABEL_WIDTH + 20)
    full = PLOT_RIGHT - (PLOT_LEFT - LABEL_WIDTH + 20)
    for key, amount in parts:
        if amount <= 0 or total <= 0:
            continue
        width = amount / total * full
        bars.append(CostBar(key, COST_WORDS[key], x, width, COST_COLOURS[key], pounds(amount)))
        x += width
    costs_top = effects_bottom + 80
    return {
        "width": CHART_WIDTH,
        "height": costs_top + 120,
        "rows": rows,
        "ticks": ticks,
        "zero_x": x_of(0.0),
        "effects_top": top - 20,
        "effects_bottom": effects_bottom,
        "plot_left": PLOT_LEFT,
        "plot_right": PLOT_RIGHT,
        "label_x": PLOT_LEFT - 12,
        "bars": bars,
        "costs_top": costs_top,
        "total": pounds(costs.total),
        "includes_staff_time": costs.includes_staff_time,
    }


# ---- environments -----------------------------------------------------------------------------

_OPTIONS: dict[str, Any] = {
    "loader": FileSystemLoader(TEMPLATES),
    "undefined": StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


@cache
def environment() -> Environment:
    """HTML and SVG alike: Jinja2 escapes &, <, >, " and ' in every ``{{ value }}``, which
    is right for HTML text and attributes and for XML."""
    env = Environment(autoescape=True, **_OPTIONS)
    env.filters.update({"day": day, "pounds": pounds, "number": number, "signed": signed})
    env.globals.update(
        {
            "STATUS_WORDS": STATUS_WORDS,
            "LEVEL_WORDS": LEVEL_WORDS,
            "PHASE_WORDS": PHASE_WORDS,
            "KIND_WORDS": KIND_WORDS,
            "HOW_TO_READ": HOW_TO_READ,
        }
    )
    return env


def render_html(record: ReportRecord, *, chart_url: str) -> str:
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            r=record,
            p=record.plan,
            ev=record.evidence,
            v=record.value,
            impact=impact_lines(record),
            chart_url=chart_url,
        )
    )


def render_svg(record: ReportRecord) -> str:
    return (
        environment()
        .get_template("report.svg.j2")
        .render(r=record, p=record.plan, **chart_context(record))
    )
