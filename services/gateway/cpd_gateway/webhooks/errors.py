"""Problems of the webhook endpoints (RFC 9457, with their status)."""

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class WebhookNotFound(NotFound):
    title = "Webhook subscription not found"


class DeliveryNotFound(NotFound):
    title = "Webhook delivery not found"


class WebhooksForbidden(Forbidden):
    title = "Only trust admins and API clients manage webhooks"


class RefusedUrl(Unprocessable):
    title = "Webhook URL refused"


class UnknownEventType(Unprocessable):
    title = "Unknown event type"


class NotReplayable(Conflict):
    title = "Only a failed delivery can be replayed"
