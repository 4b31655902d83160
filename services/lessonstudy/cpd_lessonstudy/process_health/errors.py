"""Errors of process health."""

from __future__ import annotations

from cpd_common.errors import Forbidden


class LeadersOnly(Forbidden):
    code, title = "process-health-leaders-only", "For school leaders and trust admins"
