"""``cpd seed --scale``: the bulk seed lands in every service's database and the API reads it
through the gateway (a tiny trust: 2 schools, 20 staff; no volume audits)."""

from __future__ import annotations

from sqlalchemy import text

from cpd_local import scale_seed
from cpd_local.scale_data import PASSWORD, QA_SECRET, Shape, admin_email, qa_client_id, uid
from cpd_local.stack import Stack


async def test_seeded_trusts_read_through_the_gateway(stack: Stack) -> None:
    dsns = {name: svc.settings.database_url for name, svc in stack.services.items()}
    shape = Shape(schools=2, staff=20)
    result = await scale_seed.seed(dsns, range(1, 3), shape, volume_audits=False, vacuum=False)
    assert result["trusts"] == [1, 2]
    again = await scale_seed.seed(dsns, range(1, 3), shape, volume_audits=False)
    assert again["trusts"] == []  # a trust already there is left alone

    headers = await stack.auth(admin_email(1), PASSWORD)
    people = (await stack.gateway.get("/v1/people?limit=200", headers=headers)).json()["items"]
    assert len(people) == 20
    assert {p["id"] for p in people} == {str(uid("person", 1, i)) for i in range(20)}
    page = await stack.gateway.get("/v1/people?limit=5", headers=headers)
    nxt = await stack.gateway.get(
        f"/v1/people?limit=5&cursor={page.json()['next_cursor']}", headers=headers
    )
    assert nxt.status_code == 200 and len(nxt.json()["items"]) == 5

    # Each domain service's projection agrees with the directory: lists and reads work.
    for path, at_least in (
        ("/v1/audits", 7),  # three termly audits per school and the trust-wide one
        ("/v1/needs", 20),
        ("/v1/lesson-studies", 4),
        ("/v1/activities", 70),
    ):
        resp = await stack.gateway.get(f"{path}?limit=200", headers=headers)
        assert resp.status_code == 200, (path, resp.text)
        items = resp.json()["items"]
        assert len(items) >= at_least, (path, len(items))
        one = await stack.gateway.get(f"{path}/{items[0]['id']}", headers=headers)
        assert one.status_code == 200, (path, one.text)

    audit = uid("audit", 1, "trust")
    results = await stack.gateway.get(f"/v1/audits/{audit}/results", headers=headers)
    assert results.status_code == 200, results.text
    async with stack.session("audit") as session:  # stored as its close would have
        stored = await session.execute(
            text("SELECT respondents FROM audit_result_totals WHERE audit_id = :a"), {"a": audit}
        )
        assert stored.scalar_one() == results.json()["respondents"]
        kept = await session.execute(
            text(
                "SELECT (SELECT count(*) FROM audit_result_atoms WHERE audit_id = :a), "
                "(SELECT count(*) FROM audit_result_breakdowns WHERE audit_id = :a)"
            ),
            {"a": audit},
        )
        assert tuple(kept.one()) == (1, 9)  # breakdown inputs too (results.breakdown_store)
    by_school = await stack.gateway.get(f"/v1/audits/{audit}/results?by=school", headers=headers)
    assert by_school.status_code == 200 and by_school.json()["breakdown"], by_school.text
    dashboard = await stack.gateway.get("/v1/dashboards/trust", headers=headers)
    assert dashboard.status_code == 200, dashboard.text
    figures = dashboard.json()
    assert figures["people"]["staff"] == 20 and len(figures["schools"]) == 2
    assert figures["people"]["staff_covered"] == 20
    sync = await stack.gateway.get(
        "/v1/activities?updated_since=2000-01-01T00:00:00Z&limit=10", headers=headers
    )
    assert sync.status_code == 200 and len(sync.json()["items"]) == 10

    qa = await stack.client_token(qa_client_id(1), QA_SECRET)
    metrics = await stack.gateway.get("/v1/metrics", headers={"Authorization": f"Bearer {qa}"})
    assert metrics.status_code == 200, metrics.text

    # Another trust's seeded data is not the admin's.
    other = await stack.gateway.get(f"/v1/people/{uid('person', 2, 3)}", headers=headers)
    assert other.status_code == 404
