"""Consent as a record: what a person agreed to, in what scope, the proof, how long it lasts.

A consent has a kind (`KINDS`: what it permits), an optional channel, a scope (an account, a
local time window, an address), evidence (who took it, how, a reference), a source (who recorded
it: an agent on a call, the debtor in the portal, the wallet through the API, an imported file, a
reply handled by a supervisor) and an optional expiry. It is withdrawn, never deleted: the
record stays for the person's export and the regulator. The guard reads the consents in force at
the moment it decides (given, not withdrawn, not expired): `strategy.repository` at plan time and
`contact.repository` at send time both filter on exactly that.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.kit.clock import Clock
from recoup.kit.errors import NotFound, ValidationFailed
from recoup.ledger.repository import CustomerRepository
from recoup.models import Consent
from recoup.privacy import repository as repo
from recoup.privacy.repository import ConsentRepository
from recoup.privacy.service.requests import CustomerNotFound

# What a consent permits, and which of these the guard reads today.
KINDS: dict[str, str] = {
    # Read by the guard at plan and send time (packs' `consent` rules: e-mail and SMS in the US).
    "electronic": "electronic messages on a channel (or all electronic channels)",
    # Reg F 1006.6(b)(1)/1006.14(b)(3): the debtor asked to be called at a time otherwise barred.
    "time_window": "contact at local hours outside the rule pack's window (scope from/to)",
    # The agent's call wrap-up names a time_window consent so ("consent to other hours").
    "contact_hours": "contact at local hours the debtor agreed to on a call (scope from/to)",
    "call_back": "calls the debtor asked for (Reg F prior consent given directly)",
    "third_party": "contact with a named third party about the debt",
    "data_processing": "processing personal data for collection beyond the contract",
}
SOURCES = ("agent", "portal", "api", "import", "replies_inbox", "wallet")
CHANNELS = ("sms", "email", "push", "in_app", "call", "letter", "wechat", "whatsapp")
SCOPE_KEYS = ("account", "from", "to", "address", "recorded_by", "openid")
_OPENID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
WINDOWED = frozenset({"time_window", "contact_hours"})
MAX_EVIDENCE = 256
MAX_SCOPE_TEXT = 128
# A consent for longer than this is not a consent to a collection: ask again.
MAX_TERM = dt.timedelta(days=3 * 366)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ConsentNotFound(NotFound):
    code = "consent_not_found"
    description = "No such consent for this customer"


def _scope(kind: str, channel: str | None, scope: dict[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (scope or {}).items():
        if key not in SCOPE_KEYS:
            raise ValidationFailed(f"scope.{key}: not a scope; use {', '.join(SCOPE_KEYS)}")
        if value is None or value == "":
            continue
        text = str(value).strip()
        if len(text) > MAX_SCOPE_TEXT or not text.isprintable():
            raise ValidationFailed(f"scope.{key}: at most {MAX_SCOPE_TEXT} printable characters")
        out[key] = text
    if "openid" in out:
        # Where a WeChat message goes (contact.repository.wechat_openids): only on the consent to
        # the service account's messages.
        if kind != "electronic" or channel != "wechat":
            raise ValidationFailed("scope.openid: only on an electronic consent for wechat")
        if not _OPENID.match(out["openid"]):
            raise ValidationFailed("scope.openid: 16 to 64 letters, digits, _ or -")
    if kind in WINDOWED:
        for key in ("from", "to"):
            if not _HHMM.match(out.get(key, "")):
                raise ValidationFailed(f"scope.{key}: a local time HH:MM for a time_window consent")
        if out["from"] == out["to"]:
            raise ValidationFailed("scope.to: the window is empty")
    return out


def validate(
    *,
    kind: str,
    evidence: str,
    source: str,
    channel: str | None,
    scope: dict[str, Any] | None,
    expires_at: dt.datetime | None,
    now: dt.datetime,
) -> tuple[str, dict[str, str]]:
    """The consent's canonical evidence and scope, or a ValidationFailed naming the field."""
    if kind not in KINDS:
        raise ValidationFailed(f"kind: one of {', '.join(KINDS)}")
    if source not in SOURCES:
        raise ValidationFailed(f"source: one of {', '.join(SOURCES)}")
    if channel is not None and channel not in CHANNELS:
        raise ValidationFailed(f"channel: one of {', '.join(CHANNELS)}, or none for all")
    text = " ".join(evidence.split())
    if not text:
        raise ValidationFailed(
            "evidence: say how the consent was given (a recording id, a message id)"
        )
    if len(text) > MAX_EVIDENCE or not text.isprintable():
        raise ValidationFailed(f"evidence: at most {MAX_EVIDENCE} printable characters")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise ValidationFailed("expires_at: give the time zone offset")
        if expires_at <= now:
            raise ValidationFailed("expires_at: must be in the future")
        if expires_at - now > MAX_TERM:
            raise ValidationFailed("expires_at: at most three years ahead")
    return text, _scope(kind, channel, scope)


def record_consent(
    session: Session,
    customer_id: int,
    *,
    purpose: str,
    evidence: str,
    source: str,
    clock: Clock,
    channel: str | None = None,
    scope: dict[str, Any] | None = None,
    expires_at: dt.datetime | None = None,
    actor: str | None = None,
) -> Consent:
    """Record a consent (`purpose` is its kind, one of `KINDS`). `actor` is who recorded it for
    the audit ledger (a staff user, an API key, `portal:<link>`); the source when not given. A
    caller that passes its principal as the source (`staff:li`, `api_key:rk_...`) records source
    `agent` or `api` with that principal as the actor."""
    now = clock.now()
    if source.startswith(("staff:", "api_key:")):
        actor = actor or source
        source = "agent" if source.startswith("staff:") else "api"
    text, canonical = validate(
        kind=purpose,
        evidence=evidence,
        source=source,
        channel=channel,
        scope=scope,
        expires_at=expires_at,
        now=now,
    )
    customer = CustomerRepository(session).get(customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    if "account" in canonical:
        refs = {a.external_ref: a for a in repo.accounts_of(session, customer.id)}
        refs.update({str(a.id): a for a in refs.values()})
        if canonical["account"] not in refs:
            raise ValidationFailed("scope.account: not an account of this customer")
        canonical["account"] = refs[canonical["account"]].external_ref
    consent = ConsentRepository(session).create(
        Consent(
            customer_id=customer.id,
            purpose=purpose,
            channel=channel,
            scope=canonical,
            evidence=text,
            source=source,
            given_at=now,
            expires_at=expires_at.astimezone(dt.UTC) if expires_at else None,
            created_at=now,
        )
    )
    audit_service.record(
        session,
        actor=actor or source,
        action="consent.given",
        subject_type="customer",
        subject_id=customer.id,
        clock=clock,
        details={"consent": consent.id, "purpose": purpose, "channel": channel, "source": source},
    )
    return consent


def withdraw_consent(
    session: Session,
    consent_id: int,
    *,
    actor: str,
    clock: Clock,
    customer_id: int | None = None,
) -> Consent:
    """Withdraw a consent from now on (a second withdrawal changes nothing). With `customer_id`,
    a consent of another customer is not found (a caller's path names the customer)."""
    consent = ConsentRepository(session).get(consent_id)
    if consent is None or (customer_id is not None and consent.customer_id != customer_id):
        raise ConsentNotFound(f"no consent {consent_id} for this customer")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = clock.now()
        audit_service.record(
            session,
            actor=actor,
            action="consent.withdrawn",
            subject_type="customer",
            subject_id=consent.customer_id,
            clock=clock,
            details={"consent": consent.id, "purpose": consent.purpose, "channel": consent.channel},
        )
    session.flush()
    return consent


def consents_of(session: Session, customer_id: int) -> list[Consent]:
    """Every consent a person gave, in force or not, oldest first."""
    if CustomerRepository(session).get(customer_id) is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    return list(ConsentRepository(session).for_customer(customer_id))


def in_force(consent: Consent, at: dt.datetime) -> bool:
    """What the guard counts: given by `at`, not withdrawn, not expired."""
    return (
        consent.given_at <= at
        and (consent.withdrawn_at is None or consent.withdrawn_at > at)
        and (consent.expires_at is None or consent.expires_at > at)
    )
