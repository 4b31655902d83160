"""Run parameters shared by the benchmarks (``python -m bench --help``)."""

from __future__ import annotations

from dataclasses import dataclass

# Every server (services and baselines) runs on uvloop with the httptools parser, as `cpd up`,
# the image and the manifests run them; uvicorn refuses to start when one is missing.
UVICORN_LOOP = "uvloop"
UVICORN_HTTP = "httptools"


@dataclass(frozen=True)
class Config:
    rounds: int = 3
    seconds_1: float = 2.0  # measured window of a 1-connection run
    seconds_n: float = 3.0  # measured window of a 32-connection run
    connections: int = 32
    warmup: float = 0.5
    lag_seconds: float = 4.0
    lag_rates: tuple[int, ...] = (200, 1000)
    # Events at most per run: a consumer slower than the rate leaves a backlog every later
    # run waits for (4,000 events at 1,000/s took ~40 s to drain on a busy 2-core machine).
    lag_max_events: int = 2000
    # scale: the larger platform (trusts), each target's window at one connection, and the
    # fewest requests a window takes (the 100k-response audit takes a while).
    scale_high: int = 10
    scale_seconds: float = 1.0
    scale_min_requests: int = 5

    def lag_duration(self, rate: int) -> float:
        return min(self.lag_seconds, self.lag_max_events / rate)

    def seconds(self, connections: int) -> float:
        return self.seconds_1 if connections == 1 else self.seconds_n


def bar(value: float | None, limit: float, op: str, unit: str = "") -> dict[str, object]:
    """One quality bar of DESIGN.md section 9 against the measured value."""
    if value is None:
        ok = None
    elif op == "<=":
        ok = value <= limit
    else:
        ok = value >= limit
    return {"value": value, "bar": f"{op} {limit}{unit}", "pass": ok}
