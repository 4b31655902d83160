"""The demo learning community and its two classroom action enquiries (the second replicates
the first), loaded from ``demo_enquiry.yaml`` and written through the service functions, as the
API would, so the outbox holds the same events a real group would produce."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.demo import load_demo
from cpd_demo import trust as demo_data
from cpd_demo.trust import days_ago, principal_of
from cpd_lessonstudy.communities import schemas as cs
from cpd_lessonstudy.communities import service as communities
from cpd_lessonstudy.community_work import service as work
from cpd_lessonstudy.enquiries import schemas as es
from cpd_lessonstudy.enquiries import service as enquiries
from cpd_lessonstudy.enquiry_stages import schemas as ss
from cpd_lessonstudy.enquiry_stages import service as stages
from cpd_lessonstudy.enquiry_stages import time_records as enquiry_time
from cpd_lessonstudy.models.communities import CommunityMember, LearningCommunity
from cpd_lessonstudy.models.enquiries import EnquiryMember, EnquiryReplication

SCHOOLS = {"northfield": demo_data.NORTHFIELD, "southbank": demo_data.SOUTHBANK}


@cache
def content() -> dict[str, Any]:
    loaded: dict[str, Any] = load_demo("cpd_lessonstudy", "demo_enquiry.yaml")
    return loaded


def people() -> set[str]:
    """Demo keys of everyone taking part (the directory must know them first)."""
    c = content()
    keys = {c["community"]["creator"], *c["community"]["members"]}
    for e in c["enquiries"]:
        keys |= {e["creator"], *e["members"]}
    return keys


def community_name() -> str:
    return str(content()["community"]["name"])


def _pid(key: str) -> uuid.UUID:
    return demo_data.PEOPLE_BY_KEY[key].id


async def _memberships(
    session: AsyncSession, model: type[Any], fk: Any, group_id: uuid.UUID
) -> dict[str, uuid.UUID]:
    by_person = {p.id: k for k, p in demo_data.PEOPLE_BY_KEY.items()}
    rows = (await session.execute(select(model.id, model.person_id).where(fk == group_id))).all()
    return {by_person[person]: member for member, person in rows if person in by_person}


async def seed_demo(session: AsyncSession) -> None:
    """Adds the demo community and enquiries unless they are there already. Never commits."""
    c = content()["community"]
    exists = await session.scalar(
        select(LearningCommunity.id).where(
            LearningCommunity.trust_id == demo_data.OAKRIDGE, LearningCommunity.name == c["name"]
        )
    )
    if exists is not None:
        return
    community = await communities.create_community(
        session,
        principal=principal_of(c["creator"]),
        data=cs.CommunityCreate(
            name=c["name"],
            school_ids=[SCHOOLS[s] for s in c["schools"]],
            learning_priority=c["learning_priority"],
            membership_design=c["membership_design"],
            starts_on=days_ago(c["starts_ago"]),
            ends_on=days_ago(c["ends_ago"]),
            member_ids=[_pid(k) for k in c["members"]],
        ),
    )
    members = await _memberships(
        session, CommunityMember, CommunityMember.community_id, community.id
    )
    made: dict[str, uuid.UUID] = {}
    meetings = sorted(c["meetings"], key=lambda m: -m["ago"])
    for spec in content()["enquiries"]:
        # Meetings held before this enquiry started come first, as they happened.
        while meetings and meetings[0]["ago"] > spec["starts_ago"]:
            await _meeting(session, community.id, members, c["creator"], meetings.pop(0))
        made[spec["key"]] = await _enquiry(session, spec, made)
        await work.add_activity(
            session,
            community.id,
            principal=principal_of(spec["creator"]),
            data=cs.ActivityCreate(
                kind="enquiry", cycle=spec["cycle"], enquiry_id=made[spec["key"]]
            ),
        )
    for meeting in meetings:
        await _meeting(session, community.id, members, c["creator"], meeting)
    coaching = c["coaching"]
    await work.add_activity(
        session,
        community.id,
        principal=principal_of(c["creator"]),
        data=cs.ActivityCreate(
            kind="peer_coaching",
            cycle=coaching["cycle"],
            coach_member_id=members[coaching["coach"]],
            coachee_member_id=members[coaching["coachee"]],
            focus=coaching["focus"],
        ),
    )
    for share in c["shares"]:
        await work.add_share(
            session,
            community.id,
            principal=principal_of(c["creator"]),
            data=cs.ShareCreate(
                kind=share["kind"],
                shared_on=days_ago(share["ago"]),
                title=share["title"],
                audience=share["audience"],
                description=share.get("description"),
            ),
        )


async def _meeting(
    session: AsyncSession,
    community_id: uuid.UUID,
    members: dict[str, uuid.UUID],
    recorder: str,
    spec: dict[str, Any],
) -> None:
    await work.hold_meeting(
        session,
        community_id,
        principal=principal_of(recorder),
        data=cs.MeetingCreate(
            held_on=days_ago(spec["ago"]),
            duration_minutes=spec["duration"],
            cycle=spec["cycle"],
            minutes=spec["minutes"],
            shared=spec.get("shared"),
            attended=[members[k] for k in spec["attended"]],
        ),
    )


async def _enquiry(
    session: AsyncSession, spec: dict[str, Any], made: dict[str, uuid.UUID]
) -> uuid.UUID:
    creator = principal_of(spec["creator"])
    original = made.get(spec["replicates"]) if spec.get("replicates") else None
    enquiry = await enquiries.create_enquiry(
        session,
        principal=creator,
        data=es.EnquiryCreate(
            title=spec["title"],
            school_ids=[SCHOOLS[s] for s in spec["schools"]],
            subject=spec["subject"],
            pupil_group=spec["pupil_group"],
            question=spec["question"],
            planned_approach=spec["planned_approach"],
            starts_on=days_ago(spec["starts_ago"]),
            ends_on=days_ago(spec["ends_ago"]),
            coordinator_id=_pid(spec.get("coordinator", spec["creator"])),
            member_ids=[_pid(k) for k in spec["members"]],
            replicates_enquiry_id=original,
        ),
    )
    eid = enquiry.id
    await enquiries.update_question(
        session,
        eid,
        principal=creator,
        data=es.QuestionUpdate(answers=[es.AnswerInput(**a) for a in spec["answers"]]),
    )
    await enquiries.start_enquiry(session, eid, principal=creator)
    data_ids = []
    for d in spec["data"]:
        entry = await stages.add_data(
            session,
            eid,
            principal=principal_of(d["by"]),
            data=ss.DataEntryCreate(
                method=d["method"],
                collected_on=days_ago(d["ago"]),
                summary=d["summary"],
                attachments=[ss.Attachment(**a) for a in d.get("attachments", [])],
            ),
        )
        data_ids.append(entry.id)  # type: ignore[attr-defined]
    for f in spec["findings"]:
        await stages.add_finding(
            session,
            eid,
            principal=creator,
            data=ss.FindingCreate(
                statement=f["statement"],
                data_entry_ids=[data_ids[i] for i in f["data"]],
                alternative_interpretations=f.get("alternatives"),
            ),
        )
    for v in spec["validity"]:
        await stages.add_validity_check(
            session,
            eid,
            principal=creator,
            data=ss.ValidityCheckCreate(
                checked_on=days_ago(v["ago"]),
                interpreted_by=v["interpreted_by"],
                others_agree=v["others_agree"],
                counts_tally=v["counts_tally"],
                notes=v.get("notes"),
            ),
        )
    for p in spec.get("pupil_voice", []):
        await stages.add_pupil_voice(
            session,
            eid,
            principal=creator,
            data=ss.PupilVoiceCreate(
                kind=p["kind"],
                heard_on=days_ago(p["ago"]),
                pupil_group=p["pupil_group"],
                group_size=p["group_size"],
                summary=p["summary"],
            ),
        )
    members = await _memberships(session, EnquiryMember, EnquiryMember.enquiry_id, eid)
    for t in spec["time"]:
        await enquiry_time.add_time_record(
            session,
            eid,
            principal=creator,
            data=ss.TimeRecordCreate(
                kind=t["kind"],
                held_on=days_ago(t["ago"]),
                attendance=[
                    ss.AttendanceInput(member_id=members[k], minutes=m)
                    for k, m in t["minutes"].items()
                ],
            ),
        )
    if spec.get("complete"):
        await enquiries.complete_enquiry(session, eid, principal=creator)
    for d in spec.get("disseminations", []):
        await stages.add_dissemination(
            session,
            eid,
            principal=creator,
            data=ss.DisseminationCreate(
                held_on=days_ago(d["ago"]),
                audience=d["audience"],
                form=d["form"],
                what_changed=d.get("what_changed"),
            ),
        )
    if original is not None and spec.get("outcome"):
        replication = await session.scalar(
            select(EnquiryReplication.id).where(EnquiryReplication.follow_up_id == eid)
        )
        assert replication is not None
        original_creator = next(
            e["creator"] for e in content()["enquiries"] if e["key"] == spec["replicates"]
        )
        await stages.update_replication(
            session,
            original,
            replication,
            principal=principal_of(original_creator),
            data=ss.ReplicationUpdate(**spec["outcome"]),
        )
    return eid
