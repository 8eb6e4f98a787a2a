"""Webhook destinations from the environment: every field, the defaults, and errors that name
their variable without quoting a secret or a URL's query string."""

from __future__ import annotations

import base64

import pytest

from geotrigger.delivery.destinations import Destination, destinations_from_env
from geotrigger.errors import ConfigError

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def env(**extra: str) -> dict[str, str]:
    """Two destinations, configured as an operator would."""
    return {
        "GEOTRIGGER_WEBHOOKS": "crm, push-eu",
        "GEOTRIGGER_WEBHOOK_CRM_URL": "https://crm.example/hooks/moments?token=tok-123",
        "GEOTRIGGER_WEBHOOK_CRM_SECRET": SECRET,
        "GEOTRIGGER_WEBHOOK_PUSH_EU_URL": "http://push.internal:8080/in",
        "GEOTRIGGER_WEBHOOK_PUSH_EU_SECRET": SECRET,
        "GEOTRIGGER_WEBHOOK_PUSH_EU_CHANNELS": "push, in_app",
        "GEOTRIGGER_WEBHOOK_PUSH_EU_TIMEOUT_S": "2.5",
        "GEOTRIGGER_WEBHOOK_PUSH_EU_MAX_ATTEMPTS": "3",
        "GEOTRIGGER_WEBHOOK_PUSH_EU_BACKOFF_S": "1",
        "GEOTRIGGER_WEBHOOK_PUSH_EU_MAX_BACKOFF_S": "30",
        **extra,
    }


def test_every_field_and_the_defaults() -> None:
    crm, push = destinations_from_env(env())
    assert crm == Destination(
        name="crm", url="https://crm.example/hooks/moments?token=tok-123", secret=SECRET
    )
    assert (crm.timeout_s, crm.max_attempts, crm.backoff_s, crm.max_backoff_s) == (5, 8, 5, 600)
    assert crm.channels == frozenset() and crm.receives("sms")
    assert push.name == "push-eu" and push.url == "http://push.internal:8080/in"
    assert push.channels == {"push", "in_app"}
    assert push.receives("push") and not push.receives("email")
    assert (push.timeout_s, push.max_attempts, push.backoff_s, push.max_backoff_s) == (
        2.5,
        3,
        1.0,
        30.0,
    )


def test_no_destinations_when_none_are_named() -> None:
    assert destinations_from_env({}) == []
    assert destinations_from_env({"GEOTRIGGER_WEBHOOKS": " , "}) == []


def test_the_repr_shows_neither_the_secret_nor_the_url() -> None:
    shown = repr(destinations_from_env(env())[0])
    assert "crm" in shown and SECRET not in shown and "tok-123" not in shown


@pytest.mark.parametrize(
    ("change", "variable", "reason"),
    [
        ({"GEOTRIGGER_WEBHOOK_CRM_URL": ""}, "GEOTRIGGER_WEBHOOK_CRM_URL", "is not set"),
        (
            {"GEOTRIGGER_WEBHOOK_CRM_URL": "ftp://u:hunter2@crm.example/x?token=tok-123"},
            "GEOTRIGGER_WEBHOOK_CRM_URL",
            "http or https",
        ),
        ({"GEOTRIGGER_WEBHOOK_CRM_URL": "https://"}, "GEOTRIGGER_WEBHOOK_CRM_URL", "with a host"),
        (
            {"GEOTRIGGER_WEBHOOK_CRM_URL": "https://crm.example:http/x"},
            "GEOTRIGGER_WEBHOOK_CRM_URL",
            "not a URL",
        ),
        ({"GEOTRIGGER_WEBHOOK_CRM_SECRET": ""}, "GEOTRIGGER_WEBHOOK_CRM_SECRET", "is not set"),
        (
            {"GEOTRIGGER_WEBHOOK_CRM_SECRET": "hunter2-plain-text-secret"},
            "GEOTRIGGER_WEBHOOK_CRM_SECRET",
            "whsec_<base64>",
        ),
        (
            {"GEOTRIGGER_WEBHOOK_CRM_SECRET": "whsec_not*base64*at*all"},
            "GEOTRIGGER_WEBHOOK_CRM_SECRET",
            "not base64",
        ),
        (
            {"GEOTRIGGER_WEBHOOK_CRM_SECRET": "whsec_" + base64.b64encode(b"short").decode()},
            "GEOTRIGGER_WEBHOOK_CRM_SECRET",
            "5 bytes",
        ),
        (
            {"GEOTRIGGER_WEBHOOK_PUSH_EU_TIMEOUT_S": "0"},
            "GEOTRIGGER_WEBHOOK_PUSH_EU_TIMEOUT_S",
            "positive",
        ),
        (
            {"GEOTRIGGER_WEBHOOK_PUSH_EU_MAX_ATTEMPTS": "2.5"},
            "GEOTRIGGER_WEBHOOK_PUSH_EU_MAX_ATTEMPTS",
            "whole number >= 1",
        ),
        (
            {"GEOTRIGGER_WEBHOOK_PUSH_EU_MAX_BACKOFF_S": "nan"},
            "GEOTRIGGER_WEBHOOK_PUSH_EU_MAX_BACKOFF_S",
            ">= 0",
        ),
        ({"GEOTRIGGER_WEBHOOKS": "crm,crm"}, "GEOTRIGGER_WEBHOOKS", "given twice"),
        ({"GEOTRIGGER_WEBHOOKS": "push-eu,push_eu"}, "GEOTRIGGER_WEBHOOKS", "given twice"),
        ({"GEOTRIGGER_WEBHOOKS": "crm,c r m"}, "GEOTRIGGER_WEBHOOKS", "not a destination name"),
    ],
)
def test_errors_name_the_variable_and_quote_no_secret(
    change: dict[str, str], variable: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        destinations_from_env(env(**change))
    message = str(caught.value)
    assert message.startswith(variable) and reason in message
    assert "tok-123" not in message and "hunter2" not in message and SECRET not in message
