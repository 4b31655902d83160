"""``deactivate_missing=true`` of the people import: the HR-managed people of the file's scope
whom the file does not name are deactivated (a leaver is a row that is no longer there).

The rule, chosen to be safe (docs/provisioning.md):

- Only people of the caller's trust, active, not erased, who carry an ``external_id`` (put
  there by an HR system: SCIM or an import). People added by hand in the directory have none
  and are never deactivated by a file. API clients are not people and are never touched.
- Never the caller, and never a trust admin: an admin leaves through the directory, so a file
  cannot lock a trust out of its own administration.
- The scope is the schools the file names (its ``schools`` column): a person is in it when
  every one of their schools is one of those (someone also at a school the file does not
  cover may still work there). Only a trust admin's file that names no school at all covers
  the whole trust; an HR client's file must name the schools it covers.
- Anyone the file names, as a row (matched by external id or email) or as a line manager,
  is present.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import any_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.errors import Unprocessable
from cpd_gateway.directory import provisioning
from cpd_gateway.imports import schemas
from cpd_gateway.models import Person

TRUST_REASON = "not in the file: HR-managed (has an external id) in this trust"
SCHOOLS_REASON = "not in the file: HR-managed (has an external id) at schools the file names"


async def absent_people(
    session: AsyncSession,
    *,
    principal: Principal,
    file_school_ids: set[uuid.UUID],
    present: Iterable[uuid.UUID],
) -> tuple[list[schemas.MissingPerson], list[provisioning.Planned]]:
    """Who the file leaves out (for the report) and their deactivation (for the directory)."""
    if file_school_ids:
        reason = SCHOOLS_REASON
    elif principal.is_trust_admin and principal.client_id is None:
        reason = TRUST_REASON
    else:
        raise Unprocessable(
            "deactivate_missing needs a file that names the schools it covers "
            "(a schools column); only a trust admin's file without one covers the whole trust.",
            errors=[{"loc": "query.deactivate_missing", "msg": "no schools named in the file"}],
        )
    stmt = select(Person).where(
        Person.trust_id == principal.trust_id,
        Person.active.is_(True),
        Person.erased_at.is_(None),
        Person.external_id.is_not(None),
        ~(literal("trust_admin") == any_(Person.roles)),
    )
    if principal.person_id is not None:
        stmt = stmt.where(Person.id != principal.person_id)
    if file_school_ids:
        stmt = stmt.where(
            func.cardinality(Person.school_ids) > 0,
            Person.school_ids.contained_by(sorted(file_school_ids)),
        )
    named = set(present)
    people = [
        p for p in (await session.scalars(stmt.order_by(Person.id))).all() if p.id not in named
    ]
    report = [
        schemas.MissingPerson(person_id=p.id, name=p.name, external_id=p.external_id, reason=reason)
        for p in people
    ]
    # Keys below the file's rows (which start at 2), so they never collide with a row.
    planned = [
        provisioning.Planned(key=-i, person_id=p.id, fields={"active": False}, person=p)
        for i, p in enumerate(people, start=1)
    ]
    return report, planned
