"""The question check: the effective-CPD guide's five rules for a clear, focused classroom
enquiry question, as prompts the members answer (yes / not yet, with a note) plus text signals
the service computes. Not an error: guidance a front end shows beside the question.

Prompts and hints are our own words. The signals are deliberately simple (word lists, length);
a rule is met when the members answer yes and none of its signals raises a concern.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cpd_lessonstudy.enquiries.schemas import QuestionCheck, RuleCheck, Signal


@dataclass(frozen=True)
class Draft:
    question: str
    pupil_group: str | None
    subject: str | None
    planned_approach: str | None


@dataclass(frozen=True)
class Rule:
    number: int
    key: str
    title: str
    prompt: str
    signals: tuple[Callable[[Draft], Signal], ...]


def _has(pattern: str, text: str | None) -> re.Match[str] | None:
    return re.search(pattern, text or "", re.IGNORECASE)


_LEARNING = (
    r"\b(learn\w*|progress\w*|improv\w*|attain\w*|understand\w*|achiev\w*|master\w*|"
    r"fluen\w*|confiden\w*|recall\w*|explain\w*|reason\w*|outcomes?)\b"
)
_PUPILS = r"\b(pupils?|children|child|students?|learners?|class(es)?|readers|writers)\b"
_GROUP = (
    r"\b(year|yr|y)\s?\d{1,2}\b|\breception\b|\bnursery\b|\bks\s?[1-5]\b|\bkey stage\b|"
    r"\bpupil premium\b|\bdisadvantaged\b|\bsend\b|\bsen\b|\beal\b|\bboys\b|\bgirls\b|"
    r"\b(lower|low|middle|higher|high|most)[- ](attain\w*|able|prior)\b|"
    r"\b(pupils|children|students|learners)\s+(who|with|eligible|in receipt|new to)\b"
)
_ASPECT = (
    r"\b(math\w*|algebra|fraction\w*|place value|calculation\w*|multiplication|division|"
    r"number|geometry|measure\w*|reading|writ\w*|spell\w*|phonics|vocabulary|grammar|"
    r"punctuation|comprehension|handwriting|oracy|talk|discussion|science|scientific|"
    r"history|geography|languages?|french|spanish|german|art|music|computing|"
    r"physical education|\bpe\b|design|technology|religious|problem[- ]solving|reasoning|"
    r"inference|feedback|homework|behaviour for learning|independen\w*|attendance|"
    r"retrieval|memory|revision|questioning|collaborat\w*|self[- ]regulat\w*)\b"
)
_PADDING = (
    r"\bin order to (address|meet|deliver)\b|\bimprovement plan\b|\b(sip|sdp)\b|"
    r"\bpriority\s*\d+\b|\bas part of (our|the)\b|\bin line with\b|\bofsted\b|"
    r"\bfollowing (the|our) (inspection|review|visit)\b|\bas required by\b"
)
_EXPERIMENT = (
    r"\bcontrol groups?\b|\bstatistic\w*\b|\bsignifican\w*\b|\bprove\w*\b|\bcausal\w*\b|"
    r"\brandomi[sz]\w*\b|\bin general\b|\ball schools\b|\bnationally\b|\bgenerally\b"
)
_WORKS_IN_GENERAL = (
    r"(?:^|[,;:]\s*)(does|do|is|are|will|would|can)\b.*\b(improve\w*|raise\w*|increase\w*|work\w*|"
    r"affect\w*|impact\w*|boost\w*|help\w*)\b"
)
_DATA = (
    r"\b(books?|work samples?|samples?|observ\w*|learning walks?|questionnaires?|surveys?|"
    r"interview\w*|assessment\w*|tests?|quiz\w*|concept map\w*|climate map\w*|hot[- ]?spot\w*|"
    r"pupil voice|video|recordings?|marks?|scores?)\b"
)
MAX_WORDS = 40


def _words(text: str) -> int:
    return len(re.findall(r"[\w'\u2019-]+", text))


def _learning(d: Draft) -> Signal:
    found = _has(_LEARNING, d.question)
    if found:
        return Signal(key="learning_motivation", ok=True, message=f'Mentions "{found.group(0)}".')
    return Signal(
        key="learning_motivation",
        ok=False,
        message="Say what you want pupils to learn or progress in, e.g. 'How can we improve "
        "pupils' progress in ...?'.",
    )


def _group(d: Draft) -> Signal:
    found = _has(_GROUP, d.question)
    if found:
        return Signal(
            key="pupil_group", ok=True, message=f'Names a pupil group: "{found.group(0)}".'
        )
    if _has(_PUPILS, d.question) and d.pupil_group:
        return Signal(
            key="pupil_group",
            ok=False,
            message="The question says 'pupils' but not which: bring the group you described "
            "(year, need, characteristic) into the question.",
        )
    return Signal(
        key="pupil_group",
        ok=False,
        message="Say which pupils: all of them, a year group, or pupils with a particular "
        "characteristic or need.",
    )


def _aspect(d: Draft) -> Signal:
    found = _has(_ASPECT, d.question)
    if found is None and d.subject and d.subject.strip().lower() in d.question.lower():
        found = re.search(re.escape(d.subject.strip()), d.question, re.IGNORECASE)
    if found:
        return Signal(key="aspect", ok=True, message=f'Names an aspect: "{found.group(0)}".')
    return Signal(
        key="aspect",
        ok=False,
        message="Say which aspect of learning, e.g. place value in written calculation, or "
        "using evidence in history essays.",
    )


def _length(d: Draft) -> Signal:
    n = _words(d.question)
    if n <= MAX_WORDS:
        return Signal(key="length", ok=True, message=f"{n} words.")
    return Signal(
        key="length",
        ok=False,
        message=f"{n} words: keep it under {MAX_WORDS + 1}; move background into the planned "
        "approach.",
    )


def _padding(d: Draft) -> Signal:
    found = _has(_PADDING, d.question)
    if found is None:
        return Signal(key="padding", ok=True, message="No background phrases found.")
    return Signal(
        key="padding",
        ok=False,
        message=f'"{found.group(0)}" is background that will not help answer the question: '
        "leave it out.",
    )


def _one_question(d: Draft) -> Signal:
    marks = d.question.count("?")
    if marks <= 1:
        return Signal(key="one_question", ok=True, message="One question.")
    return Signal(
        key="one_question",
        ok=False,
        message=f"{marks} questions in one: choose the one the enquiry will answer.",
    )


def _no_experiment(d: Draft) -> Signal:
    found = _has(_EXPERIMENT, d.question)
    if found:
        return Signal(
            key="no_experiment",
            ok=False,
            message=f'"{found.group(0)}" suggests a study with control groups and large samples; '
            "ask how you can improve the learning of these pupils instead.",
        )
    if _has(_WORKS_IN_GENERAL, d.question):
        return Signal(
            key="no_experiment",
            ok=False,
            message="Asks whether something works in general (a yes/no about an effect), which "
            "needs a controlled experiment; ask 'How can we ...' for your pupils instead.",
        )
    return Signal(key="no_experiment", ok=True, message="Answerable in your own classrooms.")


def _approach(d: Draft) -> Signal:
    n = _words(d.planned_approach or "")
    if n >= 8:
        return Signal(key="planned_approach", ok=True, message=f"Planned approach: {n} words.")
    return Signal(
        key="planned_approach",
        ok=False,
        message="Describe the planned approach: what you will do, with which pupils, and which "
        "data will answer each part of the question.",
    )


def _data_named(d: Draft) -> Signal:
    found = _has(_DATA, d.planned_approach)
    if found:
        return Signal(key="data_named", ok=True, message=f'Names its data: "{found.group(0)}".')
    return Signal(
        key="data_named",
        ok=False,
        message="Name the data you will collect (books, observations, learning walks, "
        "questionnaires, interviews ...) so a colleague could collect the same.",
    )


RULES = (
    Rule(
        1,
        "pupil_learning",
        "Pupils' learning is the motivation",
        "Does the question make clear that the point is to improve pupils' learning or progress?",
        (_learning,),
    ),
    Rule(
        2,
        "specific",
        "Which pupils and which aspect",
        "Does it say which pupils (all, a group, pupils with a particular need) and which "
        "aspect of their learning?",
        (_group, _aspect),
    ),
    Rule(
        3,
        "no_padding",
        "Nothing that does not help answer it",
        "Have you left out context that will not help you answer it, such as which plan "
        "priority it serves?",
        (_padding, _length, _one_question),
    ),
    Rule(
        4,
        "answerable_here",
        "Answerable here, without a controlled experiment",
        "Can you answer it in your own school and classrooms, without control groups or "
        "statistically large samples?",
        (_no_experiment,),
    ),
    Rule(
        5,
        "replicable",
        "A colleague could replicate it",
        "Imagine writing the answer: will your plan let you answer each part precisely enough "
        "for a colleague in a similar school to repeat the enquiry?",
        (_approach, _data_named),
    ),
)
RULE_NUMBERS = tuple(r.number for r in RULES)


def check(draft: Draft, answers: dict[int, tuple[str, str | None]]) -> QuestionCheck:
    """The five rules with the members' answers (rule -> (answer, note)) and the signals."""
    rules = []
    for rule in RULES:
        answer, note = answers.get(rule.number, ("not_yet", None))
        signals = [signal(draft) for signal in rule.signals]
        rules.append(
            RuleCheck(
                rule=rule.number,
                key=rule.key,
                title=rule.title,
                prompt=rule.prompt,
                answer=answer,
                note=note,
                signals=signals,
                met=answer == "yes" and all(s.ok for s in signals),
            )
        )
    unmet = [r for r in rules if not r.met]
    return QuestionCheck(
        question=draft.question,
        rules=rules,
        unmet=[r.rule for r in unmet],
        all_met=not unmet,
        guidance=[_why(r) for r in unmet],
    )


def _why(r: RuleCheck) -> str:
    concerns = [s.message for s in r.signals if not s.ok]
    if r.answer != "yes":
        concerns.insert(0, "The group has not answered yes to: " + r.prompt)
    return f"Rule {r.rule} ({r.title}): " + " ".join(concerns)
