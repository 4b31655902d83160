"""Gathers an enquiry's record for its report, and its process health."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_lessonstudy.enquiries import service as enquiries
from cpd_lessonstudy.enquiries.schemas import EnquiryRead, QuestionCheck
from cpd_lessonstudy.enquiry_reports.schemas import EnquiryHealth
from cpd_lessonstudy.enquiry_stages import schemas as s
from cpd_lessonstudy.enquiry_stages import service as stages
from cpd_lessonstudy.enquiry_stages import time_records as enquiry_time
from cpd_lessonstudy.groups import members as group_members
from cpd_lessonstudy.groups.access import ENQUIRY, get_access
from cpd_lessonstudy.models import School
from cpd_lessonstudy.models.enquiries import (
    Enquiry,
    EnquiryCasePupil,
    EnquiryDataEntry,
    EnquiryDissemination,
    EnquiryFinding,
    EnquiryPupilVoice,
    EnquiryReplication,
    EnquiryValidityCheck,
)

R = TypeVar("R", bound=BaseModel)


@dataclass
class EnquiryRecord:
    enquiry: EnquiryRead
    school_names: list[str]
    question: QuestionCheck
    case_pupils: list[s.CasePupilRead]
    data: list[s.DataEntryRead]
    findings: list[s.FindingRead]
    validity_checks: list[s.ValidityCheckRead]
    replications: list[s.ReplicationRead]
    replicates: Enquiry | None
    disseminations: list[s.DisseminationRead]
    pupil_voice: list[s.PupilVoiceRead]
    hours: s.EnquiryHours
    health: EnquiryHealth


async def _rows(session: AsyncSession, model: type[Any], enquiry_id: uuid.UUID) -> list[Any]:
    return list(
        (
            await session.scalars(
                select(model).where(model.enquiry_id == enquiry_id).order_by(model.id)
            )
        ).all()
    )


async def _reads(
    session: AsyncSession,
    model: type[Any],
    schema: type[R],
    enquiry_id: uuid.UUID,
    names: dict[uuid.UUID, str],
) -> list[R]:
    reads = [stages.record_read(r, names) for r in await _rows(session, model, enquiry_id)]
    return [r for r in reads if isinstance(r, schema)]


async def enquiry_record(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal
) -> EnquiryRecord:
    enquiry = (await get_access(session, ENQUIRY, enquiry_id, principal=principal)).group
    names = await group_members.names_of(session, ENQUIRY, enquiry.id)
    schools = dict(
        (
            await session.execute(
                select(School.id, School.name).where(School.id.in_(enquiry.school_ids))
            )
        ).all()
    )
    data = await _reads(session, EnquiryDataEntry, s.DataEntryRead, enquiry.id, names)
    findings = await _reads(session, EnquiryFinding, s.FindingRead, enquiry.id, names)
    checks = await _reads(session, EnquiryValidityCheck, s.ValidityCheckRead, enquiry.id, names)
    replications = [
        r
        for r in await stages.replication_reads(
            session, await _rows(session, EnquiryReplication, enquiry.id)
        )
        if isinstance(r, s.ReplicationRead)
    ]
    disseminations = await _reads(
        session, EnquiryDissemination, s.DisseminationRead, enquiry.id, names
    )
    voice = await _reads(session, EnquiryPupilVoice, s.PupilVoiceRead, enquiry.id, names)
    pupils = await _reads(session, EnquiryCasePupil, s.CasePupilRead, enquiry.id, names)
    read = await enquiries.enquiry_read(session, enquiry)
    question = await enquiries.question_check(session, enquiry)
    hours = await enquiry_time.hours(session, enquiry.id, principal=principal)
    return EnquiryRecord(
        enquiry=read,
        school_names=[schools.get(i, "Unknown school") for i in enquiry.school_ids],
        question=question,
        case_pupils=pupils,
        data=data,
        findings=findings,
        validity_checks=checks,
        replications=replications,
        replicates=(
            await session.get(Enquiry, enquiry.replicates_id) if enquiry.replicates_id else None
        ),
        disseminations=disseminations,
        pupil_voice=voice,
        hours=hours,
        health=_health(
            read, question, data, findings, checks, replications, disseminations, voice, hours
        ),
    )


def _health(
    read: EnquiryRead,
    question: QuestionCheck,
    data: list[s.DataEntryRead],
    findings: list[s.FindingRead],
    checks: list[s.ValidityCheckRead],
    replications: list[s.ReplicationRead],
    disseminations: list[s.DisseminationRead],
    voice: list[s.PupilVoiceRead],
    hours: s.EnquiryHours,
) -> EnquiryHealth:
    methods = list(dict.fromkeys(d.method for d in data))
    return EnquiryHealth(
        enquiry_id=read.id,
        title=read.title,
        status=read.status,
        stage=read.stage,
        stages_reached=read.stages_reached,
        question_rules_met=sum(1 for r in question.rules if r.met),
        data_entries=len(data),
        data_sources_used=methods,
        primary_data=sum(1 for d in data if d.source == "primary"),
        secondary_data=sum(1 for d in data if d.source == "secondary"),
        techniques=sum(1 for d in data if d.source == "technique"),
        findings=len(findings),
        findings_with_alternatives=sum(1 for f in findings if f.alternative_interpretations),
        validity_checked=bool(checks),
        counts_tallied=any(c.counts_tally != "not_checked" for c in checks),
        replicated=bool(replications),
        replication_outcomes=[r.conclusions_held for r in replications],
        is_replicate=read.replicates_enquiry_id is not None,
        disseminated=bool(disseminations),
        disseminated_beyond_school=any(d.beyond_school for d in disseminations),
        pupil_voice_entries=len(voice),
        total_hours=hours.total_hours,
    )


async def enquiry_health(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal
) -> EnquiryHealth:
    return (await enquiry_record(session, enquiry_id, principal=principal)).health
