"""The people picker: colleagues a person may choose (lesson-study members, a mentor), found
by the start of a word of their name. Staff see only active people who share one of their
schools, and of them only id, name and the shared schools; trust admins the whole trust. Never
another trust's people, and never API clients (they pick no one)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.errors import Forbidden
from cpd_common.pagination import SortKey
from cpd_gateway.directory import schemas
from cpd_gateway.models import Person, School

# The expression the index ``ix_people_trust_id_name_search`` (trust_id, lower(name)) covers.
NAME_KEY = func.lower(Person.name)
BY_NAME = SortKey("name", NAME_KEY, False)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def colleagues_query(*, principal: Principal, q: str) -> Select[Any]:
    if principal.person_id is None:
        raise Forbidden("The people picker is for people, not API clients.")
    stmt = select(Person).where(
        Person.trust_id == principal.trust_id,
        Person.active.is_(True),
        Person.erased_at.is_(None),
    )
    if not principal.is_trust_admin:
        if not principal.school_ids:
            raise Forbidden("You belong to no school, so there is no one to pick from.")
        stmt = stmt.where(Person.school_ids.overlap(list(principal.school_ids)))
    for word in q.lower().split():
        pattern = _like_escape(word)
        # A word of the name starts with it: the first (prefix, served by the index) or a
        # later one.
        stmt = stmt.where(
            or_(
                NAME_KEY.like(f"{pattern}%", escape="\\"),
                NAME_KEY.like(f"% {pattern}%", escape="\\"),
                NAME_KEY.like(f"%-{pattern}%", escape="\\"),
            )
        )
    return stmt


async def colleagues(
    session: AsyncSession, people: list[Person], *, principal: Principal
) -> list[schemas.Colleague]:
    """Projects people to what the picker may show: the schools they share with the caller."""
    visible: set[uuid.UUID] = set()
    for person in people:
        visible |= set(person.school_ids or [])
    if not principal.is_trust_admin:
        visible &= set(principal.school_ids)
    names = {
        s.id: s.name
        for s in (
            await session.scalars(
                select(School).where(School.trust_id == principal.trust_id, School.id.in_(visible))
            )
        ).all()
    }
    return [
        schemas.Colleague(
            id=p.id,
            display_name=p.name,
            schools=sorted(
                (
                    schemas.SchoolRef(id=s, name=names[s])
                    for s in (p.school_ids or [])
                    if s in names
                ),
                key=lambda ref: (ref.name, ref.id),
            ),
        )
        for p in people
    ]
