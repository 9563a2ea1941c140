"""Each source's signature, checked on the exact bytes received before anything is parsed.

- MLflow (3.x webhooks): ``X-MLflow-Signature: v1,<base64 HMAC-SHA256>`` over
  ``<X-MLflow-Delivery-Id>.<X-MLflow-Timestamp>.<body>``, the timestamp within five
  minutes (MLflow's replay protection, after the Standard Webhooks convention).
- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``.
- The generic form: ``X-Resilio-Signature: sha256=<hex HMAC-SHA256>`` over
  ``<X-Resilio-Timestamp>.<body>``, the timestamp (Unix seconds) within five minutes.

Comparisons are constant-time. A source without its secret configured is closed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_SKEW_SECONDS = 300


class SignatureError(Exception):
    """The delivery is unsigned, wrongly signed or stale: 401, and nothing is recorded."""


def _require(secret: str | None, setting: str) -> str:
    if not secret:
        raise SignatureError(f"this webhook is closed: no secret is configured on the server "
                             f"(set {setting})")
    return secret


def _fresh(timestamp: str | None, now: float, header: str) -> None:
    if not timestamp:
        raise SignatureError(f"missing {header}")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError(f"{header} {timestamp[:20]!r} is not Unix seconds") from None
    if abs(now - sent) > MAX_SKEW_SECONDS:
        raise SignatureError(f"{header} is {abs(now - sent):.0f}s away from the server's clock "
                             f"(more than {MAX_SKEW_SECONDS}s): a replay or a wrong clock")


def _digest(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def verify_mlflow(secret: str | None, *, body: bytes, delivery_id: str | None,
                  timestamp: str | None, signature: str | None, now: float) -> None:
    key = _require(secret, "RESILIO_MLFLOW_WEBHOOK_SECRET")
    if not signature:
        raise SignatureError("missing X-MLflow-Signature (set a secret on the MLflow webhook)")
    if not delivery_id:
        raise SignatureError("missing X-MLflow-Delivery-Id")
    _fresh(timestamp, now, "X-MLflow-Timestamp")
    expected = "v1," + base64.b64encode(
        _digest(key, f"{delivery_id}.{timestamp}.".encode() + body)).decode()
    if not hmac.compare_digest(signature.strip().encode(), expected.encode()):
        raise SignatureError("X-MLflow-Signature does not match the body")


def verify_github(secret: str | None, *, body: bytes, signature: str | None) -> None:
    key = _require(secret, "RESILIO_GITHUB_WEBHOOK_SECRET")
    if not signature:
        raise SignatureError("missing X-Hub-Signature-256 (set a secret on the GitHub webhook)")
    expected = "sha256=" + _digest(key, body).hex()
    if not hmac.compare_digest(signature.strip().encode(), expected.encode()):
        raise SignatureError("X-Hub-Signature-256 does not match the body")


def sign_generic(secret: str, *, body: bytes, timestamp: str) -> str:
    """The ``X-Resilio-Signature`` a sender computes (documented in docs/changes.md)."""
    return "sha256=" + _digest(secret, timestamp.encode() + b"." + body).hex()


def verify_generic(secret: str | None, *, body: bytes, timestamp: str | None,
                   signature: str | None, now: float) -> None:
    key = _require(secret, "RESILIO_CHANGE_WEBHOOK_SECRET")
    if not signature:
        raise SignatureError("missing X-Resilio-Signature")
    _fresh(timestamp, now, "X-Resilio-Timestamp")
    expected = sign_generic(key, body=body, timestamp=str(timestamp))
    if not hmac.compare_digest(signature.strip().encode(), expected.encode()):
        raise SignatureError("X-Resilio-Signature does not match the timestamp and body")
