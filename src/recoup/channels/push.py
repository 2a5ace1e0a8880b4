"""Push adapters: Firebase Cloud Messaging (HTTP v1) and the wallet's own push service.

FCM (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send):
    POST {base}/v1/projects/{project_id}/messages:send, `Authorization: Bearer <access token>`,
    {"message": {"token", "notification": {"title", "body"}, "data": {...}}} -> 200 {"name": ...}
    errors -> {"error": {"code", "status", "message", "details": [{"errorCode": "UNREGISTERED"}]}}

The access token comes from Google's OAuth2 JWT bearer grant (RFC 7523): an RS256 JWT signed with
the service account's key, exchanged at its `token_uri`. One token serves every thread until a minute
before it expires; only one thread fetches it. FCM has no idempotency header, so the key travels in
`data.idempotency_key` for the app to drop a duplicate it already showed.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from recoup.channels.base import Accepted, Outgoing, TransientError
from recoup.channels.http import (
    ProviderClient,
    classify,
    error_detail,
    json_field,
    signed_json,
)
from recoup.kit.clock import Clock, SystemClock

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
_ASSERTION_LIFETIME = 3600  # Google's maximum for a service-account assertion
_TOKEN_MARGIN = 60  # refresh this many seconds before Google says the token expires
# A 401 that a fresh access token will not cure: FCM's APNs certificate or web-push key is wrong.
_THIRD_PARTY_AUTH_ERROR = "THIRD_PARTY_AUTH_ERROR"


class FcmAdapter:
    name = "fcm"
    channel = "push"

    def __init__(
        self,
        *,
        service_account: Mapping[str, Any],
        base_url: str = "https://fcm.googleapis.com",
        timeout: float = 10.0,
        concurrency: int = 8,
        rate_per_second: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        missing = [
            k for k in ("project_id", "client_email", "private_key") if not service_account.get(k)
        ]
        if missing:
            raise ValueError(f"service account lacks {', '.join(missing)}")
        key = serialization.load_pem_private_key(
            str(service_account["private_key"]).encode(), password=None
        )
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("service account private_key is not an RSA key")
        self.project_id = str(service_account["project_id"])
        self.client_email = str(service_account["client_email"])
        self.token_uri = str(service_account.get("token_uri") or GOOGLE_TOKEN_URI)
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._key = key
        self._key_id = service_account.get("private_key_id")
        self._clock = clock or SystemClock()
        self._path = f"/v1/projects/{self.project_id}/messages:send"
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_good_until = 0.0  # time.monotonic(): a cache lifetime, not a wall-clock instant
        # One connection more than the senders, for the token request.
        self._client = ProviderClient(
            self.name, concurrency=concurrency + 1, timeout=timeout, base_url=base_url.rstrip("/")
        )

    def send(self, message: Outgoing) -> Accepted:
        notification = {"body": message.body}
        if message.subject:
            notification["title"] = message.subject
        body = json.dumps(
            {
                "message": {
                    "token": message.to,
                    "notification": notification,
                    "data": {**message.metadata, "idempotency_key": message.idempotency_key},
                }
            },
            ensure_ascii=False,
        ).encode()
        for attempt in range(2):
            token = self._access_token()
            response = self._client.post(
                self._path,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            if response.status_code != 401 or attempt == 1:
                break
            if error_detail(response)[0] == _THIRD_PARTY_AUTH_ERROR:
                break
            # Revoked or expired early on Google's side: fetch a new token once and try again.
            self._forget(token)
        classify(response, provider=self.name, redact=(message.to,))
        return Accepted(provider=self.name, provider_id=json_field(response, "name"))

    def close(self) -> None:
        self._client.close()

    def _access_token(self) -> str:
        # Held during the fetch on purpose: threads arriving meanwhile wait for that token instead
        # of each asking Google for one.
        with self._lock:
            if self._token is not None and time.monotonic() < self._token_good_until:
                return self._token
            token, expires_in = self._fetch_token()
            self._token = token
            self._token_good_until = time.monotonic() + max(expires_in - _TOKEN_MARGIN, 0)
            return token

    def _forget(self, token: str) -> None:
        with self._lock:
            if self._token == token:  # another thread may already have replaced it
                self._token = None

    def _fetch_token(self) -> tuple[str, float]:
        provider = f"{self.name} oauth"
        response = self._client.post(
            self.token_uri,
            provider=provider,
            data={"grant_type": JWT_BEARER_GRANT, "assertion": self._assertion()},
        )
        classify(response, provider=provider)
        token = json_field(response, "access_token")
        if not token:
            raise TransientError(f"{provider} {response.status_code}: answer without access_token")
        try:
            expires_in = float(json_field(response, "expires_in") or _ASSERTION_LIFETIME)
        except ValueError:
            expires_in = float(_ASSERTION_LIFETIME)
        return token, expires_in

    def _assertion(self) -> str:
        """The RS256 JWT Google exchanges for an access token (RFC 7523 section 2.1)."""
        issued_at = int(self._clock.now().timestamp())
        header = {"alg": "RS256", "typ": "JWT"}
        if self._key_id:
            header["kid"] = str(self._key_id)
        claims = {
            "iss": self.client_email,
            "scope": FCM_SCOPE,
            "aud": self.token_uri,
            "iat": issued_at,
            "exp": issued_at + _ASSERTION_LIFETIME,
        }
        signing_input = f"{_b64url_json(header)}.{_b64url_json(claims)}".encode()
        signature = self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64url(signature)}"


class WebhookPushAdapter:
    """The wallet's own push service: a signed JSON POST naming the wallet user, not a device.

    {"user", "title", "body", "data", "idempotency_key"}
    X-Recoup-Timestamp / X-Recoup-Signature (recoup.kit.signing), Idempotency-Key
    -> 2xx, optionally {"id": ...}
    """

    name = "wallet-push"
    channel = "push"

    def __init__(
        self,
        *,
        url: str,
        secret: str | Sequence[str],
        headers: Mapping[str, str] | None = None,
        idempotency_header: str = "Idempotency-Key",
        timeout: float = 10.0,
        concurrency: int = 8,
        rate_per_second: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.secrets: tuple[str, ...] = (secret,) if isinstance(secret, str) else tuple(secret)
        if not self.secrets or not all(self.secrets):
            raise ValueError("WebhookPushAdapter needs a signing secret")
        self.url = url
        self.idempotency_header = idempotency_header
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._clock = clock or SystemClock()
        self._client = ProviderClient(
            self.name, concurrency=concurrency, timeout=timeout, headers=headers
        )

    def send(self, message: Outgoing) -> Accepted:
        payload = {
            "user": message.to,
            "title": message.subject,
            "body": message.body,
            "data": message.metadata,
            "idempotency_key": message.idempotency_key,
        }
        body, headers = signed_json(payload, self.secrets, self._clock)
        headers[self.idempotency_header] = message.idempotency_key
        response = self._client.post(self.url, content=body, headers=headers)
        classify(response, provider=self.name, redact=(message.to,))
        return Accepted(provider=self.name, provider_id=json_field(response, "id"))

    def close(self) -> None:
        self._client.close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_json(value: Mapping[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())
