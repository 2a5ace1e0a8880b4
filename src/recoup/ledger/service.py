"""Customers, accounts, bills and payments: the ledger.

Design: balances are derived, never mutated counters. A bill holds what is due; what has been paid is the
sum of its allocations; allocations are rewritten for the whole account by replaying live payments through
the product's waterfall (`allocation.py`) whenever a payment, a reversal or a bill changes. `reallocate`
returns the earliest business date whose balances changed, so delinquency recomputes from exactly there.
Services never commit: the request, job or command that calls them owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping

import polars as pl
from sqlalchemy.orm import Session

from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.kit.indexes import email_index, national_id_index, phone_index
from recoup.ledger import repository, schemas
from recoup.ledger.allocation import (
    BillDue,
    PaymentIn,
    Waterfall,
    allocate,
    allocate_frames,
    summarise,
    summarise_frames,
)
from recoup.ledger.contacts import ContactError, normalise_phone
from recoup.ledger.repository import (
    AccountRepository,
    AllocationRepository,
    BillRepository,
    CustomerRepository,
    LedgerFrames,
    PaymentRepository,
    ProductRepository,
)
from recoup.models import (
    Account,
    Bill,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    Payment,
    Product,
    ProductKind,
)

DEFAULT_PRODUCTS = (
    # code, name, kind, grace days
    ("bnpl", "Buy now, pay later instalments", ProductKind.bnpl, 0),
    ("credit_line", "Revolving credit line", ProductKind.credit_line, 0),
    ("micro_loan", "Micro-loan", ProductKind.micro_loan, 0),
)


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    description = "No such customer"


class AccountNotFound(NotFound):
    code = "account_not_found"
    description = "No such account"


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    description = "No such payment"


class DuplicateReference(Conflict):
    code = "duplicate_reference"
    description = "The external reference is already used"


def ensure_default_products(session: Session, *, clock: Clock) -> int:
    repo = ProductRepository(session)
    added = 0
    for code, name, kind, grace in DEFAULT_PRODUCTS:
        if repo.get(code) is None:
            repo.create(
                Product(
                    code=code,
                    name=name,
                    kind=kind,
                    grace_days=grace,
                    allocation={},
                    created_at=clock.now(),
                ),
                flush=False,
            )
            added += 1
    session.flush()
    return added


def product(session: Session, code: str) -> Product:
    found = ProductRepository(session).get(code)
    if found is None:
        raise ValidationFailed(f"unknown product {code!r}")
    return found


def value_date(received_at: dt.datetime, timezone: str) -> dt.date:
    return received_at.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def create_customer(session: Session, data: schemas.CustomerCreate, *, clock: Clock) -> Customer:
    repo = CustomerRepository(session)
    if repo.by_ref(data.external_ref) is not None:
        raise DuplicateReference(f"customer {data.external_ref!r} already exists")
    customer = Customer(
        external_ref=data.external_ref,
        name=data.name,
        national_id=data.national_id,
        preferred_language=data.preferred_language,
        jurisdiction=data.jurisdiction,
        timezones=data.timezones,
        created_at=clock.now(),
        phones=[
            CustomerPhone(position=i, number=p.number, type=p.type, source=p.source)
            for i, p in enumerate(data.phones)
        ],
        emails=[
            CustomerEmail(position=i, address=e.address, source=e.source)
            for i, e in enumerate(data.emails)
        ],
        addresses=[
            CustomerAddress(position=i, **a.model_dump()) for i, a in enumerate(data.addresses)
        ],
    )
    return repo.create(customer)


def lookup_indexes(
    *, phone: str | None = None, email: str | None = None, national_id: str | None = None
) -> dict[str, str | None]:
    """The blind indexes to search by, from the values as a caller types them."""
    out: dict[str, str | None] = {"phone": None, "email": None, "national_id": None}
    if phone is not None:
        try:
            out["phone"] = phone_index(normalise_phone(phone, "ZZ"))
        except ContactError as exc:
            raise ValidationFailed(
                f"phone: {exc}; give it in E.164, such as +8613812345678",
                details=[{"field": "phone", "problem": str(exc)}],
            ) from exc
    if email is not None:
        out["email"] = email_index(email)
    if national_id is not None:
        out["national_id"] = national_id_index(national_id)
    return out


def get_customer(session: Session, customer_id: int) -> Customer:
    found = CustomerRepository(session).by_id(customer_id)
    if found is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    return found


def set_language(session: Session, customer: Customer, language: str) -> None:
    """The language the customer asked to be written to in (their contact preferences)."""
    if language != customer.preferred_language:
        customer.preferred_language = language
        session.flush()


def erase_customer(session: Session, customer: Customer, *, name: str, external_ref: str) -> None:
    """Replace the customer's personal data (an erasure the privacy package decided): the name and
    reference given, no national ID or time zones, and no phones, e-mails or addresses left."""
    customer.name = name
    customer.national_id = None
    customer.external_ref = external_ref
    customer.timezones = []
    repository.delete_customer_contacts(session, customer.id)


def create_account(session: Session, data: schemas.AccountCreate, *, clock: Clock) -> Account:
    customer = CustomerRepository(session).by_ref(data.customer_ref)
    if customer is None:
        raise CustomerNotFound(f"no customer with external_ref {data.customer_ref!r}")
    product(session, data.product)
    repo = AccountRepository(session)
    if repo.by_ref(data.external_ref) is not None:
        raise DuplicateReference(f"account {data.external_ref!r} already exists")
    if data.closed_date and data.closed_date < data.opened_date:
        raise ValidationFailed("closed_date is before opened_date")
    return repo.create(
        Account(
            external_ref=data.external_ref,
            customer_id=customer.id,
            product_code=data.product,
            currency=data.currency,
            credit_limit_minor=data.credit_limit_minor,
            opened_date=data.opened_date,
            closed_date=data.closed_date,
            status=data.status,
            collector=data.collector,
            agency_ref=data.agency_ref,
            created_at=clock.now(),
        )
    )


def get_account(session: Session, account_id: int) -> Account:
    found = AccountRepository(session).get(account_id)
    if found is None:
        raise AccountNotFound(f"no account {account_id}")
    return found


def account_by_ref(session: Session, external_ref: str, *, lock: bool = False) -> Account:
    repo = AccountRepository(session)
    found = repo.by_ref(external_ref)
    if found is None:
        raise AccountNotFound(f"no account with external_ref {external_ref!r}")
    if lock:
        locked = repo.for_update(found.id)
        assert locked is not None
        return locked
    return found


def add_bill(session: Session, account: Account, data: schemas.BillCreate, *, clock: Clock) -> Bill:
    repo = BillRepository(session)
    if repo.by_ref(account.id, data.external_ref) is not None:
        raise DuplicateReference(
            f"bill {data.external_ref!r} already exists on {account.external_ref}"
        )
    return repo.create(
        Bill(
            account_id=account.id,
            external_ref=data.external_ref,
            due_date=data.due_date,
            principal_minor=data.principal_minor,
            interest_minor=data.interest_minor,
            fees_minor=data.fees_minor,
            created_at=clock.now(),
        )
    )


def issue_bill(
    session: Session,
    account: Account,
    *,
    external_ref: str,
    due_date: dt.date,
    principal_minor: int,
    interest_minor: int,
    fees_minor: int,
    created_at: dt.datetime,
) -> Bill:
    """Store a bill another domain issues on the account (an arrangement's instalments and fee),
    flushed for its id. Unlike `add_bill` there is no duplicate check: the issuer's references are
    its own."""
    return BillRepository(session).create(
        Bill(
            account_id=account.id,
            external_ref=external_ref,
            due_date=due_date,
            principal_minor=principal_minor,
            interest_minor=interest_minor,
            fees_minor=fees_minor,
            created_at=created_at,
        )
    )


COMPONENTS = ("fees", "interest", "principal")


def take_off(session: Session, bill: Bill, amounts: Mapping[str, int]) -> None:
    """Take amounts off a bill's components (`fees`, `interest`, `principal`): what an
    arrangement moved to other bills or waived. The caller records why (its adjustments) and
    settles the account (`ledger.flows.settle`), which replays the waterfall."""
    for component, amount in amounts.items():
        if component not in COMPONENTS:
            raise ValueError(f"a bill has no component {component!r}")
        column = f"{component}_minor"
        left = getattr(bill, column) - amount
        if left < 0:
            raise ValueError(f"bill {bill.id}: {component} would go below zero")
        setattr(bill, column, left)


def bills(session: Session, account_id: int) -> list[Bill]:
    return list(BillRepository(session).for_account(account_id))


def paid_by_bill(session: Session, account_id: int) -> dict[int, int]:
    paid: dict[int, int] = {}
    for line in AllocationRepository(session).for_account(account_id):
        paid[line.bill_id] = paid.get(line.bill_id, 0) + line.amount_minor
    return paid


def record_payment(
    session: Session, account: Account, data: schemas.PaymentCreate, *, clock: Clock
) -> tuple[Payment, bool]:
    """Record a payment once. Returns (payment, created); a repeat of the same external id with the
    same facts returns the first one, with different facts it is a conflict."""
    repo = PaymentRepository(session)
    existing = repo.by_external_id(data.external_id)
    if existing is not None:
        same = (
            existing.account_id == account.id
            and existing.amount_minor == data.amount_minor
            and existing.currency == data.currency
            and existing.received_at == data.received_at
        )
        if not same:
            raise DuplicateReference(
                f"payment {data.external_id!r} was already recorded with different details"
            )
        return existing, False
    if data.currency != account.currency:
        raise ValidationFailed(
            f"payment currency {data.currency} does not match account currency {account.currency}"
        )
    tz = product(session, account.product_code).timezone
    payment = Payment(
        account_id=account.id,
        external_id=data.external_id,
        amount_minor=data.amount_minor,
        currency=data.currency,
        received_at=data.received_at,
        value_date=value_date(data.received_at, tz),
        source=data.source,
        created_at=clock.now(),
    )
    return repo.create(payment), True


def get_payment(session: Session, payment_id: int) -> Payment:
    found = PaymentRepository(session).get(payment_id)
    if found is None:
        raise PaymentNotFound(f"no payment {payment_id}")
    return found


def reverse_payment(
    session: Session,
    payment: Payment,
    *,
    reason: str,
    reversed_at: dt.datetime | None,
    clock: Clock,
) -> bool:
    """Stamp a payment as reversed. Returns False when it already was (reversal is idempotent)."""
    if payment.reversed_at is not None:
        return False
    payment.reversed_at = reversed_at or clock.now()
    payment.reversal_reason = reason
    session.flush()
    return True


def allocations_of(session: Session, payment_id: int) -> list[schemas.AllocationOut]:
    return [
        schemas.AllocationOut(bill_id=a.bill_id, component=a.component, amount_minor=a.amount_minor)
        for a in AllocationRepository(session).for_payment(payment_id)
    ]


def reallocate(session: Session, account: Account) -> dt.date | None:
    """Replay the account's live payments through its waterfall and store the result.

    Returns the earliest value date at which any bill's paid amount changed (None: nothing changed).
    """
    waterfall = Waterfall.from_config(product(session, account.product_code).allocation)
    bill_rows = BillRepository(session).for_account(account.id)
    payments = PaymentRepository(session).live_for_account(account.id)
    dues = [
        BillDue(b.id, b.due_date, b.fees_minor, b.interest_minor, b.principal_minor)
        for b in bill_rows
    ]
    result = allocate(
        dues,
        [PaymentIn(p.id, p.value_date, p.amount_minor, p.received_at) for p in payments],
        waterfall,
    )
    alloc_repo = AllocationRepository(session)
    before = _paid_timeline(
        (a.bill_id, a.value_date, a.amount_minor) for a in alloc_repo.for_account(account.id)
    )
    after = _paid_timeline((line.bill_id, line.value_date, line.amount) for line in result.lines)
    alloc_repo.replace_for_account(
        account.id,
        [
            {
                "account_id": account.id,
                "payment_id": line.payment_id,
                "bill_id": line.bill_id,
                "component": line.component,
                "amount_minor": line.amount,
                "value_date": line.value_date,
            }
            for line in result.lines
        ],
    )
    summary = summarise(result, dues)
    for bill in bill_rows:
        bill.paid_minor, bill.paid_off_date = summary[bill.id]
    account.credit_minor = result.credit
    session.flush()
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return min((day for _, day in changed), default=None)


def reallocate_many(session: Session, account_ids: list[int] | None) -> None:
    """`reallocate`, set-based, for many accounts (None: all): the bulk path of imports and loads.
    Allocations, bill caches and account credits come out exactly as `reallocate` writes them."""
    store = LedgerFrames(session)
    bills = store.bills(account_ids)
    payments = store.live_payments(account_ids)
    waterfalls = {
        p.code: Waterfall.from_config(p.allocation) for p in ProductRepository(session).all()
    }
    lines, credits = allocate_frames(bills, payments, waterfalls)
    # Write only what changed: a file of new bills with no payments rewrites nothing but the bills.
    store.replace_allocations(store.accounts_with_allocations(account_ids), lines)
    summaries = summarise_frames(
        lines,
        bills.select(
            "bill_id", amount_due=pl.col("fees") + pl.col("interest") + pl.col("principal")
        ),
    ).join(bills.select("bill_id", "cached_paid", "cached_paid_off"), on="bill_id")
    summaries = summaries.filter(
        (pl.col("paid") != pl.col("cached_paid"))
        | pl.col("paid_off_date").eq_missing(pl.col("cached_paid_off")).not_()
    )
    credits = (
        store.credits(account_ids)
        .join(credits, on="account_id", how="left")
        .with_columns(credit=pl.col("credit").fill_null(0))
        .filter(pl.col("credit") != pl.col("cached_credit"))
    )
    store.store_caches(summaries, credits)
    session.expire_all()


# Bulk imports: the set-based counterparts of create_customer, create_account, add_bill and
# record_payment for rows a caller has already validated (the file importer). Lookups take and
# return frames; allocation and delinquency are the caller's next step (`reallocate_many`).


def customer_ids_by_ref(session: Session, refs: list[str]) -> pl.DataFrame:
    """`external_ref`, `id` of the customers with these references."""
    return repository.customer_ids_by_ref(session, refs)


def account_ids_by_ref(session: Session, refs: list[str]) -> pl.DataFrame:
    """`external_ref`, `id` of the accounts with these references."""
    return repository.account_ids_by_ref(session, refs)


def accounts_by_ref(session: Session, refs: list[str]) -> pl.DataFrame:
    """`external_ref`, `id`, `currency`, `product_code` of the accounts with these references."""
    return repository.accounts_by_ref(session, refs)


def bill_totals(session: Session, account_ids: list[int]) -> pl.DataFrame:
    """`account_id`, `external_ref`, `due_date`, `total_minor` of these accounts' bills."""
    return repository.bill_totals(session, account_ids)


def payments_by_external_id(session: Session, external_ids: list[str]) -> pl.DataFrame:
    """`external_id`, `account_id`, `amount_minor` of the payments with these external ids."""
    return repository.payments_by_external_id(session, external_ids)


def product_codes(session: Session) -> list[str]:
    return ProductRepository(session).codes()


def import_customers(
    session: Session,
    customers: pl.DataFrame,
    *,
    phones: pl.DataFrame,
    emails: pl.DataFrame,
    addresses: pl.DataFrame,
    clock: Clock,
) -> int:
    """Store new customers and their contacts, values in plain text (sealed on the way in).

    `customers`: `external_ref`, `name`, `national_id`, `preferred_language`, `jurisdiction`,
    `timezones`. The contacts name their customer by `customer_ref` (its external_ref):
    `phones` (`position`, `number` in E.164, `type`, `source`), `emails` (`position`, `address`,
    `source`), `addresses` (`position`, `country`, `region`, `city`, `postal_code`, `line`)."""
    if customers.height == 0:
        return 0
    repository.insert_customers(session, customers.with_columns(created_at=_instant(clock.now())))
    ids = repository.customer_ids_by_ref(session, customers["external_ref"].to_list())

    def owned(contacts: pl.DataFrame) -> pl.DataFrame:
        customer_id = pl.col("customer_ref").replace_strict(
            ids["external_ref"], ids["id"], return_dtype=pl.Int64
        )
        return contacts.select(customer_id.alias("customer_id"), pl.exclude("customer_ref"))

    repository.insert_customer_phones(session, owned(phones))
    repository.insert_customer_emails(session, owned(emails))
    repository.insert_customer_addresses(session, owned(addresses))
    return customers.height


def import_accounts(session: Session, accounts: pl.DataFrame, *, clock: Clock) -> int:
    """Store new accounts: the `accounts` columns but `id` and `created_at`."""
    return repository.insert_accounts(
        session, accounts.with_columns(created_at=_instant(clock.now()))
    )


def import_bills(session: Session, bills: pl.DataFrame, *, clock: Clock) -> int:
    """Store new bills: `account_id`, `external_ref`, `due_date` and the three components."""
    return repository.insert_bills(session, bills.with_columns(created_at=_instant(clock.now())))


def import_payments(session: Session, payments: pl.DataFrame, *, clock: Clock) -> pl.DataFrame:
    """Store new payments: `account_id`, `product_code`, `external_id`, `amount_minor`,
    `currency`, `received_at`, `source`. Each gets its value date in its product's time zone, as
    `record_payment` gives it. Returns the rows stored, `value_date` included."""
    now = clock.now()
    zones = ProductRepository(session).timezones()
    with_dates = (
        pl.concat(
            [
                part.with_columns(
                    value_date=pl.col("received_at").dt.convert_time_zone(zones[code]).dt.date()
                )
                for (code,), part in payments.group_by(["product_code"])
            ]
        )
        if payments.height
        else payments.with_columns(value_date=pl.lit(None, dtype=pl.Date))
    )
    out = with_dates.select(
        "account_id",
        "external_id",
        "amount_minor",
        "currency",
        "received_at",
        "value_date",
        "source",
        created_at=_instant(now),
    )
    repository.insert_payments(session, out)
    return out


def _instant(at: dt.datetime) -> pl.Expr:
    """`at` on every row, as a UTC instant column (one value broadcast, not a Python list)."""
    naive = at.astimezone(dt.UTC).replace(tzinfo=None)
    return pl.lit(naive, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")


def _paid_timeline(lines: object) -> dict[tuple[int, dt.date], int]:
    """Paid per (bill, value date): two allocations that agree here give the same delinquency."""
    timeline: dict[tuple[int, dt.date], int] = {}
    for bill_id, day, amount in lines:  # type: ignore[attr-defined]
        timeline[(bill_id, day)] = timeline.get((bill_id, day), 0) + amount
    return timeline
