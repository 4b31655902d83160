"""The question check: the five rules as prompts the group answers plus computed signals; the
response lists the rules not met yet. Guidance, never an error."""

from __future__ import annotations

from cpd_local.stack import Stack

from .conftest import Api
from .enquiry_helpers import (
    ENQUIRIES,
    EXPERIMENT_QUESTION,
    GOOD_APPROACH,
    GOOD_QUESTION,
    WEAK_QUESTION,
    create_enquiry,
)

ALL_YES = [{"rule": r, "answer": "yes"} for r in range(1, 6)]


def signals(check: dict, rule: int) -> dict[str, bool]:
    [r] = [r for r in check["rules"] if r["rule"] == rule]
    return {s["key"]: s["ok"] for s in r["signals"]}


async def test_good_question_meets_every_rule_once_the_group_says_yes(
    demo: Stack, api: Api
) -> None:
    enquiry = await create_enquiry(api, "n-t1", ["n-t2"])
    eid = enquiry["id"]
    # Unanswered prompts are "not yet": the question is fine but the group has not said so.
    assert enquiry["question_rules_unmet"] == [1, 2, 3, 4, 5]
    check = await api.get(f"{ENQUIRIES}/{eid}/question", "n-t1")
    assert check["question"] == GOOD_QUESTION
    assert [r["rule"] for r in check["rules"]] == [1, 2, 3, 4, 5]
    assert all(s["ok"] for r in check["rules"] for s in r["signals"]), check
    assert {r["answer"] for r in check["rules"]} == {"not_yet"}
    assert check["unmet"] == [1, 2, 3, 4, 5]
    assert check["all_met"] is False
    assert check["guidance"][0].startswith("Rule 1 (")

    answers = [*ALL_YES[:4], {"rule": 5, "answer": "not_yet", "note": "Data plan still rough."}]
    check = await api.patch(f"{ENQUIRIES}/{eid}/question", "n-t1", {"answers": answers})
    assert check["unmet"] == [5]
    assert check["rules"][4]["note"] == "Data plan still rough."
    check = await api.patch(f"{ENQUIRIES}/{eid}/question", "n-t1", {"answers": ALL_YES[4:]})
    assert (check["unmet"], check["all_met"], check["guidance"]) == ([], True, [])
    got = await api.get(f"{ENQUIRIES}/{eid}", "n-t1")
    # The enquiry carries its question checked, as guidance beside the question.
    assert got["question_rules_unmet"] == []
    assert got["question_check"] == check


async def test_weak_questions_show_which_rules_fail_and_why(demo: Stack, api: Api) -> None:
    enquiry = await create_enquiry(
        api, "n-t1", [], question=WEAK_QUESTION, planned_approach=None, subject=None
    )
    eid = enquiry["id"]
    check = await api.patch(f"{ENQUIRIES}/{eid}/question", "n-t1", {"answers": ALL_YES})
    # The group said yes to everything; the text still shows padding, no pupil group or aspect,
    # a does-it-work question and no plan a colleague could repeat.
    assert check["unmet"] == [2, 3, 4, 5]
    assert signals(check, 2) == {"pupil_group": False, "aspect": False}
    assert signals(check, 3) == {"padding": False, "length": True, "one_question": True}
    assert signals(check, 4) == {"no_experiment": False}
    assert signals(check, 5) == {"planned_approach": False, "data_named": False}
    [padding] = [g for g in check["guidance"] if g.startswith("Rule 3")]
    assert '"In order to address"' in padding

    # Rephrasing fixes it, and the rules are re-checked against the new text.
    check = await api.patch(
        f"{ENQUIRIES}/{eid}/question", "n-t1", {"question": GOOD_QUESTION, "answers": []}
    )
    assert check["unmet"] == [5]
    await api.patch(f"{ENQUIRIES}/{eid}", "n-t1", {"planned_approach": GOOD_APPROACH})
    assert (await api.get(f"{ENQUIRIES}/{eid}/question", "n-t1"))["unmet"] == []


async def test_draft_questions_are_checked_without_saving(demo: Stack, api: Api) -> None:
    check = await api.post(
        f"{ENQUIRIES}/question-check",
        "n-t3",
        {"question": EXPERIMENT_QUESTION, "subject": "Mathematics"},
        expect=200,
    )
    assert signals(check, 4) == {"no_experiment": False}
    assert signals(check, 1) == {"learning_motivation": True}
    long_question = "How can we improve " + "the reading " * 25 + "of Year 3 pupils? Or not?"
    check = await api.post(
        f"{ENQUIRIES}/question-check", "n-t3", {"question": long_question}, expect=200
    )
    assert signals(check, 3) == {"padding": True, "length": False, "one_question": False}
    assert (await api.get(ENQUIRIES, "n-t3"))["items"] == []
    # The pupils are described, never identified.
    resp = await api.call(
        "POST",
        f"{ENQUIRIES}/question-check",
        "n-t3",
        json={"question": "How can we help the pupil with UPN A12345678901B read?"},
        expect=422,
    )
    assert "unique pupil number" in resp.text
