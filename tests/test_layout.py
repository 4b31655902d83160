"""Every service starts with tests that run: each one under services/ has a tests folder,
listed in pyproject's testpaths, holding test files; and every listed path exists (a missing
one would silently collect nothing). And no source file grows past about 500 lines without
its docstring saying why."""

from __future__ import annotations

import ast
import os
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


# A file that passes this many lines is split by what it owns (CONVENTIONS.md), unless its
# docstring says why it stays whole. Released migrations are never edited, so they are left out.
MAX_LINES = 550
LONG_REASON = "Why this file is long:"
SKIPPED_DIRS = {"migrations", "__pycache__", "node_modules"}


def python_sources() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS]
        found += [Path(folder) / f for f in files if f.endswith(".py")]
    return found


def test_no_source_file_is_long_without_saying_why() -> None:
    sources = python_sources()
    assert any(p.name == "test_layout.py" for p in sources), "the scan found no sources"
    unexplained = []
    for path in sources:
        text = path.read_text()
        lines = text.count("\n") + 1
        if lines <= MAX_LINES:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if not any(line.strip().startswith(LONG_REASON) for line in docstring.splitlines()):
            unexplained.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert not unexplained, (
        f"over {MAX_LINES} lines: split by what each part owns, or give a docstring line "
        f"starting {LONG_REASON!r}: " + ", ".join(sorted(unexplained))
    )
