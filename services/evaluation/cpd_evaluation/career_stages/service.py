"""The trust's progression ladder (teaching and support-staff tracks).

Every trust starts with :data:`DEFAULT_LADDER`; until a trust admin first changes it, reads
show the default rungs with stable ids (``uuid5`` of the trust and key), and the first change
stores them all, so an id read before the change still names the same rung after it. Reads
never write.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import one_of_a_kind, utcnow
from cpd_common.errors import Unprocessable
from cpd_common.schemas import from_row
from cpd_evaluation.career_stages.errors import (
    CannotEditLadder,
    CareerStageInUse,
    CareerStageKeyTaken,
    CareerStageNotFound,
)
from cpd_evaluation.career_stages.schemas import (
    CareerStageCreate,
    CareerStageRead,
    CareerStageUpdate,
    Ladder,
)
from cpd_evaluation.models import Person
from cpd_evaluation.models.offer import CareerStage, Programme
from cpd_evaluation.terms.offer import DEFAULT_LADDER, TRACKS

KEY_TAKEN = "Your trust's ladder already has a rung with that key; change that one."


def default_id(trust_id: uuid.UUID, key: str) -> uuid.UUID:
    return uuid.uuid5(trust_id, f"career-stage:{key}")


def _defaults(trust_id: uuid.UUID) -> list[CareerStage]:
    return [
        CareerStage(id=default_id(trust_id, str(rung["key"])), trust_id=trust_id, **rung)
        for rung in DEFAULT_LADDER
    ]


def stage_read(stage: CareerStage) -> CareerStageRead:
    return from_row(
        CareerStageRead,
        stage,
        staff_groups=list(stage.staff_groups or []),
        career_stages=list(stage.career_stages or []),
    )


async def ladder(session: AsyncSession, trust_id: uuid.UUID) -> list[CareerStage]:
    """The trust's rungs, teaching track first, in rank order (the default ladder when the
    trust has not changed it)."""
    stored = list(
        (await session.scalars(select(CareerStage).where(CareerStage.trust_id == trust_id))).all()
    )
    rungs = stored or _defaults(trust_id)
    return sorted(rungs, key=lambda s: (TRACKS.index(s.track), s.rank, s.key))


def stage_of(rungs: list[CareerStage], person: Any) -> str | None:
    """The highest rung matching a directory person (by staff group and career stage)."""
    best: CareerStage | None = None
    for rung in rungs:
        groups, stages = rung.staff_groups or [], rung.career_stages or []
        if not groups and not stages:
            continue
        if groups and person.staff_group not in groups:
            continue
        if stages and person.career_stage not in stages:
            continue
        if best is None or (rung.track == best.track and rung.rank > best.rank):
            best = rung
    return best.key if best else None


async def my_stage(session: AsyncSession, principal: Principal) -> str | None:
    if principal.person_id is None:
        return None
    person = await session.get(Person, principal.person_id)
    if person is None or person.trust_id != principal.trust_id:
        return None
    return stage_of(await ladder(session, principal.trust_id), person)


async def read_ladder(session: AsyncSession, principal: Principal) -> Ladder:
    rungs = await ladder(session, principal.trust_id)
    person = await session.get(Person, principal.person_id) if principal.person_id else None
    mine = stage_of(rungs, person) if person and person.trust_id == principal.trust_id else None
    return Ladder(items=[stage_read(r) for r in rungs], my_stage=mine)


async def keys_of(session: AsyncSession, trust_id: uuid.UUID) -> set[str]:
    return {r.key for r in await ladder(session, trust_id)}


def _ensure_admin(principal: Principal) -> None:
    if not principal.is_trust_admin:
        raise CannotEditLadder("The trust's teaching-and-learning team (trust admins) owns it.")


async def _materialise(session: AsyncSession, trust_id: uuid.UUID) -> None:
    """Stores the default ladder the first time a trust changes it (serialised per trust by
    a transaction-scoped advisory lock, so two first edits store it once)."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"ladder:{trust_id}", 0)))
    )
    stored = await session.scalar(select(exists().where(CareerStage.trust_id == trust_id)))
    if not stored:
        session.add_all(_defaults(trust_id))
        await session.flush()


async def get_stage(
    session: AsyncSession, stage_id: uuid.UUID, *, principal: Principal, write: bool = False
) -> CareerStage:
    if write:
        _ensure_admin(principal)
        await _materialise(session, principal.trust_id)
        stage = await session.scalar(
            select(CareerStage)
            .where(CareerStage.id == stage_id, CareerStage.trust_id == principal.trust_id)
            .with_for_update()
        )
    else:
        stage = next(
            (r for r in await ladder(session, principal.trust_id) if r.id == stage_id), None
        )
    if stage is None:
        raise CareerStageNotFound()
    return stage


async def create_stage(
    session: AsyncSession, *, principal: Principal, data: CareerStageCreate
) -> CareerStage:
    _ensure_admin(principal)
    await _materialise(session, principal.trust_id)
    stage = CareerStage(trust_id=principal.trust_id, **data.model_dump())
    async with one_of_a_kind(session, CareerStageKeyTaken(KEY_TAKEN)):
        session.add(stage)
        await session.flush()
    return stage


async def update_stage(
    session: AsyncSession, stage: CareerStage, *, data: CareerStageUpdate
) -> CareerStage:
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "rank", "staff_groups", "career_stages"):
        if name in changes and changes[name] is None:
            raise Unprocessable(
                f"{name} cannot be null.", errors=[{"loc": f"body.{name}", "msg": "required"}]
            )
    for name, value in changes.items():
        setattr(stage, name, value)
    stage.updated_at = utcnow()
    await session.flush()
    return stage


async def delete_stage(session: AsyncSession, stage: CareerStage) -> None:
    used = await session.scalar(
        select(
            exists().where(
                Programme.trust_id == stage.trust_id,
                Programme.stage_keys.contains([stage.key]),
            )
        )
    )
    if used:
        raise CareerStageInUse(
            "Programmes are offered to this rung; take it off those programmes first."
        )
    await tombstones.delete(session, stage)
