"""Standard Webhooks signatures (HMAC-SHA256), for the relay up and directives down.

Secrets are "whsec_<base64>". Several secrets may be given (comma-separated)
during a rotation: the sender signs with each, the receiver accepts any.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

TOLERANCE_SECONDS = 5 * 60


class SignatureError(Exception):
    pass


def parse_secrets(value: str) -> list[bytes]:
    keys = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        raw = part[len("whsec_"):] if part.startswith("whsec_") else part
        keys.append(base64.b64decode(raw + "=="))
    return keys


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def sign(secrets: Sequence[bytes], msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers for a signed request."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(_signature(k, msg_id, ts, body) for k in secrets),
    }


def verify(secrets: Sequence[bytes], headers: Mapping[str, str], body: bytes, now: float | None = None) -> str:
    """Returns the message id, or raises SignatureError."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, ts, sigs = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    if not (msg_id and ts and sigs):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(ts)
    except ValueError:
        raise SignatureError("bad webhook-timestamp") from None
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("webhook-timestamp too old or too new")
    offered = [s.split(",", 1)[1] for s in sigs.split(" ") if s.startswith("v1,")]
    for key in secrets:
        expected = _signature(key, msg_id, timestamp, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected, o) for o in offered):
            return msg_id
    raise SignatureError("no matching signature")
