"""Comparing two closed rounds of one instrument, item by item (later minus earlier)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.models import Audit
from cpd_audit.results import figures, schemas
from cpd_audit.results import service as results_service
from cpd_common.auth import Principal
from cpd_common.errors import Unprocessable


async def compare(
    session: AsyncSession, audit_id: uuid.UUID, other_id: uuid.UUID, *, principal: Principal
) -> schemas.Comparison:
    first = await results_service.readable_audit(session, audit_id, principal=principal)
    second = await results_service.readable_audit(session, other_id, principal=principal)
    if first[1].id != second[1].id:
        raise Unprocessable(
            "Only rounds of the same instrument can be compared.",
            errors=[{"loc": "path.other_id", "msg": "a round of another instrument"}],
        )
    if audit_id == other_id:
        raise Unprocessable(
            "Compare two different rounds.",
            errors=[{"loc": "path.other_id", "msg": "the same audit"}],
        )
    results_service.require_closed(first[0])
    results_service.require_closed(second[0])

    def when(a: Audit) -> Any:
        return (a.opened_at or a.created_at, a.id)

    earlier, later = sorted([first, second], key=lambda t: when(t[0]))
    before = await results_service.compute_results(session, *earlier)
    after = await results_service.compute_results(session, *later)
    later_items = {i.item_key: i for i in after.items}
    earlier_keys = [i.item_key for i in before.items]
    changes = []
    for old in before.items:
        new = later_items.get(old.item_key)
        if new is None or new.type != old.type:
            continue
        withheld = old.withheld or new.withheld

        def diff(
            field: str,
            o: schemas.ItemResult = old,
            n: schemas.ItemResult = new,
            hidden: str | None = withheld,
        ) -> Any:
            a, b = getattr(o, field), getattr(n, field)
            return None if hidden or a is None or b is None else figures.round_(b - a)

        changes.append(
            schemas.ItemChange(
                item_key=old.item_key,
                text=new.text,
                type=new.type,
                earlier=old,
                later=new,
                change_mean=diff("mean"),
                change_mean_values=diff("mean_values"),
                change_mean_practice=diff("mean_practice"),
                change_gap=diff("gap"),
                change_percent_agree=diff("percent_agree"),
                withheld=withheld,
            )
        )
    compared = {c.item_key for c in changes}
    missing = sorted((set(earlier_keys) | set(later_items)) - compared)
    return schemas.Comparison(
        earlier_audit_id=earlier[0].id,
        later_audit_id=later[0].id,
        instrument_id=first[1].id,
        earlier_respondents=before.respondents,
        later_respondents=after.respondents,
        items=changes,
        missing_items=missing,
    )
