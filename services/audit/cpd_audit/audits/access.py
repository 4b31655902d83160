"""Who may see and run an audit: trust admins everything of their trust; school leaders the
audits covering a school they lead (and run those whose every school they lead); staff and
governors the open and closed audits of their schools, and results once closed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, or_

from cpd_audit.models import Audit
from cpd_common.auth import PERSON_ROLES, Principal
from cpd_common.errors import Forbidden


def require_person_role(principal: Principal) -> None:
    if not principal.has_any(*PERSON_ROLES):
        raise Forbidden("Your role does not allow this.")


def overlaps(audit: Audit, school_ids: frozenset[uuid.UUID]) -> bool:
    return audit.scope_kind == "trust" or not school_ids.isdisjoint(audit.school_ids)


def leads_scope(principal: Principal, audit: Audit) -> bool:
    """Trust admins, and school leaders of at least one school in the audit's scope."""
    if principal.is_trust_admin:
        return True
    return "school_leader" in principal.roles and overlaps(audit, principal.school_ids)


def may_manage(principal: Principal, audit: Audit) -> bool:
    """Trust admins; school leaders when they lead every school in the scope."""
    if principal.is_trust_admin:
        return True
    return (
        "school_leader" in principal.roles
        and audit.scope_kind != "trust"
        and set(audit.school_ids) <= principal.school_ids
    )


def may_see_results(principal: Principal, audit: Audit) -> bool:
    """Leaders of schools in scope and trust admins at any time; staff and governors of
    those schools once the audit is closed."""
    if leads_scope(principal, audit):
        return True
    return (
        audit.status == "closed"
        and principal.has_any("staff", "governor")
        and overlaps(audit, principal.school_ids)
    )


def visible(principal: Principal) -> Any:
    """Trust admins see every audit of their trust; others the audits covering one of their
    schools, drafts only when they lead such a school."""
    clause = Audit.trust_id == principal.trust_id
    if principal.is_trust_admin:
        return clause
    mine = list(principal.school_ids)
    in_scope = or_(Audit.scope_kind == "trust", Audit.school_ids.overlap(mine))
    if "school_leader" in principal.roles:
        return and_(clause, in_scope)
    return and_(clause, in_scope, Audit.status != "draft")
