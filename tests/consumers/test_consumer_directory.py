"""The directory: consumers by id and device, and who a ping speaks for."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geotrigger.consumers import Consumer, ConsumerDirectory, pseudonymous_id

AINO = Consumer(id="c-aino", devices=frozenset({"aino-phone", "aino-watch"}))
BEN = Consumer(id="c-ben", devices=frozenset({"ben-phone"}))
DIRECTORY = ConsumerDirectory([AINO, BEN])


@pytest.mark.parametrize(
    ("consumer_id", "device_id", "expected_id", "expected"),
    [
        # the ping's own consumer id wins over the device's owner
        ("c-ben", "aino-phone", "c-ben", BEN),
        # a consumer id the directory does not know is kept, without a profile
        ("c-unknown", "aino-phone", "c-unknown", None),
        # no consumer id: the consumer that lists the device
        (None, "aino-watch", "c-aino", AINO),
        # an empty consumer id counts as none given
        ("", "ben-phone", "c-ben", BEN),
        # nobody lists the device: a pseudonymous id, no profile
        (None, "stranger", "device-" + hashlib.sha256(b"stranger").hexdigest()[:12], None),
    ],
)
def test_resolve(
    consumer_id: str | None, device_id: str, expected_id: str, expected: Consumer | None
) -> None:
    assert DIRECTORY.resolve(consumer_id, device_id) == (expected_id, expected)


@given(st.text(min_size=1))
def test_a_pseudonymous_id_is_stable_and_never_the_device_id(device_id: str) -> None:
    resolved, consumer = ConsumerDirectory.empty().resolve(None, device_id)
    assert consumer is None and resolved == pseudonymous_id(device_id)
    suffix = resolved.removeprefix("device-")
    assert len(suffix) == 12 and set(suffix) <= set("0123456789abcdef")
    assert resolved == ConsumerDirectory.empty().resolve(None, device_id)[0]  # stable


def test_a_long_device_id_does_not_appear_in_its_pseudonym() -> None:
    device = "00000000-aaaa-4bbb-8ccc-123456789abc"
    resolved, _ = ConsumerDirectory.empty().resolve(None, device)
    assert device not in resolved and device[:8] not in resolved


def test_lookups_and_iteration() -> None:
    assert len(DIRECTORY) == 2 and {c.id for c in DIRECTORY} == {"c-aino", "c-ben"}
    assert DIRECTORY.get("c-aino") is AINO and DIRECTORY.get("nobody") is None
    assert DIRECTORY.for_device("ben-phone") is BEN and DIRECTORY.for_device("x") is None
    assert len(ConsumerDirectory.empty()) == 0 and list(ConsumerDirectory()) == []


@pytest.mark.parametrize(
    ("consumers", "reason"),
    [
        # one id twice
        ([AINO, Consumer(id="c-aino")], "consumer id 'c-aino' is given twice"),
        # one device for two consumers, without quoting the device
        ([AINO, Consumer(id="c-x", devices=frozenset({"aino-phone"}))], "claim the same device"),
    ],
)
def test_clashing_profiles_are_refused(consumers: list[Consumer], reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        ConsumerDirectory(consumers)
    assert "aino-phone" not in str(caught.value)
