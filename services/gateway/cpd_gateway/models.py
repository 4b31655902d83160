"""Every table of the gateway: identity (accounts, API clients, signing keys) and the
directory (trusts, schools, people, groups), plus the outbox for directory events."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin, new_metadata, sync_indexes
from cpd_common.events.inbox import DeadLetterMixin, InboxMixin
from cpd_common.events.outbox import OutboxMixin
from cpd_common.heartbeat import WorkerHeartbeatMixin
from cpd_common.idempotency import IdempotencyKeyMixin
from cpd_common.revocation import TokenRevocationMixin
from cpd_common.tombstones import TombstoneMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class OutboxEvent(OutboxMixin, Base):
    __tablename__ = "outbox"


class InboxEntry(InboxMixin, Base):
    __tablename__ = "inbox"


class DeadLetter(DeadLetterMixin, Base):
    __tablename__ = "dead_letters"


class IdempotencyKey(IdempotencyKeyMixin, Base):
    __tablename__ = "idempotency_keys"


class Tombstone(TombstoneMixin, Base):
    """Deleted resources, for incremental sync (``?updated_since=``)."""


class Trust(IdMixin, TimestampMixin, Base):
    """A multi-academy trust (or a single school's own tenancy): the tenant."""

    __tablename__ = "trusts"

    name: Mapped[str] = mapped_column(String(200))
    # What SCIM DELETE (an HR system de-provisioning someone) does after deactivating them:
    # "deactivate" keeps the record, "erase" runs right-to-erasure at once.
    deprovisioning: Mapped[str] = mapped_column(
        String(20), default="deactivate", server_default="deactivate"
    )


class School(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "schools"

    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str | None] = mapped_column(String(40))
    urn: Mapped[str | None] = mapped_column(String(20))


class Person(IdMixin, TenantMixin, TimestampMixin, Base):
    """A member of staff (or governor). ``erased_at`` is set by right-to-erasure, which
    blanks every personal field and keeps only the id."""

    __tablename__ = "people"

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    staff_group: Mapped[str | None] = mapped_column(String(40))
    department: Mapped[str | None] = mapped_column(String(100))
    career_stage: Mapped[str | None] = mapped_column(String(40))
    fte: Mapped[float | None] = mapped_column(Float)
    start_date: Mapped[date | None] = mapped_column(Date)
    line_manager_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Provisioning (SCIM, CSV import): the HR system's user name and staff number, the name
    # in parts, and when the HR system de-provisioned the person (SCIM DELETE), after which
    # SCIM answers 404 for them while the directory keeps them, inactive.
    user_name: Mapped[str | None] = mapped_column(String(320))
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    employee_number: Mapped[str | None] = mapped_column(String(100))
    deprovisioned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Emails are login names: unique across the platform (stored lower-cased).
        UniqueConstraint("email", name="uq_people_email"),
        # What an HR system matches people by: one person per user name / external id.
        Index(
            "uq_people_trust_user_name",
            "trust_id",
            func.lower(user_name),
            unique=True,
            postgresql_where=text("user_name IS NOT NULL"),
        ),
        Index(
            "uq_people_trust_external_id",
            "trust_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )


# The people picker finds names by their start within a trust (``LIKE 'jo%'`` on lower(name)).
Index(
    "ix_people_trust_id_name_search",
    Person.trust_id,
    func.lower(Person.name).label("lower_name"),
    postgresql_ops={"lower_name": "text_pattern_ops"},
)


class Account(Base):
    """A local login (argon2 password hash). Emails are unique platform-wide."""

    __tablename__ = "accounts"

    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Group(IdMixin, TenantMixin, TimestampMixin, Base):
    """A named set of people (a phase team, a department, a lesson-study triad ...)."""

    __tablename__ = "groups"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    school_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    member_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    # The HR system's id of the group (SCIM externalId).
    external_id: Mapped[str | None] = mapped_column(String(200))


class ApiClient(IdMixin, TenantMixin, TimestampMixin, Base):
    """A machine client (QA body, HR system): OAuth2 client credentials, secret hashed."""

    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Requests a minute at the gateway (null: the gateway's default for clients).
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    # After a secret rotation the previous secret still works until this moment.
    previous_secret_hash: Mapped[str | None] = mapped_column(String(200))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TokenRevocation(TokenRevocationMixin, Base):
    """What each token subject may still do (see :mod:`cpd_common.revocation`)."""


class WorkerHeartbeat(WorkerHeartbeatMixin, Base):
    """The worker's sign of life, read by ``/readyz`` (see :mod:`cpd_common.heartbeat`)."""


class SigningKey(Base):
    """Token-signing keys. The newest active key signs; a retired key stays published in the
    JWKS until every token it signed has expired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(10))
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    publish_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInSession(IdMixin, TenantMixin, Base):
    """A person's session in one front-end app: a family of rotating refresh tokens.

    Revoking it (logout, reuse of a spent refresh token, a password change or reset) ends
    every refresh token of the family at once."""

    __tablename__ = "sign_in_sessions"

    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    # The front-end app (public OAuth client) that obtained it: only it may refresh.
    client_id: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Absolute end, however often it is refreshed.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(IdMixin, Base):
    """One refresh token of a session, stored as the SHA-256 of its value (a random 256-bit
    string, so a fast hash is enough). One use: ``used_at`` is set when it is exchanged."""

    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sign_in_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PasswordReset(IdMixin, TenantMixin, Base):
    """A one-time password reset a trust admin issued (hash of the token only)."""

    __tablename__ = "password_resets"

    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ErasureConfirmation(Base):
    """A service's word that it finished erasing a person (its ``*.erasure.completed`` event;
    the gateway's own is written with the erasure): the erasure report's rows."""

    __tablename__ = "erasure_confirmations"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    service: Mapped[str] = mapped_column(String(40), primary_key=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SsoConfig(IdMixin, TenantMixin, TimestampMixin, Base):
    """A trust's OpenID Connect provider: the gateway is its client. The secret is never
    answered by the API."""

    __tablename__ = "sso_configs"
    __table_args__ = (UniqueConstraint("trust_id", name="uq_sso_configs_trust_id"),)

    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    # Encrypted (cpd_gateway.secret_box): decrypted only to call the provider's token endpoint.
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(60)))
    # The ID token claim matched against people's external_id (Entra ID: "oid").
    external_id_claim: Mapped[str] = mapped_column(String(60), default="sub")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class SsoLogin(IdMixin, TenantMixin, Base):
    """One sign-in through a trust's provider: what the gateway sent (state, nonce, its PKCE
    verifier), what the app asked for (its redirect URI, state and PKCE challenge), and, after
    the provider answered, the person and the one-time code the app exchanges for tokens."""

    __tablename__ = "sso_logins"

    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    client_id: Mapped[str] = mapped_column(String(100))
    redirect_uri: Mapped[str] = mapped_column(Text)
    client_state: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


# Incremental sync (``?updated_since=``) of the big lists reads (trust, updated_at, id) in order.
Index("ix_people_trust_id_updated_at_id", Person.trust_id, Person.updated_at, Person.id)

# Outbound webhooks keep their tables beside their code.
from cpd_gateway.webhooks import models as webhook_models  # noqa: E402,F401

# Incremental sync of every other list: (trust or parent, updated_at, id), the list's filter first.
SYNC_INDEXES = {
    "schools": "trust_id",
    "groups": "trust_id",
    "api_clients": "trust_id",
    "webhook_subscriptions": "trust_id",
}
sync_indexes(Base.metadata, SYNC_INDEXES)
