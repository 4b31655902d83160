"""Schemathesis against the in-process platform (issue 12): the checks every generated request
must pass, how many examples each operation gets, and the transport that lets schemathesis'
synchronous calls reach apps that live on the test session's event loop.

Schemathesis sends requests synchronously, and its ASGI transport would run an app on an event
loop of its own, where the services' database pools cannot follow. The schemas here get a
transport that serializes each case as schemathesis does for `requests` and sends it through
the stack's own ``httpx.AsyncClient``, run to completion on the session loop: the fuzz tests
are synchronous, so that loop is idle while they run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.generation.overrides import Override
from schemathesis.openapi.checks import UndefinedStatusCode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

# The list, every one run on every response (the stateful ones only act on a response
# whose scenario created or deleted the resource, the auth probe only on a 2xx).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    use_after_free,
    ensure_resource_availability,
    ignored_auth,
]

# Checks that cannot apply to an operation by design, with why.
NOT_APPLICABLE: dict[str, set[str]] = {
    # `POST /v1/calendar/feed` rotates the caller's one feed address ("the previous one stops
    # working at once") and `DELETE /v1/calendar/feed` revokes it: a scenario that posts twice
    # or deletes (no path id, so schemathesis does not see it as the resource's delete) rightly
    # gets 404 for the first address.
    **{
        f"GET /v1/calendar/feeds/{{token}}/{feed}": {"ensure_resource_availability"}
        for feed in ("me.ics", "trust.ics", "schools/{school_id}.ics")
    },
}


def checks_for(case: Any) -> list[Any]:
    skipped = NOT_APPLICABLE.get(case.operation.label, set())
    return [check for check in CHECKS if check.__name__ not in skipped]


# Examples per operation of the gateway's merged document. The issue asks for about 25; on a
# two-core machine schemathesis spends about 50 ms per case (a third of it answering), so 25 for
# the 359 operations would take about 8 minutes: `make test` runs 2 and a nightly run sets
# CPD_FUZZ_EXAMPLES=25 (docs/testing.md).
EXAMPLES = int(os.environ.get("CPD_FUZZ_EXAMPLES", "2"))
# Each service's own document, called directly: the same operations the gateway proxies, so
# half as many by default.
SERVICE_EXAMPLES = max(EXAMPLES // 2, 1)
# Scenarios of the stateful run (each up to STEPS calls along the inferred links).
SCENARIOS = int(os.environ.get("CPD_FUZZ_SCENARIOS", str(max(EXAMPLES * 10, 20))))
STEPS = int(os.environ.get("CPD_FUZZ_STEPS", "5"))

# Deterministic in CI: the same cases every run, nothing remembered between runs.
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
    # No shrinking: the platform keeps state, so a failing case replayed against it can take
    # another path (Hypothesis then reports "flaky" instead of the failure); FIRST keeps the
    # failure as met.
    phases=[Phase.explicit, Phase.generate],
)
# Seeded rather than derandomized, so that a suite Hypothesis abandons (see the stateful test)
# can be followed by another one; still the same scenarios every run.
STATEFUL_SETTINGS = settings(
    SETTINGS,
    max_examples=SCENARIOS,
    stateful_step_count=STEPS,
    report_multiple_bugs=True,
    derandomize=False,
)
SUITES = 3

# Arguments of `requests.Request` among the ones schemathesis prepares for a `requests` call.
_REQUEST_ARGS = ("method", "url", "headers", "files", "data", "params", "cookies", "json")


class LoopTransport(RequestsTransport):
    """Schemathesis' own `requests` serialization (so what it reports is what was sent), the
    prepared request then sent through ``client`` on ``loop`` instead of a socket."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._copy_serializers_from(REQUESTS_TRANSPORT)
        self.client = client
        self.loop = loop
        self.sent = 0  # requests, and seconds spent answering them (the rest is generation)
        self.seconds = 0.0

    def send(self, case: Any, *, session: Any = None, **kwargs: Any) -> Response:
        kwargs["base_url"] = str(self.client.base_url)
        data = self._build_request_data(case, kwargs)
        fresh_idempotency_key(case, data["headers"])
        prepared = requests.Request(**{k: data[k] for k in _REQUEST_ARGS if k in data}).prepare()
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        started = time.monotonic()
        answer = self.loop.run_until_complete(
            self.client.request(
                str(prepared.method),
                httpx.URL(str(prepared.url)),
                headers=list(prepared.headers.items()),
                content=body or b"",
            )
        )
        self.sent += 1
        self.seconds += time.monotonic() - started
        headers: dict[str, list[str]] = {}
        for name, value in answer.headers.multi_items():
            headers.setdefault(name.lower(), []).append(value)
        return Response(
            status_code=answer.status_code,
            headers=headers,
            content=answer.content,
            request=prepared,
            elapsed=time.monotonic() - started,
            message=answer.reason_phrase,
            encoding=answer.encoding,
            http_version="1.1",
            verify=True,
            _override=Override.from_send_kwargs(kwargs),
        )


def fresh_idempotency_key(case: Any, headers: dict[str, Any]) -> None:
    """A fresh ``Idempotency-Key`` in place of a valid generated one, as a client sends one per
    logical request. Hypothesis draws the same small key and body again and again, and the
    platform rightly replays the first answer to a repeated (key, body): a resource created
    in an earlier scenario, maybe deleted since, which the stateful checks would take for a
    new one. An invalid generated key (negative data) is sent as generated."""
    negative = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    for name in list(headers):
        if name.lower() == "idempotency-key" and not negative:
            headers[name] = uuid.uuid4().hex


def load(doc: dict[str, Any], client: httpx.AsyncClient) -> OpenApiSchema:
    """The document as a schemathesis schema whose requests go through ``client`` on the
    running loop: positive and negative data, every operation. The caller's credentials are
    sent explicitly, so schemathesis does not generate the security header itself."""
    config = SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": EXAMPLES,
                "deterministic": True,
                "with-security-parameters": False,
            }
        }
    )
    schema = schemathesis.openapi.from_dict(doc, config=config)
    transport = LoopTransport(client, asyncio.get_running_loop())
    # Schemathesis picks a schema's transport by its app (none, ASGI or WSGI); this one's is
    # the loop's.
    schema.__class__ = type("LoopSchema", (type(schema),), {"transport": transport})
    return schema


def stateful_machine(schema: OpenApiSchema, headers: dict[str, str]) -> Any:
    """The schema's state machine (links inferred from the document: it declares none),
    sending ``headers`` as the caller's own credentials and running ``CHECKS``."""
    base = schema.as_state_machine()
    links = schema.statistic.transitions
    print(
        f"\n{schema.raw_schema['info']['title']}: {links.total} links inferred, {links.selected} used"
    )

    class Machine(base):  # type: ignore[valid-type, misc]
        def step(self, input: Any) -> Any:
            try:
                return super().step(input)
            except (Exception, BaseExceptionGroup) as exc:
                # Kept as met: the replay Hypothesis makes of a failing scenario can differ.
                where = "".join(traceback.format_exception(exc)[-4:])
                FIRST.setdefault(input.case.operation.label, f"{describe(exc)}\n{where[-1500:]}")
                raise

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            __tracebackhide__ = True
            with tolerating_known(case):
                case.validate_response(
                    response,
                    checks=checks_for(case),
                    headers=headers,
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )

    return Machine


def operation_test(operation: Any, headers: dict[str, str], examples: int) -> Callable[[], None]:
    """A Hypothesis test of one operation: valid and invalid cases, each sent as the caller
    and checked with ``CHECKS``."""
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            strategies.append(operation.as_strategy(generation_mode=mode))
        except Exception:  # noqa: S112 - nothing to negate (no parameters, no body)
            continue

    @settings(SETTINGS, max_examples=examples)
    @given(case=st.one_of(strategies))
    def test(case: Any) -> None:
        __tracebackhide__ = True
        with tolerating_known(case):
            case.call_and_validate(headers=headers, checks=checks_for(case))

    return test


def run_operations(schema: OpenApiSchema, headers: dict[str, str], examples: int) -> dict[str, str]:
    """Every operation's test run; the failing operations by label, with what failed."""
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            operation_test(operation, headers, examples)()
        except (Exception, BaseExceptionGroup) as exc:
            failures[operation.label] = FIRST.pop(operation.label, None) or describe(exc)
    return failures


# Open contract bugs whose fix lies outside the services (docs/testing.md lists them), each
# matched by its exact answer. A case that meets one is counted in ``MET`` (printed after the
# run) instead of failing, and the fuzzing goes on; any other failure of the same case still
# fails the run.
KNOWN: dict[str, tuple[int, str]] = {
    # Empty. Was: a JSON body that is not UTF-8 answered FastAPI's undeclared 400; the input
    # guard now refuses it with 422 (`cpd_common.input_guard`).
}


# Known failures met in this process: (reason, operation) -> cases.
MET: dict[tuple[str, str], int] = {}
# The first other failure of each operation, as met (Hypothesis' replay of it may differ).
FIRST: dict[str, str] = {}


def known_reason(exc: BaseException) -> str | None:
    """The ``KNOWN`` entry ``exc`` is wholly explained by, if any."""
    parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    for reason, (status, detail) in KNOWN.items():
        if detail in str(exc) and all(
            isinstance(part, UndefinedStatusCode) and part.status_code == status for part in parts
        ):
            return reason
    return None


@contextlib.contextmanager
def tolerating_known(case: Any) -> Iterator[None]:
    try:
        yield
    except FailureGroup as exc:
        reason = known_reason(exc)
        if reason is None:
            FIRST.setdefault(case.operation.label, describe(exc))
            raise
        key = (reason, case.operation.label)
        MET[key] = MET.get(key, 0) + 1


def print_known() -> None:
    for (reason, label), cases in sorted(MET.items()):
        print(f"known open failure, {label}: {reason} ({cases} cases)")
    MET.clear()


def describe(exc: BaseException) -> str:
    """Schemathesis' own account of the failure (checks, response, curl), cut to a readable
    size."""
    return f"{type(exc).__name__}: {exc}".strip()[:2500]


def report(failures: dict[str, str]) -> str:
    lines = [f"{len(failures)} operations broke their contract:"]
    for label, text in failures.items():
        lines.append(f"--- {label}\n{text}")
    return "\n".join(lines)


def print_cost(schema: OpenApiSchema, seconds: float) -> None:
    """Where a run's time went: answering requests, or generating and checking them."""
    transport = schema.transport
    assert isinstance(transport, LoopTransport)
    print(
        f"\n{schema.raw_schema['info']['title']}: {transport.sent} requests in {seconds:.1f} s, "
        f"{transport.seconds:.1f} s of it answering"
    )
    transport.sent, transport.seconds = 0, 0.0
