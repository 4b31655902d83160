"""The SQL of audit analysis: every count, mean, standard deviation, distribution and
percentage comes from PostgreSQL aggregates (GROUP BY with grouping sets), one statement per
figure family, so the cost grows with the answers scanned, not with Python loops."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Integer, String, Uuid

from cpd_audit.results.suppression import DIMENSIONS

# Breakdown dimensions and the response columns they read (a fixed list: never user text).
DIMENSION_COLUMNS = {
    "school": "r.school_id",
    "staff_group": "r.staff_group",
    "department": "r.department",
    "career_stage": "r.career_stage",
    "leadership": "r.leadership",
}
assert tuple(DIMENSION_COLUMNS) == DIMENSIONS


@dataclass(frozen=True)
class ItemMeta:
    """What the SQL needs to know of an item: its section and the score that counts as
    agreeing (0 when the item has no agreement scale)."""

    key: str
    section: str | None
    agree_from: int


def _meta_params(meta: Sequence[ItemMeta]) -> dict[str, Any]:
    return {
        "keys": [m.key for m in meta],
        "sections": [m.section for m in meta],
        "agree_from": [m.agree_from for m in meta],
    }


def _meta_binds() -> list[Any]:
    return [
        bindparam("keys", type_=ARRAY(String)),
        bindparam("sections", type_=ARRAY(String)),
        bindparam("agree_from", type_=ARRAY(Integer)),
    ]


_META_JOIN = (
    "JOIN unnest(CAST(:keys AS text[]), CAST(:sections AS text[]), CAST(:agree_from AS int[])) "
    "AS m(item_key, section, agree_from) "
    "ON m.item_key = a.item_key"
)


# Folding answers per respondent hashes one row per respondent and section: with the default
# work_mem the planner sorts random UUIDs on disk instead (ten times slower at 10k responses).
FOLD_WORK_MEM = "64MB"


@asynccontextmanager
async def _work_mem(session: AsyncSession) -> AsyncIterator[None]:
    """``work_mem`` raised for the statements inside (reads run in autocommit, so not
    ``SET LOCAL``: set, then reset on the same connection)."""
    await session.execute(text(f"SET work_mem = '{FOLD_WORK_MEM}'"))
    try:
        yield
    finally:
        await session.execute(text("RESET work_mem"))


def _dims_sql(dims: Sequence[str]) -> tuple[str, str]:
    cols = [f"{DIMENSION_COLUMNS[d]} AS d_{d}" for d in dims]
    group = [DIMENSION_COLUMNS[d] for d in dims]
    return (", ".join(cols) + ", ") if cols else "", (", ".join(group) + ", ") if group else ""


def _moments(column: str, name: str) -> str:
    """Mean and sample standard deviation of ``column`` from counted values (``c.n`` answers
    gave each value), as SQL: sums of n, n*x and n*x*x."""
    n = f"sum(c.n) FILTER (WHERE {column} IS NOT NULL)::float8"
    s1 = f"sum(c.n * {column})::float8"
    s2 = f"sum(c.n * {column} * {column})::float8"
    return (
        f"CASE WHEN {n} > 0 THEN {s1} / {n} END AS mean{name}, "
        f"CASE WHEN {n} > 1 THEN sqrt(greatest({s2} - {s1} * {s1} / {n}, 0) / ({n} - 1)) "
        f"END AS sd{name}"
    )


async def item_figures(
    session: AsyncSession,
    audit_id: uuid.UUID,
    *,
    meta: Sequence[ItemMeta],
    dims: Sequence[str] = (),
    measures: Sequence[str] = ("score", "values", "practice", "choice"),
) -> list[dict[str, Any]]:
    """Per item (and per breakdown cell when ``dims``): one summary row (``kind='summary'``)
    with n, n scored, don't-know count, agree count, means and standard deviations; and one
    distribution row per answer value (``kind`` = the measure, ``value`` = the answer).

    One pass over the answers counts each distinct answer (per cell); every figure is then
    aggregated from those few counted rows, so the cost is one scan and one small hash."""
    select_dims = "".join(f"{DIMENSION_COLUMNS[d]} AS d_{d}, " for d in dims)
    inner_group = "".join(f"{DIMENSION_COLUMNS[d]}, " for d in dims)
    outer_dims = "".join(f"c.d_{d}, " for d in dims)
    join = "JOIN audit_responses r ON r.id = a.response_id " if dims else ""
    sets = [f"({outer_dims}c.item_key)"]
    # Only the grouping sets the instrument's item types need (GROUPING() and the grouped
    # columns may only name expressions some set groups by).
    family = {
        "score": ("g_score", "c.score, c.dont_know", "score, dont_know"),
        "values": ("g_values", "c.values_score", "values_score"),
        "practice": ("g_practice", "c.practice_score", "practice_score"),
        "choice": ("g_choice", "c.choice", "choice"),
    }
    columns = []
    for measure, (flag, cols, names) in family.items():
        if measure in measures:
            sets.append(f"({outer_dims}c.item_key, {cols})")
            columns.append(f"GROUPING({cols}) AS {flag}, {cols}")
        else:
            nulls = ", ".join(f"NULL AS {n.strip()}" for n in names.split(","))
            columns.append(f"1 AS {flag}, {nulls}")
    # Count only by the answer columns in use: fewer grouping columns keep the planner's
    # estimate small, so it hashes in memory instead of sorting.
    answer_columns = {
        "score": ["a.score", "a.dont_know"],
        "values": ["a.values_score"],
        "practice": ["a.practice_score"],
        "choice": ["a.choice"],
    }
    constants = {
        "a.score": "NULL::smallint AS score",
        "a.dont_know": "false AS dont_know",
        "a.values_score": "NULL::smallint AS values_score",
        "a.practice_score": "NULL::smallint AS practice_score",
        "a.choice": "NULL::text AS choice",
    }
    used = [col for m in measures for col in answer_columns[m]]
    inner_cols = ", ".join(
        col if col in used else constants[col]
        for col in ("a.score", "a.dont_know", "a.values_score", "a.practice_score", "a.choice")
    )
    inner_by = "".join(f", {col}" for col in used)
    sql = f"""
        WITH c AS (
            SELECT {select_dims}a.item_key, {inner_cols}, count(*) AS n
            FROM audit_answers a {join}
            WHERE a.audit_id = :audit_id
            GROUP BY {inner_group}a.item_key{inner_by}
        )
        SELECT {outer_dims}c.item_key,
               {", ".join(columns)},
               sum(c.n)::bigint AS n,
               coalesce(sum(c.n) FILTER (WHERE NOT c.dont_know), 0)::bigint AS n_scored,
               coalesce(sum(c.n) FILTER (WHERE c.dont_know), 0)::bigint AS n_dont_know,
               coalesce(sum(c.n) FILTER (WHERE c.score >= m.agree_from), 0)::bigint AS n_agree,
               {_moments("c.score", "")},
               {_moments("c.values_score", "_values")},
               {_moments("c.practice_score", "_practice")}
        FROM c {_META_JOIN.replace("a.item_key", "c.item_key")}
        GROUP BY GROUPING SETS ({", ".join(sets)})
    """
    stmt = text(sql).bindparams(bindparam("audit_id", type_=Uuid), *_meta_binds())
    result = await session.execute(stmt, {"audit_id": audit_id, **_meta_params(meta)})
    rows: list[dict[str, Any]] = []
    for row in result.mappings():
        out = dict(row)
        out["group"] = {d: row[f"d_{d}"] for d in dims}
        if row["g_score"] == 0:
            if row["score"] is None and not row["dont_know"]:
                continue
            out["kind"] = "score"
            out["value"] = "dont_know" if row["dont_know"] else str(row["score"])
        elif row["g_values"] == 0:
            if row["values_score"] is None:
                continue
            out["kind"], out["value"] = "values", str(row["values_score"])
        elif row["g_practice"] == 0:
            if row["practice_score"] is None:
                continue
            out["kind"], out["value"] = "practice", str(row["practice_score"])
        elif row["g_choice"] == 0:
            if row["choice"] is None:
                continue
            out["kind"], out["value"] = "choice", row["choice"]
        else:
            out["kind"], out["value"] = "summary", None
        rows.append(out)
    return rows


# Answers are small integers (agreement 1-5, paired scales 1-10): a respondent's values in a
# section fit one integer's bits, so distinct respondents per value need no DISTINCT.
_MASKS = (("score", "score_mask"), ("values", "values_mask"), ("practice", "practice_mask"))
_FLAGS = ("g_score", "g_values", "g_practice")


async def section_figures(
    session: AsyncSession,
    audit_id: uuid.UUID,
    *,
    meta: Sequence[ItemMeta],
    dims: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Per section (pooling its items' answers): respondents, scored answers, don't-know
    and agree counts, means and standard deviations, and the distributions of scores,
    values and practice (respondents who gave that value to any item of the section).

    One pass over the answers folds each respondent's answers in a section into one row
    (counts, sums, and the values given as bits); the figures are then aggregated from
    those rows and from the few distinct bit patterns, without counting distinct ids."""
    select_dims = "".join(f"{DIMENSION_COLUMNS[d]} AS d_{d}, " for d in dims)
    inner_group = "".join(f"{DIMENSION_COLUMNS[d]}, " for d in dims)
    outer_dims = "".join(f"rs.d_{d}, " for d in dims)
    join = "JOIN audit_responses r ON r.id = a.response_id " if dims else ""
    sets = ", ".join(
        f"({outer_dims}rs.section{extra})"
        for extra in ("", ", rs.score_mask, rs.dk", ", rs.values_mask", ", rs.practice_mask")
    )
    sql = f"""
        WITH rs AS (
            SELECT {select_dims}m.section,
                   bit_or(1 << a.score) FILTER (WHERE NOT a.dont_know) AS score_mask,
                   bool_or(a.dont_know) AS dk,
                   bool_or(NOT a.dont_know) AS scored,
                   bit_or(1 << a.values_score) AS values_mask,
                   bit_or(1 << a.practice_score) AS practice_mask,
                   count(*) AS n_answers,
                   count(*) FILTER (WHERE a.dont_know) AS n_dont_know,
                   count(*) FILTER (WHERE a.score >= m.agree_from) AS n_agree,
                   count(a.score) AS n_scores,
                   sum(a.score) AS s1, sum(a.score * a.score) AS s2,
                   count(a.values_score) AS nv, sum(a.values_score) AS v1,
                   sum(a.values_score * a.values_score) AS v2,
                   count(a.practice_score) AS np, sum(a.practice_score) AS p1,
                   sum(a.practice_score * a.practice_score) AS p2
            FROM audit_answers a {_META_JOIN} {join}
            WHERE a.audit_id = :audit_id AND m.section IS NOT NULL
            GROUP BY {inner_group}m.section, a.response_id
        )
        SELECT {outer_dims}rs.section,
               GROUPING(rs.score_mask, rs.dk) AS g_score,
               GROUPING(rs.values_mask) AS g_values,
               GROUPING(rs.practice_mask) AS g_practice,
               rs.score_mask, rs.dk, rs.values_mask, rs.practice_mask,
               count(*) AS n,
               count(*) FILTER (WHERE rs.scored) AS n_scored,
               sum(rs.n_answers)::bigint AS n_answers,
               sum(rs.n_dont_know)::bigint AS n_dont_know,
               sum(rs.n_agree)::bigint AS n_agree,
               sum(rs.n_scores)::bigint AS n_scores,
               {_pooled("rs.n_scores", "rs.s1", "rs.s2", "")},
               {_pooled("rs.nv", "rs.v1", "rs.v2", "_values")},
               {_pooled("rs.np", "rs.p1", "rs.p2", "_practice")}
        FROM rs
        GROUP BY GROUPING SETS ({sets})
    """
    stmt = text(sql).bindparams(bindparam("audit_id", type_=Uuid), *_meta_binds())
    async with _work_mem(session):
        result = await session.execute(stmt, {"audit_id": audit_id, **_meta_params(meta)})
    rows: list[dict[str, Any]] = []
    # Distribution rows: the respondents of each bit pattern count once for every value in it.
    dist: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in result.mappings():
        group = {d: row[f"d_{d}"] for d in dims}
        if all(row[flag] != 0 for flag in _FLAGS):
            rows.append({**dict(row), "group": group, "kind": "summary", "value": None})
            continue
        kind, mask = next(pair for pair, flag in zip(_MASKS, _FLAGS, strict=True) if row[flag] == 0)
        bits = row[mask] or 0
        values = [str(v) for v in range(bits.bit_length()) if bits >> v & 1]
        if kind == "score" and row["dk"]:
            values.append("dont_know")
        for value in values:
            key = (*group.values(), row["section"], kind, value)
            out = dist.setdefault(
                key,
                {"group": group, "section": row["section"], "kind": kind, "value": value, "n": 0},
            )
            out["n"] += int(row["n"])
    return rows + list(dist.values())


def _pooled(n: str, s1: str, s2: str, name: str) -> str:
    """Mean and sample standard deviation from per-respondent counts and sums."""
    count = f"sum({n})::float8"
    total = f"sum({s1})::float8"
    squares = f"sum({s2})::float8"
    return (
        f"CASE WHEN {count} > 0 THEN {total} / {count} END AS mean{name}, "
        f"CASE WHEN {count} > 1 THEN sqrt(greatest({squares} - {total} * {total} / {count}, 0) "
        f"/ ({count} - 1)) END AS sd{name}"
    )


async def atom_counts(
    session: AsyncSession,
    audit_id: uuid.UUID,
    *,
    meta: Sequence[ItemMeta],
    item_keys: Sequence[str] = (),
    section_keys: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """How many respondents count for each figure in each combination of the five
    attributes (the atoms that suppression is decided on): respondents; and, for the items
    and sections named (those not everybody answered with a score), those who answered
    (``answered``) and those who gave a score (``scored``)."""
    attrs = ", ".join(DIMENSION_COLUMNS.values())
    rs_attrs = ", ".join(f"rs.{c.removeprefix('r.')}" for c in DIMENSION_COLUMNS.values())
    parts = [
        f"""SELECT 'respondents' AS unit_kind, '' AS unit, {attrs},
               count(*) AS answered, count(*) AS scored
        FROM audit_responses r
        WHERE r.audit_id = :audit_id
        GROUP BY {attrs}"""
    ]
    if item_keys:
        parts.append(
            f"""SELECT 'item', a.item_key, {attrs},
               count(*), count(*) FILTER (WHERE NOT a.dont_know)
        FROM audit_answers a JOIN audit_responses r ON r.id = a.response_id
        WHERE a.audit_id = :audit_id AND a.item_key = ANY(CAST(:item_keys AS text[]))
        GROUP BY a.item_key, {attrs}"""
        )
    if section_keys:
        parts.append(
            # Each respondent's answers in a section folded to one row first: no DISTINCT.
            f"""SELECT 'section', rs.section, {rs_attrs}, count(*), count(*) FILTER (WHERE rs.scored)
        FROM (
            SELECT m.section, {attrs}, bool_or(NOT a.dont_know) AS scored
            FROM audit_answers a {_META_JOIN} JOIN audit_responses r ON r.id = a.response_id
            WHERE a.audit_id = :audit_id AND m.section = ANY(CAST(:section_keys AS text[]))
            GROUP BY m.section, a.response_id, {attrs}
        ) rs
        GROUP BY rs.section, {rs_attrs}"""
        )
    params: dict[str, Any] = {"audit_id": audit_id}
    binds = [bindparam("audit_id", type_=Uuid)]
    if item_keys:
        params["item_keys"] = list(item_keys)
        binds.append(bindparam("item_keys", type_=ARRAY(String)))
    if section_keys:
        params |= _meta_params(meta) | {"section_keys": list(section_keys)}
        binds += [*_meta_binds(), bindparam("section_keys", type_=ARRAY(String))]
    stmt = text(" UNION ALL ".join(parts)).bindparams(*binds)
    async with _work_mem(session):
        result = await session.execute(stmt, params)
    return [dict(r) for r in result.mappings()]


async def respondent_count(session: AsyncSession, audit_id: uuid.UUID) -> int:
    stmt = text("SELECT count(*) FROM audit_responses WHERE audit_id = :audit_id").bindparams(
        bindparam("audit_id", type_=Uuid)
    )
    return int((await session.execute(stmt, {"audit_id": audit_id})).scalar_one())


async def comments(session: AsyncSession, audit_id: uuid.UUID) -> list[tuple[str, str]]:
    """Free-text answers and item comments, without any attribute, in alphabetical order
    (never the order they were given in)."""
    stmt = text(
        "SELECT item_key, text FROM audit_answers "
        "WHERE audit_id = :audit_id AND text IS NOT NULL AND text <> '' "
        "ORDER BY item_key, text"
    ).bindparams(bindparam("audit_id", type_=Uuid))
    result = await session.execute(stmt, {"audit_id": audit_id})
    return [(r[0], r[1]) for r in result.all()]


async def respondent_atoms(session: AsyncSession, audit_id: uuid.UUID) -> list[dict[str, Any]]:
    """Respondents per combination of the five attributes."""
    attrs = ", ".join(DIMENSION_COLUMNS.values())
    stmt = text(
        f"SELECT {attrs}, count(*) AS answered FROM audit_responses r "
        f"WHERE r.audit_id = :audit_id GROUP BY {attrs}"
    ).bindparams(bindparam("audit_id", type_=Uuid))
    result = await session.execute(stmt, {"audit_id": audit_id})
    return [dict(r) for r in result.mappings()]
