"""Local stand-ins for the providers, on real sockets: each speaks the provider's documented request
and answer shapes, checks what the real one checks (credentials, signatures, required fields),
records every request, and answers scripted errors when a test asks for them."""

from __future__ import annotations

import base64
import hashlib
import hmac
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

            def do_GET(self) -> None:
                self.do_POST(method="GET")

            def do_POST(self, method: str = "POST") -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=method,
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
        """Answer the next requests whose path (query left out) ends with `path` with these."""
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
                if urlsplit(request.path).path.endswith(suffix):
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


class FakePost(FakeProvider):
    """The print-and-post interface of docs/contact.md ("Letters"): a bearer key, batches of PDFs
    with addresses, a reference printed once (a reference seen before answers its earlier outcome),
    lookup by reference. Recipients named in `undeliverable` are rejected per letter."""

    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.undeliverable: set[str] = set()
        self.printed: dict[str, bytes] = {}  # reference -> the PDF, once per reference
        self.batches: list[list[str]] = []  # the references of each batch posted
        self._ids: dict[str, dict[str, Any]] = {}

    def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Response(401, {"error": {"code": "unauthorized", "message": "bad key"}})
        path = urlsplit(request.path)
        if request.method == "GET" and path.path == "/v1/letters":
            reference = dict(parse_qsl(path.query)).get("reference")
            found = [self._ids[reference]] if reference in self._ids else []
            return Response(200, {"letters": found})
        if request.method != "POST" or path.path != "/v1/letter-batches":
            return Response(404, {"error": {"code": "not_found", "message": "no such resource"}})
        body = request.json()
        if request.headers.get("idempotency-key") != body.get("batch_reference"):
            return Response(400, {"error": {"code": "idempotency_key", "message": "mismatch"}})
        letters = body.get("letters")
        if not isinstance(letters, list) or not letters:
            return Response(400, {"error": {"code": "no_letters", "message": "empty batch"}})
        answers = []
        for letter in letters:
            answers.append(self._letter(letter))
        with self._lock:
            self.batches.append([str(letter.get("reference")) for letter in letters])
        return Response(202, {"batch_id": "b_" + uuid.uuid4().hex[:12], "letters": answers})

    def _letter(self, letter: dict[str, Any]) -> dict[str, Any]:
        reference = str(letter.get("reference") or "")
        with self._lock:
            if reference in self._ids:
                return self._ids[reference]
        recipient = letter.get("recipient") or {}
        pdf = base64.b64decode(letter.get("pdf_base64") or "")
        if not pdf.startswith(b"%PDF-") or hashlib.sha256(pdf).hexdigest() != letter.get("sha256"):
            return {
                "reference": reference,
                "status": "rejected",
                "error": {"code": "bad_document", "message": "not the PDF described"},
            }
        if not recipient.get("name") or not recipient.get("lines") or not recipient.get("country"):
            return {
                "reference": reference,
                "status": "rejected",
                "error": {"code": "address_incomplete", "message": "name, lines, country"},
            }
        if recipient["name"] in self.undeliverable:
            return {
                "reference": reference,
                "status": "rejected",
                "error": {
                    "code": "address_undeliverable",
                    "message": f"{recipient['name']} at {recipient['lines'][0]}: no such address",
                },
            }
        answer = {
            "reference": reference,
            "id": "ltr_" + uuid.uuid4().hex[:16],
            "status": "accepted",
        }
        with self._lock:
            self._ids[reference] = answer
            self.printed[reference] = pdf
        return answer


class FakeWeChat(FakeProvider):
    """WeChat's stable_token and message/template/send: errcode semantics on HTTP 200, tokens that
    `expire()` server-side, followers who `unfollow()`, `client_msg_id` de-duplication."""

    def __init__(self, app_id: str, app_secret: str, template_id: str) -> None:
        super().__init__()
        self.app_id, self.app_secret, self.template_id = app_id, app_secret, template_id
        self.followers: set[str] = set()
        self.sent: dict[str, dict[str, Any]] = {}  # client_msg_id -> the message
        self.tokens_issued = 0
        self._token: str | None = None

    def expire(self) -> None:
        with self._lock:
            self._token = None

    def handle(self, request: Request) -> Response:
        path = urlsplit(request.path)
        body = request.json()
        if path.path == "/cgi-bin/stable_token":
            if body.get("grant_type") != "client_credential" or body.get("appid") != self.app_id:
                return Response(200, {"errcode": 40013, "errmsg": "invalid appid"})
            if body.get("secret") != self.app_secret:
                return Response(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
            with self._lock:
                if self._token is None or body.get("force_refresh"):
                    self._token = "tok_" + uuid.uuid4().hex
                    self.tokens_issued += 1
                return Response(200, {"access_token": self._token, "expires_in": 7200})
        if path.path != "/cgi-bin/message/template/send":
            return Response(404, None)
        token = dict(parse_qsl(path.query)).get("access_token")
        with self._lock:
            if token is None or token != self._token:
                return Response(
                    200,
                    {
                        "errcode": 40001,
                        "errmsg": "invalid credential, access_token is invalid or not latest",
                    },
                )
        if body.get("template_id") != self.template_id:
            return Response(200, {"errcode": 40037, "errmsg": "invalid template_id"})
        if body.get("touser") not in self.followers:
            return Response(200, {"errcode": 43004, "errmsg": "require subscribe"})
        key = str(body.get("client_msg_id") or uuid.uuid4().hex)
        with self._lock:
            first = self.sent.setdefault(key, {**body, "msgid": len(self.sent) + 1})
        return Response(200, {"errcode": 0, "errmsg": "ok", "msgid": first["msgid"]})


def whatsapp_error(status: int, code: int, message: str, details: str = "") -> Response:
    """The Graph API's error body as the Cloud API sends it."""
    return Response(
        status,
        {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": details},
                "fbtrace_id": "A" + uuid.uuid4().hex[:20],
            }
        },
    )


class FakeWhatsApp(FakeProvider):
    """POST /{version}/{phone-number-id}/messages with a bearer token and a template message.
    Numbers in `stopped` answer 131050, in `undeliverable` 131026; `status_webhook` builds the
    signed status callback Meta would send."""

    def __init__(self, phone_number_id: str, token: str, app_secret: str) -> None:
        super().__init__()
        self.phone_number_id, self.token, self.app_secret = phone_number_id, token, app_secret
        self.stopped: set[str] = set()
        self.undeliverable: set[str] = set()

    def handle(self, request: Request) -> Response:
        if not urlsplit(request.path).path.endswith(f"/{self.phone_number_id}/messages"):
            return whatsapp_error(400, 100, "Unsupported post request")
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return whatsapp_error(401, 190, "Error validating access token: Session has expired")
        body = request.json()
        template = body.get("template") or {}
        if body.get("messaging_product") != "whatsapp" or body.get("type") != "template":
            return whatsapp_error(400, 100, "Invalid parameter")
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            return whatsapp_error(400, 132001, "Template name does not exist in the translation")
        to = str(body.get("to") or "")
        if not to.isdigit():
            return whatsapp_error(400, 100, "Invalid parameter: to")
        if to in self.stopped:
            return whatsapp_error(
                400,
                131050,
                "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
            )
        if to in self.undeliverable:
            return whatsapp_error(400, 131026, f"Message undeliverable to {to}")
        return Response(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": "wamid." + uuid.uuid4().hex}],
            },
        )

    def status_webhook(
        self, provider_id: str, key: str, status: str, error_code: int | None = None
    ) -> tuple[bytes, str]:
        item: dict[str, Any] = {
            "id": provider_id,
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": "15551234567",
            "biz_opaque_callback_data": key,
        }
        if error_code is not None:
            item["errors"] = [{"code": error_code, "title": "failed"}]
        body = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "WABA_ID",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {"messaging_product": "whatsapp", "statuses": [item]},
                            }
                        ],
                    }
                ],
            }
        ).encode()
        mac = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, f"sha256={mac}"
