"""Standard Webhooks by the `standardwebhooks` library, with two secrets during a rotation."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.citylink import webhooks
from gateway.citylink.webhooks import SignatureError, parse_secrets, sign, verify

OLD = "whsec_" + base64.b64encode(b"old-secret-of-the-district-32by").decode()
NEW = "whsec_" + base64.b64encode(b"new-secret-of-the-district-32by").decode()
OTHER = "whsec_" + base64.b64encode(b"someone-else-entirely-000000000").decode()
BODY = '[{"id":"e-1","data":{"title":"魏庄村积水"}}]'.encode()


def test_signing_and_verifying_are_the_librarys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our module holds no HMAC of its own: what the library signs is what goes out, what it refuses is refused."""
    monkeypatch.setattr(webhooks.Webhook, "sign", lambda self, msg_id, timestamp, data: "v1,from-the-library")
    assert sign(parse_secrets(NEW), "m-1", BODY)["webhook-signature"] == "v1,from-the-library"
    monkeypatch.undo()

    def refuse(self, data, headers, *, json_parse=True):  # type: ignore[no-untyped-def]
        raise WebhookVerificationError("refused by the library")

    headers = sign(parse_secrets(NEW), "m-1", BODY)
    monkeypatch.setattr(webhooks.Webhook, "verify", refuse)
    with pytest.raises(SignatureError, match="refused by the library"):
        verify(parse_secrets(NEW), headers, BODY)


def test_during_a_rotation_either_secret_verifies_what_both_signed() -> None:
    headers = sign(parse_secrets(f"{NEW},{OLD}"), "m-2", BODY)
    for secret in (NEW, OLD):  # a receiver that holds only one of them (the reference library, unaided)
        Webhook(secret).verify(BODY, headers, json_parse=False)
        assert verify(parse_secrets(secret), headers, BODY) == "m-2"
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER).verify(BODY, headers, json_parse=False)
    # A receiver rotating holds both; a sender still on the old one verifies.
    assert verify(parse_secrets(f"{NEW},{OLD}"), sign(parse_secrets(OLD), "m-3", BODY), BODY) == "m-3"


@pytest.mark.parametrize("case", ["other-secret", "changed-body", "stale", "future", "no-headers", "malformed-signature"])
def test_what_does_not_verify_is_refused(case: str) -> None:
    secrets = parse_secrets(NEW)
    headers = sign(parse_secrets(OTHER) if case == "other-secret" else secrets, "m-4", BODY,
                   timestamp={"stale": int(time.time()) - 600, "future": int(time.time()) + 600}.get(case))
    body = BODY + b" " if case == "changed-body" else BODY
    if case == "no-headers":
        headers = {}
    if case == "malformed-signature":
        headers["webhook-signature"] = "v1,%%%not-base64%%% v1a,xyz"
    with pytest.raises(SignatureError):
        verify(secrets, headers, body)


def test_unknown_signature_versions_beside_a_good_one_are_skipped() -> None:
    headers = sign(parse_secrets(NEW), "m-5", BODY)
    headers["webhook-signature"] = "v2,whatever v1a,abc " + headers["webhook-signature"]
    assert verify(parse_secrets(NEW), headers, BODY) == "m-5"
