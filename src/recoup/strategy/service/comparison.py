"""How two policies decide the same portfolio differently (`recoup strategy diff`, and the
strategy desk's dry-run of a draft against the active policy): one engine, account by account,
writing nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy.orm import Session

from recoup.models import PolicyVersion
from recoup.strategy import repository as repo
from recoup.strategy.kernel import decide, stages
from recoup.strategy.policy import Policy
from recoup.strategy.service.facts import facts, with_history
from recoup.strategy.service.versions import active_policy, compiled, get_version

COMPARED = ("stage", "decision", "treatment", "channel", "queue")
CHANGES_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "segment": pl.String(),
    **{f"{c}_{side}": pl.String() for c in COMPARED for side in ("old", "new")},
}


def changes(session: Session, as_of: dt.date, old: Policy, new: Policy) -> pl.DataFrame:
    """One row per account the two policies decide differently as of `as_of` (the segment under
    the new policy, and each compared column's value under the old and the new), by account id.
    Both decide on the same facts, the contact history taken as the new policy stages it."""
    return _compare(session, as_of, old, new)[0]


def _compare(
    session: Session, as_of: dt.date, old: Policy, new: Policy
) -> tuple[pl.DataFrame, int]:
    """`changes`, and how many accounts were decided."""
    f = facts(session, as_of)
    if f.height == 0:
        return pl.DataFrame(schema=CHANGES_SCHEMA), 0
    f = with_history(session, f, stages(new, f), as_of)
    a = decide(old, f)
    b = decide(new, f)
    joined = a.join(b, on="account_id", suffix="_new")
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_new")) for c in COMPARED)
    changed = (
        joined.filter(differs)
        .select(
            pl.col("account_id").cast(pl.Int64),
            pl.col("segment_new").cast(pl.String).alias("segment"),
            *(
                pl.col(name).cast(pl.String).alias(f"{c}_{side}")
                for c in COMPARED
                for side, name in (("old", c), ("new", f"{c}_new"))
            ),
        )
        .sort("account_id")
    )
    return changed, f.height


def diff(session: Session, as_of: dt.date, old: Policy, new: Policy) -> pl.DataFrame:
    """How two policies decide the same portfolio differently: per (what changed, segment under
    the new policy), how many accounts, with up to three example account ids. Writes nothing."""
    return summarise(changes(session, as_of, old, new))


def summarise(changed: pl.DataFrame) -> pl.DataFrame:
    """`changes` grouped: per (what changed, segment, from → to), how many accounts."""
    parts = [
        changed.filter(pl.col(f"{c}_old").ne_missing(pl.col(f"{c}_new"))).select(
            pl.lit(c).alias("change"),
            pl.col("segment").fill_null("-"),
            pl.concat_str(
                pl.col(f"{c}_old").fill_null("-"), pl.lit(" → "), pl.col(f"{c}_new").fill_null("-")
            ).alias("from_to"),
            "account_id",
        )
        for c in COMPARED
    ]
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame(
            schema={
                "change": pl.String,
                "segment": pl.String,
                "from_to": pl.String,
                "accounts": pl.UInt32,
                "examples": pl.List(pl.Int64),
            }
        )
    return (
        pl.concat(parts)
        .group_by("change", "segment", "from_to")
        .agg(pl.len().alias("accounts"), pl.col("account_id").sort().head(3).alias("examples"))
        .sort("change", "accounts", descending=[False, True])
    )


@dataclass(frozen=True)
class DryRun:
    """A candidate policy against the active one on a day's portfolio."""

    as_of: dt.date
    accounts: int  # accounts decided (open, with a delinquency state)
    changed: int  # accounts deciding differently in any compared column
    counts: dict[str, int]  # per compared column, accounts whose value changes
    rows: list[dict[str, object]]  # a page of `changes`, each with its account's reference
    summary: pl.DataFrame  # `summarise(changes)`: what `recoup strategy diff` prints


def dry_run(
    session: Session, as_of: dt.date, old: Policy, new: Policy, *, limit: int, offset: int
) -> DryRun:
    """What `new` would decide differently from `old` as of `as_of`: the counts, the grouped
    summary and a page of the accounts (with their references). Writes nothing."""
    changed, decided = _compare(session, as_of, old, new)
    counts = {
        c: changed.filter(pl.col(f"{c}_old").ne_missing(pl.col(f"{c}_new"))).height
        for c in COMPARED
    }
    page = changed.slice(offset, limit).to_dicts()
    refs = repo.account_refs(session, [int(str(r["account_id"])) for r in page])
    for row in page:
        row["account_ref"] = refs.get(int(str(row["account_id"])), "")
    return DryRun(
        as_of=as_of,
        accounts=decided,
        changed=changed.height,
        counts=counts,
        rows=page,
        summary=summarise(changed),
    )


def dry_run_version(
    session: Session, version_id: int, *, as_of: dt.date, limit: int, offset: int
) -> tuple[PolicyVersion, PolicyVersion, DryRun]:
    """A stored version (a draft, usually) against the active policy: (the version, the active
    one, the dry run)."""
    version = get_version(session, version_id)
    active, policy = active_policy(session)
    return (
        version,
        active,
        dry_run(session, as_of, policy, compiled(version), limit=limit, offset=offset),
    )
