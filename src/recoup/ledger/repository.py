from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Index, Select, delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from recoup.kit import frames
from recoup.kit.db import among, ids_in
from recoup.kit.repository import Page, Repository
from recoup.ledger import sealing
from recoup.models import (
    Account,
    Allocation,
    Bill,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    Payment,
    Product,
)


class CustomerRepository(Repository[Customer]):
    model = Customer

    def lacking_indexes(self) -> list[tuple[Customer | CustomerPhone | CustomerEmail, str]]:
        """Rows holding a value whose blind index is missing (written before indexes existed),
        each with the attribute to index."""
        p, e, c = CustomerPhone, CustomerEmail, Customer
        phones = select(p).where(p.number_index.is_(None), p.number.is_not(None))
        emails = select(e).where(e.address_index.is_(None), e.address.is_not(None))
        people = select(c).where(c.national_id_index.is_(None), c.national_id.is_not(None))
        out: list[tuple[Customer | CustomerPhone | CustomerEmail, str]] = []
        out += [(row, "number") for row in self.session.execute(phones).scalars()]
        out += [(row, "address") for row in self.session.execute(emails).scalars()]
        out += [(row, "national_id") for row in self.session.execute(people).scalars()]
        return out

    def reindex(self, rows: list[tuple[Customer | CustomerPhone | CustomerEmail, str]]) -> None:
        for row, attr in rows:
            setattr(row, attr, getattr(row, attr))  # the validator computes the index
        self.session.flush()

    def with_contacts(self) -> tuple[_AbstractLoad, ...]:
        return (
            selectinload(Customer.phones),
            selectinload(Customer.emails),
            selectinload(Customer.addresses),
        )

    def by_ref(self, external_ref: str) -> Customer | None:
        stmt = (
            select(Customer)
            .where(Customer.external_ref == external_ref)
            .options(*self.with_contacts())
        )
        return self.get_one_or_none(stmt)

    def by_id(self, customer_id: int) -> Customer | None:
        stmt = select(Customer).where(Customer.id == customer_id).options(*self.with_contacts())
        return self.get_one_or_none(stmt)

    def ids_with_phone(self, number_index: str) -> list[int]:
        """The customers who have this phone number (by its blind index), in id order."""
        rows = self.session.execute(
            select(CustomerPhone.customer_id).where(CustomerPhone.number_index == number_index)
        ).scalars()
        return sorted(set(rows))

    def ids_with_email(self, address_index: str) -> list[int]:
        """The customers who have this e-mail address (by its blind index), in id order."""
        rows = self.session.execute(
            select(CustomerEmail.customer_id).where(CustomerEmail.address_index == address_index)
        ).scalars()
        return sorted(set(rows))

    def matching(
        self,
        stmt: Select[Customer],
        *,
        phone: str | None = None,
        email: str | None = None,
        national_id: str | None = None,
    ) -> Select[Customer]:
        """Narrow to customers with this phone, e-mail or national ID, given as blind indexes."""
        if phone is not None:
            stmt = stmt.where(
                Customer.id.in_(
                    select(CustomerPhone.customer_id).where(CustomerPhone.number_index == phone)
                )
            )
        if email is not None:
            stmt = stmt.where(
                Customer.id.in_(
                    select(CustomerEmail.customer_id).where(CustomerEmail.address_index == email)
                )
            )
        if national_id is not None:
            stmt = stmt.where(Customer.national_id_index == national_id)
        return stmt

    def page(
        self,
        *,
        limit: int,
        offset: int,
        jurisdiction: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        national_id: str | None = None,
    ) -> Page[Customer]:
        """Customers in creation order, with their contacts, narrowed as `matching` says."""
        stmt = select(Customer).options(*self.with_contacts()).order_by(Customer.id)
        if jurisdiction:
            stmt = stmt.where(Customer.jurisdiction == jurisdiction)
        stmt = self.matching(stmt, phone=phone, email=email, national_id=national_id)
        return self.paginate(stmt, limit=limit, offset=offset)


def delete_customer_contacts(session: Session, customer_id: int) -> None:
    for model in (CustomerPhone, CustomerEmail, CustomerAddress):
        session.execute(delete(model).where(model.customer_id == customer_id))


class ProductRepository(Repository[Product]):
    model = Product

    def held(self, code: str) -> Product | None:
        """The product, read once a transaction: the transaction keeps it (as the session's own
        object, so a change made through this session shows) and later asks take it without a
        query (a slot's promises ask it ~100 times). The session's identity map alone would
        not serve: it holds objects weakly, and nothing else keeps a product alive. A new
        transaction lets the kept products go before it asks."""
        root = self.session.get_transaction()
        kept: tuple[object, dict[str, Product]] | None = self.session.info.get(_PRODUCTS)
        if root is not None and kept is not None and kept[0] is root:
            found = kept[1].get(code)
            if found is not None and found in self.session:
                return found
        else:
            # An earlier transaction's: let its products go (sessions do not expire on commit,
            # and a product kept alive would be served as that transaction saw it).
            self.session.info.pop(_PRODUCTS, None)
            kept = None
        found = self.get(code)  # this begins the transaction when none has
        if kept is None:
            kept = (self.session.get_transaction(), {})
            self.session.info[_PRODUCTS] = kept
        if found is not None:
            kept[1][code] = found
        return found

    def all(self) -> Sequence[Product]:
        return self.list(select(Product).order_by(Product.code))

    def codes(self) -> list[str]:
        return [code for (code,) in self.session.execute(select(Product.code)).all()]

    def timezones(self) -> dict[str, str]:
        rows = self.session.execute(select(Product.code, Product.timezone)).all()
        return dict(rows)


_PRODUCTS = "ledger.products_held"


class AccountRepository(Repository[Account]):
    model = Account

    def by_ref(self, external_ref: str) -> Account | None:
        return self.get_one_or_none(select(Account).where(Account.external_ref == external_ref))

    def for_update(self, account_id: int) -> Account | None:
        """Lock the account row: payments, reversals and bills on one account are serialised."""
        return self.get_one_or_none(
            select(Account).where(Account.id == account_id).with_for_update()
        )

    def for_update_many(self, account_ids: Collection[int]) -> dict[int, Account]:
        """`for_update` of several accounts in one statement, locked in the order of their ids
        (two callers locking overlapping sets this way cannot deadlock)."""
        if not account_ids:
            return {}
        stmt = (
            select(Account)
            .where(Account.id.in_(sorted(account_ids)))
            .order_by(Account.id)
            .with_for_update()
        )
        return {a.id: a for a in self.session.execute(stmt).scalars()}

    def page(self, *, limit: int, offset: int, customer_id: int | None = None) -> Page[Account]:
        """Accounts in creation order, optionally of one customer."""
        stmt = select(Account).order_by(Account.id)
        if customer_id is not None:
            stmt = stmt.where(Account.customer_id == customer_id)
        return self.paginate(stmt, limit=limit, offset=offset)

    def by_ids(self, account_ids: Collection[int]) -> dict[int, Account]:
        found = self.session.execute(
            select(Account).where(among(self.session, Account.id, account_ids))
        )
        return {a.id: a for a in found.scalars()}

    def open_of_customer(
        self, customer_id: int, *, external_ref: str | None = None
    ) -> Sequence[Account]:
        """The customer's open accounts (the one with this reference, if given), oldest first:
        another customer's account is simply not among them."""
        stmt = select(Account).where(
            Account.customer_id == customer_id, Account.closed_date.is_(None)
        )
        if external_ref is not None:
            stmt = stmt.where(Account.external_ref == external_ref)
        return self.list(stmt.order_by(Account.id))

    def open_ids_of_customer(self, customer_id: int) -> list[int]:
        return list(
            self.session.execute(
                select(Account.id)
                .where(Account.customer_id == customer_id, Account.closed_date.is_(None))
                .order_by(Account.id)
            ).scalars()
        )


class BillRepository(Repository[Bill]):
    model = Bill

    def for_account(self, account_id: int) -> Sequence[Bill]:
        return self.list(
            select(Bill).where(Bill.account_id == account_id).order_by(Bill.due_date, Bill.id)
        )

    def by_ref(self, account_id: int, external_ref: str) -> Bill | None:
        return self.get_one_or_none(
            select(Bill).where(Bill.account_id == account_id, Bill.external_ref == external_ref)
        )

    def billed(self, account_id: int) -> int:
        """Everything ever billed on the account (all three components of every bill)."""
        b = Bill
        total = func.coalesce(func.sum(b.principal_minor + b.interest_minor + b.fees_minor), 0)
        return int(
            self.session.execute(select(total).where(b.account_id == account_id)).scalar_one()
        )


class PaymentRepository(Repository[Payment]):
    model = Payment

    def by_external_id(self, external_id: str) -> Payment | None:
        return self.get_one_or_none(select(Payment).where(Payment.external_id == external_id))

    def paid(self, account_ids: Collection[int]) -> dict[int, int]:
        """Everything ever paid into each account (reversed payments too: they were summed once)."""
        p = Payment
        stmt = (
            select(p.account_id, func.sum(p.amount_minor))
            .where(among(self.session, p.account_id, account_ids))
            .group_by(p.account_id)
        )
        return {account_id: int(total) for account_id, total in self.session.execute(stmt)}

    def live_for_account(self, account_id: int) -> Sequence[Payment]:
        return self.list(
            select(Payment).where(Payment.account_id == account_id, Payment.reversed_at.is_(None))
        )


class AllocationRepository(Repository[Allocation]):
    model = Allocation

    def for_account(self, account_id: int) -> Sequence[Allocation]:
        return self.list(select(Allocation).where(Allocation.account_id == account_id))

    def for_payment(self, payment_id: int) -> Sequence[Allocation]:
        return self.list(
            select(Allocation).where(Allocation.payment_id == payment_id).order_by(Allocation.id)
        )

    def replace_for_account(self, account_id: int, rows: list[dict[str, object]]) -> None:
        self.session.execute(delete(Allocation).where(Allocation.account_id == account_id))
        if rows:
            self.session.execute(insert(Allocation), rows)


class LedgerFrames:
    """Set-based reads and writes of bills, payments and allocations for many accounts at once.
    `account_ids=None` means every account."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # Beyond this many references, `_by` joins them through a temporary table, not an IN list
    # (ids of any number go inline: `kit.db.ids_in`).
    SCOPE_LIMIT = 20_000

    def _read(
        self, stmt: Any, column: Any, account_ids: list[int] | None, schema: frames.Schema
    ) -> pl.DataFrame:
        if account_ids is not None:
            stmt = stmt.where(ids_in(column, account_ids))
        return frames.read_frame(self.session, stmt, schema)

    def bills(self, account_ids: list[int] | None) -> pl.DataFrame:
        stmt = select(
            Bill.account_id,
            Account.product_code,
            Bill.id,
            Bill.due_date,
            Bill.fees_minor,
            Bill.interest_minor,
            Bill.principal_minor,
            Bill.paid_minor,
            Bill.paid_off_date,
        ).join(Account, Account.id == Bill.account_id)
        return self._read(
            stmt,
            Bill.account_id,
            account_ids,
            {
                "account_id": pl.Int64,
                "product_code": pl.String,
                "bill_id": pl.Int64,
                "due_date": pl.Date,
                "fees": pl.Int64,
                "interest": pl.Int64,
                "principal": pl.Int64,
                "cached_paid": pl.Int64,
                "cached_paid_off": pl.Date,
            },
        )

    def credits(self, account_ids: list[int] | None) -> pl.DataFrame:
        return self._read(
            select(Account.id, Account.credit_minor),
            Account.id,
            account_ids,
            {"account_id": pl.Int64, "cached_credit": pl.Int64},
        )

    def accounts_with_allocations(self, account_ids: list[int] | None) -> list[int]:
        found = self._read(
            select(Allocation.account_id).distinct(),
            Allocation.account_id,
            account_ids,
            {"account_id": pl.Int64},
        )
        return found["account_id"].to_list()

    def live_payments(self, account_ids: list[int] | None) -> pl.DataFrame:
        stmt = select(
            Payment.account_id,
            Payment.id,
            Payment.value_date,
            Payment.received_at,
            Payment.amount_minor,
        ).where(Payment.reversed_at.is_(None))
        return self._read(
            stmt,
            Payment.account_id,
            account_ids,
            {
                "account_id": pl.Int64,
                "payment_id": pl.Int64,
                "value_date": pl.Date,
                "received_at": pl.Datetime("us", "UTC"),
                "amount": pl.Int64,
            },
        )

    def replace_allocations(self, stale: list[int], lines: pl.DataFrame) -> None:
        """Delete the allocations of the `stale` accounts, then write `lines`."""
        for start in range(0, len(stale), 5_000):
            chunk = stale[start : start + 5_000]
            self.session.execute(delete(Allocation).where(Allocation.account_id.in_(chunk)))
        self.append_allocations(lines)

    def append_allocations(self, lines: pl.DataFrame) -> None:
        """Write `lines` (`allocate_frames`' columns) for accounts that have no allocations yet."""
        frames.insert_frame(
            self.session,
            Allocation.__table__,  # type: ignore[arg-type]
            lines.select(
                "account_id",
                "payment_id",
                "bill_id",
                "component",
                amount_minor="amount",
                value_date="value_date",
            ),
        )

    def store_caches(self, summaries: pl.DataFrame, credits: pl.DataFrame) -> None:
        frames.update_frame(
            self.session,
            Bill.__table__,  # type: ignore[arg-type]
            summaries.select(id="bill_id", paid_minor="paid", paid_off_date="paid_off_date"),
            key="id",
        )
        frames.update_frame(
            self.session,
            Account.__table__,  # type: ignore[arg-type]
            credits.select(id="account_id", credit_minor="credit"),
            key="id",
        )


# Bulk imports: rows looked up by their references, and new rows appended in one statement per
# table. Values go to the driver as they are (`frames.insert_frame`), so the personal data is sealed
# and blind-indexed here, as the ORM's column types would on an ordinary insert.


def _by(
    session: Session, stmt: Any, column: Any, values: list[Any], schema: frames.Schema
) -> pl.DataFrame:
    """The rows whose `column` is one of `values`; beyond `SCOPE_LIMIT` values the list goes to a
    temporary table the read joins (`frames.read_frame_matching`), not into an IN list."""
    if len(values) <= LedgerFrames.SCOPE_LIMIT:
        return frames.read_frame(session, stmt.where(column.in_(values)), schema)
    return frames.read_frame_matching(session, stmt, column, values, schema)


def customer_ids_by_ref(session: Session, refs: list[str]) -> pl.DataFrame:
    """`external_ref`, `id` of the customers with these references."""
    stmt = select(Customer.external_ref, Customer.id)
    return _by(
        session, stmt, Customer.external_ref, refs, {"external_ref": pl.String, "id": pl.Int64}
    )


def account_ids_by_ref(session: Session, refs: list[str]) -> pl.DataFrame:
    """`external_ref`, `id` of the accounts with these references."""
    stmt = select(Account.external_ref, Account.id)
    return _by(
        session, stmt, Account.external_ref, refs, {"external_ref": pl.String, "id": pl.Int64}
    )


def accounts_by_ref(session: Session, refs: list[str]) -> pl.DataFrame:
    """`external_ref`, `id`, `currency`, `product_code` of the accounts with these references."""
    stmt = select(Account.external_ref, Account.id, Account.currency, Account.product_code)
    return _by(
        session,
        stmt,
        Account.external_ref,
        refs,
        {
            "external_ref": pl.String,
            "id": pl.Int64,
            "currency": pl.String,
            "product_code": pl.String,
        },
    )


def bill_totals(session: Session, account_ids: list[int]) -> pl.DataFrame:
    """`account_id`, `external_ref`, `due_date`, `total_minor` (all three components) of the bills
    of these accounts."""
    stmt = select(
        Bill.account_id,
        Bill.external_ref,
        Bill.due_date,
        Bill.principal_minor + Bill.interest_minor + Bill.fees_minor,
    )
    # Ids of any number go inline (`ids_in`); `_by`'s temporary table holds texts only.
    return frames.read_frame(
        session,
        stmt.where(ids_in(Bill.account_id, account_ids)),
        {
            "account_id": pl.Int64,
            "external_ref": pl.String,
            "due_date": pl.Date,
            "total_minor": pl.Int64,
        },
    )


def payments_by_external_id(session: Session, external_ids: list[str]) -> pl.DataFrame:
    """`external_id`, `account_id`, `amount_minor` of the payments with these external ids."""
    stmt = select(Payment.external_id, Payment.account_id, Payment.amount_minor)
    return _by(
        session,
        stmt,
        Payment.external_id,
        external_ids,
        {"external_id": pl.String, "account_id": pl.Int64, "amount_minor": pl.Int64},
    )


def insert_customers(session: Session, frame: pl.DataFrame, *, sealed: bool = False) -> int:
    """Customers: `external_ref`, `name`, `national_id`, `preferred_language`, `jurisdiction`,
    `timezones` (a list), `created_at`, optionally `birth_year` and `sex`; the name and national
    ID in plain text, sealed here, or already through `sealing.customers` when `sealed`."""
    out = frame if sealed else sealing.customers(frame)
    return frames.insert_frame(session, Customer.__table__, out)  # type: ignore[arg-type]


def insert_sealed_customers(session: Session, frame: pl.DataFrame) -> int:
    """Customers whose personal data arrives already sealed (a synthetic load that seals one name
    for a million rows): the columns of `customers` as stored."""
    return frames.insert_frame(session, Customer.__table__, frame)  # type: ignore[arg-type]


# What a bulk load of a portfolio writes, in the order it writes it.
LOADED_TABLES = (Customer, CustomerPhone, Account, Bill, Payment, Allocation)


def drop_load_indexes(session: Session) -> list[Index]:
    """Before a bulk load into an empty ledger: the loaded tables' plain indexes, dropped to be
    built once at the end (`build_load_indexes`). PostgreSQL only."""
    return frames.drop_indexes(session, [m.__table__ for m in LOADED_TABLES])  # type: ignore[misc]


def build_load_indexes(session: Session, indexes: list[Index]) -> None:
    frames.create_indexes(session, indexes)


def next_ids(session: Session) -> dict[str, int]:
    """One past the highest id of accounts, bills, payments and allocations (1 when empty): where
    a bulk load's rows will be numbered from."""
    row = session.execute(
        select(
            select(func.coalesce(func.max(Account.id), 0) + 1).scalar_subquery(),
            select(func.coalesce(func.max(Bill.id), 0) + 1).scalar_subquery(),
            select(func.coalesce(func.max(Payment.id), 0) + 1).scalar_subquery(),
            select(func.coalesce(func.max(Allocation.id), 0) + 1).scalar_subquery(),
        )
    ).one()
    return dict(zip(("accounts", "bills", "payments", "allocations"), row, strict=True))


def insert_customer_phones(session: Session, frame: pl.DataFrame, *, sealed: bool = False) -> int:
    """`customer_id`, `position`, `number` (E.164, plain, or sealed with its `number_index` by
    `sealing.phones` when `sealed`), `type`, `source`."""
    out = (frame if sealed else sealing.phones(frame)).select(
        "customer_id", "position", "number", "number_index", "type", "source"
    )
    return frames.insert_frame(session, CustomerPhone.__table__, out)  # type: ignore[arg-type]


def insert_customer_emails(session: Session, frame: pl.DataFrame, *, sealed: bool = False) -> int:
    """`customer_id`, `position`, `address` (plain, or sealed with its `address_index` by
    `sealing.emails` when `sealed`), `source`."""
    out = (frame if sealed else sealing.emails(frame)).select(
        "customer_id", "position", "address", "address_index", "source"
    )
    return frames.insert_frame(session, CustomerEmail.__table__, out)  # type: ignore[arg-type]


def insert_customer_addresses(
    session: Session, frame: pl.DataFrame, *, sealed: bool = False
) -> int:
    """`customer_id`, `position`, `country`, `region`, `city`, `postal_code`, `line` (plain, or
    sealed by `sealing.addresses` when `sealed`)."""
    out = frame if sealed else sealing.addresses(frame)
    return frames.insert_frame(session, CustomerAddress.__table__, out)  # type: ignore[arg-type]


def mark_address_returned(
    session: Session, customer_id: int, address_id: int, at: dt.datetime
) -> bool:
    """Mark the customer's address returned to sender (once: a second report changes nothing).
    True when it was marked now."""
    a = CustomerAddress
    result = session.execute(
        update(a)
        .where(a.id == address_id, a.customer_id == customer_id, a.returned_at.is_(None))
        .values(returned_at=at)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def insert_accounts(session: Session, frame: pl.DataFrame) -> int:
    return frames.insert_frame(session, Account.__table__, frame)  # type: ignore[arg-type]


def insert_bills(session: Session, frame: pl.DataFrame) -> int:
    return frames.insert_frame(session, Bill.__table__, frame)  # type: ignore[arg-type]


def insert_payments(session: Session, frame: pl.DataFrame) -> int:
    return frames.insert_frame(session, Payment.__table__, frame)  # type: ignore[arg-type]


def accounts_with_customer(session: Session) -> pl.DataFrame:
    """Every account with its customer's jurisdiction (the simulator's portfolio): account_id,
    customer_id, ref, product, currency, jurisdiction."""
    return frames.read_frame(
        session,
        select(
            Account.id,
            Account.customer_id,
            Account.external_ref,
            Account.product_code,
            Account.currency,
            Customer.jurisdiction,
        ).join(Customer, Customer.id == Account.customer_id),
        {
            "account_id": pl.Int64,
            "customer_id": pl.Int64,
            "ref": pl.String,
            "product": pl.String,
            "currency": pl.String,
            "jurisdiction": pl.String,
        },
    )


def accounts_with_a_paid_off_bill(session: Session) -> set[int]:
    """The accounts that have repaid a bill in full before."""
    return set(
        session.execute(
            select(Bill.account_id).where(Bill.paid_off_date.is_not(None)).distinct()
        ).scalars()
    )
