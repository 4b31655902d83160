"""The statistics of impact: standardised effect sizes with 95% confidence intervals, the
honesty thresholds, gaps between pupil groups and a plain-language reading of each result.

Pure functions over summary statistics (n, mean, SD and, for paired data, the correlation of
the two measurements), which ``impact.service`` computes in SQL. No database, no I/O.

Three designs, each named in the API by its ``Design`` code:

- ``paired_change``: the same subjects measured twice. The standardised mean change of
  Borenstein et al. (2009, ch. 4, "matched groups"): the mean change over the within-phase SD
  (the root mean square of the two phases' SDs; Lakens 2013 calls it d_av), Hedges' correction
  with n - 1 degrees of freedom, and a variance that accounts for the correlation ``r`` between
  the two measurements: V(d) = (1/n + d^2 / 2n) * 2(1 - r).
- ``groups_change``: the CPD group against a comparison group, Hedges' g on each subject's
  change, from ``statsmodels.stats.meta_analysis.effectsize_smd``. Standardised by the SD of
  the changes (as the design label tells the reader): a comparison group controls for what
  would have happened anyway, and the change removes baseline differences between the arms.
- ``audit_aggregates``: the baseline round against the outcome round of an audit item, from
  per-round aggregates of anonymous (so unpaired) respondents: Hedges' g from summary
  statistics, the same statsmodels function.

Intervals are the estimate plus or minus the normal quantile (``scipy.stats.norm``) times its
standard error, as in Borenstein et al.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Design = Literal["paired_change", "groups_change", "audit_aggregates"]

DESIGN_LABELS: dict[str, str] = {
    "paired_change": "Same subjects measured twice: standardised mean change for paired data "
    "(Hedges-corrected, allowing for the correlation between the two measurements)",
    "groups_change": "CPD group against a comparison group: Hedges' g on each subject's change, "
    "between the two groups (standardised by the spread of the changes, which is narrower "
    "than the spread of scores when scores are stable, so the figure runs larger than one "
    "standardised by the scores)",
    "audit_aggregates": "Audit rounds before and after: Hedges' g from each round's summary "
    "statistics (respondents are anonymous, so not paired)",
}

CONFIDENCE = 0.95
# Honesty thresholds: below MIN_SUBJECTS no effect size at all (only the raw change); below
# SMALL_SAMPLE an effect size with a warning; a pupil group under MIN_GROUP is withheld.
MIN_SUBJECTS = 10
SMALL_SAMPLE = 30
MIN_GROUP = 5

Magnitude = Literal["negligible", "small", "medium", "large"]
_SIZES: tuple[Magnitude, ...] = Magnitude.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Summary:
    """n, mean and SD (n - 1 denominator) of one set of values."""

    n: int
    mean: float
    sd: float


@dataclass(frozen=True)
class Paired:
    """The same ``n`` subjects before and after, and the correlation of their two values."""

    before: Summary
    after: Summary
    r: float

    @property
    def n(self) -> int:
        return self.before.n

    @property
    def mean_change(self) -> float:
        return self.after.mean - self.before.mean


@dataclass(frozen=True)
class EffectSize:
    """A standardised effect size: ``d`` before and ``g`` after Hedges' small-sample correction
    (``g`` is the one to report), its standard error and interval. Positive means the later
    phase (or the CPD group) is higher."""

    design: Design
    d: float
    g: float
    se: float
    ci_low: float
    ci_high: float
    confidence: float = CONFIDENCE


def z_critical(confidence: float = CONFIDENCE) -> float:
    """The two-sided normal quantile: 1.96 for 95%."""
    # scipy and statsmodels (with numpy and pandas) are imported on first use, not with the
    # service: they would double every evaluation API process's idle memory (DESIGN.md 9).
    from scipy import stats as scipy_stats

    return float(scipy_stats.norm.ppf(0.5 + confidence / 2))


def _interval(design: Design, d: float, g: float, variance: float) -> EffectSize:
    se = math.sqrt(max(float(variance), 0.0))
    d, g, z = float(d), float(g), z_critical()
    return EffectSize(design=design, d=d, g=g, se=se, ci_low=g - z * se, ci_high=g + z * se)


def hedges_correction(df: int) -> float:
    """Hedges' J, the small-sample bias correction for degrees of freedom ``df``."""
    return 1 - 3 / (4 * df - 1)


def paired_change(data: Paired) -> EffectSize | None:
    """Standardised mean change of the same subjects measured twice; None when there is no
    spread to standardise by or too few subjects for any estimate."""
    n = data.n
    sd_within = math.sqrt((data.before.sd**2 + data.after.sd**2) / 2)
    if n < 3 or sd_within <= 0:
        return None
    r = min(max(data.r, -1.0), 1.0)
    d = data.mean_change / sd_within
    var_d = (1 / n + d**2 / (2 * n)) * 2 * (1 - r)
    j = hedges_correction(n - 1)
    return _interval("paired_change", d, j * d, j**2 * var_d)


def between_groups(
    first: Summary, second: Summary, *, design: Design = "groups_change"
) -> EffectSize | None:
    """Hedges' g of ``first`` minus ``second`` from summary statistics (``effectsize_smd``);
    None when there is no spread or too few values to estimate it."""
    if first.n < 2 or second.n < 2 or first.n + second.n < 4:
        return None
    pooled_var = ((first.n - 1) * first.sd**2 + (second.n - 1) * second.sd**2) / (
        first.n + second.n - 2
    )
    if pooled_var <= 0:
        return None
    from statsmodels.stats.meta_analysis import effectsize_smd

    g, var_g = effectsize_smd(first.mean, first.sd, first.n, second.mean, second.sd, second.n)
    d = (first.mean - second.mean) / math.sqrt(pooled_var)
    return _interval(design, d, g, var_g)


# ---- honesty -------------------------------------------------------------------------------

SampleCheck = Literal["ok", "small_sample", "too_few_subjects"]


def check_sample(*group_sizes: int) -> SampleCheck:
    """Judged on the smallest group: an effect size from 8 comparison pupils is noise however
    many CPD pupils stand against them."""
    smallest = min(group_sizes) if group_sizes else 0
    if smallest < MIN_SUBJECTS:
        return "too_few_subjects"
    if smallest < SMALL_SAMPLE:
        return "small_sample"
    return "ok"


@dataclass(frozen=True)
class Gap:
    """How far a pupil group trails (positive) or leads (negative) the rest, before and after,
    in the measure's own units, oriented so that a positive gap means the group is behind."""

    before: float
    after: float

    @property
    def narrowed(self) -> bool:
        return abs(self.after) < abs(self.before)


def gap(
    *,
    group_before: float,
    group_after: float,
    rest_before: float,
    rest_after: float,
    higher_is_better: bool,
) -> Gap:
    sign = 1 if higher_is_better else -1
    return Gap(before=sign * (rest_before - group_before), after=sign * (rest_after - group_after))


# ---- plain language ------------------------------------------------------------------------


def magnitude(g: float) -> Magnitude:
    """Cohen's benchmarks on |g|: 0.2 small, 0.5 medium, 0.8 large."""
    size = abs(g)
    if size < 0.2:
        return "negligible"
    if size < 0.5:
        return "small"
    if size < 0.8:
        return "medium"
    return "large"


def _direction(value: float, higher_is_better: bool) -> str:
    return "improvement" if (value > 0) == higher_is_better else "decline"


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "\u2212")


def describe_change(change: float, *, compared: bool = False) -> str:
    """The raw change in the measure's own units: of the mean, or (``compared``) of the CPD
    group's mean change against the comparison group's."""
    if compared:
        if change == 0:
            return "the CPD group's mean changed as much as the comparison group's"
        side = "above" if change > 0 else "below"
        return f"the CPD group's mean change was {abs(change):.2f} {side} the comparison group's"
    if change == 0:
        return "the mean did not change"
    return f"the mean {'rose' if change > 0 else 'fell'} by {abs(change):.2f}"


def read_effect(
    effect: EffectSize,
    *,
    higher_is_better: bool,
    n: int,
    subjects: str = "subjects",
    change: str | None = None,
) -> str:
    """One or two sentences a governor can read: size, direction and what the interval allows.
    ``n`` is the smallest group's size, ``subjects`` names who was measured ("pupils"),
    ``change`` the raw change in words (:func:`describe_change`)."""
    size = magnitude(effect.g)
    figures = (
        f"(effect size {_signed(effect.g)}, 95% interval "
        f"{_signed(effect.ci_low)} to {_signed(effect.ci_high)})"
    )
    raw = f": {change}" if change else ""
    if size == "negligible":
        head = f"Little or no change{raw} {figures}."
    else:
        head = f"A {size} {_direction(effect.g, higher_is_better)}{raw} {figures}."
    if effect.ci_low <= 0 <= effect.ci_high:
        body = " The interval includes zero, so we cannot rule out no effect."
    else:
        low, high = sorted((magnitude(effect.ci_low), magnitude(effect.ci_high)), key=_SIZES.index)
        span = (
            f"a {low} effect" if low == high else f"somewhere between a {low} and a {high} effect"
        )
        body = (
            f" The whole interval lies on the side of "
            f"{_direction(effect.g, higher_is_better)}: {span}."
        )
    if n < SMALL_SAMPLE:
        body += f" Based on only {n} {subjects}, so treat it with caution."
    return head + body


def read_raw_change(
    change: float | None,
    *,
    higher_is_better: bool,
    n: int,
    subjects: str = "subjects",
    counted: str = "measured at both points",
    what: str = "mean change",
    too_few: bool = True,
) -> str:
    """The reading when there is no effect size: too few subjects (``n`` in the smallest
    group, ``counted`` says how they were counted) or, with ``too_few`` False, no spread.
    ``what`` names the raw figure (the mean change, or how much more the CPD group changed)."""
    if change is None or n == 0:
        return f"No {subjects} were {counted}, so there is no change to report."
    if change == 0:
        trend = "no change"
    else:
        direction = _direction(change, higher_is_better)
        trend = f"{'an' if direction == 'improvement' else 'a'} {direction}"
    why = (
        f"Only {n} {subjects} were {counted}: too few for an effect size."
        if too_few
        else "The values do not vary, so there is no effect size."
    )
    return (
        f"{why} The raw {what} was {_signed(change)} ({trend}), which on its own says little "
        "about whether the CPD made a difference."
    )
