"""Audit results as a whole: what may be shown to whom and when. Results are released only
when the audit closes (DESIGN.md section 7): before that, the only figures are the whole
audit's number of responses and the response rate against the audience frozen at opening.
The figures come from :mod:`cpd_audit.results.figures` and
:mod:`cpd_audit.results.breakdowns`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import access as audits_access
from cpd_audit.audits import service as audits_service
from cpd_audit.audits.errors import ResultsNotPublished
from cpd_audit.instruments import schemas as instrument_schemas
from cpd_audit.instruments import service as instruments_service
from cpd_audit.models import Audit, Instrument, InstrumentVersion
from cpd_audit.results import breakdowns, figures, queries, schemas, suppression, totals
from cpd_audit.results.errors import ResultsNotReleased
from cpd_common.auth import Principal


def response_rate(responses: int, audience_size: int | None) -> float | None:
    """Percent of the audience frozen at opening (one decimal)."""
    return figures.percent(responses, audience_size or 0)


def _comment_items(items: Sequence[instrument_schemas.Item]) -> set[str]:
    return {
        i.key
        for i in items
        if i.type == "free_text" or (isinstance(i, instrument_schemas.AgreementItem) and i.comment)
    }


async def compute_results(
    session: AsyncSession,
    audit: Audit,
    instrument: Instrument,
    version: InstrumentVersion,
    *,
    by: Sequence[str] = (),
    schools: frozenset[uuid.UUID] | None = None,
) -> schemas.Results:
    """A closed audit's results; ``schools`` (when given) limits the breakdown to the cells
    of those schools (``by`` must then include school)."""
    require_closed(audit)
    items = instruments_service.parse_items(version.items)
    sections = [instrument_schemas.Section.model_validate(s) for s in version.sections]
    meta = figures.item_meta(items)
    k = audit.min_group_size
    measures = figures.measures_of(items)
    whole = await totals.get(
        session, audit, meta=meta, measures=measures, with_sections=bool(sections)
    )
    respondents = whole.respondents
    item_figs = figures.Figures(whole.items, "item_key", ())
    section_figs = figures.Figures(whole.sections, "section", ())
    # Comments: only of items at least k people answered, sorted by text, no attributes.
    with_comments = _comment_items(items)
    comments: dict[str, list[str]] = defaultdict(list)
    if with_comments:
        for key, body in await queries.comments(session, audit.id):
            comments[key].append(body)

    item_results = []
    for item in items:
        summary = item_figs.summary.get((item.key,))
        answered_w, scored_w = figures.total_reasons(summary, k)
        released = item.key in with_comments and answered_w is None
        item_results.append(
            figures.build_item(
                item,
                summary,
                item_figs.dist.get((item.key,)),
                answered_withheld=answered_w,
                scored_withheld=scored_w,
                comments=comments.get(item.key, []) if released else None,
            )
        )
    ranked = sorted(
        (i for i in item_results if i.gap is not None),
        key=lambda i: (-(i.gap or 0.0), i.item_key),
    )
    for rank, item_result in enumerate(ranked, start=1):
        item_result.gap_rank = rank
    section_results = []
    for section in sections:
        summary = section_figs.summary.get((section.key,))
        answered_w, scored_w = figures.section_guard(
            section.key, item_results, *figures.total_reasons(summary, k)
        )
        section_results.append(
            figures.build_section(
                section,
                [i for i in items if i.section == section.key],
                summary,
                section_figs.dist.get((section.key,)),
                answered_withheld=answered_w,
                scored_withheld=scored_w,
            )
        )
    shown = respondents >= k
    results = schemas.Results(
        audit_id=audit.id,
        title=audit.title,
        status="closed",
        instrument_id=instrument.id,
        instrument_key=instrument.key,
        instrument_version=version.version,
        paired=audits_service.is_paired(version),
        min_group_size=k,
        audience_size=audit.audience_size,
        respondents=respondents if shown else None,
        response_rate=response_rate(respondents, audit.audience_size) if shown else None,
        withheld=None if shown else suppression.withheld_reason("primary", k),
        items=item_results,
        ranked_by_gap=[i.item_key for i in ranked],
        sections=section_results,
        by=list(by),
    )
    if by:
        results.breakdown = await breakdowns.breakdown(
            session,
            audit,
            items,
            sections,
            meta=meta,
            measures=measures,
            by=by,
            totals=item_figs,
            section_totals=section_figs,
            respondent_total=respondents,
            schools=schools,
        )
        one_school = len({c.group.get("school") for c in results.breakdown}) <= 1
        if [d for d in by if schools is None or d != "school"] == ["leadership"] and (
            schools is None or one_school
        ):
            results.leaders_v_staff = breakdowns.leaders_v_staff(items, results.breakdown)
    return results


async def readable_audit(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal
) -> tuple[Audit, Instrument, InstrumentVersion]:
    """The audit, if the caller may read its results at all: leaders of its schools and
    trust admins (its progress while open), staff and governors of its schools once closed."""
    audit = await audits_service.get_audit(session, audit_id, principal=principal)
    if not audits_access.may_see_results(principal, audit):
        raise ResultsNotPublished("Staff and governors see an audit's results once it has closed.")
    instrument, version = await audits_service.instrument_of(session, audit)
    return audit, instrument, version


def require_closed(audit: Audit) -> None:
    if audit.status != "closed":
        raise ResultsNotReleased(
            f"The audit is {audit.status}: its results are released when it closes. Until "
            f"then only the number of responses and the response rate are shown, at "
            f"/v1/audits/{audit.id}/results."
        )


async def released_audit(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal
) -> tuple[Audit, Instrument, InstrumentVersion]:
    """:func:`readable_audit`, and closed (409 before)."""
    found = await readable_audit(session, audit_id, principal=principal)
    require_closed(found[0])
    return found


async def progress(session: AsyncSession, audit: Audit) -> schemas.ResultsInProgress:
    responses = await queries.respondent_count(session, audit.id)
    return schemas.ResultsInProgress(
        audit_id=audit.id,
        title=audit.title,
        status=audit.status,
        audience_size=audit.audience_size,
        responses=responses,
        response_rate=response_rate(responses, audit.audience_size),
    )


async def get_results(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal, by: Sequence[str] = ()
) -> schemas.Results | schemas.ResultsInProgress:
    """Released results once closed; before that only the audit's progress (whatever
    ``by`` asks for)."""
    audit, instrument, version = await readable_audit(session, audit_id, principal=principal)
    if audit.status != "closed":
        return await progress(session, audit)
    dims, schools = breakdowns.viewer_dims(audit, principal, by)
    return await compute_results(session, audit, instrument, version, by=dims, schools=schools)


async def get_released_results(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal, by: Sequence[str] = ()
) -> schemas.Results:
    """For the views that have nothing to show until close (chart, CSV): 409 before."""
    audit, instrument, version = await released_audit(session, audit_id, principal=principal)
    dims, schools = breakdowns.viewer_dims(audit, principal, by)
    return await compute_results(session, audit, instrument, version, by=dims, schools=schools)
