"""The study report escapes what people typed, names included: a member whose directory name
holds markup shows as text in the HTML report and as literal text in the Markdown one."""

from __future__ import annotations

from cpd_demo.trust import NORTHFIELD
from cpd_local.stack import Stack

from .conftest import Api

NAME = "Sam <script>alert(1)</script> *Lee*"


async def test_a_member_name_with_markup_is_escaped_in_both_reports(demo: Stack, api: Api) -> None:
    created = await demo.gateway.post(
        "/v1/people",
        headers=await api.headers("admin"),
        json={
            "name": NAME,
            "email": "sam.lee@northfield.example",
            "school_ids": [str(NORTHFIELD)],
            "staff_group": "teacher",
            "roles": ["staff"],
        },
    )
    assert created.status_code == 201, created.text
    await demo.settle()  # the directory event reaches the lesson study projection
    study = await api.create_study("n-t1", {"n-t2": "observer"}, title="Escaping <b>titles</b> too")
    await api.post(
        f"/{study['id']}/members",
        "n-t1",
        {"person_id": created.json()["id"], "role": "observer"},
    )

    page = (await api.call("GET", f"/{study['id']}/report.html", "n-head")).text
    assert "<script>" not in page and "<b>titles" not in page
    assert "<td>Sam &lt;script&gt;alert(1)&lt;/script&gt; *Lee*</td>" in page
    assert "<h1>Escaping &lt;b&gt;titles&lt;/b&gt; too</h1>" in page

    markdown = (await api.call("GET", f"/{study['id']}/report.md", "n-head")).text
    assert "<script>" not in markdown
    assert r"| Sam \<script\>alert(1)\</script\> \*Lee\* | observer | 0 |" in markdown
    assert markdown.startswith(r"# Escaping \<b\>titles\</b\> too")
