"""The small generic repository every domain repository builds on. All SQL lives in repositories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

M = TypeVar("M")


@dataclass(frozen=True)
class Page(Generic[M]):
    items: Sequence[M]
    total: int
    limit: int
    offset: int


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, id: Any) -> M | None:
        return self.session.get(self.model, id)

    def get_one_or_none(self, stmt: Select[M]) -> M | None:
        return self.session.execute(stmt).scalars().unique().one_or_none()

    def list(self, stmt: Select[M]) -> Sequence[M]:
        return self.session.execute(stmt).scalars().unique().all()

    def paginate(self, stmt: Select[M], *, limit: int, offset: int) -> Page[M]:
        total = self.session.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        ).scalar_one()
        items = self.list(stmt.limit(limit).offset(offset))
        return Page(items=items, total=total, limit=limit, offset=offset)

    def create(self, obj: M, *, flush: bool = True) -> M:
        self.session.add(obj)
        if flush:
            self.session.flush()
        return obj

    def base(self) -> Select[M]:
        return select(self.model)
