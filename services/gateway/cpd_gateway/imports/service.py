"""People import from an HR or MIS export (CSV): reads the file, matches each row to a person
of the trust (by external id, then email), works out who is created, changed, deactivated or
left as they are, and reports every invalid cell. The changes themselves are the directory's
(:func:`cpd_gateway.directory.provisioning.provision_people`): the same rules as ``/v1/people``
and one ``directory.person.upserted`` per person that changes. A real run is all or
nothing; running the same file again changes nothing.

The columns are documented in docs/provisioning.md; header names are matched ignoring case,
spaces and hyphens.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import String, any_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import uuid7
from cpd_common.errors import BadRequest, Unprocessable
from cpd_gateway.directory import provisioning
from cpd_gateway.directory import schemas as directory_schemas
from cpd_gateway.directory.trusts import require_people_manager
from cpd_gateway.imports import missing, schemas
from cpd_gateway.models import Person, School

COLUMNS = (
    "external_id",
    "email",
    "user_name",
    "name",
    "given_name",
    "family_name",
    "employee_number",
    "schools",
    "staff_group",
    "career_stage",
    "department",
    "fte",
    "start_date",
    "line_manager",
    "active",
)
# Directory fields each column sets (the rest set the field of the same name).
FIELD_OF = {"schools": "school_ids", "line_manager": "line_manager_id"}
COLUMN_OF = {v: k for k, v in FIELD_OF.items()}
TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}


def _normalise(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


class CellError(ValueError):
    pass


@dataclass
class Row:
    number: int
    cells: dict[str, str]
    fields: dict[str, Any] = field(default_factory=dict)
    manager: str | None = None
    person: Person | None = None
    person_id: uuid.UUID | None = None


@dataclass
class Lookup:
    """The trust as an import sees it: schools by id, URN and name; people by external id,
    email and id (erased people are not matched)."""

    schools: dict[str, uuid.UUID]
    by_external_id: dict[str, Person]
    by_email: dict[str, Person]


async def _lookup(
    session: AsyncSession, trust_id: uuid.UUID, keys: set[str], emails: set[str]
) -> Lookup:
    """Only the people the file can name (by external id or email, as a row or a line
    manager): the work follows the file, not the size of the trust."""
    schools: dict[str, uuid.UUID] = {}
    for school in (await session.scalars(select(School).where(School.trust_id == trust_id))).all():
        schools[str(school.id)] = school.id
        schools[school.name.strip().lower()] = school.id
        if school.urn:
            schools[school.urn.strip().lower()] = school.id
    people = (
        await session.scalars(
            select(Person).where(
                Person.trust_id == trust_id,
                Person.erased_at.is_(None),
                or_(
                    Person.external_id == any_(bindparam(None, list(keys), type_=ARRAY(String))),
                    Person.email == any_(bindparam(None, list(emails), type_=ARRAY(String))),
                ),
            )
        )
    ).all()
    return Lookup(
        schools=schools,
        by_external_id={p.external_id: p for p in people if p.external_id},
        by_email={p.email.lower(): p for p in people if p.email},
    )


def _read(body: bytes) -> tuple[list[str], list[str], list[Row]]:
    """The known columns present, the ignored ones, and the rows (numbered as a spreadsheet
    shows them: the header is row 1)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The file is not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise BadRequest("The file is empty: it needs a header row.") from None
    except csv.Error as exc:
        raise BadRequest(f"The file is not valid CSV: {exc}.") from None
    names = [_normalise(h) for h in header]
    known = [n for n in names if n in COLUMNS]
    ignored = [h.strip() for h, n in zip(header, names, strict=True) if n not in COLUMNS]
    duplicated = sorted({n for n in known if known.count(n) > 1})
    if duplicated:
        raise BadRequest(f"Columns appear more than once: {', '.join(duplicated)}.")
    if "external_id" not in known and "email" not in known:
        raise BadRequest("The file needs an external_id or an email column to match people by.")
    rows = []
    try:
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            cells = {
                n: (record[i].strip() if i < len(record) else "")
                for i, n in enumerate(names)
                if n in COLUMNS
            }
            rows.append(Row(number=number, cells=cells))
    except csv.Error as exc:
        raise BadRequest(f"The file is not valid CSV (row {reader.line_num}): {exc}.") from None
    return known, ignored, rows


UK_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _day(text: str) -> date:
    try:
        if len(text) == 10 and text[4] == "-":
            return date.fromisoformat(text)
        found = UK_DAY.fullmatch(text)
        if found:
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise CellError("a date as YYYY-MM-DD or DD/MM/YYYY")


def _cell(column: str, text: str, lookup: Lookup) -> Any:
    """The directory value of one cell (``None`` for an empty one)."""
    if text == "":
        return None
    if column == "schools":
        ids = []
        for part in (p.strip() for p in text.split(";")):
            if not part:
                continue
            sid = lookup.schools.get(part.lower())
            if sid is None:
                raise CellError(f"no school {part!r} in this trust (give its id, URN or name)")
            ids.append(sid)
        return list(dict.fromkeys(ids))
    if column in {"staff_group", "career_stage"}:
        return _normalise(text)
    if column == "email":
        return text.lower()
    if column == "fte":
        try:
            return float(text)
        except ValueError:
            raise CellError("a number from 0 to 1, such as 0.8") from None
    if column == "start_date":
        return _day(text)
    if column == "active":
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise CellError("true or false")
    return text


@dataclass
class Plan:
    report: schemas.ImportReport
    planned: list[provisioning.Planned]


def _invalid(rows_invalid: list[schemas.InvalidCell], row: Row, column: str, reason: str) -> None:
    """Records the first problem of each cell."""
    if not any(c.row == row.number and c.column == column for c in rows_invalid[-20:]):
        rows_invalid.append(schemas.InvalidCell(row=row.number, column=column, reason=reason))


def _validation(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        name = loc[0] if loc else "row"
        out.append((COLUMN_OF.get(name, name), str(error.get("msg", "not valid"))))
    return out


async def plan(
    session: AsyncSession,
    body: bytes,
    *,
    principal: Principal,
    dry_run: bool,
    deactivate_missing: bool = False,
) -> Plan:
    require_people_manager(principal)
    known, ignored, rows = _read(body)
    keys = {r.cells.get(c, "") for r in rows for c in ("external_id", "line_manager")} - {""}
    emails = {r.cells.get(c, "").lower() for r in rows for c in ("email", "line_manager")} - {""}
    lookup = await _lookup(session, principal.trust_id, keys, emails)
    invalid: list[schemas.InvalidCell] = []
    bad_rows: set[int] = set()

    # Cells, and which person each row is (matched or new).
    file_ids: dict[tuple[str, str], uuid.UUID] = {}
    for row in rows:
        for column in known:
            try:
                value = _cell(column, row.cells[column], lookup)
            except CellError as exc:
                _invalid(invalid, row, column, str(exc))
                bad_rows.add(row.number)
                continue
            if column == "line_manager":
                row.manager = value
            else:
                row.fields[FIELD_OF.get(column, column)] = value
        external_id, email = row.fields.get("external_id"), row.fields.get("email")
        if not external_id and not email:
            _invalid(invalid, row, "external_id", "an external_id or an email is needed")
            bad_rows.add(row.number)
            continue
        row.person = (lookup.by_external_id.get(external_id) if external_id else None) or (
            lookup.by_email.get(email) if email else None
        )
        if (
            row.person is not None
            and external_id
            and row.person.external_id
            and row.person.external_id != external_id
        ):
            _invalid(invalid, row, "email", "belongs to a person with another external id")
            bad_rows.add(row.number)
            continue
        row.person_id = row.person.id if row.person is not None else uuid7()
        for column, value in (("external_id", external_id), ("email", email)):
            if value:
                file_ids.setdefault((column, str(value)), row.person_id)

    report = schemas.ImportReport(
        dry_run=dry_run,
        applied=False,
        rows=len(rows),
        created=[],
        updated=[],
        deactivated=[],
        unchanged=0,
        invalid=[],
        ignored_columns=ignored,
    )
    planned: list[provisioning.Planned] = []
    by_key: dict[int, Row] = {}
    for row in rows:
        if row.person_id is None:
            continue
        if row.manager is not None:
            manager = (
                file_ids.get(("external_id", row.manager))
                or file_ids.get(("email", row.manager.lower()))
                or getattr(lookup.by_external_id.get(row.manager), "id", None)
                or getattr(lookup.by_email.get(row.manager.lower()), "id", None)
            )
            if manager is None:
                _invalid(invalid, row, "line_manager", "no person with this external id or email")
                bad_rows.add(row.number)
            row.fields["line_manager_id"] = manager
        # Checked even when a cell already failed, so the report names every bad cell.
        entry = _entry(row, invalid)
        if entry is None or row.number in bad_rows:
            continue
        if entry.fields or row.person is None:
            planned.append(entry)
            by_key[row.number] = row
        else:
            report.unchanged += 1

    for key, column, reason in await provisioning.planned_problems(
        session, principal.trust_id, planned
    ):
        _invalid(invalid, by_key[key], COLUMN_OF.get(column, column), reason)
    failed = {cell.row for cell in invalid}
    for entry in planned:
        row = by_key[entry.key]
        if row.number in failed:
            continue
        name = entry.fields.get("name") or (row.person.name if row.person else None)
        email = entry.fields.get("email") or (row.person.email if row.person else None)
        seen = schemas.ImportedPerson(
            row=row.number,
            person_id=entry.person_id,
            external_id=row.fields.get("external_id"),
            email=email,
            name=name,
        )
        if row.person is None:
            report.created.append(seen)
        elif entry.fields.get("active") is False and row.person.active:
            report.deactivated.append(
                schemas.ChangedPerson(**seen.model_dump(), changed=_columns(entry.fields))
            )
        else:
            report.updated.append(
                schemas.ChangedPerson(**seen.model_dump(), changed=_columns(entry.fields))
            )
    report.invalid = sorted(invalid, key=lambda c: (c.row, c.column))
    kept = [e for e in planned if e.key not in failed]
    if deactivate_missing:
        # Present: every person a row matched, and every line manager the file names.
        present = {r.person.id for r in rows if r.person is not None}
        present |= {r.fields["line_manager_id"] for r in rows if r.fields.get("line_manager_id")}
        file_schools = {sid for r in rows for sid in r.fields.get("school_ids") or []}
        report.deactivated_missing, absent = await missing.absent_people(
            session, principal=principal, file_school_ids=file_schools, present=present
        )
        kept += absent
    return Plan(report=report, planned=kept)


def _columns(fields: dict[str, Any]) -> list[str]:
    return sorted({COLUMN_OF.get(f, f) for f in fields})


def _entry(row: Row, invalid: list[schemas.InvalidCell]) -> provisioning.Planned | None:
    """What changes for the row's person (everything, for a new one), checked by the
    directory's own input models."""
    # An empty cell leaves the person's value as it is (an export's blank is "not given",
    # never "erase this"): clearing a value is for /v1/people or SCIM.
    fields = {k: v for k, v in row.fields.items() if v is not None}
    given, family = fields.get("given_name"), fields.get("family_name")
    joined = " ".join(p for p in (given, family) if p)
    if not fields.get("name") and joined:
        fields["name"] = joined
    try:
        if row.person is None:
            if not fields.get("name"):
                _invalid(
                    invalid, row, "name", "a new person needs a name (or given and family names)"
                )
                return None
            data: Any = directory_schemas.PersonCreate(
                **{k: v for k, v in fields.items() if v is not None}
            )
            checked = data.model_dump(exclude={"password"}, exclude_none=True)
        else:
            changes = {k: v for k, v in fields.items() if not _same(getattr(row.person, k), v, k)}
            data = directory_schemas.PersonUpdate(**changes)
            checked = data.model_dump(exclude_unset=True, exclude={"password"})
    except ValidationError as exc:
        for column, reason in _validation(exc):
            _invalid(invalid, row, column, reason)
        return None
    assert row.person_id is not None
    return provisioning.Planned(
        key=row.number, person_id=row.person_id, fields=checked, person=row.person
    )


def _same(current: Any, wanted: Any, key: str) -> bool:
    if key == "school_ids":
        return list(current or []) == list(wanted or [])
    if key == "email" and isinstance(current, str) and isinstance(wanted, str):
        return current.lower() == wanted.lower()
    return bool(current == wanted)


async def run(
    session: AsyncSession,
    body: bytes,
    *,
    principal: Principal,
    dry_run: bool,
    deactivate_missing: bool = False,
) -> schemas.ImportReport:
    planned = await plan(
        session,
        body,
        principal=principal,
        dry_run=dry_run,
        deactivate_missing=deactivate_missing,
    )
    report = planned.report
    if dry_run:
        return report
    if report.invalid:
        raise Unprocessable(
            f"{len({c.row for c in report.invalid})} rows are not valid; nothing was imported.",
            errors=[
                {"loc": f"row {c.row}.{c.column}", "msg": c.reason} for c in report.invalid[:200]
            ],
            extensions={"invalid": [c.model_dump() for c in report.invalid]},
        )
    if planned.planned:
        await provisioning.provision_people(session, planned.planned, principal=principal)
    report.applied = bool(planned.planned)
    return report
