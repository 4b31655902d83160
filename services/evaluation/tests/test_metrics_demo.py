"""The demo QA client (``demo-qa``) gets real figures on the demo trust through the gateway:
the demo audits, lesson studies and CPD year seeded as ``make up`` seeds them, and a closed
audit round reaching the service as ``cpd.audit.audit.closed.v1`` (once, however often it is
delivered or replayed)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import delete, select

from cpd_audit import demo as audit_demo
from cpd_common.events import CATALOGUE
from cpd_common.testing.api import outbox as service_outbox
from cpd_demo.trust import NORTHFIELD, OAKRIDGE, PEOPLE, SOUTHBANK
from cpd_evaluation import demo as evaluation_demo
from cpd_evaluation.models import InboxEntry
from cpd_evaluation.models.measures import AuditRound, AuditRoundItem
from cpd_lessonstudy import demo as lessonstudy_demo
from cpd_local.stack import Stack

from .test_metrics import assert_not_recoverable, cells, client_headers, staff_keys


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """The demo audits, lesson studies and CPD year arrive from every service."""
    return ("gateway", "audit", "lessonstudy", "evaluation")


async def test_demo_qa_client_gets_real_figures(demo: Stack) -> None:
    for service, module in (
        ("audit", audit_demo),
        ("lessonstudy", lessonstudy_demo),
        ("evaluation", evaluation_demo),
    ):
        async with demo.session(service) as session:
            await module.seed_demo(session)
            await session.commit()
        await demo.settle()
    async with demo.session("evaluation") as session:
        rounds = (await session.scalars(select(AuditRound))).all()
        items = (await session.scalars(select(AuditRoundItem))).all()
    # The closed values v practice round arrived once (the open diagnostic did not), with
    # its eight paired items' gaps.
    assert [(r.instrument_key, r.scope_kind) for r in rounds] == [
        ("effective-cpd-principles", "trust")
    ]
    assert rounds[0].trust_id == OAKRIDGE
    assert sorted(i.item_key for i in items) == [str(k) for k in range(1, 9)]
    assert all(i.gap is not None and i.n for i in items)

    qa = await client_headers(demo)
    resp = await demo.gateway.get("/v1/metrics", headers=qa)
    assert resp.status_code == 200, resp.text
    release = resp.json()
    got = cells(release)
    assert release["trust_id"] == str(OAKRIDGE)
    staff = len(set(staff_keys(NORTHFIELD)) | set(staff_keys(SOUTHBANK)))
    assert got[("trust", "staff", None)]["value"] == 5 * round(staff / 5)
    for metric in (
        "staff_covered",
        "hours_per_fte",
        "meeting_entitlement_share",
        "sustained_share",
        "subject_specific_share",
        "evaluated_beyond_reactions_share",
        "pupil_outcome_evidence_share",
    ):
        assert got[("trust", metric, None)]["symbol"] is None, got[("trust", metric, None)]
    assert got[("trust", "hours_per_fte", None)]["value"] > 0
    # Both demo schools have more than 10 staff: their staff figures are released too.
    for school in (NORTHFIELD, SOUTHBANK):
        assert got[(str(school), "staff", None)]["value"] % 5 == 0
        assert got[(str(school), "hours_per_fte", None)]["symbol"] is None
    # The round was trust-wide: a gap per principle for the trust, none per school.
    for principle in map(str, range(1, 9)):
        gap = got[("trust", "values_practice_gap", principle)]
        assert gap["symbol"] is None and gap["value"] > 0, gap
        assert got[(str(NORTHFIELD), "values_practice_gap", principle)]["symbol"] == "[x]"
    # The demo's practice lags values most on principle 4 and least on 6.
    assert (
        got[("trust", "values_practice_gap", "4")]["value"]
        > got[("trust", "values_practice_gap", "6")]["value"]
    )
    # Released once the demo holds evaluated programmes with an effect size, [x] before.
    effect = got[("trust", "median_effect_size", None)]
    assert effect["symbol"] == "[x]" or isinstance(effect["value"], float), effect
    assert_not_recoverable(release)
    for person in PEOPLE:
        assert person.name not in resp.text and str(person.id) not in resp.text

    # The close event delivered again, and replayed past the inbox, changes nothing.
    (closed,) = await service_outbox(demo, "audit", "cpd.audit.audit.closed.v1")
    js = await demo.js()
    for replay in (False, True):
        if replay:
            async with demo.session("evaluation") as session:
                await session.execute(delete(InboxEntry))
                await session.commit()
        await js.publish(
            CATALOGUE[closed["type"]].nats_subject,
            json.dumps(closed).encode(),
            headers={"Nats-Msg-Id": str(uuid.uuid4())},
        )
        await demo.settle()
        async with demo.session("evaluation") as session:
            assert len((await session.scalars(select(AuditRound))).all()) == 1
            again = (await session.scalars(select(AuditRoundItem))).all()
        assert sorted((i.item_key, i.n, i.gap) for i in again) == sorted(
            (i.item_key, i.n, i.gap) for i in items
        )
    after = cells((await demo.gateway.get("/v1/metrics", headers=qa)).json())
    assert {k: v for k, v in after.items() if k[1] == "values_practice_gap"} == {
        k: v for k, v in got.items() if k[1] == "values_practice_gap"
    }
