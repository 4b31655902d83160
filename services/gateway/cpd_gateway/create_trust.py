"""``python -m cpd_gateway.create_trust --name ... --admin-email ...``: the operator sets up a
new trust and its first trust admin, without the demo.

Trusts are not made through the API (there is nobody to ask before the first admin exists),
so, like key rotation, this runs with the gateway's own settings (``CPD_DATABASE_URL`` ...),
e.g. ``kubectl exec deploy/gateway -- python -m cpd_gateway.create_trust ...``; locally
``cpd trust create`` wraps it. It makes the trust, its schools if named, and the admin (a
person with the ``trust_admin`` and ``staff`` roles, published as ``directory.person.upserted``
like any other), and prints a one-time setup token instead of a password: the admin chooses
their password with ``POST /auth/password-reset`` (``reset_token``, ``new_password``) before
it expires, then signs in as usual. Nobody else ever sees the password.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from datetime import timedelta
from typing import Any

from cpd_common.auth import Principal
from cpd_common.db import create_engine, create_sessionmaker, utcnow
from cpd_common.errors import ProblemError
from cpd_gateway.directory import people, schemas, trusts
from cpd_gateway.models import PasswordReset, Trust
from cpd_gateway.sessions.service import token_hash
from cpd_gateway.settings import Settings

OPERATOR = "operator:create_trust"


async def create_trust(
    settings: Settings,
    *,
    name: str,
    admin_email: str,
    admin_name: str | None = None,
    schools: list[str] | None = None,
    valid_seconds: int | None = None,
) -> dict[str, Any]:
    """Makes the trust, its schools and its first admin in one transaction; returns their ids
    and the admin's one-time setup token (``ProblemError`` when the input is refused, e.g. an
    email already used)."""
    valid_seconds = valid_seconds or settings.password_reset_ttl_seconds
    trust_in = schemas.TrustUpdate(name=name)  # the same rules as renaming one
    school_ins = [schemas.SchoolCreate(name=s) for s in schools or []]
    admin_in = schemas.PersonCreate(
        name=admin_name or admin_email.split("@", 1)[0],
        email=admin_email,
        roles=["trust_admin", "staff"],
    )
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            trust = Trust(name=trust_in.name)
            session.add(trust)
            await session.flush()
            operator = Principal(sub=OPERATOR, trust_id=trust.id, roles=frozenset({"trust_admin"}))
            made = [
                await trusts.create_school(session, school, principal=operator)
                for school in school_ins
            ]
            admin_in.school_ids = [s.id for s in made]
            admin = await people.create_person(session, admin_in, principal=operator)
            raw = secrets.token_urlsafe(32)
            now = utcnow()
            expires = now + timedelta(seconds=valid_seconds)
            session.add(
                PasswordReset(
                    trust_id=trust.id,
                    person_id=admin.id,
                    token_hash=token_hash(raw),
                    created_by=None,  # the operator, not a person of the trust
                    created_at=now,
                    expires_at=expires,
                )
            )
            await session.flush()
            return {
                "trust_id": str(trust.id),
                "trust_name": trust.name,
                "school_ids": {s.name: str(s.id) for s in made},
                "admin_person_id": str(admin.id),
                "admin_email": admin.email,
                "setup_token": raw,
                "setup_token_expires_at": expires.isoformat(),
            }
    finally:
        await engine.dispose()


def parser(prog: str = "python -m cpd_gateway.create_trust") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Set up a new trust and its first trust admin (prints a one-time setup token).",
    )
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True, help="the trust's name")
    p.add_argument("--admin-email", required=True, help="the first trust admin's email")
    p.add_argument("--admin-name", help="their name (default: the email's local part)")
    p.add_argument(
        "--school", action="append", default=[], help="a school of the trust (repeatable)"
    )
    p.add_argument("--valid-hours", type=float, help="how long the setup token works (default: 24)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Prints the result as JSON on stdout and what to do next on stderr; 2 when refused."""
    try:
        result = asyncio.run(
            create_trust(
                settings,
                name=args.name,
                admin_email=args.admin_email,
                admin_name=args.admin_name,
                schools=args.school,
                valid_seconds=int(args.valid_hours * 3600) if args.valid_hours else None,
            )
        )
    except ProblemError as exc:
        print(f"refused: {exc.detail}", file=sys.stderr)
        return 2
    except ValueError as exc:  # pydantic: a name or email that the API would refuse too
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    print(
        f"\nThe trust admin {result['admin_email']} sets their password once with\n"
        '  POST /auth/password-reset  {"reset_token": "<setup_token>", '
        '"new_password": "..."}\n'
        f"before {result['setup_token_expires_at']}, then signs in with grant_type=password.",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(Settings(), parser().parse_args(argv)))


if __name__ == "__main__":
    main()
