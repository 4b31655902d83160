"""The modules under mutation and the tests that guard them.

Only tests that start quickly are listed (real PostgreSQL and NATS, but no whole stack), so
that one mutant costs seconds; each mutant runs just those of them that execute the mutated
statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"


@dataclass(frozen=True)
class Target:
    key: str
    module: str
    tests: tuple[str, ...]
    # Lines not mutated (regular expressions over the line's text): tuning values and column
    # sizes whose change no honest test can tell apart (docs/testing.md says why, per module).
    skip: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return ROOT / self.module

    @property
    def work(self) -> Path:
        return WORK / self.key


# Column types and sizes of the mixins: the services' tables come from their migrations.
_COLUMNS = (r"mapped_column\(",)
# Reconnect and retry pacing (how long to wait between attempts), not whether to retry.
_BACKOFF = (r"^\s*delay = ", r"delay = min\(delay \* 2, 2\.0\)")

TARGETS = {
    t.key: t
    for t in (
        Target(
            "outbox",
            "shared/cpd_common/events/outbox.py",
            (
                "shared/tests/test_outbox_relay.py",
                "shared/tests/test_event_outages.py",
                "shared/tests/test_embedded_servers.py",
            ),
            skip=(
                *_COLUMNS,
                *_BACKOFF,
                r"^KEEP_SENT_HOURS = ",
                r"^PUBLISH_TIMEOUT = ",
                r"duplicate_window=",
                r"connect_timeout=",
                r"reconnect_time_wait=",
                r"poll_interval: float = ",
                r"limit: int = 256",
                r"replicas: int = 1",
                r"last_prune",
            ),
        ),
        Target(
            "inbox",
            "shared/cpd_common/events/inbox.py",
            ("shared/tests/test_consumers.py", "shared/tests/test_event_outages.py"),
            skip=(
                *_COLUMNS,
                *_BACKOFF,
                r"ack_wait=",
                r"max_ack_pending=",
                r"max_deliver: int = 5",
                r"backoff: tuple\[float, \.\.\.\] = ",
                r"wait = 0\.5 if",
                r"fetch\(batch=",
                r"error\[:4000\]",
            ),
        ),
        Target(
            "auth",
            "shared/cpd_common/auth.py",
            ("shared/tests/test_auth.py", "shared/tests/test_problems.py"),
            skip=(
                r"ttl: float = 300\.0",
                r"min_refresh_interval: float = 5\.0",
                r"_fetched_at = 0\.0",
                r"AsyncClient\(timeout=",
            ),
        ),
        Target(
            "suppression",
            "services/audit/cpd_audit/results/suppression.py",
            (
                "services/audit/tests/test_suppression.py",
                "services/audit/tests/test_results.py::"
                "test_no_withheld_cell_can_be_worked_out_from_published_ones",
            ),
        ),
    )
}

# One representative replacement per arithmetic operator instead of every other operator
# (Cosmic Ray's default makes a dozen near-identical mutants of each ``+``), and no mutants
# inside type annotations (never evaluated with ``from __future__ import annotations``).
KEEP_BINARY = {
    "Add_Sub",
    "Sub_Add",
    "Mul_Div",
    "Div_Mul",
    "FloorDiv_Div",
    "Mod_FloorDiv",
    "Pow_Mul",
    "BitOr_BitAnd",
    "BitAnd_BitOr",
    "LShift_RShift",
}
# Comparisons swapped for identity tests are a second copy of the Eq/NotEq mutants.
DROP_COMPARISON_TO = ("_Is", "_IsNot")
