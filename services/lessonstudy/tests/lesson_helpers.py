"""Building blocks of the rule tests: a study with its case pupils and a planned research
lesson, and teaching that lesson once every prediction is written."""

from __future__ import annotations

from typing import Any

from .conftest import Api, days_ago, member_ids

GROUP = {"n-t1": "teacher", "n-t2": "observer", "n-t3": "observer"}


async def study_with_lesson(
    api: Api, *, start: bool = True, **extra: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any], dict[str, str]]:
    study = await api.create_study("n-t6", GROUP, **extra)
    ids = member_ids(study)
    pupils = await api.add_case_pupils(study["id"], "n-t6")
    if start:
        await api.post(f"/{study['id']}/start", "n-t6", expect=200)
    lesson = await api.plan_lesson(study["id"], "n-t6", ids["n-t1"])
    return study, pupils, lesson, ids


async def teach(
    api: Api, study: dict[str, Any], lesson: dict[str, Any], pupils: list[dict[str, Any]]
) -> str:
    await api.predict_all(study["id"], lesson, pupils, "n-t6")
    base = f"/{study['id']}/research-lessons/{lesson['id']}"
    await api.post(base + "/taught", "n-t1", {"taught_on": days_ago(1)}, expect=200)
    return base
