"""cpd_common is a library: it imports no service and no deployment package (the services,
the whole-platform test stack and the demo runner build on it, never the other way)."""

from __future__ import annotations

import ast
from pathlib import Path

import cpd_common

FORBIDDEN = ("cpd_gateway", "cpd_audit", "cpd_lessonstudy", "cpd_evaluation", "cpd_local")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_cpd_common_imports_no_service() -> None:
    package = Path(cpd_common.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 10
    offending = {
        f"{path.relative_to(package)}: {name}"
        for path in modules
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert not offending
