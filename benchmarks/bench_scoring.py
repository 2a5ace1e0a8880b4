"""Risk models on Recoup's own history at scale: training from the history, and the scoring step
the daily run adds.

    .venv/bin/python -m benchmarks.bench_scoring \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_scoring \
        --accounts 1000000

Builds a fresh database with the benchmarks' synthetic portfolio (three bills per account, most
paid on time, a late and a never-paying tail), runs the delinquency pass of the day, then:

1. `risk.service.train_from_history` for `p_pay` (weekly snapshots ending 30 days before the day,
   as many as `--snapshots`): the history read, the features and labels computed, LightGBM
   trained (`--folds`; by default the service's: 5, or a held-out tenth from 250,000 rows on) and calibrated, the model registered. The snapshot rows it
   trained on are printed; the target is about 1,000,000 rows in at most 2 minutes.
2. `risk.service.score_day` with that model active: every open account owing read, its features
   computed, scored, its top 3 reasons built and the scores bulk-written, and the drift of every
   feature and the score written. The target is at most 3 s for 1,000,000 accounts: the time the
   daily run's scoring step adds.

`--kinds p_pay,p_roll` trains and activates both (the day's read then keeps every account owing,
not only those overdue). `--score-only` (with `--reuse`) skips the training and scores with the
models an earlier run left active, `--repeat` times, printing for each the wall time, this
process's CPU time (all threads) and the CPU time of the server process serving the session
(read from /proc: the database on this machine; parallel query workers not counted);
`--scores-out` writes the day's scores (account_id, kind, score) to a Parquet file, to compare two
versions of the code score for score.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time
from pathlib import Path

import polars as pl
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.common import fresh_database, load_portfolio, timed
from recoup.delinquency import service as delinquency_service
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.models import AccountScore
from recoup.risk import service as risk_service


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_scoring",
    )
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--snapshots", type=int, default=8)
    parser.add_argument("--folds", type=int, default=None, help="default: the service's choice")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database an earlier run loaded (and its delinquency pass); --accounts unused",
    )
    parser.add_argument("--kinds", default="p_pay", help="the kinds trained and activated")
    parser.add_argument(
        "--score-only", action="store_true", help="with --reuse: score with the active models"
    )
    parser.add_argument("--repeat", type=int, default=1, help="scorings of the day")
    parser.add_argument("--scores-out", type=Path, default=None)
    args = parser.parse_args()
    as_of = dt.date(2026, 6, 1)
    times: dict[str, float] = {}
    clock = SettableClock(dt.datetime.combine(as_of, dt.time(1), tzinfo=dt.UTC))
    if args.reuse:  # the portfolio and its delinquency pass from an earlier run
        crypto.install_keyring(crypto.Keyring.generate(development=True))
        engine = make_engine(args.database_url)
        factory = make_sessionmaker(engine)
    else:
        engine = fresh_database(args.database_url)
        with timed("load portfolio (not part of the run)", times):
            counts = load_portfolio(
                engine, accounts=args.accounts, bills_per_account=3, as_of=as_of
            )
        print(f"  loaded {counts}")
        factory = make_sessionmaker(engine)
        with timed("delinquency pass (not part of it)", times), session_scope(factory) as session:
            delinquency_service.run_daily(session, as_of, clock=clock)
    if not args.score_only:
        for kind in args.kinds.split(","):
            train(factory, kind, as_of=as_of, clock=clock, args=args, times=times)
    for _ in range(args.repeat):
        score(factory, as_of=as_of, clock=clock, times=times)
    if args.scores_out is not None:
        with factory() as session:
            s = AccountScore
            rows = session.execute(
                select(s.account_id, s.kind, s.score).where(s.as_of_date == as_of)
            ).all()
        pl.DataFrame(
            rows,
            schema={"account_id": pl.Int64, "kind": pl.String, "score": pl.Float64},
            orient="row",
        ).sort("kind", "account_id").write_parquet(args.scores_out)
        print(f"  {len(rows):,} scores written to {args.scores_out}")
    # The reasons are computed when asked for: one account's, as `contact explain` and the
    # console ask (the history read for that account alone, its features, tree SHAP).
    with factory() as session:
        owing = session.scalars(
            select(AccountScore.account_id).where(AccountScore.as_of_date == as_of).limit(20)
        ).all()
        with timed(f"explain {len(owing)} accounts, one at a time", times):
            for account_id in owing:
                risk_service.explain(session, account_id)


def train(
    factory: sessionmaker[Session],
    kind: str,
    *,
    as_of: dt.date,
    clock: SettableClock,
    args: argparse.Namespace,
    times: dict[str, float],
) -> None:
    started = time.perf_counter()
    with timed(f"train {kind} from history", times), session_scope(factory) as session:
        model = risk_service.train_from_history(
            session,
            as_of=as_of,
            kind=kind,
            actor="bench",
            clock=clock,
            snapshots=args.snapshots,
            folds=args.folds,
            progress=lambda m: print(
                f"    {time.perf_counter() - started:7.1f} s  {m}", flush=True
            ),
        )
        risk_service.activate(session, model.id, actor="bench", clock=clock, at_host=True)
        metrics = model.metrics
    print(
        f"  trained on {metrics['rows']:,} snapshot rows ({metrics['positives']:,} paid); "
        f"cv AUC {metrics.get('cv_auc', metrics.get('holdout_auc'))}"
    )


def score(
    factory: sessionmaker[Session], *, as_of: dt.date, clock: SettableClock, times: dict[str, float]
) -> None:
    """The daily run's scoring step, in its own transaction, with its CPU time: this process's
    (all threads) and the server backend's (from /proc, so only with the database on this
    machine)."""
    with session_scope(factory) as session:
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        server_before, client_before = _server_cpu(backend), _client_cpu()
        with timed("score the day (the daily run's step)", times):
            result = risk_service.score_day(session, as_of, clock=clock)
        server, client = _server_cpu(backend) - server_before, _client_cpu() - client_before
    print(f"  scored {result.scored}; drift alerts {len(result.alerts)}")
    print(f"  CPU: this process {client:.2f} s, the server's backend {server:.2f} s")
    for phase, seconds in result.seconds.items():
        print(f"  of which {phase}: {seconds:.2f} s")


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_cpu(pid: int) -> float:
    """user + system seconds of a local process (0 when /proc does not have it)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
