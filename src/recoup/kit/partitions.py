"""Monthly partitions on PostgreSQL: the mechanism, for the owners to declare their tables.

A table partitioned by RANGE on a date or instant column (the migration `95cd095bbdbc` made
them) has one partition a month, named `<table>_pYYYY_MM`, and a default partition
`<table>_default` for rows outside every month made so far. `maintain` keeps it so:

- **ahead**: the business day's month and the next two exist. A month whose rows are in the
  default partition already (a day run before its partition was made) is made by moving them:
  the default is detached, the month made, a new default made, and the old default's rows put
  back through the parent, which routes each to its partition.
- **retention**: a month partition wholly older than the retention (its end on or before the day
  `years` ago) is detached and dropped, unless a `Holder` says its rows are still needed (the
  record-keeping rules count the years from the last collection activity on the debt, not from
  the row's own date: a partition with rows of an account collected on since the cutoff is held).
- nothing on SQLite, or on a table that is not partitioned: `maintain` returns no actions.

Each owner declares its tables (`Partitioned`) with the holders that keep them; the daily flow
gives the years (the longest record-keeping period any jurisdiction asks for) and the day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from recoup.kit.logging import get_logger

log = get_logger(__name__)

AHEAD = 2  # months made beyond the current one
PARTITION_NAME = re.compile(r"(?P<parent>.+)_(?:p(?P<year>\d{4})_(?P<month>\d{2})|default)")


@dataclass(frozen=True)
class Holder:
    """Keeps a partition while one of its rows' `column` matches `key` in `table` (on a row
    dated on or after the retention's cutoff by `since`, when given)."""

    column: str
    table: str
    key: str
    since: str | None = None

    def describe(self) -> str:
        dated = f" dated on or after the cutoff ({self.since})" if self.since else ""
        return f"{self.column} still in {self.table}.{self.key}{dated}"


@dataclass(frozen=True)
class Partitioned:
    """A table partitioned by month on `column` (a DATE or a TIMESTAMPTZ)."""

    table: str
    column: str
    holders: tuple[Holder, ...] = ()


Kind = Literal["create", "drop", "hold"]


@dataclass(frozen=True)
class Action:
    kind: Kind
    table: str
    partition: str
    month: dt.date
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.partition}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Maintenance:
    actions: list[Action] = field(default_factory=list)
    skipped: str | None = None  # why nothing was done (a lock not granted in time)

    def summary(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for a in self.actions:
            out.setdefault(f"partitions_{a.kind}", []).append(
                a.partition if a.kind != "hold" else str(a)
            )
        if self.skipped:
            out["partitions_skipped"] = [self.skipped]
        return out


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month:%Y_%m}"


def is_partition(name: str, tables: set[str] | frozenset[str]) -> bool:
    """Whether `name` is a partition of one of `tables` (by the names `maintain` gives)."""
    match = PARTITION_NAME.fullmatch(name)
    return match is not None and match["parent"] in tables


def is_partitioned(session: Session, table: str) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    kind = session.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    ).scalar_one_or_none()
    return kind == "p"


def months(session: Session, table: str) -> dict[dt.date, str]:
    """The month partitions of `table` that exist: month -> partition name."""
    names = session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": table},
    ).scalars()
    out = {}
    for name in names:
        match = PARTITION_NAME.fullmatch(name)
        if match and match["year"]:
            out[dt.date(int(match["year"]), int(match["month"]), 1)] = name
    return out


def plan(session: Session, spec: Partitioned, day: dt.date, *, years: int) -> list[Action]:
    """What `maintain` would do to `spec.table` on `day` (nothing changed)."""
    if not is_partitioned(session, spec.table):
        return []
    existing = months(session, spec.table)
    actions: list[Action] = []
    wanted = [month_of(day)]
    for _ in range(AHEAD):
        wanted.append(next_month(wanted[-1]))
    for month in wanted:
        if month not in existing:
            actions.append(
                Action("create", spec.table, partition_name(spec.table, month), month, "ahead")
            )
    cutoff = years_before(day, years)
    for month, name in sorted(existing.items()):
        if next_month(month) > cutoff:
            continue  # inside the retention: never dropped
        holder = _holder(session, spec, name, cutoff)
        if holder is None:
            actions.append(
                Action("drop", spec.table, name, month, f"older than {years} years ({cutoff})")
            )
        else:
            actions.append(Action("hold", spec.table, name, month, holder.describe()))
    return actions


def maintain(
    session: Session,
    specs: list[Partitioned],
    day: dt.date,
    *,
    years: int,
    dry_run: bool = False,
    lock_timeout_ms: int = 10_000,
) -> Maintenance:
    """Make the months ahead and drop the expired ones (see the module), in a savepoint of the
    caller's transaction: when a lock on a table is not granted within `lock_timeout_ms` (a
    long transaction reading it), nothing is changed, the reason is returned, and the caller's
    transaction goes on."""
    result = Maintenance()
    postgresql = session.get_bind().dialect.name == "postgresql"
    try:
        with session.begin_nested():
            if postgresql:
                previous = session.execute(text("SELECT current_setting('lock_timeout')")).scalar()
                session.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
            for spec in specs:
                for action in plan(session, spec, day, years=years):
                    result.actions.append(action)
                    if not dry_run:
                        _apply(session, spec, action)
                    log.info(
                        f"partitions.{action.kind}",
                        table=action.table,
                        partition=action.partition,
                        detail=action.detail,
                        dry_run=dry_run,
                    )
            if postgresql:
                session.execute(
                    text("SELECT set_config('lock_timeout', :v, true)"), {"v": previous}
                )
    except Exception as exc:  # a lock not granted: the day's run must still commit
        if not postgresql or "lock timeout" not in str(exc).lower():
            raise
        result.actions.clear()
        result.skipped = "a lock was not granted in time; the next run tries again"
        log.warning("partitions.skipped", reason=result.skipped)
    return result


def _holder(session: Session, spec: Partitioned, partition: str, cutoff: dt.date) -> Holder | None:
    for h in spec.holders:
        since = f' AND x."{h.since}" >= :cutoff' if h.since else ""
        # Names come from the owners' declarations and the catalogue, never from input.
        held = session.execute(
            text(
                f'SELECT 1 FROM "{partition}" p WHERE EXISTS (SELECT 1 FROM "{h.table}" x '  # noqa: S608
                f'WHERE x."{h.key}" = p."{h.column}"{since}) LIMIT 1'
            ),
            {"cutoff": cutoff},
        ).first()
        if held is not None:
            return h
    return None


def _bound(session: Session, spec: Partitioned, month: dt.date) -> str:
    kind = session.execute(
        text(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = :t AND column_name = :c"
        ),
        {"t": spec.table, "c": spec.column},
    ).scalar_one()
    return f"'{month.isoformat()}'" if kind == "date" else f"'{month.isoformat()} 00:00:00+00'"


def create(session: Session, spec: Partitioned, month: dt.date) -> None:
    """Make `month`'s partition of `spec.table` (moving its rows out of the default)."""
    action = Action("create", spec.table, partition_name(spec.table, month), month)
    _apply(session, spec, action)


def _apply(session: Session, spec: Partitioned, action: Action) -> None:
    table, name = spec.table, action.partition
    if action.kind == "drop":
        session.execute(text(f'ALTER TABLE "{table}" DETACH PARTITION "{name}"'))
        session.execute(text(f'DROP TABLE "{name}"'))
        return
    if action.kind != "create":
        return
    lo, hi = _bound(session, spec, action.month), _bound(session, spec, next_month(action.month))
    create = f'CREATE TABLE "{name}" PARTITION OF "{table}" FOR VALUES FROM ({lo}) TO ({hi})'
    default = f"{table}_default"
    stranded = session.execute(
        text(
            f'SELECT 1 FROM "{default}" WHERE "{spec.column}" >= {lo} '  # noqa: S608
            f'AND "{spec.column}" < {hi} LIMIT 1'
        )
    ).first()
    if stranded is None:
        session.execute(text(create))
        return
    # The default holds rows of the month: PostgreSQL refuses the new partition until they
    # leave it. Move the whole default through the parent once the month exists.
    old = f"{default}__moving"
    session.execute(text(f'ALTER TABLE "{table}" DETACH PARTITION "{default}"'))
    session.execute(text(f'ALTER TABLE "{default}" RENAME TO "{old}"'))
    session.execute(text(create))
    session.execute(text(f'CREATE TABLE "{default}" PARTITION OF "{table}" DEFAULT'))
    session.execute(
        text(f'INSERT INTO "{table}" OVERRIDING SYSTEM VALUE SELECT * FROM "{old}"')  # noqa: S608
    )
    session.execute(text(f'DROP TABLE "{old}"'))
