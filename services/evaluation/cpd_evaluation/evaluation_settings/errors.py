"""Errors of the trust's evaluation settings."""

from __future__ import annotations

from cpd_common.errors import Forbidden


class SettingsTrustAdminsOnly(Forbidden):
    code, title = "evaluation-settings-trust-admins-only", "Only trust admins change these settings"
