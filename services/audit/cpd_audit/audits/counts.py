"""Response counts of an audit: how many have responded, never who."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import access, schemas
from cpd_audit.models import Audit
from cpd_audit.results import queries, suppression
from cpd_audit.results import service as results_service
from cpd_common.auth import Principal
from cpd_common.errors import Forbidden


async def response_counts(
    session: AsyncSession, audit: Audit, *, principal: Principal
) -> schemas.ResponseCounts:
    """How many have responded, never who. While the audit is open only the whole audit's
    count and rate (per-group counts read before and after one response would say who
    responded); once closed also per school and staff group, suppressed like the results
    and, in an audit across schools, only the viewer's own schools' cells (trust admins see
    all). Leaders of schools in scope and trust admins only."""
    if not access.leads_scope(principal, audit):
        raise Forbidden("Only leaders of the audit's schools see response counts.")
    k = audit.min_group_size
    atoms = {
        tuple(r[c.split(".")[1]] for c in queries.DIMENSION_COLUMNS.values()): int(r["answered"])
        for r in await queries.respondent_atoms(session, audit.id)
    }
    total = sum(atoms.values())
    out = schemas.ResponseCounts(
        audit_id=audit.id,
        status=audit.status,
        min_group_size=k,
        audience_size=audit.audience_size,
        responses=total,
        response_rate=results_service.response_rate(total, audit.audience_size),
    )
    if audit.status != "closed":
        return out
    pattern = suppression.compute(atoms, k)
    own = None
    if not principal.is_trust_admin and not (
        audit.scope_kind != "trust" and set(audit.school_ids) <= principal.school_ids
    ):
        own = principal.school_ids

    def cell(dims: tuple[str, ...], values: tuple[Any, ...]) -> schemas.CountCell:
        key = suppression.cell_key(dims, dict(zip(dims, values, strict=True)))
        reason = suppression.withheld_reason(pattern.reason(key), k)
        group = dict(zip(dims, values, strict=True))
        return schemas.CountCell(
            school_id=group.get("school"),
            staff_group=group.get("staff_group"),
            responses=None if reason else pattern.size(key),
            withheld=reason,
        )

    def cells(dims: tuple[str, ...]) -> list[schemas.CountCell]:
        keys = sorted(
            (k_ for k_ in pattern.counts if k_[0] == dims), key=lambda x: [str(v) for v in x[1]]
        )
        shown = [cell(dims, values) for _, values in keys]
        return [c for c in shown if own is None or c.school_id in own]

    out.by_school = cells(("school",))
    out.by_school_and_staff_group = cells(("school", "staff_group"))
    # A staff group's count across the trust, less one school's, is the other schools'.
    out.by_staff_group = cells(("staff_group",)) if own is None else None
    return out
