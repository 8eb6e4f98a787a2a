"""Pseudonyms stand in for device and ping ids: stable, and keyed when a key is set."""

from __future__ import annotations

from geotrigger.config import load_settings
from geotrigger.consumers import ConsumerDirectory, pseudonymous_id
from geotrigger.privacy import pseudonym


def test_a_pseudonym_is_stable_and_hides_the_value() -> None:
    assert pseudonym("phone-7") == pseudonym("phone-7")
    assert pseudonym("phone-7") != pseudonym("phone-8")
    assert "phone" not in pseudonym("phone-7", prefix="device-").removeprefix("device-")


def test_a_key_changes_every_pseudonym() -> None:
    """Without the key, a guessed device id cannot be checked against a keyed digest."""
    plain, keyed = pseudonym("phone-7"), pseudonym("phone-7", key="s3cret")
    assert plain != keyed and keyed == pseudonym("phone-7", key="s3cret")
    assert pseudonym("phone-7", key="other") != keyed


def test_unknown_devices_get_keyed_pseudonymous_consumer_ids() -> None:
    directory = ConsumerDirectory.empty()
    cid, consumer = directory.resolve(None, "phone-7", key="s3cret")
    assert consumer is None and cid == pseudonymous_id("phone-7", "s3cret")
    assert cid != pseudonymous_id("phone-7") and "phone-7" not in cid


def test_the_key_is_a_setting() -> None:
    env = {"GEOTRIGGER_PRIVACY_PSEUDONYM_KEY": "s3cret"}
    assert load_settings(env).privacy.pseudonym_key == "s3cret"
    assert load_settings({}).privacy.pseudonym_key == ""
