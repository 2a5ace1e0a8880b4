"""Opening and revoking pay links, and what the portal shows the customer who opens one."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

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
from recoup.kit.clock import Clock
from recoup.kit.errors import NotAuthenticated, NotFound, RecoupError, ValidationFailed
from recoup.kit.masking import mask_email, mask_phone
from recoup.kit.money import to_major
from recoup.models import (
    Account,
    AccountDelinquency,
    Bill,
    ContactPlan,
    ContactStatus,
    Customer,
    CustomerEmail,
    CustomerPhone,
    OneTimeCode,
    PayLinkRevocation,
    PaymentIntent,
)


class LinkRevoked(NotAuthenticated):
    code = "link_revoked"
    description = "The link was revoked"


def open_link(session: Session, token: str, *, keys: Sequence[bytes], clock: Clock) -> PayLink:
    """The customer a genuine, unexpired, unrevoked link stands for; 401 otherwise."""
    link = read_pay_link(keys, token, now=clock.now())
    r = PayLinkRevocation
    matches: list[ColumnElement[bool]] = [r.contact_id.is_(None) & (r.at > link.issued_at)]
    if link.contact_id is not None:
        matches.append(r.contact_id == link.contact_id)
    revoked = session.execute(
        select(r.id).where(r.customer_id == link.customer_id, or_(*matches))
    ).first()
    if revoked is not None:
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
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    if contact_id is not None:
        # The contact must be this customer's: another's (or none) would revoke nothing and say
        # it had. Not found either way, so the answer tells nothing about other customers.
        contact = session.get(ContactPlan, contact_id)
        if contact is None or contact.customer_id != customer_id:
            raise NotFound(f"customer {customer_id} has no contact {contact_id}")
    revocation = PayLinkRevocation(
        customer_id=customer_id, contact_id=contact_id, at=clock.now(), by=actor, reason=reason
    )
    session.add(revocation)
    session.flush()
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
    for bill in session.execute(
        select(Bill).where(Bill.account_id.in_(account_ids)).order_by(Bill.due_date, Bill.id)
    ).scalars():
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
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    accounts = session.execute(
        select(Account, AccountDelinquency)
        .outerjoin(AccountDelinquency, AccountDelinquency.account_id == Account.id)
        .where(Account.customer_id == customer_id, Account.closed_date.is_(None))
        .order_by(Account.id)
    ).all()
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
    return session.execute(
        select(Account).where(
            Account.customer_id == customer_id,
            Account.external_ref == reference,
            Account.closed_date.is_(None),
        )
    ).scalar_one_or_none()


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
        raise NotFound("no such account")
    customer = session.get(Customer, link.customer_id)
    assert customer is not None
    owed = sum(b.remaining_minor for b in _bills(session, [account.id]).get(account.id, []))
    if not 0 < amount_minor <= owed:
        raise PaymentRefused(
            f"the amount must be more than 0 and at most {to_major(owed, account.currency)} "
            f"{account.currency}"
        )
    now = clock.now()
    intent = PaymentIntent(
        customer_id=link.customer_id,
        account_id=account.id,
        amount_minor=amount_minor,
        currency=account.currency,
        status="created",
        contact_id=link.contact_id,
        created_at=now,
        updated_at=now,
    )
    session.add(intent)
    session.flush()
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
    intent.status, intent.wallet_id, intent.redirect_url = (
        "pending",
        made.wallet_id,
        made.redirect_url,
    )
    session.flush()
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
    intent = session.get(PaymentIntent, int(reference[4:]))
    if intent is None or intent.status in ("succeeded", "declined"):
        return intent
    intent.status = "succeeded" if payment_id is not None else "declined"
    intent.payment_id, intent.reason, intent.updated_at = payment_id, reason, clock.now()
    session.flush()
    return intent


def latest_intent(
    session: Session, customer_id: int, *, since: dt.datetime
) -> PaymentIntent | None:
    """The customer's most recent pay-now since a moment: what the portal reports back on."""
    return session.execute(
        select(PaymentIntent)
        .where(PaymentIntent.customer_id == customer_id, PaymentIntent.created_at >= since)
        .order_by(PaymentIntent.id.desc())
        .limit(1)
    ).scalar_one_or_none()


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
    phone = session.execute(
        select(CustomerPhone.number)
        .where(
            CustomerPhone.customer_id == customer_id,
            CustomerPhone.type == "mobile",
            CustomerPhone.source.in_(("customer", "wallet")),
        )
        .order_by(CustomerPhone.position)
        .limit(1)
    ).scalar_one_or_none()
    if phone is not None:
        return "sms", mask_phone(phone)
    email = session.execute(
        select(CustomerEmail.address)
        .where(CustomerEmail.customer_id == customer_id)
        .order_by(CustomerEmail.position)
        .limit(1)
    ).scalar_one_or_none()
    return ("email", mask_email(email)) if email is not None else None


def request_code(
    session: Session, customer_id: int, *, purpose: str, key: bytes, clock: Clock
) -> CodeSent:
    """A one-time code to the debtor's own phone (or e-mail), through the outbox as a service
    message. At most 3 a quarter of an hour and 10 a day per customer."""
    now = clock.now()
    recent = (
        session.execute(
            select(OneTimeCode.created_at).where(
                OneTimeCode.customer_id == customer_id,
                OneTimeCode.created_at > now - dt.timedelta(days=1),
            )
        )
        .scalars()
        .all()
    )
    quarter = [t for t in recent if t > now - dt.timedelta(minutes=15)]
    if len(quarter) >= CODES_PER_QUARTER_HOUR or len(recent) >= CODES_PER_DAY:
        raise TooManyCodes("too many codes were asked for; wait a few minutes and try again")
    address = code_address(session, customer_id)
    account_id = session.execute(
        select(Account.id)
        .where(Account.customer_id == customer_id, Account.closed_date.is_(None))
        .order_by(Account.id)
        .limit(1)
    ).scalar_one_or_none()
    if address is None or account_id is None:
        raise NotFound("there is no phone or e-mail on file to send a code to; call us instead")
    channel, masked = address
    row = OneTimeCode(
        customer_id=customer_id,
        purpose=purpose,
        code_hash="",
        channel=channel,
        expires_at=now + CODE_LIFETIME,
        attempts=0,
        created_at=now,
    )
    session.add(row)
    session.flush()
    row.code_hash = code_hash(key, row.id, one_time_code(key, row.id))
    contact = ContactPlan(
        account_id=account_id,
        customer_id=customer_id,
        as_of_date=now.date(),
        stage="service",
        treatment=f"one_time_code:{row.id}",
        channel=channel,
        template="one_time_code",
        tone="gentle",
        status=ContactStatus.planned,
        scheduled_at=now,
        purpose="service",
        reasons=[],
        created_at=now,
    )
    session.add(contact)
    session.flush()
    row.contact_id = contact.id
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
    row = session.execute(
        select(OneTimeCode)
        .where(
            OneTimeCode.customer_id == customer_id,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > now,
        )
        .order_by(OneTimeCode.id.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None or row.attempts >= TRIES_PER_CODE:
        return False
    code = code.strip()
    good = (
        code.isascii()
        and code.isdigit()
        and any(hmac.compare_digest(code_hash(k, row.id, code), row.code_hash) for k in keys)
    )
    if good:
        row.used_at = now
    else:
        row.attempts += 1
    session.flush()
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
