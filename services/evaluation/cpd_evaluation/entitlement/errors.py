"""Errors of the entitlement settings."""

from __future__ import annotations

from cpd_common.errors import Forbidden


class TrustAdminsOnly(Forbidden):
    code, title = "trust-admins-only", "Only trust admins set the entitlement"
