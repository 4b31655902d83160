"""``python -m mutation [--minutes N] [KEY ...]``: mutation testing of the targets (all by
default) within a time budget; prints the score per module and writes
``.mutation/report.md`` with every surviving mutant's diff.

The modules are mutated in place, one mutant at a time, and put back afterwards (also on
Ctrl-C or when the budget runs out): do not edit them while it runs.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from cosmic_ray.work_db import WorkDB, use_db

from mutation.targets import DROP_COMPARISON_TO, KEEP_BINARY, ROOT, TARGETS, WORK, Target

BIN = Path(sys.executable).parent


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None:
                    annotations.append(arg.annotation)
        for a in annotations:
            if a is not None:
                spans.append(((a.lineno, a.col_offset), (a.end_lineno or 0, a.end_col_offset or 0)))
    return spans


def wanted(operator: str) -> bool:
    name = operator.split("/")[-1]
    if name.startswith("ReplaceBinaryOperator_"):
        return name.removeprefix("ReplaceBinaryOperator_") in KEEP_BINARY
    if name.startswith("ReplaceComparisonOperator_"):
        return not name.endswith(DROP_COMPARISON_TO) or name.startswith(
            ("ReplaceComparisonOperator_Is_", "ReplaceComparisonOperator_IsNot_")
        )
    return True


def prune(db: WorkDB, source: str, skip: tuple[str, ...]) -> None:
    """Keeps the mutants worth running: see ``targets.KEEP_BINARY``; none inside annotations
    or on the target's ``skip`` lines."""
    spans = annotation_spans(source)
    lines = source.splitlines()
    skipped = re.compile("|".join(skip)) if skip else None
    kept = []
    for item in db.work_items:
        m = item.mutations[0]
        start, end = tuple(m.start_pos), tuple(m.end_pos)
        in_annotation = any(s <= start and end <= e for s, e in spans)
        text = "\n".join(lines[start[0] - 1 : end[0]])
        # ``*,`` in a signature turned into ``/,``: keyword arguments stay keyword arguments.
        marker = text.strip() == "*,"
        if wanted(m.operator_name) and not in_annotation and not marker:
            if skipped is None or not skipped.search(text):
                kept.append(item)
    db.clear()
    db.add_work_items(kept)


def config(target: Target, timeout: float) -> Path:
    path = target.work / "config.toml"
    path.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{target.module}"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f'test-command = "{sys.executable} -m mutation.select_tests {target.key}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    return path


def restore(target: Target) -> None:
    original = target.work / "original.py"
    if original.exists() and target.path.read_text() != original.read_text():
        shutil.copyfile(original, target.path)
        print(f"{target.key}: restored {target.module}")


def run_target(target: Target, budget: float, timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    shutil.rmtree(target.work, ignore_errors=True)
    target.work.mkdir(parents=True)
    shutil.copyfile(target.path, target.work / "original.py")
    print(f"{target.key}: mapping tests to lines ({', '.join(target.tests)})", flush=True)
    rc = subprocess.call([sys.executable, "-m", "mutation.coverage_map", target.key], cwd=ROOT)
    if rc != 0:
        raise SystemExit(f"{target.key}: the tests fail before any mutation (exit {rc})")
    cfg = config(target, timeout)
    session = target.work / "session.sqlite"
    subprocess.check_call([BIN / "cosmic-ray", "init", cfg, session], cwd=ROOT)
    with use_db(str(session), WorkDB.Mode.open) as db:
        prune(db, (target.work / "original.py").read_text(), target.skip)
        total = db.num_work_items
    left = budget - (time.monotonic() - started)
    print(f"{target.key}: {total} mutants, {left / 60:.1f} min left", flush=True)
    proc = subprocess.Popen(
        [BIN / "cosmic-ray", "exec", cfg, session], cwd=ROOT, start_new_session=True
    )
    try:
        proc.wait(timeout=max(left, 1))
    except subprocess.TimeoutExpired:
        print(f"{target.key}: out of time; the rest stays unrun", flush=True)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        restore(target)
    return summarise(target, session, total)


def summarise(target: Target, session: Path, total: int) -> dict[str, Any]:
    dump = subprocess.run(
        [BIN / "cosmic-ray", "dump", session], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    counts: Counter[str] = Counter()
    survivors = []
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None:
            counts["not run"] += 1
            continue
        outcome = result.get("test_outcome") or result.get("worker_outcome")
        if outcome == "killed" and result.get("output") == "timeout":
            outcome = "killed (timeout)"
        counts[outcome] += 1
        if outcome == "survived":
            m = item["mutations"][0]
            survivors.append(
                {
                    "operator": m["operator_name"].split("/")[-1],
                    "line": m["start_pos"][0],
                    "diff": result.get("diff") or "",
                }
            )
    run = total - counts["not run"]
    killed = counts["killed"] + counts["killed (timeout)"]
    decided = killed + counts["survived"]
    score = 100.0 * killed / decided if decided else 0.0
    return {
        "key": target.key,
        "module": target.module,
        "mutants": total,
        "run": run,
        "counts": dict(counts),
        "score": round(score, 1),
        "survivors": sorted(survivors, key=lambda s: s["line"]),
    }


def write_report(results: list[dict[str, Any]]) -> Path:
    out = ["# Mutation testing report", ""]
    out.append("| module | mutants | run | killed | survived | score |")
    out.append("|---|---|---|---|---|---|")
    for r in results:
        c = r["counts"]
        killed = c.get("killed", 0) + c.get("killed (timeout)", 0)
        out.append(
            f"| {r['module']} | {r['mutants']} | {r['run']} | {killed} | "
            f"{c.get('survived', 0)} | {r['score']}% |"
        )
    for r in results:
        out += ["", f"## Survivors in {r['module']}", ""]
        for s in r["survivors"]:
            out += [f"line {s['line']} ({s['operator']}):", "```diff", s["diff"].strip(), "```"]
    path = WORK / "report.md"
    path.write_text("\n".join(out) + "\n")
    (WORK / "report.json").write_text(json.dumps(results, indent=1))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__)
    parser.add_argument("keys", nargs="*", metavar="KEY", help=f"any of {', '.join(TARGETS)}")
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("MINUTES", 90)))
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds one mutant's tests may take"
    )
    args = parser.parse_args()
    unknown = set(args.keys) - set(TARGETS)
    if unknown:
        parser.error(f"unknown module key(s): {', '.join(sorted(unknown))}")
    targets = [TARGETS[k] for k in (args.keys or TARGETS)]
    deadline = time.monotonic() + args.minutes * 60
    results = []
    try:
        for i, target in enumerate(targets):
            # Each module gets an even share of what is left.
            share = (deadline - time.monotonic()) / (len(targets) - i)
            results.append(run_target(target, share, args.timeout))
    finally:
        for target in targets:
            restore(target)
    report = write_report(results)
    for r in results:
        print(
            f"{r['module']}: {r['score']}% killed ({r['run']} of {r['mutants']} mutants run; "
            f"{r['counts']})"
        )
    print(f"report: {report.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
