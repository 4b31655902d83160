"""Built-in instruments arrive by data migration, not from GET handlers; the CPD Quality
Framework's version 2 has every statement of the source list (44, area 2 running a to h),
version 1 (43) stays for the audits that used it, and new audits take the latest version."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from cpd_audit.instruments import builtin
from cpd_audit.models import Audit, Instrument, InstrumentVersion
from cpd_demo.trust import NORTHFIELD, OAKRIDGE

SEED = Path("/work/shared/seeds/tdt-cpd-quality-framework.txt")
QF = "cpd-quality-framework"


def statements_per_area(source: str) -> dict[str, int]:
    """The source list: each area starts at a "Click here ... resources" line and lists its
    statements as "a. ...", "b. ..."."""
    counts: Counter[str] = Counter()
    area = 0
    letters: list[str] = []
    for line in source.splitlines():
        if line.startswith("Click here"):
            area += 1
            letters = []
        match = re.match(r"^([a-h])\. ", line)
        if match and area:
            letters.append(match.group(1))
            counts[str(area)] += 1
            assert letters == [chr(ord("a") + i) for i in range(len(letters))], letters
    return dict(counts)


# The source list's statements, by area (letters only: the wording is the source's own). When
# the seed text is present (the project's shared seeds), it is read and must agree.
SOURCE_LETTERS = {
    "1": "abcdef",
    "2": "abcdefgh",
    "3": "abcdefg",
    "4": "abcdefg",
    "5": "abcde",
    "6": "abcdef",
    "7": "abcde",
}


def source_counts() -> dict[str, int]:
    counts = {area: len(letters) for area, letters in SOURCE_LETTERS.items()}
    if SEED.exists():
        assert statements_per_area(SEED.read_text(encoding="utf-8")) == counts
    return counts


async def test_builtins_are_in_the_database_before_any_request(kit: Any) -> None:
    # Straight after migration, before any HTTP request: every shipped version is there.
    async with kit.stack.session("audit") as session:
        versions = (
            await session.execute(
                select(Instrument.key, InstrumentVersion.version)
                .join(InstrumentVersion, InstrumentVersion.instrument_id == Instrument.id)
                .where(Instrument.trust_id.is_(None))
            )
        ).all()
        latest = dict(
            (await session.execute(select(Instrument.key, Instrument.latest_version))).all()
        )
    assert sorted(versions) == sorted(builtin.VERSIONS)
    assert latest == {"effective-cpd-principles": 1, QF: 2, "staff-cpd-audit": 1}

    # Reading them writes nothing (a GET runs on a read-only footing).
    before = await _row_versions(kit)
    resp = await kit.gw.get("/v1/instruments?kind=builtin", headers=await kit.h("n-t1"))
    assert resp.status_code == 200
    for item in resp.json()["items"]:
        got = await kit.gw.get(f"/v1/instruments/{item['id']}", headers=await kit.h("n-t1"))
        assert got.status_code == 200
    assert await _row_versions(kit) == before

    # One built-in per key: the database refuses a second.
    async with kit.stack.session("audit") as session:
        with pytest.raises(IntegrityError):
            await session.execute(
                text(
                    "INSERT INTO instruments (id, trust_id, key, title, description, "
                    "latest_version) VALUES (:id, NULL, :key, 'Copy', '', 1)"
                ),
                {"id": uuid.uuid4(), "key": QF},
            )


async def _row_versions(kit: Any) -> list[Any]:
    async with kit.stack.session("audit") as session:
        rows = await session.execute(
            text(
                "SELECT 'i', id::text, xmin::text FROM instruments UNION ALL "
                "SELECT 'v', id::text, xmin::text FROM instrument_versions ORDER BY 1, 2"
            )
        )
        return [tuple(r) for r in rows]


async def test_quality_framework_v2_has_every_statement_of_the_source_list(kit: Any) -> None:
    source = source_counts()
    assert source == {"1": 6, "2": 8, "3": 7, "4": 7, "5": 5, "6": 6, "7": 5}
    assert sum(source.values()) == 44

    headers = await kit.h("n-t1")
    qf = await kit.instrument_id(QF)
    current = (await kit.gw.get(f"/v1/instruments/{qf}", headers=headers)).json()
    assert current["latest_version"] == 2
    items = current["current"]["items"]
    assert Counter(i["section"] for i in items) == source
    assert [i["key"] for i in items if i["section"] == "2"] == [f"2{c}" for c in "abcdefgh"]
    support_staff = next(i for i in items if i["key"] == "2h")["text"].lower()
    assert all(word in support_staff for word in ("office", "finance", "admin"))
    # Keys are unique and follow the areas' letters, as the framework numbers them.
    keys = [i["key"] for i in items]
    assert len(set(keys)) == 44
    assert keys == [f"{area}{chr(ord('a') + n)}" for area in "1234567" for n in range(source[area])]

    # Version 1 stays exactly as released (43: no 2h) for the audits that used it.
    first = await kit.gw.get(f"/v1/instruments/{qf}/versions/1", headers=headers)
    assert first.status_code == 200, first.text
    v1 = first.json()["items"]
    assert len(v1) == 43 and "2h" not in {i["key"] for i in v1}
    assert v1 == builtin.load(QF, 1)["items"]


async def test_new_audits_use_the_latest_version_old_ones_keep_theirs(kit: Any) -> None:
    qf = await kit.instrument_id(QF)
    scope = {"kind": "school", "school_ids": [str(NORTHFIELD)]}
    fresh = await kit.create_audit(instrument_id=qf, scope=scope, as_="n-head", k=3)
    assert fresh["instrument"]["version"] == 2
    assert fresh["instrument"]["version_id"] == str(builtin.version_id(QF, 2))

    # A round that ran on version 1 (before version 2 was published) keeps it.
    old_id = uuid.uuid4()
    async with kit.stack.session("audit") as session:
        session.add(
            Audit(
                id=old_id,
                trust_id=OAKRIDGE,
                instrument_version_id=builtin.version_id(QF, 1),
                title="Last year's diagnostic",
                status="draft",
                scope_kind="school",
                school_ids=[NORTHFIELD],
                audience_groups=["teacher"],
                min_group_size=3,
            )
        )
        await session.commit()
    old = await kit.gw.get(f"/v1/audits/{old_id}", headers=await kit.h("n-head"))
    assert old.status_code == 200, old.text
    assert old.json()["instrument"]["version"] == 1

    # Answers follow each round's own version: 2h only exists in version 2.
    answers = {i["key"]: {"score": 4} for i in builtin.load(QF, 2)["items"]}
    await kit.transition(fresh["id"], "open", as_="n-head")
    await kit.respond(fresh["id"], "n-t1", answers)
    await kit.transition(str(old_id), "open", as_="n-head")
    refused = await kit.respond(str(old_id), "n-t1", answers, expect=422)
    assert "2h" in refused.text
    without_2h = {k: v for k, v in answers.items() if k != "2h"}
    await kit.respond(str(old_id), "n-t1", without_2h)
