"""Bodies of the single sign-on configuration."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from cpd_common.schemas import InputModel, OutputModel

Scope = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[\x21-\x7e]+$")]
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class SsoConfigWrite(InputModel):
    issuer: str = Field(
        min_length=1,
        max_length=500,
        description="The provider's issuer URL, e.g. https://login.microsoftonline.com/<tenant>"
        "/v2.0; its /.well-known/openid-configuration is read at sign-in.",
    )
    client_id: str = Field(min_length=1, max_length=200)
    client_secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Required the first time; omit to keep the stored one. Never answered.",
    )
    scopes: list[Scope] = Field(default_factory=lambda: ["openid", "email", "profile"])
    external_id_claim: str = Field(
        default="sub",
        min_length=1,
        max_length=60,
        description="ID token claim matched against people's `external_id` (Entra ID: `oid`).",
    )
    enabled: bool = True

    @field_validator("issuer")
    @classmethod
    def _https_issuer(cls, value: str) -> str:
        value = value.rstrip("/")
        if value.startswith("https://"):
            return value
        host = value.removeprefix("http://").split("/", 1)[0].rsplit(":", 1)[0]
        if value.startswith("http://") and host in LOCAL_HOSTS:
            return value
        raise ValueError("the issuer must be an https URL")

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("the scopes must include openid")
        return list(dict.fromkeys(value))


class SsoConfigRead(OutputModel):
    trust_id: uuid.UUID
    issuer: str
    client_id: str
    client_secret_set: bool = True
    scopes: list[str]
    external_id_claim: str
    enabled: bool
    redirect_uri: str = Field(
        description="Register this as the redirect URI of the gateway's client at the provider."
    )
    updated_at: datetime
