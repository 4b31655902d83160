"""The demo learning community (two cycles) and its enquiry replicated once, seeded through the
service functions and read back through the API as the demo logins would."""

from __future__ import annotations

from sqlalchemy import func, select

from cpd_common.events import catalogue
from cpd_lessonstudy import demo_enquiry
from cpd_lessonstudy.models.communities import LearningCommunity
from cpd_lessonstudy.models.enquiries import Enquiry
from cpd_local.stack import Stack

from .conftest import Api, outbox
from .demos import demo_seeded_twice
from .enquiry_helpers import COMMUNITIES, ENQUIRIES


async def test_demo_community_and_replicated_enquiry(demo: Stack, api: Api) -> None:
    await demo_seeded_twice(demo)
    async with demo.session("lessonstudy") as session:  # the second run changed nothing
        assert await session.scalar(select(func.count()).select_from(LearningCommunity)) == 1
        assert await session.scalar(select(func.count()).select_from(Enquiry)) == 2

    [community] = (await api.get(COMMUNITIES, "n-t1"))["items"]
    assert community["name"] == demo_enquiry.community_name()
    assert (community["status"], community["cycles"], community["meetings_held"]) == (
        "running",
        2,
        4,
    )
    assert community["mix"] == {"schools": 2, "departments": 2}
    activities = (await api.get(f"{COMMUNITIES}/{community['id']}/activities", "n-t1"))["items"]
    assert [(a["kind"], a["cycle"], a["progress"]) for a in activities] == [
        ("enquiry", 1, "completed"),
        ("enquiry", 2, "completed"),
        ("peer_coaching", 2, None),
    ]

    enquiries = {e["title"]: e for e in (await api.get(ENQUIRIES, "admin"))["items"]}
    original, replicate = enquiries.values()
    assert replicate["replicates_enquiry_id"] == original["id"]
    assert original["replicated_by"] == [replicate["id"]]
    assert original["stages_reached"] == [
        "question",
        "data_collection",
        "analysis",
        "validity_checking",
        "replication",
        "reporting",
    ]
    assert original["question_rules_unmet"] == []
    [replication] = (await api.get(f"{ENQUIRIES}/{original['id']}/replications", "n-t1"))["items"]
    assert replication["conclusions_held"] == "partly"
    report = (await api.call("GET", f"{ENQUIRIES}/{original['id']}/report", "n-head")).text
    assert "the conclusions partly held" in report
    assert "(e) Replication" in report

    view = await api.get(f"{COMMUNITIES}/overview", "admin")
    assert view["totals"]["enquiries_by_stage"] == {"completed": 2}
    assert view["communities"][0]["mean_days_between_meetings"] == 31.3

    # Seeded like real requests: the same events.
    assert len(await outbox(demo, catalogue.EnquiryStarted.event_type)) == 2
    assert len(await outbox(demo, catalogue.EnquiryCompleted.event_type)) == 2
    assert len(await outbox(demo, catalogue.CommunityMeetingHeld.event_type)) == 4
