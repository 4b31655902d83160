"""What each role may do, as capability strings (``<resource>:<action>``) a front-end uses to
show or hide what the API would refuse. Defined once here, from the role table of the design
(docs/architecture.md); ``GET /v1/me`` answers the union for the caller's roles.

They are hints for the UI, not the rules: every service still checks each request itself
(scope by trust and school, ownership, an audit being closed ...), so holding a capability
does not mean every resource of that kind is open to you."""

from __future__ import annotations

from collections.abc import Iterable

from cpd_common.auth import Role

# Read and take part: what everyone who works in a school may do.
_STAFF = frozenset(
    {
        "audits:respond",
        "audit_results:read",
        "career_plans:own",
        "self_reviews:own",
        "cpd_records:own",
        "reflections:write",
        "feedback:write",
        "lesson_studies:participate",
        "enquiries:own",
        "learning_communities:read",
        "activities:read",
        "people:search",
        "sessions:own",
        "password:change",
    }
)
# Run CPD in their schools.
_LEADER = _STAFF | {
    "audits:create",
    "audits:manage",
    "audit_results:read",
    "instruments:manage",
    "needs:read",
    "needs:manage",
    "alignment_plans:manage",
    "cpd_plans:manage",
    "activities:manage",
    "providers:manage",
    "follow_ups:manage",
    "evaluations:manage",
    "evaluation_reports:read",
    "lesson_studies:manage",
    "learning_communities:manage",
    "dashboards:read",
    "people:read",
    "groups:read",
}

CAPABILITIES: dict[Role, frozenset[str]] = {
    "staff": _STAFF,
    "school_leader": _LEADER,
    "trust_admin": _LEADER
    | {
        "trust:manage",
        "schools:manage",
        "people:manage",
        "people:reset_password",
        "people:erase",
        "groups:manage",
        "clients:manage",
        "sso:configure",
        "dead_letters:manage",
    },
    "governor": frozenset(
        {
            "audit_results:read",
            "evaluation_reports:read",
            "dashboards:read",
            "sessions:own",
            "password:change",
        }
    ),
    "qa_reader": frozenset({"metrics:read"}),
    "hr_integration": frozenset({"scim:provision", "people:import"}),
}


def capabilities(roles: Iterable[str]) -> list[str]:
    """The sorted union of the capabilities of ``roles`` (unknown roles add nothing)."""
    found: set[str] = set()
    for role in roles:
        found |= CAPABILITIES.get(role, frozenset())  # type: ignore[call-overload]
    return sorted(found)
