"""One canonical form for every token, header and reference before it is compared, counted or
stored: webhook deliveries (finding 4), link tokens (finding 5), import references (finding 7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.api.app import PORTAL_POSTS_PER_MINUTE
from recoup.config import Settings
from recoup.ingest.columns import Kind
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.kit.errors import BadSignature
from recoup.kit.signing import sign
from recoup.kit.tokens import canonical_token, read_token
from recoup.models import Account, Bill, Case, Payment
from recoup.web.portal import csrf_field
from tests.api.test_ingest_api import event, setup_account, signed
from tests.web.test_portal import late, link

WEBHOOK = "/v1/webhooks/wallet/payments"


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_finding_04_a_replayed_delivery_is_refused_however_its_signature_is_spelled(
    anonymous: TestClient, client: TestClient, clock: SettableClock, session: Session
) -> None:
    """The same signed delivery sent again with its signature header re-spelled (a trailing
    comma, a `v0=` entry before it, spaces, a second `v1=` under another secret) or its timestamp
    re-spelled is refused (409 `replay_rejected`, or 401 for a timestamp not in canonical form),
    never 200 `already_recorded`. Catches keying `webhook_receipts` on the signature header's
    text again (`verify` hashing `signature_header` instead of `delivery_digest`)."""
    setup_account(client)
    body = event()
    ts = int(clock.now().timestamp())
    first = signed(body, ts)
    assert anonymous.post(WEBHOOK, content=body, headers=first).status_code == 200
    signature = first["X-Recoup-Signature"]
    other = sign(b"another secret", ts, body)
    for spelling in (
        f"{signature},",
        f"v0=x, {signature}",
        f"  {signature}  ",
        f"{other}, {signature}",
        f"{signature},{signature}",
    ):
        again = anonymous.post(
            WEBHOOK, content=body, headers={**first, "X-Recoup-Signature": spelling}
        )
        assert again.status_code == 409, (spelling, again.text)
        assert again.json()["error"] == "replay_rejected"
    for stamp in (f"0{ts}", f"+{ts}", f" {ts}", f"{str(ts)[:3]}_{str(ts)[3:]}"):
        again = anonymous.post(
            WEBHOOK, content=body, headers={**first, "X-Recoup-Timestamp": stamp}
        )
        assert again.status_code in (401, 409), (stamp, again.text)
    assert count(session, Payment) == 1


def spellings(token: str) -> list[str]:
    """Ways to write one token that base64 decoders accept: padding, characters outside the
    alphabet (which they skip), the spare bits of the tag's last character."""
    body, _, tag = token.partition(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(tag[-1])
    spare = [tag[:-1] + alphabet[(last & ~3) | bits] for bits in range(4)]
    found = [f"{body}.{t}" for t in spare if t != tag]
    found += [f"{body}.{tag}=" + "!" * n for n in range(100)]
    return found


def test_finding_05_a_link_has_one_spelling_and_one_rate_limit(
    anonymous: TestClient, session: Session, clock: SettableClock, settings: Settings
) -> None:
    """Every other spelling of a pay link's token is refused as a link, and all the posts made
    through spellings of one link share its limit: of 80 complaints sent in a second through 80
    spellings at most `PORTAL_POSTS_PER_MINUTE` reach the form, and none opens a case. Catches
    removing `canonical_token` from `kit.tokens.read_token` (each spelling then opens the portal
    and counts as a new link: 80 cases). The limiter's canonical key (`api.app._portal_wait`) is
    a second net this test cannot isolate: with the first in place no spelling gets through."""
    account = late(session, clock, "王芳", 50_000)
    token = link(settings, account, clock).removeprefix("/p/")
    assert canonical_token(token) == token
    variants = spellings(token)
    for variant in variants:
        assert canonical_token(variant) is None
        with pytest.raises(BadSignature):
            read_token(settings.link_signing_keys, variant, now=clock.now())
    reached = 0
    for variant in variants[:80]:
        response = anonymous.post(
            f"/p/{variant}/help",
            data={
                "csrf": csrf_field(settings, variant),
                "kind": "complaint",
                "reason": "too_many_contacts",
            },
            follow_redirects=False,
        )
        reached += response.status_code not in (410, 429)
    assert reached <= PORTAL_POSTS_PER_MINUTE
    assert count(session, Case) == 0


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (
            Kind.accounts,
            "external_ref,customer_ref,product,currency,opened_date\n"
            "acc-1,c1,bnpl,CNY,2026-01-10\n"
            " acc-1 ,c1,bnpl,CNY,2026-01-10\n",
        ),
        (
            Kind.bills,
            "account_ref,external_ref,due_date,principal_minor\n"
            "a1,i-1,2026-02-10,100\n"
            "a1,  i-1,2026-02-10,100\n",
        ),
        (
            Kind.payments,
            "external_id,account_ref,amount_minor,currency,received_at\n"
            "p-1,a1,100,CNY,2026-02-09T20:00:00+08:00\n"
            "p-1 ,a1,100,CNY,2026-02-09T20:00:00+08:00\n",
        ),
    ],
)
def test_finding_07_import_refs_differing_by_spaces_are_one_ref(
    session: Session, tmp_path: Path, kind: Kind, text: str
) -> None:
    """References that differ only by surrounding spaces are the same reference: the file is
    refused with a duplicate named on its line (no IntegrityError, nothing written), and with
    `--skip-invalid` the first row is stored once. Catches removing the canonical form from
    `ingest.reading` (`_canonical`): the checks then compare the raw text, the writer the
    stripped one, and the import dies on the database's unique constraint."""
    importer = Importer(session, clock=SettableClock(dt.datetime(2026, 4, 1, tzinfo=dt.UTC)))
    for name, setup in (
        ("customers.csv", "external_ref,name,jurisdiction\nc1,李娜,CN\n"),
        (
            "accounts.csv",
            "external_ref,customer_ref,product,currency,opened_date\na1,c1,bnpl,CNY,2026-01-10\n",
        ),
    ):
        assert not importer.import_file(write(tmp_path, name, setup)).errors
    before = {model: count(session, model) for model in (Account, Bill, Payment)}
    refused = importer.import_file(write(tmp_path, f"{kind}-probe.csv", text), kind=kind)
    assert refused.imported == 0
    assert [(e.line, e.problem.split(" ")[0]) for e in refused.errors] == [(3, "duplicate")]
    assert {model: count(session, model) for model in before} == before
    skipped = importer.import_file(
        write(tmp_path, f"{kind}-probe.csv", text), kind=kind, skip_invalid=True
    )
    assert skipped.imported == 1
