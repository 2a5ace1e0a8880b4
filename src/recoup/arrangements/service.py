"""Opening and revoking pay links, and what the portal shows the customer who opens one."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from recoup.arrangements import repository as repo
from recoup.arrangements.links import (
    CODE_LIFETIME,
    PayLink,
    code_hash,
    one_time_code,
    read_pay_link,
)
from recoup.audit import service as audit_service
from recoup.channels import ChannelError
from recoup.channels.wallet import WalletPaymentsAdapter
from recoup.contact import repository as contact_repository
from recoup.contact import service as contact_service
from recoup.kit.clock import Clock
from recoup.kit.errors import NotAuthenticated, NotFound, RecoupError, ValidationFailed
from recoup.kit.masking import mask_email, mask_phone
from recoup.kit.money import to_major
from recoup.ledger.repository import AccountRepository, CustomerRepository
from recoup.models import (
    Account,
    PayLinkRevocation,
    PaymentIntent,
)


class LinkRevoked(NotAuthenticated):
    code = "link_revoked"
    description = "The link was revoked"


def open_link(session: Session, token: str, *, keys: Sequence[bytes], clock: Clock) -> PayLink:
    """The customer a genuine, unexpired, unrevoked link stands for; 401 otherwise."""
    link = read_pay_link(keys, token, now=clock.now())
    if repo.revoked(
        session, link.customer_id, contact_id=link.contact_id, issued_at=link.issued_at
    ):
        raise LinkRevoked("this link was withdrawn; open the latest message or call us")
    return link


def revoke(
    session: Session,
    customer_id: int,
    *,
    contact_id: int | None,
    actor: str,
    reason: str,
    clock: Clock,
) -> PayLinkRevocation:
    """Withdraw one link (the contact that carried it) or all of a customer's links issued so far."""
    if CustomerRepository(session).get(customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    if contact_id is not None:
        # The contact must be this customer's: another's (or none) would revoke nothing and say
        # it had. Not found either way, so the answer tells nothing about other customers.
        contact = contact_repository.contact(session, contact_id)
        if contact is None or contact.customer_id != customer_id:
            raise NotFound(f"customer {customer_id} has no contact {contact_id}")
    revocation = repo.add_revocation(
        session,
        customer_id=customer_id,
        contact_id=contact_id,
        at=clock.now(),
        by=actor,
        reason=reason,
    )
    audit_service.record(
        session,
        actor=actor,
        action="pay_link.revoked",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={"contact_id": contact_id, "reason": reason},
    )
    return revocation


@dataclass(frozen=True)
class BillLine:
    due_date: dt.date
    amount_minor: int
    paid_minor: int

    @property
    def remaining_minor(self) -> int:
        return self.amount_minor - self.paid_minor


@dataclass(frozen=True)
class AccountView:
    account_id: int
    reference: str
    product: str
    currency: str
    outstanding_minor: int
    overdue_minor: int
    dpd: int
    bills: list[BillLine]
    next_due: dt.date | None  # the next unpaid bill not yet due (overdue ones are shown as such)


@dataclass(frozen=True)
class PortalView:
    name: str  # as held; the page masks it
    language: str
    jurisdiction: str
    accounts: list[AccountView]


def _bills(session: Session, account_ids: list[int]) -> dict[int, list[BillLine]]:
    bills: dict[int, list[BillLine]] = {}
    for bill in repo.bills_of(session, account_ids):
        bills.setdefault(bill.account_id, []).append(
            BillLine(
                bill.due_date,
                bill.principal_minor + bill.interest_minor + bill.fees_minor,
                bill.paid_minor,
            )
        )
    return bills


def portal_view(session: Session, customer_id: int, *, today: dt.date) -> PortalView:
    """The customer's open accounts with their balances and bills, newest bills last."""
    customer = CustomerRepository(session).get(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    accounts = repo.open_accounts_with_state(session, customer_id)
    bills = _bills(session, [a.id for a, _ in accounts])
    views = [
        AccountView(
            account_id=account.id,
            reference=account.external_ref,
            product=account.product_code,
            currency=account.currency,
            outstanding_minor=sum(b.remaining_minor for b in bills.get(account.id, [])),
            overdue_minor=state.overdue_minor if state else 0,
            dpd=state.dpd if state else 0,
            bills=bills.get(account.id, []),
            next_due=min(
                (
                    b.due_date
                    for b in bills.get(account.id, [])
                    if b.remaining_minor > 0 and b.due_date >= today
                ),
                default=None,
            ),
        )
        for account, state in accounts
    ]
    return PortalView(customer.name, customer.preferred_language, customer.jurisdiction, views)


def open_account(session: Session, customer_id: int, reference: str) -> Account | None:
    """The customer's open account by its reference; another customer's is simply not found."""
    found = AccountRepository(session).open_of_customer(customer_id, external_ref=reference)
    return found[0] if found else None


class PaymentRefused(ValidationFailed):
    code = "payment_refused"
    description = "The amount cannot be paid now"


def start_payment(
    session: Session,
    link: PayLink,
    *,
    account_ref: str,
    amount_minor: int,
    wallet: WalletPaymentsAdapter,
    return_url: str,
    clock: Clock,
) -> PaymentIntent:
    """Pay now: an intent for an amount up to what the account owes, created at the wallet.

    The wallet is asked with the intent's idempotency key: if this transaction rolls back, the
    wallet's payment is never confirmed and lapses there; asked again, it answers the same one."""
    account = open_account(session, link.customer_id, account_ref)
    if account is None:  # another customer's account answers exactly as a missing one
        raise NotFound("no such account", details={"reason": "no_account"})
    customer = CustomerRepository(session).get(link.customer_id)
    assert customer is not None
    owed = sum(b.remaining_minor for b in _bills(session, [account.id]).get(account.id, []))
    if not 0 < amount_minor <= owed:
        raise PaymentRefused(
            f"the amount must be more than 0 and at most {to_major(owed, account.currency)} "
            f"{account.currency}",
            details={"reason": "pay_amount", "most_minor": owed, "currency": account.currency},
        )
    now = clock.now()
    intent = repo.add_intent(
        session,
        customer_id=link.customer_id,
        account_id=account.id,
        amount_minor=amount_minor,
        currency=account.currency,
        status="created",
        contact_id=link.contact_id,
        created_at=now,
        updated_at=now,
    )
    try:
        made = wallet.create(
            reference=intent.reference,
            user=customer.external_ref,
            account=account.external_ref,
            amount_minor=amount_minor,
            currency=account.currency,
            return_url=return_url,
            idempotency_key=f"recoup-intent-{intent.id}",
        )
    except ChannelError as exc:
        raise WalletUnavailable(f"the wallet did not take the payment: {exc.reason}") from exc
    repo.intent_created(session, intent, wallet_id=made.wallet_id, redirect_url=made.redirect_url)
    audit_service.record(
        session,
        actor="debtor",
        action="payment_intent.created",
        subject_type="account",
        subject_id=account.id,
        clock=clock,
        details={"intent": intent.reference, "amount_minor": amount_minor},
    )
    return intent


class WalletUnavailable(RecoupError):
    status_code = 502
    code = "wallet_unavailable"
    description = "The wallet did not answer; try again"


def intent_settled(
    session: Session, reference: str, *, payment_id: int | None, reason: str | None, clock: Clock
) -> PaymentIntent | None:
    """The wallet's webhook named an intent: succeeded (with the payment) or declined."""
    if not reference.startswith("rpi_") or not reference[4:].isdigit():
        return None
    intent = repo.intent(session, int(reference[4:]))
    if intent is None or intent.status in ("succeeded", "declined"):
        return intent
    repo.intent_ended(session, intent, payment_id=payment_id, reason=reason, at=clock.now())
    return intent


def latest_intent(
    session: Session, customer_id: int, *, since: dt.datetime
) -> PaymentIntent | None:
    """The customer's most recent pay-now since a moment: what the portal reports back on."""
    return repo.latest_intent(session, customer_id, since=since)


def intents_of_contacts(session: Session, contact_ids: Sequence[int]) -> list[PaymentIntent]:
    """The pay-nows started from the links these contacts carried (`contact_id`), oldest first."""
    return repo.intents_of_contacts(session, contact_ids)


class TooManyCodes(RecoupError):
    status_code = 429
    code = "too_many_codes"
    description = "Too many codes sent; wait before asking again"


CODES_PER_QUARTER_HOUR = 3
CODES_PER_DAY = 10
TRIES_PER_CODE = 5


@dataclass(frozen=True)
class CodeSent:
    code_id: int
    channel: str
    to: str  # masked


def code_address(session: Session, customer_id: int) -> tuple[str, str] | None:
    """(channel, masked address): the debtor's own mobile, else their e-mail, never a third
    party's number."""
    phone = repo.own_mobile(session, customer_id)
    if phone is not None:
        return "sms", mask_phone(phone)
    email = repo.first_email(session, customer_id)
    return ("email", mask_email(email)) if email is not None else None


def request_code(
    session: Session, customer_id: int, *, purpose: str, key: bytes, clock: Clock
) -> CodeSent:
    """A one-time code to the debtor's own phone (or e-mail), through the outbox as a service
    message. At most 3 a quarter of an hour and 10 a day per customer."""
    now = clock.now()
    recent = repo.codes_since(session, customer_id, now - dt.timedelta(days=1))
    quarter = [t for t in recent if t > now - dt.timedelta(minutes=15)]
    if len(quarter) >= CODES_PER_QUARTER_HOUR or len(recent) >= CODES_PER_DAY:
        raise TooManyCodes(
            "too many codes were asked for; wait a few minutes and try again",
            details={"reason": "too_many_codes"},
        )
    address = code_address(session, customer_id)
    account_id = next(iter(AccountRepository(session).open_ids_of_customer(customer_id)), None)
    if address is None or account_id is None:
        raise NotFound(
            "there is no phone or e-mail on file to send a code to; call us instead",
            details={"reason": "no_code_address"},
        )
    channel, masked = address
    row = repo.add_code(
        session,
        customer_id=customer_id,
        purpose=purpose,
        code_hash="",
        channel=channel,
        expires_at=now + CODE_LIFETIME,
        attempts=0,
        created_at=now,
    )
    contact = contact_service.plan_service_message(
        session,
        account_id=account_id,
        customer_id=customer_id,
        treatment=f"one_time_code:{row.id}",
        template="one_time_code",
        channel=channel,
        now=now,
    )
    repo.code_sent(
        session,
        row,
        code_hash=code_hash(key, row.id, one_time_code(key, row.id)),
        contact_id=contact.id,
    )
    audit_service.record(
        session,
        actor="debtor",
        action="portal.code_requested",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={"purpose": purpose, "channel": channel, "contact_id": contact.id},
    )
    return CodeSent(row.id, channel, masked)


def verify_code(
    session: Session, customer_id: int, code: str, *, keys: Sequence[bytes], clock: Clock
) -> bool:
    """Whether `code` is the customer's latest live code; each wrong try counts, five spend it."""
    now = clock.now()
    row = repo.live_code_for_update(session, customer_id, now)
    if row is None or row.attempts >= TRIES_PER_CODE:
        return False
    code = code.strip()
    good = (
        code.isascii()
        and code.isdigit()
        and any(hmac.compare_digest(code_hash(k, row.id, code), row.code_hash) for k in keys)
    )
    repo.code_tried(session, row, good=good, at=now)
    audit_service.record(
        session,
        actor="debtor",
        action="portal.code_verified" if good else "portal.code_refused",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={"code_id": row.id},
    )
    return good
