"""SQL for keys and for sealed values read and written raw (never decrypted here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import LargeBinary, Table, func, literal, select, type_coerce, update
from sqlalchemy.orm import Session

from recoup.kit.repository import Repository
from recoup.models import EncryptionKey


class EncryptionKeyRepository(Repository[EncryptionKey]):
    model = EncryptionKey

    def all(self) -> Sequence[EncryptionKey]:
        stmt = select(EncryptionKey).order_by(EncryptionKey.created_at, EncryptionKey.id)
        return self.session.execute(stmt).scalars().all()

    def with_state(self, purpose: str, state: str) -> Sequence[EncryptionKey]:
        stmt = select(EncryptionKey).where(
            EncryptionKey.purpose == purpose, EncryptionKey.state == state
        )
        return self.session.execute(stmt).scalars().all()


def _raw(table: Table, column: str) -> Any:
    """The column as stored: bytes, bypassing the decrypting column type."""
    return type_coerce(table.c[column], LargeBinary())


def sealed_batch(
    session: Session, table: Table, columns: Sequence[str], after: int, limit: int
) -> list[tuple[int, list[bytes | None]]]:
    """The sealed values of the next rows after id `after`, locked on PostgreSQL."""
    stmt = (
        select(table.c.id, *(_raw(table, c).label(c) for c in columns))
        .where(table.c.id > after)
        .order_by(table.c.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return [
        (row[0], [bytes(v) if v is not None else None for v in row[1:]])
        for row in session.execute(stmt)
    ]


def reseal(
    session: Session, table: Table, row_id: int, column: str, old: bytes, new: bytes
) -> bool:
    """Compare-and-set: replace a sealed value only if nobody changed it since it was read."""
    result = session.execute(
        update(table)
        .where(table.c.id == row_id, _raw(table, column) == literal(old, LargeBinary()))
        .values({column: literal(new, LargeBinary())})
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def key_prefixes(session: Session, table: Table, column: str) -> list[bytes]:
    """The first bytes of every sealed value in a column: enough to name its key."""
    stmt = select(func.substr(_raw(table, column), 1, 40)).where(table.c[column].is_not(None))
    return [bytes(v) for (v,) in session.execute(stmt)]
