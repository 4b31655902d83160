"""Sustained or one-off is derived from the sessions: sustained when they span at least six
weeks (42 days) with a follow-up session after the first day. The boundaries, through the API
(with its reason) and in the SQL the records use."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cpd_local.stack import Stack

from .conftest import Api, person_id

START = date(2025, 10, 6)

CASES = [
    # (offsets in days of the sessions, expected pattern, follow-up sessions)
    ([], "one_off", 0),
    ([0], "one_off", 0),
    ([0, 0], "one_off", 0),
    ([0, 41], "one_off", 1),
    ([0, 42], "sustained", 1),
    ([0, 0, 42], "sustained", 1),
    ([0, 10, 41], "one_off", 2),
    ([42, 0, 20], "sustained", 2),  # listed out of order
    ([0, 14, 28, 84], "sustained", 3),
]


@pytest.mark.parametrize(("offsets", "pattern", "follow_ups"), CASES)
async def test_sustained_boundaries(
    demo: Stack, api: Api, offsets: list[int], pattern: str, follow_ups: int
) -> None:
    sessions = [
        {"held_on": (START + timedelta(days=d)).isoformat(), "duration_minutes": 60}
        for d in offsets
    ]
    activity = await api.create_activity(sessions=sessions)
    derived = activity["sustained"]
    assert derived["pattern"] == pattern
    assert derived["sustained"] is (pattern == "sustained")
    assert derived["follow_up_sessions"] == follow_ups
    assert derived["span_days"] == (max(offsets) - min(offsets) if offsets else None)
    assert derived["reason"]
    if pattern == "sustained":
        assert "follow-up" in derived["reason"]
    elif offsets and follow_ups:
        assert "six weeks" in derived["reason"]
    # The SQL form the records and dashboards use says the same.
    await api.add(activity["id"], "n-head", "n-t1", hours="1")
    # (With no sessions it counts in the year it was recorded: the current one.)
    year = "?year=2025-26" if offsets else ""
    record = await api.get(f"/v1/cpd-records/{person_id('n-t1')}{year}", "n-head")
    [entry] = [a for a in record["activities"] if a["activity_id"] == activity["id"]]
    assert entry["sustained"] is (pattern == "sustained")


async def test_changing_sessions_changes_the_pattern(api: Api) -> None:
    activity = await api.create_activity(
        sessions=[{"held_on": "2025-10-06", "duration_minutes": 60}]
    )
    assert activity["sustained"]["pattern"] == "one_off"
    path = f"/v1/activities/{activity['id']}"
    later = await api.patch(
        path,
        "n-head",
        {
            "sessions": [
                activity["sessions"][0],
                {"title": "Follow-up", "held_on": "2025-11-17", "duration_minutes": 90},
            ]
        },
    )
    assert later["sustained"]["pattern"] == "sustained"
    assert later["ends_on"] == "2025-11-17"
    first = later["sessions"][0]
    shorter = await api.patch(
        path, "n-head", {"sessions": [first, {**later["sessions"][1], "held_on": "2025-11-16"}]}
    )
    assert shorter["sustained"]["pattern"] == "one_off"
    assert shorter["sustained"]["span_days"] == 41
