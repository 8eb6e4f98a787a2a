"""Standard Webhooks signatures: the specification's example, an independent computation, and
what a receiver refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from geotrigger.delivery.signing import SignatureError, secret_key, sign, signature, verify

# The example of the Standard Webhooks specification (and its reference libraries' tests).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
BODY = '{"type":"moment.fired","id":"m-1","message":"Köln"}'.encode()


def test_the_specifications_example() -> None:
    assert signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    headers = sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": SPEC_SIGNATURE,
    }
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP + 10) == SPEC_ID


def test_the_signature_is_hmac_sha256_of_id_timestamp_and_body_keyed_with_the_secret() -> None:
    key = bytes(range(32))
    expected = hmac.new(key, b"m-1.1700000000." + BODY, hashlib.sha256).digest()
    assert signature(SECRET, "m-1", 1700000000, BODY) == "v1," + base64.b64encode(expected).decode()
    assert secret_key(SECRET) == key


def test_a_receiver_accepts_any_header_case_and_one_matching_signature_among_several() -> None:
    headers = sign(SECRET, "m-1", 1700000000, BODY)
    rotated = {
        "Webhook-Id": headers["webhook-id"],
        "WEBHOOK-TIMESTAMP": headers["webhook-timestamp"],
        "webhook-signature": f"v1,bm90IHRoaXMgb25l {headers['webhook-signature']}",
    }
    assert verify(SECRET, rotated, BODY, now=1700000000) == "m-1"


@pytest.mark.parametrize("skew_s", [-301, 301, 86400])
def test_a_timestamp_more_than_five_minutes_away_is_refused(skew_s: int) -> None:
    headers = sign(SECRET, "m-1", 1700000000, BODY)
    assert verify(SECRET, headers, BODY, now=1700000000 + 300) == "m-1"  # the edge is in
    with pytest.raises(SignatureError, match="away from now"):
        verify(SECRET, headers, BODY, now=1700000000 + skew_s)


def test_a_changed_body_id_or_key_or_a_missing_header_is_refused() -> None:
    headers = sign(SECRET, "m-1", 1700000000, BODY)
    with pytest.raises(SignatureError, match="no webhook-signature"):
        verify(SECRET, headers, BODY.replace(b"K", b"k"), now=1700000000)
    with pytest.raises(SignatureError, match="no webhook-signature"):
        verify(SECRET, {**headers, "webhook-id": "m-2"}, BODY, now=1700000000)
    other = "whsec_" + base64.b64encode(bytes(range(1, 33))).decode()
    with pytest.raises(SignatureError, match="no webhook-signature"):
        verify(other, headers, BODY, now=1700000000)
    without = {k: v for k, v in headers.items() if k != "webhook-signature"}
    with pytest.raises(SignatureError, match="missing: webhook-signature"):
        verify(SECRET, without, BODY, now=1700000000)
    with pytest.raises(SignatureError, match="not integer"):
        verify(SECRET, {**headers, "webhook-timestamp": "17e8"}, BODY, now=1700000000)
    unversioned = {**headers, "webhook-signature": headers["webhook-signature"][3:]}
    with pytest.raises(SignatureError):
        verify(SECRET, unversioned, BODY, now=1700000000)
