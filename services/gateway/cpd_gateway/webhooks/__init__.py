"""Outbound webhooks: subscriptions, fan-out of the event stream, signed deliveries."""
