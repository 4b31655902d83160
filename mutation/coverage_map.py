"""``python -m mutation.coverage_map KEY``: runs the target's tests once under coverage, one
context per test, and writes which tests execute each line of the module (JSON)."""

from __future__ import annotations

import json
import sys
from typing import Any

import coverage

from mutation.targets import TARGETS


def main(key: str) -> int:
    target = TARGETS[key]
    target.work.mkdir(parents=True, exist_ok=True)
    cov = coverage.Coverage(
        data_file=str(target.work / ".coverage"), include=[str(target.path)], config_file=False
    )
    cov.start()
    import pytest  # imported under coverage, like everything the tests import

    class PerTest:
        def pytest_runtest_setup(self, item: Any) -> None:
            cov.switch_context(item.nodeid)

    rc = pytest.main(["-q", "-p", "no:cacheprovider", *target.tests], plugins=[PerTest()])
    cov.stop()
    cov.save()
    data = cov.get_data()
    measured = [f for f in data.measured_files() if f == str(target.path)]
    lines: dict[str, list[str]] = {}
    if measured:
        for line, contexts in data.contexts_by_lineno(measured[0]).items():
            lines[str(line)] = sorted(set(contexts))
    (target.work / "tests_by_line.json").write_text(json.dumps(lines, indent=0))
    return int(rc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
