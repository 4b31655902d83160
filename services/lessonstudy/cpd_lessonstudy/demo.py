"""Demo lesson studies for ``make up`` and the tests: one completed three-cycle study at
Northfield (shared in an open-house lesson, with its full report) and one networked
Northfield-Southbank study in its second cycle.

Everything is written through the service functions, as the API would, so the outbox holds
the same events a real group would have produced.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_lessonstudy import demo_enquiry
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.case_pupils.schemas import CasePupilCreate
from cpd_lessonstudy.discussions import service as discussions_service
from cpd_lessonstudy.discussions.schemas import DiscussionInput, ReflectionInput
from cpd_lessonstudy.findings import service as findings_service
from cpd_lessonstudy.findings.schemas import FindingsInput, OpenHouseInput, WhatWorkedInput
from cpd_lessonstudy.interviews import service as interviews_service
from cpd_lessonstudy.interviews.schemas import InterviewCreate
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.members.schemas import MemberCreate
from cpd_lessonstudy.models import CasePupil, LessonStudy, Person, ResearchLesson, School
from cpd_lessonstudy.observations import service as observations_service
from cpd_lessonstudy.observations.schemas import ObservationCreate
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.research_lessons.schemas import (
    LessonCreate,
    PredictionInput,
    PredictionsPut,
    StageInput,
    TaughtInput,
)
from cpd_lessonstudy.studies import service as studies_service
from cpd_lessonstudy.studies.schemas import StudyCreate
from cpd_lessonstudy.time_records import service as time_service
from cpd_lessonstudy.time_records.schemas import AttendanceInput, TimeRecordCreate

FRACTIONS_TITLE = "Explaining equivalent fractions in Year 4"
WRITING_TITLE = "Talking before writing: persuasive paragraphs across the Year 6-7 transition"

# Demo people (keys of cpd_common.demo_data.PEOPLE) who take part.
FRACTIONS_GROUP = {
    "n-t6": "facilitator",
    "n-t1": "teacher",
    "n-t2": "observer",
    "n-ta2": "observer",
    "s-t1": "knowledgeable_other",
}
WRITING_GROUP = {
    "s-t3": "facilitator",
    "s-t4": "teacher",
    "n-t1": "teacher",
    "s-ta1": "observer",
    "n-deputy": "knowledgeable_other",
}
DEMO_KEYS = sorted({*FRACTIONS_GROUP, *WRITING_GROUP, *demo_enquiry.people()})


def _demo_data() -> Any:
    # The demo trust's fixed ids and people live with the gateway, which seeds the directory.
    from cpd_common import demo_data

    return demo_data


def _principal(key: str) -> Principal:
    p = _demo_data().PEOPLE_BY_KEY[key]
    return Principal(
        sub=f"person:{p.id}",
        trust_id=p.trust_id,
        school_ids=frozenset(p.school_ids),
        roles=frozenset(p.roles),
        person_id=p.id,
    )


def _ago(days: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=days)


async def projection_ready(session: AsyncSession) -> bool:
    """True once the directory events for the demo people and schools have arrived."""
    data = _demo_data()
    people = await session.scalar(
        select(func.count()).where(
            Person.id.in_([data.PEOPLE_BY_KEY[k].id for k in DEMO_KEYS]), Person.active.is_(True)
        )
    )
    schools = await session.scalar(
        select(func.count()).where(School.id.in_([data.NORTHFIELD, data.SOUTHBANK]))
    )
    return people == len(DEMO_KEYS) and schools == 2


async def seed_demo(session: AsyncSession) -> None:
    """Adds the two demo studies, then the demo learning community and its enquiries, unless
    they are there already. Never commits."""
    data = _demo_data()
    exists = await session.scalar(
        select(LessonStudy.id).where(
            LessonStudy.trust_id == data.OAKRIDGE, LessonStudy.title == FRACTIONS_TITLE
        )
    )
    if exists is None:
        await _fractions_study(session)
        await _writing_study(session)
    # The learning community and its enquiries (each checks whether it is there already).
    await demo_enquiry.seed_demo(session)


# ---- shared steps ------------------------------------------------------------------------------


async def _study(
    session: AsyncSession, creator: str, group: dict[str, str], **fields: Any
) -> tuple[LessonStudy, dict[str, uuid.UUID]]:
    people = _demo_data().PEOPLE_BY_KEY
    study = await studies_service.create_study(
        session,
        principal=_principal(creator),
        data=StudyCreate(
            members=[
                MemberCreate(person_id=people[k].id, role=r)
                for k, r in group.items()
                if k != creator
            ],
            **fields,
        ),
    )
    members = (await members_service.members_of(session, [study.id]))[study.id]
    by_person = {m.person_id: m.id for m in members}
    return study, {k: by_person[people[k].id] for k in group}


async def _case_pupils(
    session: AsyncSession, study: LessonStudy, who: str, pupils: list[tuple[str, str, str, str]]
) -> list[CasePupil]:
    out = []
    for label, profile, start, criteria in pupils:
        out.append(
            await case_pupils_service.add_case_pupil(
                session,
                study.id,
                principal=_principal(who),
                data=CasePupilCreate(
                    label=label, profile=profile, starting_point=start, success_criteria=criteria
                ),
            )
        )
    return out


async def _time(
    session: AsyncSession,
    study: LessonStudy,
    members: dict[str, uuid.UUID],
    who: str,
    kind: str,
    held_on: date,
    minutes: dict[str, int],
    lesson: ResearchLesson | None = None,
) -> None:
    await time_service.record_time(
        session,
        study.id,
        principal=_principal(who),
        data=TimeRecordCreate(
            kind=kind,
            held_on=held_on,
            research_lesson_id=lesson.id if lesson else None,
            attendance=[
                AttendanceInput(member_id=members[k], minutes=m) for k, m in minutes.items()
            ],
        ),
    )


async def _plan(
    session: AsyncSession,
    study: LessonStudy,
    members: dict[str, uuid.UUID],
    who: str,
    *,
    teacher: str,
    title: str,
    planned_for: date,
    plan: str,
    changes: str | None,
    stages: list[str],
    pupils: list[CasePupil],
    predictions: dict[str, list[str]],
) -> ResearchLesson:
    lesson = await lessons_service.create_lesson(
        session,
        study.id,
        principal=_principal(who),
        data=LessonCreate(
            teacher_member_id=members[teacher],
            title=title,
            planned_for=planned_for,
            plan_summary=plan,
            changes_from_previous=changes,
            stages=[StageInput(title=s) for s in stages],
        ),
    )
    stage_rows = (await lessons_service.stages_of(session, [lesson.id]))[lesson.id]
    await lessons_service.put_predictions(
        session,
        study.id,
        lesson.id,
        principal=_principal(who),
        data=PredictionsPut(
            predictions=[
                PredictionInput(
                    stage_id=stage.id,
                    case_pupil_id=pupil.id,
                    response=predictions[pupil.label][stage.position - 1],
                )
                for stage in stage_rows
                for pupil in pupils
            ]
        ),
    )
    return lesson


async def _teach_and_observe(
    session: AsyncSession,
    study: LessonStudy,
    lesson: ResearchLesson,
    *,
    teacher: str,
    taught_on: date,
    pupils: list[CasePupil],
    observed: dict[str, dict[str, list[tuple[str, str]]]],
    interviews: dict[str | None, str],
    interviewer: str,
) -> None:
    """``observed[observer][label]`` lists (outcome, what the pupil did) per stage."""
    await lessons_service.mark_taught(
        session,
        study.id,
        lesson.id,
        principal=_principal(teacher),
        data=TaughtInput(taught_on=taught_on),
    )
    stage_rows = (await lessons_service.stages_of(session, [lesson.id]))[lesson.id]
    for observer, by_pupil in observed.items():
        for pupil in pupils:
            for stage, (outcome, response) in zip(stage_rows, by_pupil[pupil.label], strict=True):
                await observations_service.record_observation(
                    session,
                    study.id,
                    lesson.id,
                    principal=_principal(observer),
                    data=ObservationCreate(
                        stage_id=stage.id,
                        case_pupil_id=pupil.id,
                        response=response,
                        outcome=outcome,
                    ),
                )
    labels = {p.label: p.id for p in pupils}
    for label, notes in interviews.items():
        await interviews_service.record_interview(
            session,
            study.id,
            lesson.id,
            principal=_principal(interviewer),
            data=InterviewCreate(case_pupil_id=labels[label] if label else None, notes=notes),
        )


async def _discuss_and_complete(
    session: AsyncSession,
    study: LessonStudy,
    lesson: ResearchLesson,
    who: str,
    *,
    pupils: list[CasePupil],
    reflections: dict[str, str],
    change: str,
    next_plan: str | None,
) -> None:
    principal = _principal(who)
    await discussions_service.start_discussion(
        session,
        study.id,
        lesson.id,
        principal=principal,
        data=DiscussionInput(
            reflections=[
                ReflectionInput(case_pupil_id=p.id, learning=reflections[p.label]) for p in pupils
            ]
        ),
    )
    await discussions_service.update_discussion(
        session,
        study.id,
        lesson.id,
        principal=principal,
        data=DiscussionInput(what_to_change=change, next_lesson_plan=next_plan),
    )
    await lessons_service.complete_lesson(session, study.id, lesson.id, principal=principal)


def _obs(outcomes: str, did: list[str]) -> list[tuple[str, str]]:
    """'npm' -> not_yet, partly, met, paired with what the pupil did at each stage."""
    words = {"n": "not_yet", "p": "partly", "m": "met"}
    return [(words[o], d) for o, d in zip(outcomes, did, strict=True)]


# ---- the completed study --------------------------------------------------------------------------

FRACTION_STAGES = [
    [
        "Starter: which is bigger, 1/2 or 2/4?",
        "Build equivalent fractions on the fraction wall",
        "Explain to a partner why two fractions are equal",
        "Write the explanation independently",
    ],
    [
        "Worked example: the teacher explains 2/4 = 1/2 aloud",
        "Build and name equivalents on the wall",
        "Partner talk with sentence stems",
        "Write the explanation independently",
    ],
    [
        "Worked example with the wall",
        "Build and name equivalents on the wall",
        "Partner talk with sentence stems",
        "Write and check against the success criteria",
    ],
]


async def _fractions_study(session: AsyncSession) -> None:
    data = _demo_data()
    study, m = await _study(
        session,
        "n-t6",
        FRACTIONS_GROUP,
        title=FRACTIONS_TITLE,
        school_ids=[data.NORTHFIELD],
        subject="Mathematics",
        year_group="Year 4",
        learning_goal="By the end of the lesson pupils will be able to explain, in a full "
        "sentence, why two fractions are equivalent, using a fraction wall.",
        success_evidence="We will know this when pupils justify that 2/4 = 1/2 and find another "
        "equivalent pair without the wall.",
        technique="Moving from concrete representations to spoken, then written, explanation.",
        research_question="Does talking through the fraction wall before writing help pupils of "
        "every attainment explain equivalence?",
        planned_cycles=3,
    )
    pupils = await _case_pupils(
        session,
        study,
        "n-t6",
        [
            (
                "A",
                "Stands for the lower-attaining third of the class; reluctant to write; "
                "relies on pictures.",
                "Shades halves and quarters of shapes accurately.",
                "Names one equivalent pair from the wall and says why in a sentence.",
            ),
            (
                "B",
                "Stands for the middle attainers; confident with halves, less so with thirds.",
                "Recognises 1/2 = 2/4 from a picture but cannot say why.",
                "Explains why 3/6 = 1/2 using the wall.",
            ),
            (
                "C",
                "Stands for the higher attainers; answers quickly, rarely explains.",
                "Knows several equivalences by heart.",
                "Explains the rule of multiplying numerator and denominator by the same number.",
            ),
        ],
    )
    await _time(session, study, m, "n-t6", "meeting", _ago(75), dict.fromkeys(FRACTIONS_GROUP, 60))

    cycles: list[dict[str, Any]] = [
        {
            "teacher": "n-t1",
            "observers": ["n-t2", "n-ta2"],
            "taught": 63,
            "title": "Fraction wall first",
            "changes": None,
            "plan": "Pupils build equivalents on the wall, then explain to a partner and write.",
            "predictions": {
                "A": [
                    "Picks 2/4 because 4 is bigger",
                    "Builds halves and quarters with help",
                    "Points at the wall but says little",
                    "Writes one word or leaves it",
                ],
                "B": [
                    "Says they are the same size",
                    "Builds 2/4 and 3/6 correctly",
                    "Explains with 'because it is the same amount'",
                    "Writes a short sentence",
                ],
                "C": [
                    "Answers instantly: equal",
                    "Finishes quickly, finds 4/8",
                    "Gives the rule without the wall",
                    "Writes the rule",
                ],
            },
            "observed": {
                "A": (
                    "nnpn",
                    [
                        "Chose 2/4: 'four is more'",
                        "Built halves after a prompt",
                        "Pointed, said 'same'",
                        "Drew the wall, no words",
                    ],
                ),
                "B": (
                    "ppmp",
                    [
                        "Said 'same' after counting",
                        "Built 2/4, unsure with 3/6",
                        "Said 'it covers the same'",
                        "Wrote 'they are the same'",
                    ],
                ),
                "C": (
                    "mmpm",
                    [
                        "Said equal at once",
                        "Found 4/8 and 5/10",
                        "Gave the rule, could not link it to the wall",
                        "Wrote the rule",
                    ],
                ),
            },
            "second_observer_changes": {"B": "ppmp", "A": "nnnn"},
            "interviews": {
                "A": "Liked the wall; did not know what to write.",
                "C": "Said the wall was 'for people who do not know the rule'.",
                None: "Asked for 'the words to say it'.",
            },
            "reflections": {
                "A": "A could see equivalence on the wall but had no words for it: the writing "
                "stage asked for language we had not given.",
                "B": "B's explanations improved when talking; the written step lost most of it.",
                "C": "C knew the rule but could not connect it to the picture: fast is not the "
                "same as understanding.",
            },
            "change": "Model a spoken explanation before partner talk, and give sentence stems.",
            "next": "Lesson 2: start with a worked example said aloud; stems for partner talk; "
            "C to explain the rule using the wall.",
        },
        {
            "teacher": "n-t6",
            "observers": ["n-t1", "n-ta2"],
            "taught": 42,
            "title": "Worked example and sentence stems",
            "changes": "A worked example said aloud first, and sentence stems for partner talk.",
            "plan": "Worked example, build on the wall, partner talk with stems, write.",
            "predictions": {
                "A": [
                    "Listens, repeats part of it",
                    "Builds halves and quarters",
                    "Uses a stem with support",
                    "Writes one stem sentence",
                ],
                "B": [
                    "Follows the example",
                    "Builds thirds and sixths",
                    "Uses the stems fully",
                    "Writes a full sentence",
                ],
                "C": [
                    "Impatient with the example",
                    "Finishes quickly",
                    "Links the rule to the wall when asked",
                    "Writes rule and picture",
                ],
            },
            "observed": {
                "A": (
                    "ppmp",
                    [
                        "Repeated 'the same amount'",
                        "Built halves and quarters alone",
                        "Said 'two quarters is the same as one half because...'",
                        "Wrote half a stem",
                    ],
                ),
                "B": (
                    "mmmm",
                    [
                        "Followed and nodded",
                        "Built 3/6 and 2/6 = 1/3",
                        "Used the stem fully",
                        "Wrote two full sentences",
                    ],
                ),
                "C": (
                    "mpmm",
                    [
                        "Listened, added an example",
                        "Rushed, one error",
                        "Linked doubling to the wall",
                        "Wrote the rule with a drawing",
                    ],
                ),
            },
            "second_observer_changes": {},
            "interviews": {
                "A": "Said the 'because' card helped them start.",
                "B": "Liked saying it before writing it.",
                None: "Wanted the stems on the table, not the board.",
            },
            "reflections": {
                "A": "With a stem A explained aloud for the first time; writing still stalls "
                "after the first half of the sentence.",
                "B": "B met every step: the stems were enough.",
                "C": "C linked the rule to the wall when asked directly.",
            },
            "change": "Put the stems on each table and ask pupils to check their writing "
            "against the success criteria.",
            "next": "Lesson 3: stems on tables; a self-check against the criteria at the end.",
        },
        {
            "teacher": "n-t1",
            "observers": ["n-t2", "n-ta2"],
            "taught": 20,
            "title": "Stems on the table and a self-check",
            "changes": "Stems on every table; a final self-check against the success criteria.",
            "plan": "As lesson 2, with table stems and a self-check.",
            "predictions": {
                "A": [
                    "Joins in with the example",
                    "Builds equivalents alone",
                    "Uses the table stem",
                    "Writes a full stem sentence",
                ],
                "B": [
                    "Follows",
                    "Builds thirds and sixths",
                    "Explains fluently",
                    "Writes and checks",
                ],
                "C": [
                    "Adds an example",
                    "Finds a general pattern",
                    "Explains the rule with the wall",
                    "Writes a general statement",
                ],
            },
            "observed": {
                "A": (
                    "pmmm",
                    [
                        "Joined in, quietly",
                        "Built four equivalents alone",
                        "Used the stem without prompting",
                        "Wrote a full sentence",
                    ],
                ),
                "B": (
                    "mmmm",
                    [
                        "Followed",
                        "Built thirds and sixths",
                        "Explained fluently",
                        "Wrote and ticked the criteria",
                    ],
                ),
                "C": (
                    "mmmm",
                    [
                        "Added 3/9",
                        "Described the pattern",
                        "Linked the rule to the wall",
                        "Wrote a general statement",
                    ],
                ),
            },
            "second_observer_changes": {},
            "interviews": {
                "A": "Said they 'could do the writing this time'.",
                "C": "Said explaining was harder than the sums but better.",
            },
            "reflections": {
                "A": "A met the criteria with the table stems: the barrier was language, not "
                "the mathematics.",
                "B": "B now checks their own writing against the criteria.",
                "C": "C explains the rule through the picture rather than instead of it.",
            },
            "change": "Keep the sequence; share it with KS2.",
            "next": None,
        },
    ]
    previous: ResearchLesson | None = None
    for n, c in enumerate(cycles, start=1):
        lesson = await _plan(
            session,
            study,
            m,
            "n-t6",
            teacher=c["teacher"],
            title=c["title"],
            planned_for=_ago(c["taught"]),
            plan=c["plan"],
            changes=c["changes"],
            stages=FRACTION_STAGES[n - 1],
            pupils=pupils,
            predictions=c["predictions"],
        )
        if n == 1:
            await studies_service.start_study(session, study.id, principal=_principal("n-t6"))
        await _time(
            session,
            study,
            m,
            "n-t6",
            "planning",
            _ago(c["taught"] + 4),
            {"n-t6": 90, "n-t1": 90, "n-t2": 90, "n-ta2": 60, "s-t1": 45},
            lesson,
        )
        first, second = c["observers"]
        observed = {
            first: {k: _obs(o, did) for k, (o, did) in c["observed"].items()},
            second: {
                k: _obs(c["second_observer_changes"].get(k, o), did)
                for k, (o, did) in c["observed"].items()
            },
        }
        await _teach_and_observe(
            session,
            study,
            lesson,
            teacher=c["teacher"],
            taught_on=_ago(c["taught"]),
            pupils=pupils,
            observed=observed,
            interviews=c["interviews"],
            interviewer="n-t2",
        )
        await _time(
            session, study, m, "n-t6", "teaching", _ago(c["taught"]), {c["teacher"]: 60}, lesson
        )
        await _time(
            session,
            study,
            m,
            "n-t6",
            "observing",
            _ago(c["taught"]),
            dict.fromkeys(c["observers"], 60),
            lesson,
        )
        await _time(
            session,
            study,
            m,
            "n-t6",
            "meeting",
            _ago(c["taught"]),
            dict.fromkeys(FRACTIONS_GROUP, 50),
            lesson,
        )
        await _discuss_and_complete(
            session,
            study,
            lesson,
            "n-t6",
            pupils=pupils,
            reflections=c["reflections"],
            change=c["change"],
            next_plan=c["next"],
        )
        previous = lesson
    assert previous is not None
    await _time(session, study, m, "n-t6", "meeting", _ago(14), dict.fromkeys(FRACTIONS_GROUP, 90))
    await findings_service.agree_findings(
        session,
        study.id,
        principal=_principal("n-t6"),
        data=FindingsInput(
            summary="Pupils of every attainment explained equivalence once they had heard an "
            "explanation modelled and had words to say it; the fraction wall worked as a "
            "bridge from picture to reasoning, not a replacement for it.",
            practices=[
                "Model one spoken explanation before pupils explain to each other.",
                "Give sentence stems on the table, not only on the board.",
                "Ask fast pupils to explain the rule through the picture.",
            ],
            what_worked=[
                WhatWorkedInput(
                    case_pupil_ids=[pupils[0].id],
                    text="Table stems turned a correct picture into a written explanation.",
                ),
                WhatWorkedInput(
                    case_pupil_ids=[pupils[1].id],
                    text="Saying it before writing it; a self-check against the criteria.",
                ),
                WhatWorkedInput(
                    case_pupil_ids=[pupils[2].id], text="Being asked to link the rule to the wall."
                ),
            ],
            to_share=[
                "The talk-before-writing sequence, at the KS2 phase meeting.",
                "A set of fraction sentence stems for Years 3 to 5.",
            ],
        ),
    )
    await findings_service.complete_study(session, study.id, principal=_principal("n-t6"))
    await findings_service.record_open_house(
        session,
        study.id,
        principal=_principal("n-t1"),
        data=OpenHouseInput(
            held_on=_ago(7),
            audience_count=12,
            notes="Colleagues from both schools watched lesson 3 again and discussed it with "
            "the group and with pupils.",
        ),
    )


# ---- the study in its second cycle ----------------------------------------------------------------

WRITING_STAGES = [
    "Read a model persuasive paragraph",
    "Talk partners rehearse the argument",
    "Plan with a talk frame",
    "Write the paragraph",
]


async def _writing_study(session: AsyncSession) -> None:
    data = _demo_data()
    study, m = await _study(
        session,
        "s-t3",
        WRITING_GROUP,
        title=WRITING_TITLE,
        school_ids=[data.SOUTHBANK, data.NORTHFIELD],
        subject="English",
        year_group="Years 6 and 7",
        learning_goal="By the end of the lesson pupils will be able to write a persuasive "
        "paragraph with a clear point, a reason and evidence.",
        success_evidence="We will know this when their paragraph has all three parts and they "
        "can say which sentence does which job.",
        technique="Structured talk (talk partners and a talk frame) before writing.",
        research_question="Does rehearsing an argument aloud help pupils organise written "
        "persuasion across the move from primary to secondary?",
        planned_cycles=3,
    )
    pupils = await _case_pupils(
        session,
        study,
        "s-t3",
        [
            (
                "A",
                "Stands for pupils with speech and language needs; strong ideas, few words on the page.",
                "Writes one or two simple sentences.",
                "Writes a point and a reason.",
            ),
            (
                "B",
                "Stands for pupils working at the expected standard; lists ideas without linking them.",
                "Writes several points with no reasons.",
                "Links a point to a reason with 'because'.",
            ),
            (
                "C",
                "Stands for confident writers who rarely plan.",
                "Writes at length, loses the argument.",
                "Keeps one clear argument with evidence.",
            ),
        ],
    )
    await _time(session, study, m, "s-t3", "meeting", _ago(30), dict.fromkeys(WRITING_GROUP, 60))
    lesson = await _plan(
        session,
        study,
        m,
        "s-t3",
        teacher="s-t4",
        title="Talk partners before writing",
        planned_for=_ago(18),
        plan="Model paragraph, talk partners, talk frame, write.",
        changes=None,
        stages=WRITING_STAGES,
        pupils=pupils,
        predictions={
            "A": [
                "Listens",
                "Says one idea",
                "Needs adult help with the frame",
                "Writes one sentence",
            ],
            "B": [
                "Spots the point",
                "Gives two ideas",
                "Fills the frame",
                "Writes a point and a reason",
            ],
            "C": [
                "Finds all three parts",
                "Argues at length",
                "Skips the frame",
                "Writes a long paragraph",
            ],
        },
    )
    await studies_service.start_study(session, study.id, principal=_principal("s-t3"))
    await _time(
        session,
        study,
        m,
        "s-t3",
        "planning",
        _ago(22),
        {"s-t3": 90, "s-t4": 90, "n-t1": 90, "s-ta1": 60},
        lesson,
    )
    observed = {
        "s-ta1": {
            "A": _obs(
                "pppn",
                [
                    "Listened, pointed to the point",
                    "Gave one idea with a reason",
                    "Filled the frame with help",
                    "Wrote one sentence",
                ],
            ),
            "B": _obs(
                "mmpp",
                [
                    "Found the point",
                    "Gave two linked ideas",
                    "Left the evidence box empty",
                    "Wrote a point and a reason",
                ],
            ),
            "C": _obs(
                "mmnp",
                [
                    "Found all three parts",
                    "Argued well",
                    "Skipped the frame",
                    "Wrote a lot, argument drifted",
                ],
            ),
        },
        "n-t1": {
            "A": _obs(
                "pnpn",
                ["Quiet", "Said 'it is unfair'", "Used the frame with help", "Wrote one sentence"],
            ),
            "B": _obs(
                "mmpp",
                [
                    "Found the point",
                    "Linked two ideas",
                    "Left evidence empty",
                    "Wrote point and reason",
                ],
            ),
            "C": _obs(
                "mmnp",
                [
                    "Found all three",
                    "Argued well",
                    "Ignored the frame",
                    "Long paragraph, two arguments",
                ],
            ),
        },
    }
    await _teach_and_observe(
        session,
        study,
        lesson,
        teacher="s-t4",
        taught_on=_ago(18),
        pupils=pupils,
        observed=observed,
        interviewer="s-ta1",
        interviews={
            "A": "Said talking was easier than writing.",
            "C": "Did not see the point of the frame.",
        },
    )
    await _time(session, study, m, "s-t3", "teaching", _ago(18), {"s-t4": 60}, lesson)
    await _time(session, study, m, "s-t3", "observing", _ago(18), {"s-ta1": 60, "n-t1": 60}, lesson)
    await _time(
        session, study, m, "s-t3", "meeting", _ago(18), dict.fromkeys(WRITING_GROUP, 45), lesson
    )
    await _discuss_and_complete(
        session,
        study,
        lesson,
        "s-t3",
        pupils=pupils,
        reflections={
            "A": "A's spoken argument was better than anything written: the gap is transcription.",
            "B": "B can link a point and a reason when talking; evidence is missing in both.",
            "C": "C argues fluently but plans nothing: the frame felt optional.",
        },
        change="Let A record the spoken argument first; add an evidence prompt; make the frame "
        "the only way into writing.",
        next_plan="Lesson 2: record talk on tablets for A; evidence cards; frame checked before "
        "anyone writes.",
    )
    await _plan(
        session,
        study,
        m,
        "s-t3",
        teacher="n-t1",
        title="Evidence cards and recorded talk",
        planned_for=datetime.now(UTC).date() + timedelta(days=3),
        plan="Model paragraph, talk partners with evidence cards, frame checked, write.",
        changes="Recorded talk for A, evidence cards, and the frame checked before writing.",
        stages=WRITING_STAGES,
        pupils=pupils,
        predictions={
            "A": [
                "Listens",
                "Records two ideas",
                "Uses the recording to fill the frame",
                "Writes a point and a reason",
            ],
            "B": [
                "Spots the point",
                "Picks an evidence card",
                "Completes the frame",
                "Writes all three parts",
            ],
            "C": [
                "Finds all three parts",
                "Argues with evidence",
                "Completes the frame reluctantly",
                "Keeps one argument",
            ],
        },
    )
