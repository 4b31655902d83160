"""Pupil pseudonyms: HMAC-SHA256 of the school's pupil id under the trust's own secret.

A pupil id arrives with an upload and is turned into its pseudonym before anything is stored
or answered; the clear id is never written anywhere (not in rows, problems or logs). The
same pupil id always gives the same pseudonym within a trust, so a baseline and its outcome
pair up, while another trust (another secret) cannot link or reverse it: pupil ids are short
and guessable, which a keyed hash withstands and a plain hash does not.

The secret is 32 random bytes from :mod:`secrets`, made on the trust's first upload and kept
in ``pseudonym_secrets``; no API reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_evaluation.models.measures import PseudonymSecret

SECRET_BYTES = 32
# A school's pupil id (a UPN, an MIS admission number ...): letters, digits and a few
# separators, no spaces. A space most often means a name was pasted into the id column.
PUPIL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,63}")
PUPIL_ID_RULE = "1 to 64 letters, digits, '_', '.', '/' or '-' (no spaces), starting with one"


def valid_pupil_id(value: str) -> bool:
    return PUPIL_ID.fullmatch(value) is not None


async def trust_secret(session: AsyncSession, trust_id: uuid.UUID) -> bytes:
    """The trust's secret, made on first use. Concurrent first uploads agree: the losing insert
    does nothing and the next statement reads the winner's row."""
    secret = await session.scalar(
        select(PseudonymSecret.secret).where(PseudonymSecret.trust_id == trust_id)
    )
    if secret is None:
        await session.execute(
            insert(PseudonymSecret)
            .values(trust_id=trust_id, secret=secrets.token_bytes(SECRET_BYTES))
            .on_conflict_do_nothing(index_elements=["trust_id"])
        )
        secret = await session.scalar(
            select(PseudonymSecret.secret).where(PseudonymSecret.trust_id == trust_id)
        )
    assert secret is not None
    return bytes(secret)


def pseudonym(secret: bytes, pupil_id: str) -> str:
    """64 hex characters. Ids are compared case-insensitively (``a123`` is ``A123``)."""
    # hmac.digest is OpenSSL's one-shot HMAC: the same value as hmac.new, several times faster.
    return hmac.digest(secret, pupil_id.upper().encode(), hashlib.sha256).hex()
