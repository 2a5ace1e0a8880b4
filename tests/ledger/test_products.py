"""A product is read once a transaction (`ledger.service.product`): the flows of a slot's
promises ask it for every account, and a product does not change under a transaction that
does not change it itself."""

from __future__ import annotations

import gc

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from recoup.ledger import service as ledger_service
from recoup.ledger.repository import ProductRepository


def product_reads(session: Session) -> tuple[list[str], object]:
    reads: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM products" in statement:
            reads.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", note)
    return reads, note


class TestAProductReadOnceATransaction:
    def test_later_asks_in_the_transaction_take_it_without_a_query(self, session: Session) -> None:
        """Catches `product` going back to a query per ask (the session's identity map holds
        the product weakly: with nothing else keeping it alive, each ask read it again)."""
        code = ProductRepository(session).codes()[0]
        reads, note = product_reads(session)
        try:
            first = ledger_service.product(session, code)
            timezone = first.timezone
            del first
            gc.collect()
            again = [ledger_service.product(session, code) for _ in range(5)]
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", note)
        assert len(reads) == 1, reads
        assert all(p.code == code and p.timezone == timezone for p in again)

    def test_a_new_transaction_reads_it_afresh(self, session: Session) -> None:
        """A product another writer changed between two transactions is seen changed in the
        second. Sessions do not expire on commit: a product kept past its transaction would be
        served as the first saw it. Catches the kept products outliving their transaction
        (remove the transaction check in `held` and this fails)."""
        code = ProductRepository(session).codes()[0]
        before = ledger_service.product(session, code).grace_days
        session.commit()
        # Another writer's change, in SQL the session's objects know nothing of.
        session.connection().execute(
            text("UPDATE products SET grace_days = :g WHERE code = :c"),
            {"g": before + 7, "c": code},
        )
        session.commit()
        gc.collect()
        assert ledger_service.product(session, code).grace_days == before + 7

    def test_a_change_made_through_the_session_shows(self, session: Session) -> None:
        code = ProductRepository(session).codes()[0]
        kept = ledger_service.product(session, code)
        kept.grace_days += 1
        assert ledger_service.product(session, code).grace_days == kept.grace_days
