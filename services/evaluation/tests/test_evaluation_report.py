"""The governor-ready evaluation report (HTML) and its charts (SVG): what it says, that every
piece of user text is escaped, and that governors of the school read it but change nothing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
from markupsafe import escape

from cpd_local.stack import Stack

from .conftest import Api
from .test_evaluation_plans import PLANS, plan_body
from .test_impact import new_measure, pupils, rounded, upload

SCRIPT = "<script>alert('x')</script>"


def esc(text: str) -> str:
    """As Jinja2's autoescape writes it."""
    return str(escape(text))


SVG = "{http://www.w3.org/2000/svg}"


async def reported_plan(api: Api) -> dict[str, str]:
    aid = str(
        (
            await api.create_activity(
                title=f"Questioning {SCRIPT}", costs={"fees": "900", "supply_cover": "300"}
            )
        )["id"]
    )
    await api.add(aid, "n-head", "n-t1", hours="12")
    await api.add(aid, "n-head", "n-t2", hours="12")
    plan = await api.post(
        PLANS,
        "n-head",
        plan_body(
            aid,
            title=f"Reasoning {SCRIPT} & more",
            pupils_reached=60,
            leads_to_action='Roll out to KS1 "if it works"',
        ),
    )
    pid = plan["id"]
    await api.post(
        f"{PLANS}/{pid}/support",
        "n-head",
        {"hours_given": "4", "resources": "<b>Cover</b> for planning", "barriers": "Mocks"},
    )
    rng = np.random.default_rng(3)
    pre = rounded(rng.normal(20, 5, 36))
    post = rounded(pre + rng.normal(3, 3, 36))
    measure = await new_measure(api, pid, f"Reasoning test {SCRIPT}")
    await upload(api, measure, pupils("baseline", pre) + pupils("medium_term", post))
    small = await new_measure(api, pid, "Spelling check")
    await upload(api, small, pupils("baseline", [4, 5, 6]) + pupils("medium_term", [5, 6, 8]))
    await api.patch(f"{PLANS}/{pid}", "n-head", {"status": "reported"})
    return {"id": pid, "activity": aid, "measure": measure}


async def test_the_report_says_it_all_and_escapes_user_text(demo: Stack, api: Api) -> None:
    made = await reported_plan(api)
    path = f"{PLANS}/{made['id']}/report"
    resp = await api.call("GET", path, "n-head")
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src" not in resp.headers["content-security-policy"]
    assert resp.headers["etag"]
    body = resp.text
    # No user text reaches the page unescaped.
    assert "<script>" not in body and "<b>Cover" not in body
    assert esc(f"Reasoning {SCRIPT} & more") in body
    assert esc("<b>Cover</b> for planning") in body
    assert esc('Roll out to KS1 "if it works"') in body
    for heading in (
        "The question",
        "What was done",
        "Evidence at each level",
        "Impact",
        "Value for money",
        "Next actions",
    ):
        assert f"<h2>{heading}</h2>" in body
    # The impact table carries the impact analysis's own plain reading of each result.
    impact = await api.get(f"{PLANS}/{made['id']}/impact", "n-head")
    readings = [c["reading"] for m in impact["measures"] for c in m["comparisons"]]
    assert len(readings) == 2
    for reading in readings:
        assert esc(reading) in body
    assert "too few for an effect size" in body  # the 3-pupil measure: honest, no effect size
    # Value for money: £1,200 direct, no staff cost set; per pupil of 60.
    value = await api.get(f"{PLANS}/{made['id']}/value", "n-head")
    assert "£1,200.00" in body and f"£{value['per_pupil']:,.2f}" in body
    [priced] = value["effects"]
    assert f"£{priced['cost_per_pupil_per_tenth_sd']:,.2f} per pupil" in body
    assert f'src="{PLANS}/{made["id"]}/report.svg"' in body


async def test_the_chart_is_escaped_svg(demo: Stack, api: Api) -> None:
    made = await reported_plan(api)
    resp = await api.call("GET", f"{PLANS}/{made['id']}/report.svg", "n-gov")
    assert resp.headers["content-type"] == "image/svg+xml"
    assert "<script" not in resp.text
    # Well-formed: every text node escaped. Our own output, parsed to check it.
    root = ET.fromstring(resp.content)  # noqa: S314
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == f"Reasoning {SCRIPT} & more"
    # One row per effect size (the 3-pupil measure has none), with its interval.
    effects = root.find(f".//{SVG}g[@id='effects']")
    assert effects is not None and len(effects.findall(f"{SVG}circle")) == 1
    costs = root.find(f".//{SVG}g[@id='costs']")
    assert costs is not None
    labels = [t.text for t in costs.findall(f"{SVG}text")]
    assert labels == ["Fees £900.00", "Supply cover £300.00"]


async def test_governors_read_the_report_and_change_nothing(demo: Stack, api: Api) -> None:
    made = await reported_plan(api)
    base = f"{PLANS}/{made['id']}"
    for suffix in ("/report", "/report.svg"):
        await api.call("GET", base + suffix, "n-gov")
        await api.call("GET", base + suffix, "admin")
        # Another school's governor and leader, and another trust: as if it did not exist.
        for who in ("s-gov", "s-head", "r-admin"):
            await api.call("GET", base + suffix, who, expect=404)
        # Staff do not read evaluation reports.
        await api.call("GET", base + suffix, "n-t1", expect=403)
    await api.call(
        "GET", f"{PLANS}/00000000-0000-0000-0000-000000000001/report", "n-gov", expect=404
    )
    # The governor changes nothing and reads nothing else of the evaluation in JSON.
    await api.call(
        "PATCH", base, "n-gov", json={"title": "x"}, headers={"If-Match": "*"}, expect=403
    )
    await api.call("DELETE", base, "n-gov", headers={"If-Match": "*"}, expect=403)
    await api.call("POST", f"{base}/support", "n-gov", json={"notes": "x"}, expect=403)
    for suffix in ("/support", "/evidence", "/value"):
        await api.call("GET", base + suffix, "n-gov", expect=403)
    await api.call(
        "PUT", "/v1/evaluation-settings", "n-gov", json={"hourly_staff_cost": 1}, expect=403
    )
    assert (await api.get(base, "n-head"))["title"].startswith("Reasoning")
