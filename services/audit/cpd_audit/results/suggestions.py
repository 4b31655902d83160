"""Needs suggested by a closed audit's published figures: the largest gaps between values
and practice and the lowest agreement, each with its evidence."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import access as audits_access
from cpd_audit.audits import service as audits_service
from cpd_audit.models import School
from cpd_audit.results import schemas
from cpd_audit.results import service as results_service
from cpd_common.auth import Principal
from cpd_common.errors import Forbidden

MAX_SUGGESTIONS = 5
GAP_THRESHOLD = 0.5
AGREE_THRESHOLD = 60.0


def _short(text: str, limit: int = 150) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def suggested_needs(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal
) -> schemas.SuggestedNeeds:
    """The items with the largest published gaps (values above practice by at least
    ``GAP_THRESHOLD``) and the lowest published agreement (under ``AGREE_THRESHOLD`` percent),
    with their figures as evidence. Leaders of schools in scope and trust admins, once the
    audit has closed (409 before)."""
    audit = await audits_service.get_audit(session, audit_id, principal=principal)
    if not audits_access.leads_scope(principal, audit):
        raise Forbidden("Suggested needs are for leaders of the audit's schools.")
    results_service.require_closed(audit)
    instrument, version = await audits_service.instrument_of(session, audit)
    results = await results_service.compute_results(session, audit, instrument, version)
    gaps = sorted(
        (i for i in results.items if i.gap is not None and i.gap >= GAP_THRESHOLD),
        key=lambda i: (-(i.gap or 0.0), i.item_key),
    )[:MAX_SUGGESTIONS]
    low = sorted(
        (
            i
            for i in results.items
            if i.percent_agree is not None and i.percent_agree < AGREE_THRESHOLD
        ),
        key=lambda i: (i.percent_agree or 0.0, i.item_key),
    )[:MAX_SUGGESTIONS]
    out: list[schemas.SuggestedNeed] = []
    for item in gaps:
        out.append(
            schemas.SuggestedNeed(
                item_key=item.item_key,
                section=item.section,
                kind="gap",
                title=_short(f"Close the gap on {item.item_key}: {item.text}", 200),
                description=(
                    f"Staff rate this {item.mean_values:.2f} for fitting our aims and values but "
                    f"{item.mean_practice:.2f} for what actually happens (gap {item.gap:.2f}, "
                    f"{item.n} respondents)."
                ),
                evidence_note=(
                    f"Audit '{audit.title}', item {item.item_key}: values {item.mean_values:.2f}, "
                    f"practice {item.mean_practice:.2f}, gap {item.gap:.2f}, n = {item.n}."
                ),
                n=item.n,
                gap=item.gap,
                mean_values=item.mean_values,
                mean_practice=item.mean_practice,
            )
        )
    for item in low:
        out.append(
            schemas.SuggestedNeed(
                item_key=item.item_key,
                section=item.section,
                kind="low_agreement",
                title=_short(f"Strengthen {item.item_key}: {item.text}", 200),
                description=(
                    f"Only {item.percent_agree:.0f}% of those with a view agree "
                    f"(mean {item.mean:.2f}, {item.n_scored} scored, "
                    f"{item.percent_dont_know or 0:.0f}% don't know)."
                ),
                evidence_note=(
                    f"Audit '{audit.title}', item {item.item_key}: {item.percent_agree:.0f}% "
                    f"agree, mean {item.mean:.2f}, n = {item.n}."
                ),
                n=item.n,
                mean=item.mean,
                percent_agree=item.percent_agree,
            )
        )
    scope = list(audit.school_ids)
    if audit.scope_kind == "trust":
        scope = list(
            await session.scalars(
                select(School.id).where(School.trust_id == audit.trust_id).order_by(School.id)
            )
        )
    return schemas.SuggestedNeeds(audit_id=audit.id, school_ids=scope, items=out)
