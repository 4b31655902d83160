"""Keeping pupils anonymous: case pupils are labels, never names.

A label is 1-3 letters or digits (A, B, C, P1 ...). That still lets a name slip through
("Max", "Amy"), so common short first names are refused. Profiles and notes are free text and
cannot be checked for names; they are refused only when they carry an obvious identifier
(an email address, a unique pupil number, a date of birth, a phone number).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

LABEL_PATTERN = r"^[A-Za-z0-9]{1,3}$"

# Common short given names (2-3 letters) seen in English schools.
SHORT_NAMES = frozenset(
    """
    al bo ed jo mo ty vi di cj aj
    abe abi ada adi alf ali amy ana ani ari asa ava aya bea ben bob cai cal cam dan dee dev
    dom don dot eda eli ema eve eva ewa fay fin fox gus guy hal hana ian ida ila ina isa ivy
    jac jai jan jax jay jed jen jim joe jon joy jud kai kal kas kay ken kev kim kit lea lee
    len leo lev lex lia liv liz lou luc lui mae mai max meg mei mia mo neo ned nia noa noe
    ola oli pat peg pip raj ray rex ria rob ron roy sal sam sid sol sue taj tam tea ted
    tia tim tom una uma val vic viv wes zac zak zed zia zoe
    """.split()
)

_IDENTIFIERS = (
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "an email address"),
    (re.compile(r"\b[A-Z]\d{11}[0-9A-Z]\b"), "a unique pupil number (UPN)"),
    (re.compile(r"\b(d\.?o\.?b\b\.?|date of birth|born on)", re.IGNORECASE), "a date of birth"),
    (re.compile(r"(?<!\d)(\+44\s?|0)\d{3,4}[\s-]?\d{3}[\s-]?\d{3,4}(?!\d)"), "a phone number"),
)
# In a pupil's profile a full date is most likely a birth date.
_PROFILE_IDENTIFIERS = (
    *_IDENTIFIERS,
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](19|20)\d{2}\b"), "a date (possibly a birth date)"),
)


def label_problem(label: str) -> str | None:
    """Why a label is not acceptable, or None."""
    if not re.match(LABEL_PATTERN, label):
        return "a label is 1-3 letters or digits (e.g. A, B, C), never a pupil's name"
    if label.lower() in SHORT_NAMES:
        return f'"{label}" looks like a first name: use a letter label (A, B, C) instead'
    return None


def identifier_in(text: str | None, *, profile: bool = False) -> str | None:
    """The kind of obvious personal identifier found in ``text``, or None."""
    if not text:
        return None
    for pattern, kind in _PROFILE_IDENTIFIERS if profile else _IDENTIFIERS:
        if pattern.search(text):
            return kind
    return None


def _checked(text: str, *, profile: bool) -> str:
    kind = identifier_in(text, profile=profile)
    if kind is not None:
        raise ValueError(
            f"contains what looks like {kind}: pupils are never identified in a lesson study"
        )
    return text


def no_identifier(text: str) -> str:
    return _checked(text, profile=False)


def no_identifier_in_profile(text: str) -> str:
    return _checked(text, profile=True)


PupilNote = Annotated[str, AfterValidator(no_identifier)]
"""Free text about pupils' learning: refused when it carries an obvious identifier."""
ProfileText = Annotated[str, AfterValidator(no_identifier_in_profile)]
