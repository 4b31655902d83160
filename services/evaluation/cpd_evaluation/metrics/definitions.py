"""The QA metric definitions, read from ``definitions.yaml`` (data, not code): each metric's
id, version, name, unit, description, base (who it is built from) and disclosure rule, the
threshold and rounding every figure follows, and the symbols that stand for withheld cells."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from cpd_evaluation.metrics.schemas import Definitions


@cache
def definitions() -> Definitions:
    text = resources.files(__package__).joinpath("definitions.yaml").read_text(encoding="utf-8")
    return Definitions.model_validate(yaml.safe_load(text))


def versions() -> dict[str, int]:
    """Each metric's id and the version this release follows."""
    return {m.id: m.version for m in definitions().metrics}
