"""Every service starts with tests that run: each one under services/ has a tests folder,
listed in pyproject's testpaths, holding test files; and every listed path exists (a missing
one would silently collect nothing)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def listed_testpaths() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["pytest"]["ini_options"]["testpaths"])


def services() -> list[str]:
    return sorted(d.name for d in (ROOT / "services").iterdir() if (d / "pyproject.toml").is_file())


def test_every_testpath_exists_and_holds_tests() -> None:
    for path in listed_testpaths():
        folder = ROOT / path
        assert folder.is_dir(), f"pyproject testpaths lists {path}, which does not exist"
        assert any(folder.rglob("test_*.py")), f"{path} holds no test_*.py file"


def test_every_service_has_its_tests_folder_in_testpaths() -> None:
    listed = set(listed_testpaths())
    assert services(), "no service found under services/"
    for name in services():
        folder = f"services/{name}/tests"
        assert folder in listed, f"{folder} is missing from pyproject testpaths"
        assert any((ROOT / folder).glob("test_*.py")), f"{folder} holds no test_*.py file"


def test_shared_and_cross_service_tests_are_collected() -> None:
    assert {"shared/tests", "tests"} <= set(listed_testpaths())
