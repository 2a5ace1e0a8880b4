"""Against a real `recoup serve`: what its logs hold (finding 2) and whose address its sign-in limit
counts (trusted proxies)."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx

from recoup.arrangements.links import pay_link
from tests.security.conftest import LIVE_LINK_KEY, Live

PHONE_DIGITS = "13812345678"
EMAIL_LOCAL = "li.na.probe"


def lines_after(live: Live, *, marker: str) -> list[str]:
    """The log lines written once the server answered requests up to `marker` (a request path the
    log will show), waiting for the log to catch up."""
    deadline = time.monotonic() + 10
    while True:
        text = live.log.read_text(encoding="utf-8") if live.log.exists() else ""
        if marker in text or time.monotonic() > deadline:
            return text.splitlines()
        time.sleep(0.1)


def test_finding_02_no_credential_or_personal_data_in_any_log_line(live: Live) -> None:
    """A pay link's token (a 14-day credential) and a phone number or e-mail in a query string,
    plain or URL-encoded, reach no log line: neither our request log nor uvicorn's access log,
    which `recoup serve` keeps and routes through the same redaction. Catches removing the
    URL-decoding, token or query masking from `recoup.kit.logging.scrub` (uvicorn's access line
    then shows `/p/<token>` and `phone=%2B86...` in clear)."""
    token = pay_link(
        "",
        LIVE_LINK_KEY.encode(),
        customer_id=1,
        contact_id=None,
        now=dt.datetime.now(dt.UTC),
    ).removeprefix("/p/")
    headers = {"Authorization": f"Bearer {live.key}"}
    httpx.get(f"{live.base}/p/{token}")
    httpx.get(f"{live.base}/p/{token}/help?lang=en")
    httpx.post(f"{live.base}/p/{token}/help", content=b"csrf=x")
    httpx.get(
        f"{live.base}/v1/customers?phone=%2B86{PHONE_DIGITS}&email={EMAIL_LOCAL}%40example.com",
        headers=headers,
    )
    httpx.get(f"{live.base}/v1/customers?phone=+86{PHONE_DIGITS}", headers=headers)
    httpx.get(f"{live.base}/v1/customers?email={EMAIL_LOCAL}@example.com", headers=headers)
    httpx.get(f"{live.base}/healthz?done=1")
    lines = lines_after(live, marker="/healthz?done=1")
    access = [line for line in lines if ' HTTP/1.1\\" ' in line]  # uvicorn's access lines
    assert access, "uvicorn's access log is kept (and masked), so the probe must see it"
    assert any("/p/{token}" in line for line in access)
    leaks = [
        line
        for line in lines
        if token in line
        or token.split(".")[1] in line
        or PHONE_DIGITS in line
        or EMAIL_LOCAL in line
        or "%40example" in line
    ]
    assert leaks == []
    for line in lines:
        json.loads(line)  # every line is a JSON record: nothing bypassed the pipeline


def test_trusted_proxies_forwarded_for_changes_no_address_by_default(live: Live) -> None:
    """With no `RECOUP_TRUSTED_PROXIES` (the default) an `X-Forwarded-For` header is not believed,
    even from 127.0.0.1: eleven sign-ins a minute from one socket are limited however each names
    itself. Catches `recoup serve` leaving uvicorn's default (`proxy_headers` on, 127.0.0.1
    trusted): every forged address then gets its own ten attempts."""
    statuses = [
        httpx.post(
            f"{live.base}/v1/auth/sessions",
            json={"username": f"nobody{i}", "password": "not the password"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        ).status_code
        for i in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
