"""Risk models on Recoup's own history at scale: training from the history, and the scoring step
the daily run adds.

    .venv/bin/python -m benchmarks.bench_scoring \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_scoring \
        --accounts 1000000

Builds a fresh database with the benchmarks' synthetic portfolio (three bills per account, most
paid on time, a late and a never-paying tail), runs the delinquency pass of the day, then:

1. `risk.service.train_from_history` for `p_pay` (weekly snapshots ending 30 days before the day,
   as many as `--snapshots`): the history read, the features and labels computed, LightGBM
   trained (`--folds`, 5 by default) and calibrated, the model registered. The snapshot rows it
   trained on are printed; the target is about 1,000,000 rows in at most 2 minutes.
2. `risk.service.score_day` with that model active: every open account owing read, its features
   computed, scored, its top 3 reasons built and the scores bulk-written, and the drift of every
   feature and the score written. The target is at most 3 s for 1,000,000 accounts: the time the
   daily run's scoring step adds.
"""

from __future__ import annotations

import argparse
import datetime as dt

from benchmarks.common import fresh_database, load_portfolio, timed
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_sessionmaker, session_scope
from recoup.risk import features, tabular
from recoup.risk import repository as risk_repo
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
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    as_of = dt.date(2026, 6, 1)
    times: dict[str, float] = {}
    engine = fresh_database(args.database_url)
    with timed("load portfolio (not part of the run)", times):
        counts = load_portfolio(engine, accounts=args.accounts, bills_per_account=3, as_of=as_of)
    print(f"  loaded {counts}")
    factory = make_sessionmaker(engine)
    clock = SettableClock(dt.datetime.combine(as_of, dt.time(1), tzinfo=dt.UTC))
    with timed("delinquency pass (not part of it)", times), session_scope(factory) as session:
        delinquency_service.run_daily(session, as_of, clock=clock)
    with timed("train p_pay from history", times), session_scope(factory) as session:
        model = risk_service.train_from_history(
            session,
            as_of=as_of,
            kind="p_pay",
            actor="bench",
            clock=clock,
            snapshots=args.snapshots,
            folds=args.folds,
            progress=lambda m: print(f"    {m}", flush=True),
        )
        risk_service.activate(session, model.id, actor="bench", clock=clock)
        metrics = model.metrics
    print(
        f"  trained on {metrics['rows']:,} snapshot rows ({metrics['positives']:,} paid); "
        f"cv AUC {metrics.get('cv_auc', metrics.get('holdout_auc'))}"
    )
    with timed("score the day (the daily run's step)", times), session_scope(factory) as session:
        result = risk_service.score_day(session, as_of, clock=clock)
    print(f"  scored {result.scored}; drift alerts {len(result.alerts)}")
    # Where the step's time goes (read again, nothing written).
    with factory() as session:
        with timed("  of which: the history read", times):
            history = risk_repo.history(session, since=as_of, until=as_of)
        with timed("  of which: the features computed", times):
            computed = features.compute(history, [as_of])
        population = computed.filter(features.population("p_pay"))
        model = risk_service.engine_model(risk_service.get_model(session, result.models["p_pay"]))
        with timed("  of which: the scores", times):
            tabular.predict(model, population)
        with timed("  of which: the reasons (tree SHAP)", times):
            tabular.top_contributions(model, population, top=3, sign=-1)


if __name__ == "__main__":
    main()
