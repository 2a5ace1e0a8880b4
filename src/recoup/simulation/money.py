"""The simulated money: each evening the debtors decide what to pay (the behaviour model, from
what they owe, what falls due, what they promised and what reached them), their wallets pay it
and spend a share of the rest, and the day's payments arrive as the wallet's settlement file
through the real importer (`ingest.Importer`, the same validation and waterfall as
`recoup import`, settled by `ledger.flows.settle`).

The reads go through the owners' repositories (delinquency, arrangements)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from recoup.arrangements import repository as arrangements_repo
from recoup.delinquency import repository as delinquency_repo
from recoup.ingest.columns import Kind
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.kit.errors import RecoupError
from recoup.simulation import behaviour
from recoup.simulation.clock import RECEIVED, SETTLED, local
from recoup.simulation.debtors import Debtors
from recoup.simulation.report import DayReport


def day_input(
    sessions: sessionmaker[Session], debtors: Debtors, n: int, day: dt.date
) -> behaviour.DayInput:
    """What the behaviour model decides a day's payments from: per account that owes or has a
    bill due, its bucket, what is overdue, due today and promised today, whether the debtor is
    on hard times, and the wallet; and what reached the debtors lately."""
    with sessions() as session:
        states = delinquency_repo.owing_states(session)
        due = delinquency_repo.due_on(session, day)
        owed = arrangements_repo.promised_on(session, day)
        paused = delinquency_repo.open_ended_hardship(session)
    promised = pl.DataFrame(
        {"account_id": list(owed), "promise_minor": list(owed.values())},
        schema={"account_id": pl.Int64, "promise_minor": pl.Int64},
    )
    accounts = (
        states.join(due, on="account_id", how="full", coalesce=True)
        .join(promised, on="account_id", how="left")
        .join(
            debtors.accounts.select(
                "account_id", "product", "segment", "responsiveness", "balance_minor"
            ),
            on="account_id",
            how="inner",
        )
        .with_columns(
            pl.col("bucket").fill_null("M0"),
            pl.col("overdue_minor").fill_null(0),
            pl.col("due_today_minor").fill_null(0),
            pl.col("promise_minor").fill_null(0),
        )
    )
    hardship = debtors.in_hardship(day) | paused
    accounts = accounts.with_columns(pl.col("account_id").is_in(list(hardship)).alias("hardship"))
    return behaviour.DayInput(n, day, accounts.sort("account_id"), debtors.deliveries_frame())


def payments(
    sessions: sessionmaker[Session],
    clock: SettableClock,
    debtors: Debtors,
    n: int,
    day: dt.date,
    report: DayReport,
) -> None:
    """The evening: hard times drawn, paydays paid into the wallets, the day's payments decided,
    taken from the wallets and imported as the settlement file."""
    clock.set(local(day, SETTLED))
    debtors.hardship(n, day, report)
    world, seed = debtors.world, debtors.seed
    wallet = world.wallet
    if wallet is not None and day.day in world.repayment.paydays:
        debtors.accounts = debtors.accounts.with_columns(
            pl.col("balance_minor") + pl.col("income_minor")
        )
    decided = behaviour.decide_payments(
        world, seed, day_input(sessions, debtors, n, day), debtors.factor, debtors.mixes
    )
    if wallet is not None:
        # What was paid leaves the wallet; a share of the rest goes on other things.
        paid = decided.group_by("account_id").agg(pl.col("amount_minor").sum())
        debtors.accounts = (
            debtors.accounts.join(paid, on="account_id", how="left")
            .with_columns(
                (
                    (pl.col("balance_minor") - pl.col("amount_minor").fill_null(0))
                    * (1 - wallet.spend_share)
                )
                .floor()
                .cast(pl.Int64)
                .alias("balance_minor")
            )
            .drop("amount_minor")
        )
    if decided.height == 0:
        return
    rows = (
        decided.join(debtors.accounts, on="account_id")
        .select(
            pl.format("sim-{}-{}-{}", pl.lit(seed), pl.lit(n), "account_id").alias("external_id"),
            pl.col("ref").alias("account_ref"),
            pl.col("amount_minor").cast(pl.String),
            "currency",
            pl.lit(local(day, RECEIVED).isoformat()).alias("received_at"),
            pl.lit("wallet").alias("source"),
        )
        .with_columns(_line=pl.int_range(2, decided.height + 2, dtype=pl.Int64))
    )
    with sessions.begin() as session:
        result = Importer(session, clock=clock).import_rows(
            f"wallet settlement {day.isoformat()}", Kind.payments, rows
        )
    if result.errors:
        raise RecoupError(f"simulated payments failed validation: {result.errors[:3]}")
    report.payments = decided.height
    by_currency = (
        decided.join(debtors.accounts, on="account_id")
        .group_by("currency")
        .agg(pl.col("amount_minor").sum())
    )
    report.collected.update(dict(by_currency.iter_rows()))
    # Recovered: what was paid toward amounts already overdue (cures, part payments, promises
    # kept), the money collection work can move; bills paid by their due date are the rest.
    by_due_date = pl.col("kind").is_in(["on_time", "autopay"])
    recovered = (
        decided.filter(~by_due_date)
        .join(debtors.accounts, on="account_id")
        .group_by("currency")
        .agg(pl.col("amount_minor").sum())
    )
    report.recovered.update(dict(recovered.iter_rows()))
    for account_id, amount, currency in (
        decided.filter(~by_due_date)
        .join(debtors.accounts, on="account_id")
        .select("account_id", "amount_minor", "currency")
        .iter_rows()
    ):
        report.segment_recovered[(debtors.segment_name(account_id), currency)] += amount
    report.events.update(dict(decided["kind"].value_counts().iter_rows()))
