"""Result payloads: per item, per section, per breakdown cell; comparisons; suggestions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field

from cpd_common.schemas import OutputModel

Dimension = Literal["school", "staff_group", "department", "career_stage", "leadership"]

WITHHELD_DOC = (
    "Why the figures are withheld (null when shown): the cell has fewer respondents than the "
    "audit's minimum group size, or it is withheld so that another withheld cell cannot be "
    "worked out from the totals."
)


class ItemResult(OutputModel):
    item_key: str
    section: str | None
    type: str
    text: str
    scale_max: int | None = Field(None, description="The top score (1 is the bottom).")
    n: int | None = Field(None, description="Respondents who answered (including don't know).")
    n_scored: int | None = Field(None, description="Respondents who gave a score or choice.")
    mean: float | None = None
    sd: float | None = Field(None, description="Sample standard deviation.")
    distribution: dict[str, int] | None = Field(
        None, description="Answers per score (1 = lowest), `dont_know`, or per choice."
    )
    mean_values: float | None = None
    sd_values: float | None = None
    mean_practice: float | None = None
    sd_practice: float | None = None
    gap: float | None = Field(None, description="Mean values minus mean practice.")
    gap_rank: int | None = Field(None, description="1 = the largest gap.")
    distribution_values: dict[str, int] | None = None
    distribution_practice: dict[str, int] | None = None
    percent_agree: float | None = Field(
        None, description="Share agreeing or strongly agreeing among those who gave a view."
    )
    percent_dont_know: float | None = Field(
        None, description="Share answering don't know among those who answered."
    )
    comments: list[str] | None = Field(
        None,
        description="Free text and comments, in alphabetical order and without attributes; "
        "only when at least the minimum group size of respondents answered the item (never "
        "in breakdown cells).",
    )
    withheld: str | None = Field(None, description=WITHHELD_DOC)


class SectionResult(OutputModel):
    """A section pools its items' answers, in the shape of an item: distributions are
    zero-filled over the scale and percentages are 0.0 (not null) when nothing counts."""

    section: str
    title: str
    scale_max: int | None = Field(None, description="The top score of its items' scale.")
    n: int | None = Field(None, description="Respondents who answered any of its items.")
    n_scored: int | None = Field(None, description="Respondents who gave any score.")
    mean: float | None = Field(None, description="Over its agreement items' scores.")
    sd: float | None = None
    distribution: dict[str, int] | None = Field(
        None, description="Agreement answers per score (1 = lowest) and `dont_know`."
    )
    mean_values: float | None = None
    sd_values: float | None = None
    mean_practice: float | None = None
    sd_practice: float | None = None
    gap: float | None = Field(None, description="Mean values minus mean practice.")
    distribution_values: dict[str, int] | None = None
    distribution_practice: dict[str, int] | None = None
    percent_agree: float | None = None
    percent_dont_know: float | None = None
    withheld: str | None = Field(None, description=WITHHELD_DOC)


class CellResult(OutputModel):
    group: dict[str, Any] = Field(description="The cell's value on each breakdown dimension.")
    label: str
    respondents: int | None
    withheld: str | None = Field(None, description=WITHHELD_DOC)
    items: list[ItemResult]
    sections: list[SectionResult]


class LeadersVStaffItem(OutputModel):
    """Where leaders' and other staff's views differ (leaders minus staff)."""

    item_key: str
    text: str
    leaders: float | None = Field(None, description="Leaders' gap, mean or percent agree.")
    staff: float | None = None
    difference: float | None = None
    measure: Literal["gap", "mean", "percent_agree"]
    withheld: str | None = None


RESPONSE_RATE_DOC = "Responses as a percent of `audience_size` (one decimal)."


class ResultsInProgress(OutputModel):
    """An audit that has not closed: no figure of any answer, only how many have responded.
    Results are released when it closes, so that reading before and after one response
    never gives that response away."""

    audit_id: uuid.UUID
    title: str
    status: Literal["draft", "open"]
    released: Literal[False] = Field(
        False, description="Always false: figures are released when the audit closes."
    )
    audience_size: int | None = Field(description="People in the audience frozen at opening.")
    responses: int = Field(description="Responses so far, over the whole audit.")
    response_rate: float | None = Field(description=RESPONSE_RATE_DOC)


class Results(OutputModel):
    audit_id: uuid.UUID
    title: str
    status: Literal["closed"]
    released: Literal[True] = True
    instrument_id: uuid.UUID
    instrument_key: str
    instrument_version: int
    paired: bool
    min_group_size: int
    audience_size: int | None = Field(None, description="People in the audience frozen at opening.")
    respondents: int | None
    response_rate: float | None = Field(None, description=RESPONSE_RATE_DOC)
    withheld: str | None = None
    items: list[ItemResult] = Field(description="In the instrument's order.")
    ranked_by_gap: list[str] = Field(
        description="Paired items with a published gap, largest gap first."
    )
    sections: list[SectionResult]
    by: list[Dimension] = Field(default_factory=list)
    breakdown: list[CellResult] | None = None
    leaders_v_staff: list[LeadersVStaffItem] | None = None


class ItemChange(OutputModel):
    item_key: str
    text: str
    type: str
    earlier: ItemResult
    later: ItemResult
    change_mean: float | None = None
    change_mean_values: float | None = None
    change_mean_practice: float | None = None
    change_gap: float | None = None
    change_percent_agree: float | None = None
    withheld: str | None = None


class Comparison(OutputModel):
    """Per-item change from the earlier round to the later one (later minus earlier)."""

    earlier_audit_id: uuid.UUID
    later_audit_id: uuid.UUID
    instrument_id: uuid.UUID
    earlier_respondents: int | None
    later_respondents: int | None
    items: list[ItemChange]
    missing_items: list[str] = Field(
        description="Keys in only one of the two rounds (versions can differ)."
    )


class SuggestedNeed(OutputModel):
    item_key: str
    section: str | None
    kind: Literal["gap", "low_agreement", "low_mean"]
    title: str
    description: str
    evidence_note: str
    n: int | None
    gap: float | None = None
    mean_values: float | None = None
    mean_practice: float | None = None
    mean: float | None = None
    percent_agree: float | None = None


class SuggestedNeeds(OutputModel):
    audit_id: uuid.UUID
    school_ids: list[uuid.UUID]
    items: list[SuggestedNeed]


AnyResults = Annotated[Results | ResultsInProgress, Field(discriminator="status")]
