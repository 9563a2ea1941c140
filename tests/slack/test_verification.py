"""The signature is checked once: Bolt's check is skipped only for the very body the
HTTP route verified, and any other request is verified and refused as Bolt does."""

from __future__ import annotations

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.devtools.slack_emulator import payloads
from bot.slack.replay import SignedRequest, current_request
from bot.slack.verification import VerifiedOnce

SECRET = "test-signing-secret"


def _request(body: str, secret: str = SECRET) -> BoltRequest:
    headers = {k.lower(): v for k, v in payloads.sign(secret, body).items()}
    return BoltRequest(body=body, headers={**headers, "content-type":
                                           "application/x-www-form-urlencoded"})


def _run(request: BoltRequest, signed: SignedRequest | None) -> int:
    token = current_request.set(signed)
    try:
        return VerifiedOnce(SECRET).process(
            req=request, resp=BoltResponse(status=404), next=lambda: BoltResponse(status=200)
        ).status
    finally:
        current_request.reset(token)


def test_a_verified_body_passes_and_a_forged_one_does_not() -> None:
    body = "command=%2Fincident&text=note+x"
    good = _request(body)
    assert _run(good, None) == 200  # verified here, as Bolt would
    forged = _request(body, secret="someone-else")
    assert _run(forged, None) == 401
    signature = forged.headers["x-slack-signature"][0]
    # A marker for another body (equal text, another object) does not skip the check,
    # nor does one whose signature differs from the request's.
    copy = (forged.raw_body + " ")[:-1]
    assert copy == forged.raw_body and copy is not forged.raw_body
    assert _run(forged, SignedRequest(signature, body=copy)) == 401
    assert _run(forged, SignedRequest("v0=other", body=forged.raw_body)) == 401
    # The body the route verified, with its signature: not verified a second time.
    assert _run(forged, SignedRequest(signature, body=forged.raw_body)) == 200


def test_the_routes_check_is_slack_sdks() -> None:
    import random
    import time

    from slack_sdk.signature import SignatureVerifier

    from bot.slack.verification import signature_is_valid

    rng = random.Random(7)
    verifier = SignatureVerifier(SECRET)
    now = int(time.time())
    for size in (0, 1, 2046, 2047, 2048, 4095, 4096, 9000):
        body = "".join(rng.choice("ab=&%+\u00e9") for _ in range(size))
        for ts in (now, now - 200, now - 400, now + 400):  # far from the edge: no clock race
            good = payloads.sign(SECRET, body, timestamp=ts)["X-Slack-Signature"]
            for signature in (good, good[:-1] + ("0" if good[-1] != "0" else "1"), "v0=x"):
                expected = verifier.is_valid(body, str(ts), signature)
                assert signature_is_valid(SECRET, body.encode(), str(ts), signature) is \
                    expected, (size, ts, signature)
            assert signature_is_valid(SECRET, body.encode(), str(ts), good) is (
                abs(now - ts) < 300)
