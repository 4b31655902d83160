"""Who may plan: school leaders for their schools, trust admins for every school of their
trust; personal resources need a person behind the token."""

from __future__ import annotations

import uuid

from cpd_common.auth import PERSON_ROLES, Principal
from cpd_common.errors import Forbidden


def leads_school(principal: Principal, school_id: uuid.UUID | None) -> bool:
    """Trust admins lead every school of their trust; school leaders their own schools."""
    if principal.is_trust_admin:
        return True
    return (
        "school_leader" in principal.roles
        and school_id is not None
        and school_id in principal.school_ids
    )


def led_school_ids(principal: Principal) -> list[uuid.UUID]:
    return list(principal.school_ids) if "school_leader" in principal.roles else []


def require_person(principal: Principal) -> uuid.UUID:
    """Personal resources need a person behind the token (not an API client)."""
    if principal.person_id is None or not principal.has_any(*PERSON_ROLES):
        raise Forbidden("Only people (not API clients) have this resource.")
    return principal.person_id


def require_planning_role(principal: Principal) -> None:
    if not principal.has_any(*PERSON_ROLES):
        raise Forbidden("Your role does not allow this.")
