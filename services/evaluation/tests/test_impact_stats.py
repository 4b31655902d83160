"""The impact statistics against values computed independently of this code.

References:
- Borenstein, Hedges, Higgins & Rothstein (2009), Introduction to Meta-Analysis, chapter 4:
  the worked example for independent groups (means 103 and 100, SDs 5.5 and 4.5, 50 per group:
  d = 0.5970, SE(d) = 0.2044, J = 0.9923, g = 0.5924, SE(g) = 0.2028) and for matched groups
  (mean change 5, SD of the change 10, r = 0.5, n = 50: d = 0.5, SE(d) = 0.15, J = 0.9846,
  g = 0.4923, SE(g) = 0.1477), published to four decimals; and the matched-groups method on a
  second case (mean change 3, SD of the change 5.5, r = 0.7, n = 50: d = 0.4225,
  SE(d) = 0.1143).
- Lakens (2013), Calculating and reporting effect sizes, Frontiers in Psychology 4:863: the
  movie ratings of ten people (means 8.7 and 7.7, SDs 0.82 and 0.95): d_s = d_av = 1.13 and
  Hedges' g_s = 1.08, published to two decimals.
- Coverage by simulation (numpy, fixed seed): a 95% interval should hold the true effect in
  about 95% of samples drawn from a known population.

Tolerances follow the published precision (half a unit in the last place, plus float noise),
except SE(g) between groups: statsmodels uses Hedges & Olkin's variance
N/(n1 n2) + g^2 / 2(N - 3.94) where Borenstein uses J^2 V(d); the two standard approximations
differ by under 1% at these sizes, so that check allows 0.002.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from cpd_evaluation.impact import stats

MOVIE_1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
MOVIE_2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]


def summary(values: list[float] | np.ndarray) -> stats.Summary:
    arr = np.asarray(values, dtype=float)
    return stats.Summary(n=len(arr), mean=float(arr.mean()), sd=float(arr.std(ddof=1)))


def test_z_critical_is_the_normal_quantile() -> None:
    assert stats.z_critical() == pytest.approx(1.959964, abs=1e-6)


# ---- (a) same subjects measured twice ----------------------------------------------------------


def test_paired_change_matches_borenstein_matched_groups_example() -> None:
    # SDs of 10 at both phases with r = 0.5 give the example's SD of the change, 10.
    data = stats.Paired(
        before=stats.Summary(50, 100.0, 10.0), after=stats.Summary(50, 105.0, 10.0), r=0.5
    )
    effect = stats.paired_change(data)
    assert effect is not None and effect.design == "paired_change"
    assert effect.d == pytest.approx(0.5, abs=5e-5)
    assert stats.hedges_correction(49) == pytest.approx(0.9846, abs=5e-5)
    assert effect.g == pytest.approx(0.4923, abs=5e-5)
    assert effect.se == pytest.approx(0.1477, abs=5e-5)
    assert effect.ci_low == pytest.approx(0.4923 - 1.96 * 0.1477, abs=5e-4)
    assert effect.ci_high == pytest.approx(0.4923 + 1.96 * 0.1477, abs=5e-4)


def test_paired_change_matches_the_matched_groups_exercise_with_r_07() -> None:
    # The same chapter's method on a second case (as set in teaching material built on it):
    # mean change 3, SD of the change 5.5, r = 0.7, n = 50: S_within = 5.5 / sqrt(2 * 0.3)
    # = 7.1005, d = 0.4225, SE(d) = 0.1143.
    s_within = 5.5 / np.sqrt(2 * (1 - 0.7))
    data = stats.Paired(
        before=stats.Summary(50, 100.0, s_within), after=stats.Summary(50, 103.0, s_within), r=0.7
    )
    effect = stats.paired_change(data)
    assert effect is not None
    assert s_within == pytest.approx(7.1005, abs=5e-5)
    assert effect.d == pytest.approx(0.4225, abs=5e-5)
    assert effect.se / stats.hedges_correction(49) == pytest.approx(0.1143, abs=5e-5)


def test_paired_change_standardises_like_lakens_d_av() -> None:
    before, after = summary(MOVIE_2), summary(MOVIE_1)
    r = float(scipy_stats.pearsonr(MOVIE_1, MOVIE_2).statistic)
    effect = stats.paired_change(stats.Paired(before=before, after=after, r=r))
    assert effect is not None
    assert effect.d == pytest.approx(1.13, abs=0.005)
    # Hedges' J with n - 1 = 9 degrees of freedom.
    assert effect.g == pytest.approx(effect.d * (1 - 3 / 35), abs=1e-9)


def test_paired_interval_narrows_as_the_measurements_correlate() -> None:
    loose = stats.paired_change(
        stats.Paired(stats.Summary(40, 50, 8), stats.Summary(40, 53, 8), r=0.1)
    )
    tight = stats.paired_change(
        stats.Paired(stats.Summary(40, 50, 8), stats.Summary(40, 53, 8), r=0.9)
    )
    assert loose is not None and tight is not None
    assert loose.g == pytest.approx(tight.g)
    assert tight.se < loose.se


def test_paired_interval_covers_the_true_effect_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(20261201)
    n, delta, rho, runs = 40, 0.4, 0.6, 2000
    cov = [[1.0, rho], [rho, 1.0]]
    hits = 0
    for _ in range(runs):
        pre, post = rng.multivariate_normal([0.0, delta], cov, size=n).T
        r = float(np.corrcoef(pre, post)[0, 1])
        effect = stats.paired_change(stats.Paired(summary(pre), summary(post), r=r))
        assert effect is not None
        hits += effect.ci_low <= delta <= effect.ci_high
    assert hits / runs == pytest.approx(0.95, abs=0.015)


def test_paired_change_without_spread_has_no_effect_size() -> None:
    flat = stats.Paired(stats.Summary(12, 3.0, 0.0), stats.Summary(12, 4.0, 0.0), r=0.0)
    assert stats.paired_change(flat) is None


# ---- (b) CPD group against a comparison group ------------------------------------------------


def test_between_groups_matches_borenstein_independent_groups_example() -> None:
    effect = stats.between_groups(stats.Summary(50, 103.0, 5.5), stats.Summary(50, 100.0, 4.5))
    assert effect is not None and effect.design == "groups_change"
    assert effect.d == pytest.approx(0.5970, abs=5e-5)
    assert effect.g == pytest.approx(0.5924, abs=5e-5)
    assert effect.se == pytest.approx(0.2028, abs=0.002)
    assert effect.ci_low == pytest.approx(0.5924 - 1.96 * 0.2028, abs=0.005)
    assert effect.ci_high == pytest.approx(0.5924 + 1.96 * 0.2028, abs=0.005)


def test_between_groups_on_raw_ratings_matches_lakens_g_s() -> None:
    effect = stats.between_groups(summary(MOVIE_1), summary(MOVIE_2))
    assert effect is not None
    assert effect.d == pytest.approx(1.13, abs=0.005)
    assert effect.g == pytest.approx(1.08, abs=0.005)
    # The t-test's t converts to the same d: d = t * sqrt(1/n1 + 1/n2).
    t = float(scipy_stats.ttest_ind(MOVIE_1, MOVIE_2).statistic)
    assert effect.d == pytest.approx(t * np.sqrt(2 / 10), abs=1e-9)


def test_between_groups_interval_covers_the_true_effect_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(7)
    delta, runs = 0.5, 2000
    hits = 0
    for _ in range(runs):
        cpd, comparison = rng.normal(delta, 1.0, 45), rng.normal(0.0, 1.0, 35)
        effect = stats.between_groups(summary(cpd), summary(comparison))
        assert effect is not None
        hits += effect.ci_low <= delta <= effect.ci_high
    assert hits / runs == pytest.approx(0.95, abs=0.015)


# ---- (c) audit aggregates ------------------------------------------------------------------


def test_audit_aggregates_from_published_summary_statistics() -> None:
    # Lakens' table gives only the rounded SDs; Hedges' g from them is still 1.08.
    effect = stats.between_groups(
        stats.Summary(10, 8.7, 0.82), stats.Summary(10, 7.7, 0.95), design="audit_aggregates"
    )
    assert effect is not None and effect.design == "audit_aggregates"
    assert effect.d == pytest.approx(1.13, abs=0.005)
    assert effect.g == pytest.approx(1.08, abs=0.005)
    assert effect.ci_low < effect.g < effect.ci_high


def test_between_groups_without_spread_or_values_has_no_effect_size() -> None:
    assert stats.between_groups(stats.Summary(10, 3, 0), stats.Summary(10, 4, 0)) is None
    assert stats.between_groups(stats.Summary(1, 3, 0), stats.Summary(10, 4, 1)) is None


# ---- honesty thresholds and gaps -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ((9,), "too_few_subjects"),
        ((10,), "small_sample"),
        ((29,), "small_sample"),
        ((30,), "ok"),
        ((120, 9), "too_few_subjects"),
        ((120, 29), "small_sample"),
        ((), "too_few_subjects"),
    ],
)
def test_sample_thresholds_judge_the_smallest_group(sizes: tuple[int, ...], expected: str) -> None:
    assert stats.check_sample(*sizes) == expected


def test_gap_narrows_when_the_group_catches_up() -> None:
    gap = stats.gap(
        group_before=40, group_after=48, rest_before=50, rest_after=53, higher_is_better=True
    )
    assert (gap.before, gap.after, gap.narrowed) == (10, 5, True)


def test_gap_is_oriented_by_what_is_better() -> None:
    # Behaviour points: fewer is better; the group gained more points than the rest.
    gap = stats.gap(
        group_before=6, group_after=9, rest_before=4, rest_after=4, higher_is_better=False
    )
    assert (gap.before, gap.after, gap.narrowed) == (2, 5, False)


# ---- plain language ------------------------------------------------------------------------


def effect_of(g: float, low: float, high: float) -> stats.EffectSize:
    return stats.EffectSize(
        design="paired_change", d=g, g=g, se=(high - low) / 3.92, ci_low=low, ci_high=high
    )


def test_reading_says_when_the_interval_includes_zero() -> None:
    text = stats.read_effect(effect_of(0.3, -0.05, 0.65), higher_is_better=True, n=80)
    assert text.startswith("A small improvement")
    assert "cannot rule out no effect" in text
    assert "caution" not in text


def test_reading_of_a_clear_effect_names_the_range_and_small_samples() -> None:
    text = stats.read_effect(
        effect_of(0.6, 0.25, 0.95), higher_is_better=True, n=24, subjects="pupils"
    )
    assert text.startswith("A medium improvement")
    assert "between a small and a large effect" in text
    assert "Based on only 24 pupils" in text


def test_reading_turns_a_rise_into_a_decline_when_lower_is_better() -> None:
    text = stats.read_effect(effect_of(0.45, 0.1, 0.8), higher_is_better=False, n=60)
    assert text.startswith("A small decline")
    assert "side of decline" in text


def test_reading_of_a_negligible_effect() -> None:
    text = stats.read_effect(effect_of(0.05, -0.2, 0.3), higher_is_better=True, n=200)
    assert text.startswith("Little or no change")


def test_raw_change_reading_when_too_few() -> None:
    text = stats.read_raw_change(-2.5, higher_is_better=False, n=8, subjects="pupils")
    assert "Only 8 pupils" in text and "too few for an effect size" in text
    assert "an improvement" in text
    assert "no change to report" in stats.read_raw_change(None, higher_is_better=True, n=0)


def test_reading_gives_the_raw_change_in_the_measures_units() -> None:
    paired = stats.read_effect(
        effect_of(0.45, 0.2, 0.7),
        higher_is_better=True,
        n=60,
        change=stats.describe_change(4.8157),
    )
    assert paired.startswith("A small improvement: the mean rose by 4.82 (effect size +0.45")
    assert stats.describe_change(-2.5) == "the mean fell by 2.50"
    assert stats.describe_change(0.0) == "the mean did not change"
    assert stats.describe_change(-1.25, compared=True) == (
        "the CPD group's mean change was 1.25 below the comparison group's"
    )
