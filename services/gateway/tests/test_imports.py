"""People import from an HR/MIS CSV export (``POST /v1/imports/people``): dry run changes
nothing and names every invalid cell, a real run is all or nothing, publishes one event per
person that changes, and the same file again changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD, PEOPLE_BY_KEY, SOUTHBANK
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]
HR = DEMO_CREDENTIALS["HR API client"]
QA = DEMO_CREDENTIALS["QA API client"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]
URL = "/v1/imports/people"


def csv_of(*rows: str, header: str | None = None) -> bytes:
    header = header or (
        "External ID,Email,Given Name,Family Name,Schools,Staff Group,Department,FTE,"
        "Start Date,Line Manager,Active,Shoe size"
    )
    return ("\n".join([header, *rows]) + "\n").encode()


async def post(
    stack: Stack, headers: dict[str, str], body: bytes, *, dry_run: bool = False
) -> httpx.Response:
    return await stack.gateway.post(
        URL,
        headers={**headers, "Content-Type": "text/csv"},
        content=body,
        params={"dry_run": "true"} if dry_run else None,
    )


async def outbox_count(stack: Stack, subject: str | None = None) -> int:
    sql = "SELECT count(*) FROM outbox WHERE type = :type"
    params: dict[str, Any] = {"type": catalogue.PersonUpserted.event_type}
    if subject is not None:
        sql += " AND envelope->>'subject' = :subject"
        params["subject"] = subject
    async with stack.session("gateway") as session:
        return int(await session.scalar(text(sql), params))


async def people_count(stack: Stack) -> int:
    async with stack.session("gateway") as session:
        return int(await session.scalar(text("SELECT count(*) FROM people")))


def staff_file(tag: str) -> bytes:
    teacher = PEOPLE_BY_KEY["n-t1"]
    leaver = PEOPLE_BY_KEY["n-deputy"]
    return csv_of(
        f"HR-{tag}-1,ana.{tag}@northfield.example,Ana,Lopez,Northfield Primary,teacher,Maths,"
        f"0.8,2025-09-01,HR-{tag}-2,true,9",
        f"HR-{tag}-2,ben.{tag}@northfield.example,Ben,Okafor,{NORTHFIELD};Southbank Academy,"
        f"leader,,1,01/09/2020,,yes,",
        f"HR-{tag}-3,cal.{tag}@northfield.example,Cal,Reyes,{SOUTHBANK},Teaching Assistant,,"
        f"0.5,,{teacher.email},,",
        # Existing people, matched by email: one moves department, one leaves.
        f",{teacher.email},,,Northfield Primary,teacher,Science,,,,true,",
        f",{leaver.email},,,,,,,,,false,",
    )


async def test_dry_run_reports_everything_and_changes_nothing(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    tag = uuid.uuid4().hex[:6]
    broken = staff_file(tag).decode().rstrip("\n") + "\n"
    broken += f"HR-{tag}-4,dee.{tag}@northfield.example,Dee,Nwosu,Atlantis High,pilot,,2,32/13/2020,HR-nobody,maybe,\n"
    broken += f"HR-{tag}-5,not-an-email,,,,,,,,,,\n"
    before = (await people_count(seeded), await outbox_count(seeded))

    resp = await post(seeded, admin, broken.encode(), dry_run=True)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["dry_run"] is True and report["applied"] is False
    assert report["rows"] == 7
    assert [p["row"] for p in report["created"]] == [2, 3, 4]
    assert [p["row"] for p in report["updated"]] == [5]
    assert report["updated"][0]["changed"] == ["department"]
    assert [p["row"] for p in report["deactivated"]] == [6]
    assert report["deactivated"][0]["person_id"] == str(PEOPLE_BY_KEY["n-deputy"].id)
    assert report["ignored_columns"] == ["Shoe size"]
    invalid = {(c["row"], c["column"]) for c in report["invalid"]}
    assert invalid >= {
        (7, "schools"),
        (7, "fte"),
        (7, "start_date"),
        (7, "active"),
    }, report["invalid"]
    assert (8, "email") in invalid or (8, "name") in invalid, report["invalid"]
    assert all(c["reason"] for c in report["invalid"])
    # Nothing changed: no person, no event.
    assert (await people_count(seeded), await outbox_count(seeded)) == before

    # A real run of the same file is refused as a whole, naming the rows.
    refused = await post(seeded, admin, broken.encode())
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["invalid"] and any(e["loc"].startswith("row 7.") for e in body["errors"])
    assert (await people_count(seeded), await outbox_count(seeded)) == before


async def test_real_run_applies_once_and_the_same_file_again_changes_nothing(
    seeded: Stack,
) -> None:
    hr = {"Authorization": f"Bearer {await seeded.client_token(*HR)}"}
    admin = await seeded.auth(*ADMIN)
    tag = uuid.uuid4().hex[:6]
    body = staff_file(tag)
    before = await outbox_count(seeded)

    resp = await post(seeded, hr, body)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["applied"] is True and report["invalid"] == []
    assert len(report["created"]) == 3 and len(report["updated"]) == 1
    assert len(report["deactivated"]) == 1 and report["unchanged"] == 0
    # One event per person that changed, none for anyone else.
    assert await outbox_count(seeded) == before + 5
    ids = {p["row"]: p["person_id"] for p in report["created"]}
    for pid in ids.values():
        assert await outbox_count(seeded, pid) == 1

    ana = (await seeded.gateway.get(f"/v1/people/{ids[2]}", headers=admin)).json()
    ben = (await seeded.gateway.get(f"/v1/people/{ids[3]}", headers=admin)).json()
    cal = (await seeded.gateway.get(f"/v1/people/{ids[4]}", headers=admin)).json()
    assert ana["name"] == "Ana Lopez" and ana["given_name"] == "Ana"
    assert ana["external_id"] == f"HR-{tag}-1" and ana["email"] == f"ana.{tag}@northfield.example"
    assert ana["school_ids"] == [str(NORTHFIELD)] and ana["fte"] == 0.8
    assert ana["start_date"] == "2025-09-01" and ana["roles"] == ["staff"]
    assert ana["line_manager_id"] == ben["id"], "a manager named further down the file"
    assert ben["school_ids"] == [str(NORTHFIELD), str(SOUTHBANK)]
    assert ben["start_date"] == "2020-09-01" and ben["staff_group"] == "leader"
    assert cal["staff_group"] == "teaching_assistant"
    assert cal["line_manager_id"] == str(PEOPLE_BY_KEY["n-t1"].id)
    teacher = (
        await seeded.gateway.get(f"/v1/people/{PEOPLE_BY_KEY['n-t1'].id}", headers=admin)
    ).json()
    assert teacher["department"] == "Science"
    leaver = (
        await seeded.gateway.get(f"/v1/people/{PEOPLE_BY_KEY['n-deputy'].id}", headers=admin)
    ).json()
    assert leaver["active"] is False

    again = await post(seeded, hr, body)
    assert again.status_code == 200, again.text
    second = again.json()
    assert second["applied"] is False and second["unchanged"] == 5
    assert second["created"] == second["updated"] == second["deactivated"] == []
    assert await outbox_count(seeded) == before + 5


async def test_header_names_ignore_case_and_who_may_import(seeded: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    body = csv_of(
        f"e-{tag},eve.{tag}@northfield.example,Eve Adams",
        header="EXTERNAL_ID,e-mail,NAME",
    )
    admin = await seeded.auth(*ADMIN)
    ok = await post(seeded, admin, body, dry_run=True)
    assert ok.status_code == 200, ok.text
    assert [p["name"] for p in ok.json()["created"]] == ["Eve Adams"]

    teacher = await seeded.auth(*TEACHER)
    assert (await post(seeded, teacher, body)).status_code == 403
    qa = {"Authorization": f"Bearer {await seeded.client_token(*QA)}"}
    assert (await post(seeded, qa, body)).status_code == 403
    assert (await seeded.gateway.post(URL, content=body)).status_code == 401

    wrong_type = await seeded.gateway.post(
        URL, headers={**admin, "Content-Type": "application/json"}, content=b"{}"
    )
    assert wrong_type.status_code == 415
    empty = await post(seeded, admin, b"")
    assert empty.status_code == 400
    no_key = await post(seeded, admin, b"name\nZed\n")
    assert no_key.status_code == 400

    # Another trust's import cannot match (or learn about) Oakridge's people.
    riverside = await seeded.auth(*RIVERSIDE_ADMIN)
    teacher_email = PEOPLE_BY_KEY["n-t1"].email
    foreign = await post(
        seeded,
        riverside,
        csv_of(f",{teacher_email},Someone Else", header="external_id,email,name"),
        dry_run=True,
    )
    assert foreign.status_code == 200
    assert foreign.json()["created"] == []
    assert foreign.json()["invalid"] == [{"row": 2, "column": "email", "reason": "cannot be used"}]
