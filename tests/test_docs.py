"""The repository stands alone: its README and docs/ link only to files inside it, the event
catalogue in docs/events.md is the one in the code, and it carries its licence.

Regenerate the catalogue table with ``uv run python tests/test_docs.py``."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from cpd_common.events.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def catalogue_table() -> str:
    lines = ["| type | subject field | what happened |", "|---|---|---|"]
    for event_type, cls in sorted(CATALOGUE.items()):
        lines.append(f"| `{event_type}` | `{cls.subject_field}` | {cls.summary()} |")
    return "\n".join(lines) + "\n"


def test_events_doc_lists_the_catalogue_of_the_code() -> None:
    doc = (ROOT / "docs" / "events.md").read_text()
    table = doc.split("## Catalogue", 1)[1]
    table = table[table.index("| type") :]
    assert table.strip() == catalogue_table().strip(), (
        "docs/events.md is out of date; regenerate its table with "
        "`uv run python tests/test_docs.py`:\n" + catalogue_table()
    )


def test_readme_and_docs_link_only_inside_the_repository() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert {p.name for p in pages} >= {
        "README.md",
        "architecture.md",
        "api-conventions.md",
        "events.md",
        "privacy.md",
        "operations.md",
    }
    readme = (ROOT / "README.md").read_text()
    for page in pages[1:]:
        assert f"(docs/{page.name})" in readme, f"README does not link docs/{page.name}"
    for page in pages:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            path = (page.parent / target.split("#", 1)[0]).resolve()
            assert path.is_relative_to(ROOT), f"{page.name} links outside: {target}"
            assert path.exists(), f"{page.name} links to a missing file: {target}"
    assert "handbook" not in readme and "DESIGN.md" not in readme


def test_licence_is_apache_2_in_full_and_in_every_package() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License")
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a pointer to it
    projects = [ROOT / "pyproject.toml", *ROOT.glob("*/pyproject.toml")]
    projects += [*ROOT.glob("services/*/pyproject.toml"), *ROOT.glob("deploy/*/pyproject.toml")]
    assert len(projects) >= 7
    for path in projects:
        project = tomllib.loads(path.read_text())["project"]
        assert project.get("license") == "Apache-2.0", path


if __name__ == "__main__":
    print(catalogue_table(), end="")
