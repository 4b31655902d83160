"""Errors of providers."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class ProviderNotFound(NotFound):
    code, title = "provider-not-found", "Provider not found"


class ProviderNameTaken(Conflict):
    code, title = "provider-name-taken", "Your trust already has a provider of that name"


class ProviderInUse(Conflict):
    code, title = "provider-in-use", "Activities name this provider"


class CannotManageProviders(Forbidden):
    code, title = "cannot-manage-providers", "Only leaders and trust admins manage providers"


class UnknownProvider(Unprocessable):
    pass
