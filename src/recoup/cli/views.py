"""Rich renderings for people: money and dates in the reader's locale, personal data masked."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.orm import Session

from recoup.cli.common import console
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import Clock
from recoup.kit.errors import NotFound
from recoup.kit.masking import mask_name, mask_phone
from recoup.kit.money import format_money
from recoup.ledger import service as ledger_service
from recoup.ledger.repository import AccountRepository, CustomerRepository, PaymentRepository
from recoup.models import Account, Payment


def _date(day: dt.date | None, locale: str) -> str:
    return "—" if day is None else str(format_date(day, format="medium", locale=locale))


def find_account(session: Session, ref: str) -> Account:
    repo = AccountRepository(session)
    found = repo.get(int(ref)) if ref.isdigit() else None
    found = found or repo.by_ref(ref)
    if found is None:
        raise NotFound(f"no account with id or reference {ref!r}")
    return found


def show_account(session: Session, ref: str, *, locale: str, clock: Clock) -> None:
    account = find_account(session, ref)
    customer = CustomerRepository(session).by_id(account.customer_id)
    assert customer is not None
    state = delinquency_service.get_state(session, account.id)
    if state is None:
        delinquency_service.recompute_account(
            session, account, from_date=account.opened_date, clock=clock, cause="first_read"
        )
        state = delinquency_service.get_state(session, account.id)
    assert state is not None

    def money(value: int) -> str:
        return format_money(value, account.currency, locale)

    head = Table.grid(padding=(0, 2))
    head.add_row(
        "account",
        f"{account.external_ref} (#{account.id}) · {account.product_code} · {account.status}",
    )
    head.add_row(
        "customer",
        f"{mask_name(customer.name)} · {', '.join(mask_phone(p.number) for p in customer.phones)} · {customer.jurisdiction}",
    )
    head.add_row("as of", _date(state.as_of_date, locale))
    head.add_row("days past due", f"{state.dpd} ({state.bucket})")
    head.add_row("overdue", money(state.overdue_minor))
    head.add_row("outstanding", money(state.outstanding_minor))
    if state.credit_minor:
        head.add_row("credit", money(state.credit_minor))

    paid = ledger_service.paid_by_bill(session, account.id)
    bills = Table(title="Bills")
    for column in ("due", "due amount", "paid", "left"):
        bills.add_column(column, justify="right")
    for bill in ledger_service.bills(session, account.id):
        due = bill.amount_due_minor
        bills.add_row(
            _date(bill.due_date, locale),
            money(due),
            money(paid.get(bill.id, 0)),
            money(due - paid.get(bill.id, 0)),
        )

    payments = Table(title="Payments")
    for column in ("received", "amount", "source", "status"):
        payments.add_column(column)
    rows: list[Payment] = sorted(
        PaymentRepository(session).list(
            PaymentRepository(session).base().where(Payment.account_id == account.id)
        ),
        key=lambda p: p.received_at,
    )
    for p in rows:
        payments.add_row(
            _date(p.value_date, locale),
            money(p.amount_minor),
            p.source,
            "reversed" if p.reversed_at else "",
        )

    history = Table(title="Bucket history")
    for column in ("date", "from", "to", "dpd", "cause"):
        history.add_column(column)
    for event in delinquency_service.history(session, account.id):
        history.add_row(
            _date(event.effective_date, locale),
            event.from_bucket or "—",
            event.to_bucket,
            str(event.dpd),
            event.cause,
        )
    console.print(Panel(head, title="Account"), Group(bills, payments, history))
