"""WeChat service-account template messages (微信服务号模板消息).

The documented interface (developers.weixin.qq.com, 服务号 → 基础消息能力 → 模板消息):

    POST {base}/cgi-bin/stable_token
      {"grant_type": "client_credential", "appid", "secret", "force_refresh": false}
      -> {"access_token", "expires_in": 7200} | {"errcode", "errmsg"}
    POST {base}/cgi-bin/message/template/send?access_token=TOKEN
      {"touser": <openid>, "template_id", "url"?, "client_msg_id", "data": {key: {"value"}}}
      -> {"errcode": 0, "errmsg": "ok", "msgid"} | {"errcode", "errmsg"}

WeChat answers HTTP 200 with an `errcode` for most failures, so the code decides:
- 40001 / 42001 / 40014 (the token is invalid, expired or not the latest): fetch a fresh token
  (`force_refresh`) and send once more; a second refusal is a PermanentError (a credential problem).
- 43004 (require subscribe: the person unfollowed the account): `OptedOut`, recorded as an opt-out.
- -1 (system busy), 45009 / 45047 (rate limits): TransientError.
- anything else (40003 invalid openid, 40037 invalid template_id, ...): PermanentError.

The stable-token interface returns the same token until it expires whoever asks (unlike
`cgi-bin/token`, which invalidates the previous one), so several workers can share one account.
One token serves every thread until five minutes before it expires; one thread fetches it.
`client_msg_id` is WeChat's own de-duplication key for template messages: the idempotency key.

The account may carry collection notices only where the rule packs allow (`cn.wechat_service_account`:
the lender's own service account, to a debtor who followed it and consented; never a collector's
personal WeChat, `social_dm`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from recoup.channels.base import Accepted, OptedOut, Outgoing, PermanentError, TransientError
from recoup.channels.http import ProviderClient, classify, scrub

TOKEN_INVALID = frozenset({40001, 42001, 40014})
UNSUBSCRIBED = 43004
BUSY = frozenset({-1, 45009, 45047})
_TOKEN_MARGIN = 300  # refresh this many seconds before WeChat says the token expires
_VALUE_LIMIT = 200  # characters of one template field WeChat shows


class WeChatAdapter:
    name = "wechat"
    channel = "wechat"

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        template_id: str,
        fields: Mapping[str, str] | None = None,
        link: bool = True,
        base_url: str = "https://api.weixin.qq.com",
        timeout: float = 10.0,
        concurrency: int = 8,
        rate_per_second: float | None = None,
    ) -> None:
        fields = dict(fields or {"first": "subject", "remark": "body"})
        unknown = sorted(v for v in fields.values() if v not in ("subject", "body"))
        if unknown or "body" not in fields.values():
            raise ValueError("fields maps template keys to `subject` or `body`; one carries body")
        if not app_id or not app_secret or not template_id:
            raise ValueError("WeChatAdapter needs app_id, app_secret and template_id")
        self.app_id = app_id
        self.template_id = template_id
        self.fields = fields
        self.link = link
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._secret = app_secret
        self._lock = threading.Lock()
        self._token: str | None = None
        self._good_until = 0.0  # time.monotonic()
        self._client = ProviderClient(
            self.name, concurrency=concurrency + 1, timeout=timeout, base_url=base_url.rstrip("/")
        )

    def send(self, message: Outgoing) -> Accepted:
        values = {"subject": message.subject or "", "body": message.body}
        payload: dict[str, Any] = {
            "touser": message.to,
            "template_id": self.template_id,
            "client_msg_id": message.idempotency_key[:64],
            "data": {
                key: {"value": values[source][:_VALUE_LIMIT]} for key, source in self.fields.items()
            },
        }
        url = message.metadata.get("link")
        if self.link and url:
            payload["url"] = url
        stale: str | None = None
        for attempt in range(2):
            token = self._access_token(refresh_from=stale)
            response = self._client.post(
                "/cgi-bin/message/template/send", params={"access_token": token}, json=payload
            )
            classify(response, provider=self.name, redact=(message.to,))
            code, text = _errcode(response)
            if code == 0:
                return Accepted(provider=self.name, provider_id=_msgid(response))
            reason = f"wechat {code}: {scrub(text or '', (message.to,))}".rstrip(": ")
            if code in TOKEN_INVALID:
                if attempt == 0:
                    stale = token
                    continue
                raise PermanentError(f"{reason} (after a fresh access token)")
            if code == UNSUBSCRIBED:
                raise OptedOut(f"{reason} (the person unfollowed the service account)")
            if code in BUSY:
                raise TransientError(reason)
            raise PermanentError(reason)
        raise AssertionError("unreachable")  # pragma: no cover

    def _access_token(self, *, refresh_from: str | None = None) -> str:
        """The cached token; a fresh one when it is near its end or when `refresh_from` (the token
        WeChat just refused) is still the cached one. Another thread may have refreshed it already."""
        with self._lock:
            if (
                self._token is not None
                and time.monotonic() < self._good_until
                and self._token != refresh_from
            ):
                return self._token
            response = self._client.post(
                "/cgi-bin/stable_token",
                json={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self._secret,
                    "force_refresh": refresh_from is not None,
                },
            )
            classify(response, provider=self.name)
            code, text = _errcode(response)
            body = _json(response)
            token = body.get("access_token")
            if code not in (0, None) or not isinstance(token, str):
                reason = f"wechat token {code}: {scrub(text or '')}"
                if code in BUSY:
                    raise TransientError(reason)
                raise PermanentError(reason)  # a wrong appid or secret, an IP not allow-listed
            expires = float(body.get("expires_in") or 7200)
            self._token = token
            self._good_until = time.monotonic() + max(expires - _TOKEN_MARGIN, 0.0)
            return token

    def close(self) -> None:
        self._client.close()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _errcode(response: httpx.Response) -> tuple[int | None, str | None]:
    body = _json(response)
    code = body.get("errcode")
    try:
        number = int(code) if code is not None else None
    except (TypeError, ValueError):
        number = None
    message = body.get("errmsg")
    return number, str(message) if message is not None else None


def _msgid(response: httpx.Response) -> str | None:
    value = _json(response).get("msgid")
    return None if value is None else str(value)
