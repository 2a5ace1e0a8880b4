from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from recoup.kit.repository import Repository
from recoup.models import Account, Allocation, Bill, Customer, Payment, Product


class CustomerRepository(Repository[Customer]):
    model = Customer

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


class ProductRepository(Repository[Product]):
    model = Product


class AccountRepository(Repository[Account]):
    model = Account

    def by_ref(self, external_ref: str) -> Account | None:
        return self.get_one_or_none(select(Account).where(Account.external_ref == external_ref))

    def for_update(self, account_id: int) -> Account | None:
        """Lock the account row: payments, reversals and bills on one account are serialised."""
        return self.get_one_or_none(
            select(Account).where(Account.id == account_id).with_for_update()
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


class PaymentRepository(Repository[Payment]):
    model = Payment

    def by_external_id(self, external_id: str) -> Payment | None:
        return self.get_one_or_none(select(Payment).where(Payment.external_id == external_id))

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
