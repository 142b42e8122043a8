"""The channels a message goes out on: SMS through a provider's signed HTTP API, and Web Push.

Each answers one attempt with an `Outcome`: delivered (with the provider's receipt), retry (5xx, 408, 429,
a timeout or a broken connection: the message may or may not have arrived, so the provider dedupes by the
message id we send), or permanent (any other refusal; for push, 404/410: the subscription is gone and is
removed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

RETRYABLE = {408, 425, 429}
SIGNATURE_TOLERANCE = 300  # seconds a signed SMS request stays valid (the stand-in refuses older ones)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str = ""
    permanent: bool = False
    gone: bool = False  # a push subscription the push service no longer knows


# -- SMS -----------------------------------------------------------------------
def sms_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `<timestamp>.<body>` with the provider's secret, hex, versioned."""
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_sms_signature(secret: str, headers: Any, body: bytes, now: float | None = None) -> bool:
    ts = headers.get("x-sms-timestamp", "")
    if not ts.isdigit() or abs((now or time.time()) - int(ts)) > SIGNATURE_TOLERANCE:
        return False
    return hmac.compare_digest(sms_signature(secret, ts, body), headers.get("x-sms-signature", ""))


class SmsChannel:
    """`POST <url>/messages` {"id", "to", "text", "sign"}: the id is the notification's, so a resend after a lost
    answer is the same message to the provider (which sends it once)."""

    name = "sms"

    def __init__(self, url: str, key_id: str, secret: str, timeout: float, sign_name: str):
        self.url = url.rstrip("/") + "/messages"
        self.key_id = key_id
        self.secret = secret
        self.sign_name = sign_name
        self.http = httpx.Client(timeout=timeout)

    def send(self, message_id: str, address: str, text: str, title: str = "") -> Outcome:
        body = json.dumps({"id": message_id, "to": address, "text": text, "sign": self.sign_name}, ensure_ascii=False).encode()
        ts = str(int(time.time()))
        headers = {"content-type": "application/json", "x-sms-key": self.key_id, "x-sms-timestamp": ts,
                   "x-sms-signature": sms_signature(self.secret, ts, body)}
        try:
            r = self.http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as e:
            return Outcome(False, f"{type(e).__name__}: {e}"[:200])
        if 200 <= r.status_code < 300:
            try:
                receipt = str(r.json().get("receipt") or r.json().get("id") or "")
            except ValueError:
                receipt = ""
            return Outcome(True, receipt)
        detail = f"HTTP {r.status_code} {r.text[:150]}"
        return Outcome(False, detail, permanent=not (r.status_code >= 500 or r.status_code in RETRYABLE))

    def close(self) -> None:
        self.http.close()


# -- Web Push ---------------------------------------------------------------------
def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_vapid(private_key: str, generated: Any = None) -> Any:
    """The VAPID key: from settings (PEM, or the base64url raw key), or else `generated()`'s PEM (made once and kept
    in the accounts database, so every process of the deployment signs with the same key)."""
    from py_vapid import Vapid

    if private_key.strip().startswith("-----BEGIN"):
        return Vapid.from_pem(private_key.encode())
    if private_key.strip():
        return Vapid.from_string(private_key.strip())
    if generated is None:
        raise ValueError("no VAPID key")
    return Vapid.from_pem(generated().encode())


def new_vapid_pem() -> str:
    from py_vapid import Vapid

    key = Vapid()
    key.generate_keys()
    return key.private_pem().decode()


def vapid_public_key(vapid: Any) -> str:
    """The applicationServerKey a page subscribes with: the uncompressed P-256 point, base64url."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return b64url(vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


class WebPushChannel:
    name = "webpush"

    def __init__(self, vapid: Any, subject: str, timeout: float, subscriptions: Any, ttl: int = 24 * 3600):
        self.vapid = vapid
        self.subject = subject
        self.timeout = timeout
        self.subscriptions = subscriptions
        self.ttl = ttl

    def send(self, message_id: str, address: str, text: str, title: str = "") -> Outcome:
        import requests
        from pywebpush import WebPushException, webpush

        sub = self.subscriptions.get(address)
        if sub is None:
            return Outcome(False, "subscription removed", permanent=True, gone=True)
        # The payload names the notification: the service worker shows it with that tag, so a resend after a
        # lost answer replaces the message on the phone instead of adding a second one.
        payload = json.dumps({"id": message_id, "title": title, "body": text}, ensure_ascii=False)
        info = {"endpoint": sub["endpoint"], "keys": {"p256dh": sub["p256dh"], "auth": sub["auth"]}}
        try:
            r = webpush(info, data=payload, vapid_private_key=self.vapid, vapid_claims={"sub": self.subject},
                        timeout=self.timeout, ttl=self.ttl, headers={"Urgency": "high"})
        except WebPushException as e:
            status = e.response.status_code if e.response is not None else 0
            if status in (404, 410):
                self.subscriptions.remove(address)
                return Outcome(False, f"HTTP {status}: subscription expired, removed", permanent=True, gone=True)
            return Outcome(False, f"HTTP {status} {str(e)[:150]}", permanent=bool(status) and not (status >= 500 or status in RETRYABLE))
        except requests.RequestException as e:
            return Outcome(False, f"{type(e).__name__}: {e}"[:200])
        return Outcome(True, r.headers.get("location", "") if hasattr(r, "headers") else "")

    def close(self) -> None:
        pass
