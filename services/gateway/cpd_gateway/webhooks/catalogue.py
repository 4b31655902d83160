"""Which events a webhook subscription may name and receive: the types of the event
catalogue, chosen exactly or by ``*`` patterns, and which of them are about people."""

from __future__ import annotations

import fnmatch
import re
from functools import cache
from typing import Any

from cpd_common.events.catalogue import CATALOGUE

PATTERN = re.compile(r"^(\*|[a-z0-9_.*-]{1,120})$")


def matches(patterns: list[str], event_type: str) -> bool:
    return any(fnmatch.fnmatchcase(event_type, p) for p in patterns)


def unknown_patterns(patterns: list[str]) -> list[str]:
    """Patterns that are malformed or name no event of the catalogue."""
    return [
        p
        for p in patterns
        if not PATTERN.match(p) or not any(fnmatch.fnmatchcase(t, p) for t in CATALOGUE)
    ]


def _names_people(schema: Any) -> bool:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                if any("person" in name or "member" in name for name in value):
                    return True
            if _names_people(value):
                return True
    if isinstance(schema, list):
        return any(_names_people(v) for v in schema)
    return False


@cache
def person_level(event_type: str) -> bool:
    """Whether an event's data names people (a person id, members, who is due): such events
    never go to a QA client, which receives anonymised aggregates only. An unknown type
    counts as person-level."""
    model = CATALOGUE.get(event_type)
    return model is None or _names_people(model.model_json_schema())
