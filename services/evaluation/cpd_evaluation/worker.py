"""``python -m cpd_evaluation.worker``: the evaluation service's outbox relay and event consumers.

Consumes the directory (people with FTE and start dates, schools, erasure), the audit
service's needs and closed rounds, and the lesson study service's lesson studies, enquiries
and learning communities (which become activities) and research lessons (case pupils'
outcomes); tells follow-ups as they fall due.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.directory import directory_handlers
from cpd_common.events import Event, catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import Handler, Subscription
from cpd_common.worker import PeriodicTask, run_worker
from cpd_evaluation import voice_erasure
from cpd_evaluation.activities import from_lessonstudy
from cpd_evaluation.case_pupils import projection as case_pupils
from cpd_evaluation.cpd_requests import erasure as offer_erasure
from cpd_evaluation.evaluations import erasure as plans_erasure
from cpd_evaluation.follow_ups import service as follow_ups_service
from cpd_evaluation.measures import erasure as measures_erasure
from cpd_evaluation.models import Person, School, TokenRevocation
from cpd_evaluation.participants import erasure
from cpd_evaluation.projections import audit_closed, need_recorded
from cpd_evaluation.settings import Settings


async def before_erased(
    session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
) -> None:
    """Feedback, reflections and coaching logs first (they are found through the person's
    participations), then names leave free text (that needs the projection row), then the
    person's CPD requests and calendar feed."""
    await voice_erasure.erase_voice(session, event, payload)
    await erasure.scrub_erased_name(session, event, payload)
    await offer_erasure.erase_person(session, payload.person_id, payload.trust_id)
    await measures_erasure.erase_staff_data(session, event, payload)
    await plans_erasure.erase_person(session, event, payload)


def directory_subscription_handlers() -> dict[type[Event], Handler]:
    """The directory projection, plus erasure: names leave free text first (``before_erased``:
    that needs the projection row, which the shared handler then deletes), then participations
    are anonymised (``on_erased``)."""
    return directory_handlers(
        Person,
        School,
        revocation_model=TokenRevocation,
        before_erased=before_erased,
        on_erased=erasure.erase_participation,
        erasure_completed=catalogue.EvaluationErasureCompleted,
    )


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            durable="evaluation-directory",
            filter_subject="cpd.directory.>",
            handlers=directory_subscription_handlers(),
        ),
        Subscription(
            durable="evaluation-audit",
            filter_subject="cpd.audit.>",
            handlers={
                catalogue.NeedRecorded: need_recorded,
                catalogue.AuditClosed: audit_closed,
            },
        ),
        Subscription(
            durable="evaluation-lessonstudy",
            filter_subject="cpd.lessonstudy.>",
            handlers=dict(from_lessonstudy.HANDLERS),
        ),
        # Case pupils' outcomes: a durable of their own, so the projection fills from the
        # stream's start wherever it is deployed, and a failure there never holds up hours.
        Subscription(
            durable="evaluation-case-pupils",
            filter_subject=catalogue.LessonCompleted.nats_subject,
            handlers={catalogue.LessonCompleted: case_pupils.lesson_completed},
        ),
    ]


# Follow-ups fall due by the day; a quarter of an hour is prompt enough and cheap.
FOLLOW_UP_INTERVAL = 900.0


def periodic_tasks() -> list[PeriodicTask]:
    return [
        PeriodicTask(
            name="follow-ups",
            interval=FOLLOW_UP_INTERVAL,
            run=follow_ups_service.announce_due,
        )
    ]


def main() -> None:
    run_worker(Settings(), subscriptions(), periodic=periodic_tasks())


if __name__ == "__main__":
    main()
