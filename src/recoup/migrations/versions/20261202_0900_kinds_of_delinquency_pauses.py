"""kinds of delinquency pauses, and the plan or case that holds one

Revision ID: 5e2a9c7d41f3
Revises: 8c41e0d7a5b2
Create Date: 2026-12-02 09:00:00

A pause's meaning was read from its reason ("dispute" or "hardship" anywhere in it), and a plan or a
case found its own pauses by the reason it had formatted. Now `kind` says what a pause stands for
and `arrangement_id` / `case_id` name what holds it. The backfill gives each existing pause the
meaning it had: the reasons Recoup formatted ("payment plan 12", "dispute case 7", "hardship case
8") give the kind and the reference (when that row exists); any other reason keeps the reading the
text search gave it (dispute, then hardship, then cease, as the contact audit read them), else
`other`. It is batched and only fills rows without a kind, so it can be run again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e2a9c7d41f3"
down_revision: str | None = "8c41e0d7a5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 1_000
PLAN_REASON = re.compile(r"payment plan (\d+)")  # arrangements.flows.plan wrote these
CASE_REASON = re.compile(r"(dispute|hardship) case (\d+)")  # cases.flows.open_case wrote these
WORDS = ("dispute", "hardship", "cease")  # what the text searches looked for, in the audit's order

pauses = sa.table(
    "delinquency_pauses",
    sa.column("id", BIG_ID),
    sa.column("reason", sa.String),
    sa.column("kind", sa.String),
    sa.column("arrangement_id", BIG_ID),
    sa.column("case_id", BIG_ID),
)
arrangements = sa.table("arrangements", sa.column("id", BIG_ID))
cases = sa.table("cases", sa.column("id", BIG_ID))


def parse(reason: str) -> tuple[str, int | None, int | None]:
    """(kind, arrangement id, case id) as the reason says; the ids are not checked here."""
    plan = PLAN_REASON.fullmatch(reason)
    if plan is not None:
        return "plan", int(plan.group(1)), None
    case = CASE_REASON.fullmatch(reason)
    if case is not None:
        return case.group(1), None, int(case.group(2))
    lowered = reason.lower()
    return next((word for word in WORDS if word in lowered), "other"), None, None


def _existing(connection: sa.Connection, table: sa.TableClause, ids: Iterable[int]) -> set[int]:
    wanted, found = sorted(set(ids)), set[int]()
    for i in range(0, len(wanted), BATCH):
        chunk = wanted[i : i + BATCH]
        found.update(
            connection.execute(sa.select(table.c.id).where(table.c.id.in_(chunk))).scalars()
        )
    return found


def backfill(connection: sa.Connection) -> int:
    """Fill kind and references for the pauses that have no kind yet; the number filled."""
    filled, last = 0, None
    while True:
        stmt = sa.select(pauses.c.id, pauses.c.reason).where(pauses.c.kind.is_(None))
        if last is not None:
            stmt = stmt.where(pauses.c.id > last)
        rows = connection.execute(stmt.order_by(pauses.c.id).limit(BATCH)).all()
        if not rows:
            return filled
        parsed = [(pause_id, *parse(reason)) for pause_id, reason in rows]
        plans = _existing(connection, arrangements, (a for _, _, a, _ in parsed if a is not None))
        held = _existing(connection, cases, (c for _, _, _, c in parsed if c is not None))
        connection.execute(
            sa.update(pauses)
            .where(pauses.c.id == sa.bindparam("pause_id"))
            .values(
                kind=sa.bindparam("new_kind"),
                arrangement_id=sa.bindparam("new_arrangement_id"),
                case_id=sa.bindparam("new_case_id"),
            ),
            [
                {
                    "pause_id": pause_id,
                    "new_kind": kind,
                    "new_arrangement_id": arrangement_id if arrangement_id in plans else None,
                    "new_case_id": case_id if case_id in held else None,
                }
                for pause_id, kind, arrangement_id, case_id in parsed
            ],
        )
        filled += len(rows)
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("delinquency_pauses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("arrangement_id", BIG_ID, nullable=True))
        batch_op.add_column(sa.Column("case_id", BIG_ID, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_delinquency_pauses_arrangement_id"), ["arrangement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_delinquency_pauses_case_id"), ["case_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_delinquency_pauses_arrangement_id_arrangements"),
            "arrangements",
            ["arrangement_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_delinquency_pauses_case_id_cases"), "cases", ["case_id"], ["id"]
        )
    backfill(op.get_bind())
    with op.batch_alter_table("delinquency_pauses", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("delinquency_pauses", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_delinquency_pauses_case_id_cases"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_delinquency_pauses_arrangement_id_arrangements"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_delinquency_pauses_case_id"))
        batch_op.drop_index(batch_op.f("ix_delinquency_pauses_arrangement_id"))
        batch_op.drop_column("case_id")
        batch_op.drop_column("arrangement_id")
        batch_op.drop_column("kind")
