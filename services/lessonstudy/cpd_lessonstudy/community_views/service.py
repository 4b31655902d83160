"""Trust and school views of collaborative enquiry: communities running, their members,
meeting cadence, and enquiries by the furthest component reached. For school leaders (their
schools) and trust admins (every school)."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import cast, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common.auth import Principal
from cpd_lessonstudy.communities import schemas as s
from cpd_lessonstudy.communities import service as communities
from cpd_lessonstudy.communities.errors import LeadersOnly
from cpd_lessonstudy.community_views import queries
from cpd_lessonstudy.enquiries import service as enquiries
from cpd_lessonstudy.enquiries import stages as enquiry_progress
from cpd_lessonstudy.models.communities import LearningCommunity
from cpd_lessonstudy.models.enquiries import Enquiry


def _cadence(row: Any) -> dict[str, Any]:
    mean = row["mean_gap"]
    return {
        "meetings": int(row["meetings"] or 0),
        "last_met_on": row["last_met_on"],
        "mean_days_between_meetings": float(mean) if mean is not None else None,
    }


async def overview(
    session: AsyncSession, *, principal: Principal, school_id: uuid.UUID | None = None
) -> s.CommunityOverview:
    if not principal.has_any("trust_admin", "school_leader"):
        raise LeadersOnly(
            "The trust and school views are for school leaders and trust admins; members see "
            "their own communities."
        )
    mine = None if principal.is_trust_admin else sorted(principal.school_ids)
    community_q = communities.list_query(principal=principal, school_id=school_id)
    enquiry_q = enquiries.list_query(principal=principal, school_id=school_id)
    if mine is not None:
        # A leader's view is about their schools, not every group they happen to be in.
        community_q = community_q.where(
            LearningCommunity.school_ids.overlap(cast(mine, ARRAY(Uuid)))
        )
        enquiry_q = enquiry_q.where(Enquiry.school_ids.overlap(cast(mine, ARRAY(Uuid))))
    ids = list((await session.scalars(community_q.with_only_columns(LearningCommunity.id))).all())
    today = communities.today()
    params = {"ids": ids, "today": today, "only": mine}

    found = (
        await session.execute(
            enquiry_q.with_only_columns(
                Enquiry.id, Enquiry.school_ids, Enquiry.status, Enquiry.community_id
            )
        )
    ).all()
    progress = await enquiry_progress.progress_of(session, [row.id for row in found])
    stage_by_enquiry = {
        row.id: "completed" if row.status == "completed" else progress[row.id].reached()[-1]
        for row in found
    }
    by_community: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    by_school: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    total: Counter[str] = Counter()
    for row in found:
        stage = stage_by_enquiry[row.id]
        total[stage] += 1
        for sid in row.school_ids:
            by_school[sid][stage] += 1
        if row.community_id is not None:
            by_community[row.community_id][stage] += 1

    summaries = [
        s.CommunitySummary(
            community_id=row["community_id"],
            name=row["name"],
            status=communities.status_of_dates(row["starts_on"], row["ends_on"], today),
            school_ids=list(row["school_ids"]),
            starts_on=row["starts_on"],
            ends_on=row["ends_on"],
            members=int(row["members"]),
            cycles=int(row["cycles"]),
            enquiries_by_stage=dict(by_community[row["community_id"]]),
            lesson_studies=int(row["lesson_studies"]),
            coaching_pairs=int(row["coaching_pairs"]),
            shares=int(row["shares"]),
            **_cadence(row),
        )
        for row in (await session.execute(text(queries.PER_COMMUNITY), {"ids": ids})).mappings()
    ]
    schools = [
        s.SchoolCommunities(
            school_id=row["school_id"],
            school_name=row["school_name"],
            communities=int(row["communities"]),
            running=int(row["running"]),
            members=int(row["members"]),
            enquiries_by_stage=dict(by_school[row["school_id"]]),
            **_cadence(row),
        )
        for row in (await session.execute(text(queries.PER_SCHOOL), params)).mappings()
        if school_id is None or row["school_id"] == school_id
    ]
    totals = (await session.execute(text(queries.TOTALS), params)).mappings().one()
    return s.CommunityOverview(
        trust_id=principal.trust_id,
        as_of=today,
        totals=s.CommunityTotals(
            communities=int(totals["communities"]),
            running=int(totals["running"]),
            members=int(totals["members"]),
            enquiries_by_stage=dict(total),
            **_cadence(totals),
        ),
        schools=schools,
        communities=summaries,
    )
