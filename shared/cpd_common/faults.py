"""Injected crash points, for the fault-injection tests (``tests/reliability``).

``crash_point("relay.after_publish")`` ends the process at once (``os._exit``: no cleanup, no
``finally``, as a SIGKILL would) when ``CPD_FAULT_CRASH`` names that point. With
``CPD_FAULT_ONCE=<file>`` it crashes only if the file does not exist yet, and creates it, so a
restarted process (same environment) runs on. Unset in production: one dictionary lookup.

Points: ``relay.after_publish`` (the relay published a batch and has not marked it sent),
``inbox.after_commit`` (a consumer committed a batch's effects and has not acked it).
"""

from __future__ import annotations

import os
import sys

EXIT_CODE = 86


def crash_point(name: str) -> None:
    if os.environ.get("CPD_FAULT_CRASH") != name:
        return
    once = os.environ.get("CPD_FAULT_ONCE")
    if once:
        try:
            os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    print(f"cpd fault injection: crashing at {name}", file=sys.stderr, flush=True)
    os._exit(EXIT_CODE)
