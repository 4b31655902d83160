"""The built-in instruments, shipped as data and the same for every trust.

Items are written in our own words and keyed as their frameworks number them: the eight
principles of effective CPD (``1``-``8``), the CPD Quality Framework's 43 statements in seven
areas (``1a``-``7e``) and the staff CPD audit's five areas (``1a``-``5a``). Each built-in has
a fixed id per version, so every database holds the same rows and an audit names exactly
what its staff answered; a revised wording becomes a new version here, never an edit.
"""

from __future__ import annotations

import uuid
from typing import Any

BUILTIN_NAMESPACE = uuid.UUID("3f1d2c9e-8a47-4b0e-9d6c-5a1e7b2f4c80")

VALUES_LABEL = "Fits our aims and values"
PRACTICE_LABEL = "What actually happens here"


def instrument_id(key: str) -> uuid.UUID:
    return uuid.uuid5(BUILTIN_NAMESPACE, f"instrument:{key}")


def version_id(key: str, version: int) -> uuid.UUID:
    return uuid.uuid5(BUILTIN_NAMESPACE, f"instrument:{key}:v{version}")


def _paired(key: str, text: str) -> dict[str, Any]:
    return {
        "key": key,
        "section": None,
        "type": "paired_scale",
        "text": text,
        "required": True,
        "scale_max": 5,
        "values_label": VALUES_LABEL,
        "practice_label": PRACTICE_LABEL,
        "low_label": "Not at all",
        "high_label": "Completely",
    }


def _agreement(
    section: str, letter: str, text: str, *, points: int = 5, comment: bool = False
) -> dict[str, Any]:
    return {
        "key": f"{section}{letter}",
        "section": section,
        "type": "agreement",
        "text": text,
        "required": True,
        "points": points,
        "dont_know": True,
        "comment": comment,
    }


EFFECTIVE_CPD_PRINCIPLES: dict[str, Any] = {
    "key": "effective-cpd-principles",
    "title": "Effective CPD principles: values v practice",
    "description": (
        "Score each of the eight evidence-based principles of effective CPD twice, from 1 (not "
        "at all) to 5 (completely): how far it fits our school's aims and values, and how far "
        "it is what actually happens here. The gap between the two is the 'rhetoric v "
        "reality' test."
    ),
    "framework": "Eight principles of effective CPD (audit tool: rhetoric v reality)",
    "version": 1,
    "sections": [],
    "items": [
        _paired(
            "1",
            "Courses and events away from school draw on sound, up-to-date evidence, use "
            "good methods for adult learning, and come with follow-up: trying ideas out in "
            "class and checking their impact.",
        ),
        _paired(
            "2",
            "Professional learning lasts (half a term at the very least) and at least half of "
            "it happens in classrooms, enquiring alongside a colleague, for example through "
            "coaching or lesson study.",
        ),
        _paired(
            "3",
            "Enquiry groups or learning communities investigate classroom practice "
            "systematically and pass on what they learn: sharing sessions, tools and "
            "resources for others, open lessons.",
        ),
        _paired(
            "4",
            "Pupils are active partners in staff enquiries: their views are sought, they "
            "comment on and help design the teaching being developed.",
        ),
        _paired(
            "5",
            "Professional learning is connected to how we evaluate the wider school: the "
            "curriculum, results for groups of pupils such as disadvantaged learners, and "
            "staff careers.",
        ),
        _paired(
            "6",
            "Professional learning is driven by the school's priorities, which are set from "
            "evidence of how the school is performing.",
        ),
        _paired(
            "7",
            "Professional learning reflects the development plans of staff, of leaders and of "
            "governors.",
        ),
        _paired(
            "8",
            "Staff can have their professional learning recognised in accredited "
            "qualifications, working with partners outside the school.",
        ),
    ],
}


CPD_QUALITY_FRAMEWORK: dict[str, Any] = {
    "key": "cpd-quality-framework",
    "title": "CPD Quality Framework diagnostic",
    "description": (
        "How far do you agree with each of the 43 statements, in seven areas, about "
        "professional learning here? Answer 'don't know' where you cannot say."
    ),
    "framework": "Teacher Development Trust CPD Quality Framework (paraphrased)",
    "version": 1,
    "sections": [
        {"key": "1", "title": "A supportive culture"},
        {"key": "2", "title": "Meeting the needs of pupils and staff: content"},
        {"key": "3", "title": "Needs analysis and evaluation"},
        {"key": "4", "title": "Internal support and challenge"},
        {"key": "5", "title": "Using expert knowledge"},
        {"key": "6", "title": "Processes and structures"},
        {"key": "7", "title": "Research, innovation and evidence"},
    ],
    "items": [
        # 1. Supportive culture
        _agreement("1", "a", "Our leaders visibly take part in professional learning themselves."),
        _agreement("1", "b", "Staff have a real say in decisions about professional learning."),
        _agreement(
            "1", "c", "Staff feel able to try new, well-founded approaches even if they fail."
        ),
        _agreement(
            "1",
            "d",
            "Teaching and support staff welcome colleagues watching them teach, and "
            "are welcome to watch others.",
        ),
        _agreement("1", "e", "Staff are encouraged to talk about and share their practice."),
        _agreement(
            "1", "f", "Working relationships between colleagues are valued and help us improve."
        ),
        # 2. Content
        _agreement(
            "2",
            "a",
            "Over a year, my professional learning lets me make focused changes to "
            "key areas, refined step by step.",
        ),
        _agreement(
            "2",
            "b",
            "Professional learning meets pupils' and teachers' needs in teaching and "
            "assessing specific subjects.",
        ),
        _agreement(
            "2",
            "c",
            "Professional learning meets pupils' and teachers' needs in subject knowledge.",
        ),
        _agreement(
            "2",
            "d",
            "Professional learning covers general teaching approaches and the "
            "evidence on how pupils learn.",
        ),
        _agreement(
            "2",
            "e",
            "Professional learning helps staff with curriculum and examination requirements.",
        ),
        _agreement(
            "2",
            "f",
            "There is good professional learning on wellbeing, behaviour and "
            "attendance, including for pastoral roles.",
        ),
        _agreement(
            "2",
            "g",
            "Support staff who work directly with pupils have good professional "
            "learning available.",
        ),
        # 3. Needs analysis and evaluation
        _agreement(
            "3",
            "a",
            "Teachers are helped to identify their pupils' needs and feed them into "
            "school CPD planning.",
        ),
        _agreement("3", "b", "Professional learning is planned from what pupils need to learn."),
        _agreement("3", "c", "Professional learning is judged by its effect on pupils' outcomes."),
        _agreement("3", "d", "Professional learning fits what staff actually need."),
        _agreement("3", "e", "We check how satisfied staff are with their professional learning."),
        _agreement("3", "f", "We check what staff learned and whether their practice changed."),
        _agreement("3", "g", "Pupils' views feed into how we evaluate professional learning."),
        # 4. Internal support and challenge
        _agreement(
            "4",
            "a",
            "Teachers work together, reflectively, to solve a problem in pupils' "
            "learning (enquiry, lesson study and similar).",
        ),
        _agreement(
            "4",
            "b",
            "Professional learning constructively challenges what staff currently do and believe.",
        ),
        _agreement("4", "c", "Colleagues question and challenge one another constructively."),
        _agreement(
            "4",
            "d",
            "Skilled instructional or pedagogical coaching is used across the organisation.",
        ),
        _agreement(
            "4", "e", "Career development and promotion work through clear, open processes."
        ),
        _agreement("4", "f", "There are clear policies for career development at every level."),
        _agreement(
            "4", "g", "The organisation has a record of developing staff who then progress."
        ),
        # 5. Use of expert knowledge
        _agreement(
            "5", "a", "Staff are helped to get the most out of outside experts they work with."
        ),
        _agreement(
            "5",
            "b",
            "Staff draw on a suitable range of outside knowledge: experts, "
            "providers, research, books.",
        ),
        _agreement(
            "5",
            "c",
            "Outside expertise is chosen and used through sound, evidence-informed processes.",
        ),
        _agreement(
            "5", "d", "We work in earnest with other schools or colleges on professional learning."
        ),
        _agreement("5", "e", "Expertise is shared across the organisation."),
        # 6. Processes and structures
        _agreement(
            "6",
            "a",
            "Enough time is protected for professional learning, and meetings are "
            "used well for it.",
        ),
        _agreement(
            "6", "b", "Staff plan together in a meaningful way to refine practice for their pupils."
        ),
        _agreement("6", "c", "Professional learning is clearly led."),
        _agreement("6", "d", "Governors are kept well informed about professional learning."),
        _agreement(
            "6", "e", "Appraisal and performance management fit well with professional learning."
        ),
        _agreement("6", "f", "The professional learning budget is protected and prioritised."),
        # 7. Research, innovation and evidence
        _agreement("7", "a", "Our plans and CPD processes rest on evidence."),
        _agreement(
            "7",
            "b",
            "Staff can reach, and do discuss, question and use, research summaries "
            "and evidence-based advice on teaching.",
        ),
        _agreement(
            "7", "c", "We work with universities to tackle problems in teaching and learning."
        ),
        _agreement("7", "d", "We take part in large-scale research."),
        _agreement(
            "7", "e", "Staff understand research methods well enough to judge a study's quality."
        ),
    ],
}


STAFF_CPD_AUDIT: dict[str, Any] = {
    "key": "staff-cpd-audit",
    "title": "Staff CPD audit",
    "description": (
        "How far do you agree with each statement about your own professional learning? "
        "Choose 'don't know' if you cannot say, and add a comment to any answer if you wish."
    ),
    "framework": "Academy CPD handbook: staff audit of CPD (paraphrased)",
    "version": 1,
    "sections": [
        {"key": "1", "title": "Improving pupil outcomes"},
        {"key": "2", "title": "Grounded in evidence and expertise"},
        {"key": "3", "title": "Sustained over time"},
        {"key": "4", "title": "Collaboration and expert challenge"},
        {"key": "5", "title": "Prioritised by leaders"},
    ],
    "items": [
        _agreement(
            "1",
            "a",
            "My professional learning is mainly about helping me help pupils: it is "
            "clearly linked to what it should achieve and gives me ways to change and check "
            "my practice.",
            points=4,
            comment=True,
        ),
        _agreement(
            "1",
            "b",
            "Performance management both judges my practice and helps me develop.",
            points=4,
            comment=True,
        ),
        _agreement(
            "2",
            "a",
            "Our CPD and the processes around it are based on research evidence.",
            points=4,
            comment=True,
        ),
        _agreement(
            "2",
            "b",
            "I use research on how teaching methods and subject knowledge connect.",
            points=4,
            comment=True,
        ),
        _agreement(
            "3",
            "a",
            "Professional learning is planned as a series of linked activities over "
            "two terms or more, with clear aims and evaluation.",
            points=4,
            comment=True,
        ),
        _agreement(
            "3",
            "b",
            "My CPD through the year is focused and followed up, so I can change my "
            "practice step by step and keep the changes.",
            points=4,
            comment=True,
        ),
        _agreement(
            "4",
            "a",
            "I am helped to analyse my pupils' needs and to feed them into the school's CPD.",
            points=4,
            comment=True,
        ),
        _agreement(
            "4",
            "b",
            "I regularly work with colleagues as critical friends.",
            points=4,
            comment=True,
        ),
        _agreement(
            "4",
            "c",
            "I have a coach or mentor who models practice and challenges me.",
            points=4,
            comment=True,
        ),
        _agreement(
            "5",
            "a",
            "I get the time, support and resources to embed and evaluate what I learn "
            "from outside expertise (courses, hubs, consultants, research).",
            points=4,
            comment=True,
        ),
    ],
}

BUILTIN_INSTRUMENTS: list[dict[str, Any]] = [
    EFFECTIVE_CPD_PRINCIPLES,
    CPD_QUALITY_FRAMEWORK,
    STAFF_CPD_AUDIT,
]
