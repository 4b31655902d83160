"""Reading observation rows from a CSV upload or a JSON batch into rows ready to store.

Every row is checked and every problem collected, so one answer names every bad row (by its
line in the file, the header being line 1) and the upload is stored whole or not at all.
Pupil ids become pseudonyms here, as they are read; no message ever repeats a pupil id.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from cpd_common.input_guard import NUL_MESSAGE
from cpd_evaluation.measures.schemas import MAX_MAGNITUDE
from cpd_evaluation.models.measures import Measure
from cpd_evaluation.observations.errors import InvalidUpload, UploadTooLarge
from cpd_evaluation.observations.pseudonyms import PUPIL_ID_RULE, pseudonym, valid_pupil_id
from cpd_evaluation.observations.schemas import YEAR_GROUP_PATTERN, ObservationIn
from cpd_evaluation.terms.measures import OBSERVATION_GROUPS, PHASES

# The most rows one CSV upload may carry, and the most problems one answer lists.
MAX_CSV_ROWS = 200_000
MAX_LISTED_ERRORS = 500
# Every allowed column and a few to refuse by name.
MAX_COLUMNS = 30

ID_COLUMN = {"pupils": "pupil_id", "staff": "person_id"}
COLUMNS = ("phase", "value", "date", "disadvantaged", "send", "year_group", "group")
ALIASES = {"observed_on": "date", "pupil_premium": "disadvantaged", "sen": "send"}
# Columns that would bring a pupil's identity in with the data. Anything holding "name" is
# caught too (pupil_name, first_name, surname_at_birth ...).
IDENTIFYING = frozenset(
    {
        "forename",
        "forenames",
        "surname",
        "initials",
        "dob",
        "date_of_birth",
        "birth_date",
        "birthdate",
        "postcode",
        "address",
        "email",
    }
)
TRUE = frozenset({"1", "true", "yes", "y", "t"})
FALSE = frozenset({"", "0", "false", "no", "n", "f"})
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
YEAR_GROUP = re.compile(YEAR_GROUP_PATTERN)
PHASE_SET = frozenset(PHASES)


@dataclass(slots=True)
class Row:
    """One observation ready to store; ``line`` is where it came from (CSV line or JSON
    index) for messages."""

    line: int
    subject_key: str
    phase: str
    value: Decimal
    observed_on: date | None
    disadvantaged: bool
    send: bool
    year_group: str | None
    group: str


class Problems:
    """Collects ``{loc, msg}`` problems and raises them all as one 422."""

    def __init__(self, loc: Callable[[int, str], str]) -> None:
        self.loc = loc
        self.items: list[dict[str, str]] = []
        self.rows: set[int] = set()
        self.count = 0

    def add(self, line: int, column: str, msg: str) -> None:
        self.count += 1
        self.rows.add(line)
        if len(self.items) < MAX_LISTED_ERRORS:
            self.items.append({"loc": self.loc(line, column), "msg": msg})

    def raise_if_any(self, what: str) -> None:
        if not self.count:
            return
        listed = "" if self.count <= MAX_LISTED_ERRORS else f" (the first {MAX_LISTED_ERRORS})"
        raise InvalidUpload(
            f"{len(self.rows)} {what} have problems; nothing was stored. `errors` lists "
            f"each{listed} with its reason.",
            errors=self.items,
        )


def csv_loc(line: int, column: str) -> str:
    return f"body.rows.{line}.{column}"


def json_loc(index: int, column: str) -> str:
    return f"body.observations.{index}.{column}"


def _header_name(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def _identifying(column: str) -> bool:
    return "name" in column or column in IDENTIFYING


def _read_header(header: list[str], *, subjects: str) -> list[str]:
    """The canonical column names in file order; refuses names, unknown and repeated columns
    and a missing id, phase or value column."""
    id_column = ID_COLUMN[subjects]
    other_id = ID_COLUMN["staff" if subjects == "pupils" else "pupils"]
    if len(header) > MAX_COLUMNS:
        raise InvalidUpload(
            f"The CSV has {len(header)} columns; it may have at most {MAX_COLUMNS}.",
            errors=[{"loc": "body.header", "msg": "too many columns"}],
        )
    columns = [ALIASES.get(_header_name(h), _header_name(h)) for h in header]
    errors = []
    seen: set[str] = set()
    for i, column in enumerate(columns, start=1):
        loc = f"body.header.{i}"
        if _identifying(column):
            errors.append(
                {
                    "loc": loc,
                    "msg": "a column that names or identifies a person is refused: pupils are "
                    f"known only by {ID_COLUMN['pupils']}, which is pseudonymised on arrival",
                }
            )
        elif column == other_id:
            errors.append(
                {"loc": loc, "msg": f"this is a {subjects} measure: give {id_column} instead"}
            )
        elif column not in COLUMNS and column != id_column:
            errors.append(
                {"loc": loc, "msg": f"unknown column; allowed: {id_column}, {', '.join(COLUMNS)}"}
            )
        elif column in seen:
            errors.append({"loc": loc, "msg": "column given twice"})
        seen.add(column)
    for required in (id_column, "phase", "value"):
        if required not in seen:
            errors.append({"loc": "body.header", "msg": f"missing column {required}"})
    if errors:
        raise InvalidUpload(
            "The CSV's header is not acceptable; nothing was stored.", errors=errors
        )
    return columns


def decode(raw: bytes) -> str:
    # The shared input guard checks JSON and form bodies; a CSV is checked here, alike.
    if b"\x00" in raw:
        raise InvalidUpload(
            "The CSV holds NUL characters.", errors=[{"loc": "body", "msg": NUL_MESSAGE}]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidUpload(
            "The CSV is not UTF-8 text; export it as CSV UTF-8.",
            errors=[{"loc": "body", "msg": f"not UTF-8 at byte {exc.start}"}],
        ) from None


class RowReader:
    """Checks one row's cells and builds its :class:`Row`. Shared by CSV and JSON so both
    refuse the same things."""

    def __init__(self, measure: Measure, secret: bytes, problems: Problems) -> None:
        self.measure = measure
        self.secret = secret
        self.problems = problems
        self.id_column = ID_COLUMN[measure.subjects]
        self.low = measure.scale_min
        self.high = measure.scale_max
        self.today = date.today()
        self.person_lines: dict[uuid.UUID, list[int]] = {}
        # A pupil has a row per phase: each id is hashed once per upload.
        self.pseudonyms: dict[str, str] = {}

    def subject(self, line: int, raw: str) -> str | None:
        if self.measure.subjects == "pupils":
            known = self.pseudonyms.get(raw)
            if known is not None:
                return known
            if not valid_pupil_id(raw):
                self.problems.add(line, "pupil_id", f"pupil_id must be {PUPIL_ID_RULE}")
                return None
            key = self.pseudonyms[raw] = pseudonym(self.secret, raw)
            return key
        try:
            person = uuid.UUID(raw)
        except ValueError:
            self.problems.add(line, "person_id", "person_id must be a person id (a UUID)")
            return None
        self.person_lines.setdefault(person, []).append(line)
        return str(person)

    def value(self, line: int, raw: str) -> Decimal | None:
        if not NUMBER.fullmatch(raw):
            self.problems.add(line, "value", "value must be a number (digits, '.' for decimals)")
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - NUMBER admits only what Decimal reads
            self.problems.add(line, "value", "value must be a number")
            return None
        if abs(value) > MAX_MAGNITUDE:
            self.problems.add(line, "value", "value is too large")
            return None
        if value.normalize().as_tuple().exponent < -6:  # type: ignore[operator]
            self.problems.add(line, "value", "value has more than 6 decimal places")
            return None
        return self.in_scale(line, value)

    def in_scale(self, line: int, value: Decimal) -> Decimal | None:
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            self.problems.add(
                line, "value", f"value is outside the measure's scale ({self._range()})"
            )
            return None
        return value

    def _range(self) -> str:
        low = "" if self.low is None else f"{self.low:f}"
        high = "" if self.high is None else f"{self.high:f}"
        return f"{low} to {high}".strip()

    def observed_on(self, line: int, raw: str) -> date | None:
        if not raw:
            return None
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            self.problems.add(line, "date", "date must be YYYY-MM-DD")
            return None
        return self.not_future(line, day, "date")

    def not_future(self, line: int, day: date, column: str) -> date | None:
        if day > self.today:
            self.problems.add(line, column, f"{column} is in the future")
        return day

    def flag(self, line: int, column: str, raw: str) -> bool:
        text = raw.lower()
        if text in TRUE:
            return True
        if text not in FALSE:
            self.problems.add(line, column, f"{column} must be true or false (or 1 / 0, yes / no)")
        return False

    def phase(self, line: int, raw: str) -> str | None:
        if raw in PHASE_SET:
            return raw
        phase = re.sub(r"[\s\-]+", "_", raw.lower())
        if phase not in PHASES:
            self.problems.add(line, "phase", f"phase must be one of {', '.join(PHASES)}")
            return None
        return phase

    def group(self, line: int, raw: str) -> str:
        group = raw.lower() or "cpd"
        if group not in OBSERVATION_GROUPS:
            self.problems.add(line, "group", "group must be cpd or comparison")
        return group

    def year_group(self, line: int, raw: str) -> str | None:
        if not raw:
            return None
        if not YEAR_GROUP.fullmatch(raw):
            self.problems.add(
                line, "year_group", "year_group must be up to 20 letters, digits or spaces"
            )
            return None
        return raw


def read_csv(raw: bytes, reader: RowReader) -> list[Row]:
    """Every row of the file, or :class:`InvalidUpload` naming every bad one."""
    text = decode(raw)
    lines = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(lines)
    except StopIteration:
        raise InvalidUpload(
            "The CSV is empty.", errors=[{"loc": "body", "msg": "no header row"}]
        ) from None
    except csv.Error as exc:
        raise InvalidUpload(
            "The CSV's header cannot be read.", errors=[{"loc": "body.header", "msg": str(exc)}]
        ) from None
    columns = _read_header(header, subjects=reader.measure.subjects)
    width = len(columns)
    index = {c: i for i, c in enumerate(columns)}
    # Where each field is in a row (None: no such column), in the order unpacked below.
    positions = [index.get(c) for c in (reader.id_column, *COLUMNS)]
    problems = reader.problems
    rows: list[Row] = []
    line = 1
    while True:
        try:
            cells = next(lines)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.add(lines.line_num, "row", f"cannot be read as CSV: {exc}")
            break
        line = lines.line_num
        if not "".join(cells).strip():
            continue  # a blank line (spreadsheets leave them at the end)
        if len(rows) + len(problems.rows) >= MAX_CSV_ROWS:
            raise UploadTooLarge(f"A CSV upload holds at most {MAX_CSV_ROWS} rows; split the file.")
        if len(cells) != width:
            problems.add(line, "row", f"has {len(cells)} cells; the header has {width}")
            continue
        (
            subject_raw,
            phase_raw,
            value_raw,
            date_raw,
            disadvantaged_raw,
            send_raw,
            year_group_raw,
            group_raw,
        ) = [cells[i].strip() if i is not None else "" for i in positions]
        missing = False
        for column, raw_value in (
            (reader.id_column, subject_raw),
            ("phase", phase_raw),
            ("value", value_raw),
        ):
            if not raw_value:
                problems.add(line, column, f"{column} is required")
                missing = True
        subject = reader.subject(line, subject_raw) if subject_raw else None
        phase = reader.phase(line, phase_raw) if phase_raw else None
        value = reader.value(line, value_raw) if value_raw else None
        observed_on = reader.observed_on(line, date_raw)
        disadvantaged = reader.flag(line, "disadvantaged", disadvantaged_raw)
        send = reader.flag(line, "send", send_raw)
        year_group = reader.year_group(line, year_group_raw)
        group = reader.group(line, group_raw)
        if missing or subject is None or phase is None or value is None:
            continue
        rows.append(
            Row(line, subject, phase, value, observed_on, disadvantaged, send, year_group, group)
        )
    return rows


def read_batch(items: Iterable[ObservationIn], reader: RowReader) -> list[Row]:
    """A JSON batch (already parsed by its schema) as rows; ``line`` is the item's index."""
    problems = reader.problems
    rows: list[Row] = []
    other = "person_id" if reader.measure.subjects == "pupils" else "pupil_id"
    for i, item in enumerate(items):
        if getattr(item, other) is not None:
            problems.add(
                i,
                other,
                f"this is a {reader.measure.subjects} measure: give {reader.id_column} instead",
            )
            continue
        raw = item.pupil_id if reader.measure.subjects == "pupils" else str(item.person_id)
        subject = reader.subject(i, raw or "")
        value = reader.in_scale(i, item.value)
        if item.observed_on is not None:
            reader.not_future(i, item.observed_on, "observed_on")
        if subject is None or value is None:
            continue
        rows.append(
            Row(
                i,
                subject,
                item.phase,
                value,
                item.observed_on,
                item.disadvantaged,
                item.send,
                item.year_group,
                item.group,
            )
        )
    return rows


def refuse_repeats(rows: list[Row], problems: Problems, *, what: str) -> None:
    """One value per subject and phase in an upload: a repeat names the first row."""
    first: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.subject_key, row.phase)
        if key in first:
            problems.add(row.line, "phase", f"the same subject and phase as {what} {first[key]}")
        else:
            first[key] = row.line
