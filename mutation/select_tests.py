"""``python -m mutation.select_tests KEY``: Cosmic Ray's test command. Finds the statements
the current mutant changed (against the module's original text), then runs only the tests
that execute them (``-x``: the first failure kills the mutant). A statement no test executes
survives at once; a module-level statement (run at import) runs every test of the target."""

from __future__ import annotations

import ast
import difflib
import json
import subprocess
import sys

from mutation.targets import ROOT, TARGETS


def changed_lines(original: list[str], current: list[str]) -> set[int]:
    out: set[int] = set()
    matcher = difflib.SequenceMatcher(a=original, b=current, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag != "equal":
            out.update(range(i1 + 1, max(i2, i1 + 1) + 1))
    return out


def statement_lines(source: str, lines: set[int]) -> set[int]:
    """The first line of the innermost statement holding each line (coverage records
    statements by their first line)."""
    tree = ast.parse(source)
    out: set[int] = set()
    for line in lines:
        best: ast.stmt | None = None
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or 0):
                if best is None or node.lineno >= best.lineno:
                    best = node
        out.add(best.lineno if best is not None else line)
    return out


def main(key: str) -> int:
    target = TARGETS[key]
    original = (target.work / "original.py").read_text()
    current = target.path.read_text()
    by_line: dict[str, list[str]] = json.loads((target.work / "tests_by_line.json").read_text())
    lines = statement_lines(original, changed_lines(original.splitlines(), current.splitlines()))
    tests: set[str] = set()
    module_level = False
    for line in lines:
        for context in by_line.get(str(line), []):
            if context:
                tests.add(context)
            else:
                module_level = True
    selected = list(target.tests) if module_level else sorted(tests)
    if not selected:
        print(f"no test executes lines {sorted(lines)}")
        return 0
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *selected]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
