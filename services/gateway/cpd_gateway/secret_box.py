"""Secrets the gateway must read back in clear to use them (a trust's SSO client secret, a
webhook's signing secret) are stored encrypted: Fernet (AES-128-CBC with HMAC-SHA256) under
the keys of ``CPD_SECRETS_KEY``. Hashes are for what is only ever compared (passwords, API
client secrets); these have to be sent or used to sign, so they are encrypted instead.

``CPD_SECRETS_KEY`` holds one or more keys separated by commas: the first encrypts, every one
decrypts (:class:`cryptography.fernet.MultiFernet`), which is how keys rotate
(docs/operations.md): put the new key first, keep the old one after it, re-encrypt with
``python -m cpd_gateway.reseal_secrets``, then drop the old key. Nothing has a default: the
local stacks (``cpd up``, the tests, the benchmarks) set a development key
(:data:`cpd_local.cli.DEV_SECRETS_KEY`); a deployment without one does not start.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from cpd_gateway.settings import Settings


class SecretsKeyError(RuntimeError):
    pass


class SecretBox:
    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise SecretsKeyError("CPD_SECRETS_KEY has no key.")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in parts])
        except ValueError as exc:
            raise SecretsKeyError(
                "CPD_SECRETS_KEY must hold Fernet keys (32 url-safe base64-encoded bytes; "
                "Fernet.generate_key()), separated by commas."
            ) from exc

    def seal(self, clear: str) -> str:
        """The secret encrypted under the first key (a new random IV each time)."""
        return self._fernet.encrypt(clear.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        """The secret in clear; any of the keys may have encrypted it."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken:
            raise _undecryptable() from None

    def reseal(self, sealed: str) -> str:
        """The same secret encrypted under the first key (key rotation)."""
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise _undecryptable() from None


def _undecryptable() -> SecretsKeyError:
    return SecretsKeyError(
        "A stored secret cannot be decrypted with any key of CPD_SECRETS_KEY "
        "(was a key dropped before every secret was re-encrypted?)."
    )


def box_of(settings: Settings) -> SecretBox:
    if settings.secrets_key is None:
        raise SecretsKeyError(
            "CPD_SECRETS_KEY is not set: the gateway encrypts SSO client secrets and webhook "
            "signing secrets with it (docs/operations.md, 'Secrets at rest')."
        )
    return SecretBox(settings.secrets_key.get_secret_value())
