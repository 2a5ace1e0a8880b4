"""Local stand-ins for the providers, on real sockets: each speaks the provider's documented request
and answer shapes, checks what the real one checks (credentials, signatures, required fields),
records every request, and answers scripted errors when a test asks for them."""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from recoup.kit import signing


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its keep-alive connection at shutdown is not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeProvider:
    """A threaded HTTP/1.1 server on 127.0.0.1 (keep-alive, so the adapters' pools are exercised)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.delay = 0.0  # seconds to wait before answering, to provoke client timeouts
        self._scripted: deque[tuple[str, Response]] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
                answer = fake._answer(request)
                payload = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                if answer.body is not None:
                    self.send_header("Content-Type", "application/json")
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *responses: Response, path: str = "") -> None:
        """Answer the next requests whose path ends with `path` with these, in order."""
        with self._lock:
            self._scripted.extend((path, response) for response in responses)

    def requests_to(self, suffix: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if urlsplit(r.path).path.endswith(suffix)]

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def _answer(self, request: Request) -> Response:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.requests.append(request)
            for i, (suffix, response) in enumerate(self._scripted):
                if request.path.endswith(suffix):
                    del self._scripted[i]
                    return response
        return self.handle(request)


def twilio_error(status: int, code: int, message: str, **headers: str) -> Response:
    """Twilio's documented error body."""
    return Response(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        headers,
    )


class FakeTwilio(FakeProvider):
    """POST /2010-04-01/Accounts/{sid}/Messages.json with basic auth and a form body -> 201."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token

    def handle(self, request: Request) -> Response:
        if request.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return twilio_error(404, 20404, "The requested resource was not found")
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return twilio_error(401, 20003, "Authenticate")
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return twilio_error(400, 20001, "Unsupported content type")
        form = request.form()
        if not form.get("To"):
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not form.get("Body"):
            return twilio_error(400, 21602, "Message body is required.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return twilio_error(400, 21603, "The 'From' phone number is required.")
        return Response(
            201,
            {
                "sid": "SM" + uuid.uuid4().hex,
                "account_sid": self.account_sid,
                "to": form["To"],
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form["Body"],
                "status": "accepted" if form.get("MessagingServiceSid") else "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "error_code": None,
                "error_message": None,
            },
        )


def google_error(
    status: int, state: str, message: str, code: str | None = None, **headers: str
) -> Response:
    """Google's error body; FCM adds an FcmError detail naming its own error code."""
    error: dict[str, Any] = {"code": status, "message": message, "status": state}
    if code:
        error["details"] = [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
        ]
    return Response(status, {"error": error}, headers)


class FakeFcm(FakeProvider):
    """Google's token endpoint (JWT bearer grant, verified against the service account's public key)
    and FCM's messages:send (bearer token checked) on one server."""

    SCOPE = "https://www.googleapis.com/auth/firebase.messaging"

    def __init__(self, *, project_id: str, client_email: str, key: rsa.RSAPrivateKey) -> None:
        super().__init__()
        self.project_id = project_id
        self.client_email = client_email
        self.public_key = key.public_key()
        self.expires_in = 3599
        self.token_delay = 0.0
        self.claims: list[dict[str, Any]] = []
        self._issued: set[str] = set()

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def revoke_tokens(self) -> None:
        with self._lock:
            self._issued.clear()

    def handle(self, request: Request) -> Response:
        if request.path == "/token":
            return self._token(request)
        if request.path == f"/v1/projects/{self.project_id}/messages:send":
            return self._send(request)
        return google_error(404, "NOT_FOUND", "Requested entity was not found.")

    def _token(self, request: Request) -> Response:
        time.sleep(self.token_delay)
        form = request.form()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Response(
                400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
            )
        problem = self._check_assertion(form.get("assertion", ""))
        if problem:
            return Response(400, {"error": "invalid_grant", "error_description": problem})
        token = "ya29." + uuid.uuid4().hex
        with self._lock:
            self._issued.add(token)
        return Response(
            200, {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        )

    def _check_assertion(self, assertion: str) -> str | None:
        parts = assertion.split(".")
        if len(parts) != 3:
            return "Invalid JWT: not three segments"
        header, claims = (json.loads(_unb64url(part)) for part in parts[:2])
        if header.get("alg") != "RS256" or header.get("typ") != "JWT":
            return "Invalid JWT: unsupported header"
        try:
            self.public_key.verify(
                _unb64url(parts[2]),
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return "Invalid JWT Signature."
        now = time.time()
        if claims.get("iss") != self.client_email or claims.get("scope") != self.SCOPE:
            return "Invalid JWT: iss or scope"
        if claims.get("aud") != self.token_uri:
            return "Invalid JWT: aud"
        if not (now - 300 <= claims["iat"] <= now + 300) or claims["exp"] - claims["iat"] != 3600:
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        with self._lock:
            self.claims.append(claims)
        return None

    def _send(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        with self._lock:
            known = auth.startswith("Bearer ") and auth.removeprefix("Bearer ") in self._issued
        if not known:
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            )
        message = request.json().get("message", {})
        data = message.get("data", {})
        if not message.get("token") or not all(isinstance(v, str) for v in data.values()):
            return google_error(400, "INVALID_ARGUMENT", "Invalid message", "INVALID_ARGUMENT")
        return Response(200, {"name": f"projects/{self.project_id}/messages/0:{uuid.uuid4().hex}"})


class FakeSignedService(FakeProvider):
    """A JSON service that verifies recoup's HMAC signature (the wallet's push service, an SMS
    gateway), answers `{id_field: ...}` and answers a repeated idempotency key with the first id."""

    def __init__(
        self,
        secrets: Iterable[str],
        *,
        id_field: str = "id",
        status: int = 202,
        idempotency_header: str = "Idempotency-Key",
        required_headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.secrets = [s.encode() for s in secrets]
        self.id_field = id_field
        self.status = status
        self.idempotency_header = idempotency_header.lower()
        self.required_headers = {k.lower(): v for k, v in (required_headers or {}).items()}
        self._ids: dict[str, str] = {}

    def handle(self, request: Request) -> Response:
        for name, value in self.required_headers.items():
            if request.headers.get(name) != value:
                return Response(401, {"error": "unauthorized", "message": f"bad {name}"})
        if self.secrets:
            timestamp = request.headers.get("x-recoup-timestamp", "")
            header = request.headers.get("x-recoup-signature", "")
            if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
                return Response(401, {"error": "stale", "message": "timestamp missing or stale"})
            if not signing.verify(self.secrets, int(timestamp), request.body, header):
                return Response(401, {"error": "bad_signature", "message": "signature mismatch"})
        key = request.headers.get(self.idempotency_header)
        with self._lock:
            provider_id = self._ids.get(key) if key else None
            if provider_id is None:
                provider_id = "msg_" + uuid.uuid4().hex
                if key:
                    self._ids[key] = provider_id
        return Response(self.status, {self.id_field: provider_id, "status": "queued"})


def _unb64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
