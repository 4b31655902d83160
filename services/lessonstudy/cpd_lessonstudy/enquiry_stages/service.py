"""The records of an enquiry's components, and the stage rules between them: data only once
the enquiry has started, findings only from recorded data, no validity checking, replication
or reporting before analysis. A completed enquiry still takes reporting and replication
(they usually come after); everything else is then a record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import known_ids, scalar_or_raise
from cpd_common.pagination import PageParams, paginate
from cpd_common.schemas import from_row
from cpd_lessonstudy.case_pupils.errors import LabelTaken
from cpd_lessonstudy.enquiries import stages as enquiry_progress
from cpd_lessonstudy.enquiries.errors import InvalidEnquiry, RecordNotFound, StageRule
from cpd_lessonstudy.enquiry_stages import authoring
from cpd_lessonstudy.enquiry_stages import schemas as s
from cpd_lessonstudy.enquiry_stages.time_records import time_reads
from cpd_lessonstudy.groups import members as group_members
from cpd_lessonstudy.groups.access import ENQUIRY, Access, get_access
from cpd_lessonstudy.models.enquiries import (
    Enquiry,
    EnquiryCasePupil,
    EnquiryDataEntry,
    EnquiryDissemination,
    EnquiryFinding,
    EnquiryPupilVoice,
    EnquiryReplication,
    EnquiryTimeRecord,
    EnquiryValidityCheck,
)

Names = dict[uuid.UUID, str]


def record_read(row: Any, names: Names) -> BaseModel:
    """How one row reads: the columns its schema names, who recorded it (for the authored
    kinds) and, for data, whether the method gives primary or secondary data."""
    schema = READS[type(row)]
    columns = inspect(row).mapper.column_attrs.keys()
    values = {name: getattr(row, name) for name in schema.model_fields if name in columns}
    if issubclass(schema, s.Authored):
        values.update(authoring.authored(row, names))
    if isinstance(row, EnquiryDataEntry):
        values["source"] = s.SOURCE_OF[row.method]
    return schema(**values)


# model -> its read schema (the time records and replications have their own readers)
READS: dict[type[Any], type[BaseModel]] = {
    EnquiryDataEntry: s.DataEntryRead,
    EnquiryFinding: s.FindingRead,
    EnquiryValidityCheck: s.ValidityCheckRead,
    EnquiryDissemination: s.DisseminationRead,
    EnquiryPupilVoice: s.PupilVoiceRead,
    EnquiryCasePupil: s.CasePupilRead,
}


async def list_records(
    session: AsyncSession,
    model: type[Any],
    enquiry_id: uuid.UUID,
    *,
    principal: Principal,
    page: PageParams,
) -> tuple[list[BaseModel], str | None]:
    await get_access(session, ENQUIRY, enquiry_id, principal=principal)
    rows, cursor = await paginate(
        session, select(model).where(model.enquiry_id == enquiry_id), model.id, page
    )
    if model is EnquiryTimeRecord:
        return await time_reads(session, enquiry_id, rows), cursor
    if model is EnquiryReplication:
        return await replication_reads(session, rows), cursor
    names = await group_members.names_of(session, ENQUIRY, enquiry_id)
    return [record_read(r, names) for r in rows], cursor


async def get_record(
    session: AsyncSession,
    model: type[Any],
    enquiry_id: uuid.UUID,
    record_id: uuid.UUID,
    *,
    principal: Principal,
) -> BaseModel:
    await get_access(session, ENQUIRY, enquiry_id, principal=principal)
    row = await scalar_or_raise(
        session,
        select(model).where(model.id == record_id, model.enquiry_id == enquiry_id),
        RecordNotFound,
    )
    if model is EnquiryTimeRecord:
        return (await time_reads(session, enquiry_id, [row]))[0]
    if model is EnquiryReplication:
        return (await replication_reads(session, [row]))[0]
    return record_read(row, await group_members.names_of(session, ENQUIRY, enquiry_id))


async def _created(
    session: AsyncSession, access: Access[Enquiry], model: type[Any], data: BaseModel
) -> BaseModel:
    """Records ``data`` as a row of ``model`` in the enquiry (by the caller's membership when
    the kind is authored) and reads it back."""
    row = model(enquiry_id=access.group.id, trust_id=access.group.trust_id, **data.model_dump())
    if issubclass(READS[model], s.Authored):
        row.recorded_by = access.member_id
    session.add(row)
    await session.flush()
    access.group.updated_at = datetime.now(UTC)
    return record_read(row, await group_members.names_of(session, ENQUIRY, access.group.id))


# ---- (b) data collection ---------------------------------------------------------------------


async def add_data(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal, data: s.DataEntryCreate
) -> BaseModel:
    access = await authoring.writable(
        session, enquiry_id, principal, stage="data_collection", action="record data"
    )
    authoring.not_future(data.collected_on, "collected_on")
    return await _created(session, access, EnquiryDataEntry, data)


# ---- (c) analysis ----------------------------------------------------------------------------


async def add_finding(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal, data: s.FindingCreate
) -> BaseModel:
    access = await authoring.writable(
        session, enquiry_id, principal, stage="analysis", action="record a finding"
    )
    known = await known_ids(
        session,
        EnquiryDataEntry.id,
        data.data_entry_ids,
        EnquiryDataEntry.enquiry_id == enquiry_id,
    )
    unknown = [i for i in data.data_entry_ids if i not in known]
    if unknown:
        raise InvalidEnquiry(
            "A finding rests on data recorded in this enquiry.",
            errors=[
                {"loc": "body.data_entry_ids", "msg": f"no data entry {i} in this enquiry"}
                for i in unknown
            ],
        )
    return await _created(session, access, EnquiryFinding, data)


# ---- (d) validity checking -------------------------------------------------------------------


async def add_validity_check(
    session: AsyncSession,
    enquiry_id: uuid.UUID,
    *,
    principal: Principal,
    data: s.ValidityCheckCreate,
) -> BaseModel:
    access = await authoring.writable(
        session, enquiry_id, principal, stage="validity_checking", action="check validity"
    )
    authoring.not_future(data.checked_on, "checked_on")
    return await _created(session, access, EnquiryValidityCheck, data)


# ---- (e) replication -------------------------------------------------------------------------


async def replication_reads(
    session: AsyncSession, rows: list[EnquiryReplication]
) -> list[BaseModel]:
    follow_ups = {
        e.id: e
        for e in (
            await session.scalars(
                select(Enquiry).where(Enquiry.id.in_([r.follow_up_id for r in rows]))
            )
        ).all()
    }
    return [
        from_row(
            s.ReplicationRead,
            r,
            follow_up_title=follow_ups[r.follow_up_id].title,
            follow_up_status=follow_ups[r.follow_up_id].status,
        )
        for r in rows
    ]


async def update_replication(
    session: AsyncSession,
    enquiry_id: uuid.UUID,
    replication_id: uuid.UUID,
    *,
    principal: Principal,
    data: s.ReplicationUpdate,
) -> BaseModel:
    """Whether the conclusions held can only be judged once the follow-up has analysed its
    own data."""
    await authoring.writable(session, enquiry_id, principal, after_completion=True)
    row = await scalar_or_raise(
        session,
        select(EnquiryReplication).where(
            EnquiryReplication.id == replication_id, EnquiryReplication.enquiry_id == enquiry_id
        ),
        RecordNotFound,
    )
    if data.conclusions_held != "pending":
        follow_up = await session.get(Enquiry, row.follow_up_id)
        assert follow_up is not None  # the foreign key cascades
        reached = (await enquiry_progress.progress_of(session, [follow_up.id]))[
            follow_up.id
        ].reached()
        if "analysis" not in reached:
            raise StageRule(
                "Whether the conclusions held is known once the follow-up enquiry has analysed "
                "its data: record its findings first.",
                errors=[{"loc": "body.conclusions_held", "msg": "follow-up not analysed yet"}],
            )
    row.conclusions_held = data.conclusions_held
    row.notes = data.notes
    row.updated_at = datetime.now(UTC)
    await session.flush()
    return (await replication_reads(session, [row]))[0]


# ---- (f) reporting and dissemination ---------------------------------------------------------


async def add_dissemination(
    session: AsyncSession,
    enquiry_id: uuid.UUID,
    *,
    principal: Principal,
    data: s.DisseminationCreate,
) -> BaseModel:
    access = await authoring.writable(
        session,
        enquiry_id,
        principal,
        stage="reporting",
        action="report the enquiry",
        after_completion=True,
    )
    authoring.not_future(data.held_on, "held_on")
    return await _created(session, access, EnquiryDissemination, data)


# ---- pupils ----------------------------------------------------------------------------------


async def add_pupil_voice(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal, data: s.PupilVoiceCreate
) -> BaseModel:
    access = await authoring.writable(session, enquiry_id, principal)
    authoring.not_future(data.heard_on, "heard_on")
    return await _created(session, access, EnquiryPupilVoice, data)


async def add_case_pupil(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal, data: s.CasePupilCreate
) -> BaseModel:
    access = await authoring.writable(session, enquiry_id, principal)
    taken = await session.scalar(
        select(EnquiryCasePupil.id).where(
            EnquiryCasePupil.enquiry_id == enquiry_id, EnquiryCasePupil.label == data.label
        )
    )
    if taken is not None:
        raise LabelTaken(f"Label {data.label} is already used in this enquiry.")
    return await _created(session, access, EnquiryCasePupil, data)
