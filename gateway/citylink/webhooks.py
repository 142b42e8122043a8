"""Standard Webhooks signatures for the relay up and directives down, by the `standardwebhooks` library.

Secrets are "whsec_<base64>". Several secrets may be given (comma-separated) during a rotation:
the sender signs with each (one `v1,` signature per secret in `webhook-signature`), the receiver
accepts a request that any of its secrets verifies. What is ours here is only that rotation and
the error type; signing, the signed content, the timestamp tolerance (5 minutes) and the
constant-time comparison are the library's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

TOLERANCE_SECONDS = 5 * 60  # the library's, stated for readers (its verify enforces it)


class SignatureError(Exception):
    pass


def parse_secrets(value: str) -> list[bytes]:
    """The raw keys of "whsec_a,whsec_b" (a ValueError for one that is not base64)."""
    keys = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        raw = part.removeprefix("whsec_")
        try:
            keys.append(base64.b64decode(raw + "==", validate=False))
        except binascii.Error as e:
            raise ValueError(f"a webhook secret is not base64: {e}") from None
    return [k for k in keys if k]


def sign(secrets: Sequence[bytes], msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers for a signed request: one signature per secret, so a receiver holding either verifies it."""
    if not secrets:
        raise ValueError("no webhook secret to sign with")
    moment = datetime.now(timezone.utc) if timestamp is None else datetime.fromtimestamp(timestamp, tz=timezone.utc)
    text = body.decode()  # the library signs text; our bodies are JSON, always UTF-8
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(Webhook(key).sign(msg_id, moment, text) for key in secrets),
    }


def verify(secrets: Sequence[bytes], headers: Mapping[str, str], body: bytes) -> str:
    """The message id of a request any of `secrets` verifies; SignatureError otherwise."""
    h = {k.lower(): v for k, v in headers.items()}
    if not secrets:
        raise SignatureError("no webhook secret is configured")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise SignatureError("the body is not UTF-8") from None
    # Signatures of other versions or malformed ones are skipped, as the standard asks, not fatal.
    offered = " ".join(s for s in h.get("webhook-signature", "").split(" ") if s.count(",") == 1)
    h["webhook-signature"] = offered
    last: Exception | None = None
    for key in secrets:
        try:
            Webhook(key).verify(text, h, json_parse=False)
            return h["webhook-id"]
        except WebhookVerificationError as e:
            last = e
        except (ValueError, binascii.Error) as e:  # a signature that is not base64
            last = e
    raise SignatureError(str(last) if last else "no matching signature")
