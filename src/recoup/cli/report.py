"""`recoup report`: the KPIs of a period as Rich tables, and the self-contained report.html."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recoup.analytics import fairness as fairness_service
from recoup.analytics import formats, schemas, voice
from recoup.analytics import report as html_report
from recoup.analytics import service as analytics_service
from recoup.cli.common import Runtime, console, fail, parse_date, runtime
from recoup.kit.errors import RecoupError
from recoup.risk import performance as risk_performance
from recoup.strategy import service as strategy_service

LABELS = html_report.LABELS


def report(
    from_: Annotated[
        str | None,
        typer.Option(
            "--from", help="First business day, YYYY-MM-DD (default: 29 days before --to)"
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Last business day, YYYY-MM-DD (default: the last daily pass)"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML report")] = Path(
        "report.html"
    ),
    lang: Annotated[
        str, typer.Option("--lang", help="en or zh-CN: the tables' and the report's language")
    ] = "en",
    costs: Annotated[
        Path | None,
        typer.Option("--costs", help="A costs YAML (channel and agent costs); default: shipped"),
    ] = None,
) -> None:
    """KPIs, roll rates and experiment results for a period, as tables and as report.html (one
    file, charts included, in English and Chinese with a switch)."""
    if lang not in html_report.LANGUAGES:
        raise fail(f"--lang {lang!r} is not a language of the report; use en or zh-CN")
    start, end = parse_date(from_, option="--from"), parse_date(to, option="--to")
    write_report(runtime(), start=start, end=end, out=out, lang=lang, costs=costs)


def write_report(
    rt: Runtime,
    *,
    start: dt.date | None,
    end: dt.date | None,
    out: Path,
    lang: str = "en",
    costs: Path | None = None,
) -> None:
    """The KPI tables on the console and report.html, for `recoup report` and the demo."""
    try:
        cost_table = analytics_service.load_costs(costs)
        with rt.transaction() as session:
            with console.status("reading the period"):
                period = analytics_service.period(session, start, end, clock=rt.clock)
            with console.status(f"computing the KPIs of {period.from_date} to {period.to_date}"):
                data = analytics_service.report_data(session, period, costs=cost_table)
            with console.status("comparing treatment by age band, region and sex"):
                fair = fairness_service.fairness(session, period)
            with console.status("reading the models' performance and the learning"):
                # Outcomes known by the period's last day: a scoring day counts once its
                # horizon has passed by then.
                models = risk_performance.reports(session, today=period.to_date)
                learning = strategy_service.learning_summary(
                    session, today=period.to_date + dt.timedelta(days=1)
                )
            heard = (voice.survey(session, period), voice.article_reads(session, period))
            # A report writes nothing. The rows read (the models) are printed after the session
            # ends: taken out of it first, so that the rollback does not expire them.
            session.expunge_all()
            session.rollback()
    except RecoupError as exc:
        raise fail(exc.message) from exc
    print_kpis(data.kpis, lang)
    print_experiments(data.experiments, lang)
    print_fairness(fair, lang)
    print_models(models, lang)
    print_learning(learning, lang)
    try:
        out.write_text(
            html_report.render(
                data,
                lang=lang,
                generated_at=rt.clock.now(),
                fairness=fair,
                models=models,
                learning=learning,
                voice=heard,
            ),
            encoding="utf-8",
        )
    except OSError as exc:
        raise fail(f"{out}: {exc.strerror}") from exc
    console.print(f"report written to [bold]{out}[/]")


def print_fairness(f: schemas.Fairness, lang: str) -> None:
    """The fairness alerts in words (or that there is none)."""
    t = LABELS[lang]
    console.print(f"[bold]{t['fairness']}[/]")
    if not f.alerts:
        console.print(t["fairness_none"].format(ratio=f.ratio_threshold, accounts=f.min_accounts))
    for a in f.alerts:
        console.print(f"[red]{t['fairness_alert']}[/] {a.words[lang]}")


def print_kpis(k: schemas.Kpis, lang: str) -> None:
    """The KPIs as report.html and the console's dashboard show them (`analytics.formats`)."""
    t = LABELS[lang]
    table = Table(title=f"{t['title']} {k.period.from_date} – {k.period.to_date}")
    table.add_column("KPI")
    table.add_column(t["rate"], justify="right")
    table.add_column("", justify="right")
    for r in k.recovery:
        table.add_row(
            f"{t['recovery_amount']} ({r.currency})",
            formats.kpi("recovery_rate", r.rate_amount, lang),
            f"{formats.money(r.collected_minor, r.currency, lang)} / "
            f"{formats.money(r.base_minor, r.currency, lang)}",
        )
        table.add_row(
            f"{t['recovery_count']} ({r.currency})",
            formats.kpi("recovery_count_rate", r.rate_count, lang),
            f"{r.accounts_paying:,} / {r.accounts:,}",
        )
    for c in k.cure:
        table.add_row(
            f"{t['cure']} {c.bucket}",
            formats.kpi(f"cure.{c.bucket}", c.rate, lang),
            f"{c.cured:,} / {c.accounts:,}",
        )
    table.add_row(
        t["rpc"],
        formats.kpi("right_party_rate", k.right_party_rate, lang),
        f"{k.conversations:,} / {k.calls:,}",
    )
    table.add_row(
        t["promises"],
        formats.kpi("promises_kept", k.promises.rate, lang),
        f"{k.promises.kept:,} / {k.promises.kept + k.promises.broken:,}",
    )
    table.add_row(
        t["cost"],
        formats.kpi("cost_per_unit_collected", k.costs.per_unit_collected, lang),
        formats.money(k.costs.total_minor, k.costs.currency, lang),
    )
    for key, name, value, count in (
        ("complaints", "complaints_per_1000", k.complaints_per_1000, k.complaints),
        ("opt_outs", "opt_outs_per_1000", k.opt_outs_per_1000, k.opt_outs),
    ):
        table.add_row(t[key], formats.kpi(name, value, lang), f"{count:,}")
    console.print(table)

    contacts = Table(title=t["channels"])
    for column in ("channel", "purpose", "status", "contacts"):
        contacts.add_column(t[column], justify="right" if column == "contacts" else "left")
    for row in k.contacts:
        contacts.add_row(row.channel, row.purpose, row.status, f"{row.contacts:,}")
    if k.contacts:
        console.print(contacts)
    held = Table(title=t["blocks"], caption=t["blocks_note"])  # the sum is not the contacts
    for column in ("status", "reason", "contacts"):
        held.add_column(t[column], justify="right" if column == "contacts" else "left")
    for h in k.held:
        held.add_row(t.get(h.status, h.status), h.reason, f"{h.contacts:,}")
    if k.held:
        console.print(held)
    work = Table(title=t["workload"])
    for column in ("queue", "status", "tasks"):
        work.add_column(t[column], justify="right" if column == "tasks" else "left")
    for w in k.agent_tasks:
        work.add_row(w.queue, w.status, f"{w.tasks:,}")
    if k.agent_tasks:
        console.print(work)


def print_experiments(e: schemas.Experiments, lang: str) -> None:
    if not e.experiments:
        return
    t = LABELS[lang]
    for x in e.experiments:  # a table each, titled by the experiment: it reads on 80 columns
        table = Table(title=f"{t['experiment']} {x.experiment}")
        for column in ("arm", "accounts", "mean_rate", "diff", "uplift", "verdict"):
            table.add_column(t[column], justify="left" if column == "arm" else "right")
        for a in x.arms:
            table.add_row(
                a.arm + (f" ({t['reference']})" if a.reference else ""),
                f"{a.accounts:,}",
                formats.pct(a.mean_rate, lang),
                *html_report.arm_figures(a),
                t[f"verdict_{a.verdict}"],
            )
        console.print(table)


def print_models(models: list[risk_performance.ModelReport], lang: str) -> None:
    if not models:
        return
    t = LABELS[lang]
    table = Table(title=t["models"])
    for column in ("model", "status", "cv_auc", "auc_since", "matured"):
        table.add_column(t[column], justify="left" if column in ("model", "status") else "right")
    for m in models:
        p = m.performance
        table.add_row(
            f"{m.model.kind} v{m.model.version}",
            m.model.status,
            "–" if m.cv_auc is None else f"{m.cv_auc:.3f}",
            "–" if p.auc is None else f"{p.auc:.3f}",
            f"{p.n:,} ({len(p.days)})",
        )
    console.print(table)


def print_learning(learning: strategy_service.LearningSummary, lang: str) -> None:
    if not learning.arms:
        return
    t = LABELS[lang]
    u = learning.uplift
    table = Table(title=t["learning"])
    for column in ("arm", "decisions", "mean_reward", "recovered"):
        table.add_column(t[column], justify="left" if column == "arm" else "right")
    table.add_row(
        t["uplift_learner"],
        f"{u.learner.n:,}",
        html_report.interval_text(u.learner),
        html_report.interval_text(u.recovered_learner, 0),
    )
    table.add_row(
        t["uplift_holdout"],
        f"{u.holdout.n:,}",
        html_report.interval_text(u.holdout),
        html_report.interval_text(u.recovered_holdout, 0),
    )
    table.add_row(
        t["uplift_diff"],
        "",
        html_report.diff_text(u.diff, u.low, u.high),
        html_report.diff_text(u.recovered_diff, u.recovered_low, u.recovered_high, 0),
    )
    console.print(table)
    arms = Table(title=t["pulls"])
    for column in ("stage", "arm", "pulls", "mean_reward"):
        arms.add_column(
            t[column], justify="right" if column in ("pulls", "mean_reward") else "left"
        )
    for a in learning.arms:
        arms.add_row(
            f"{a.policy} · {a.stage}",
            a.arm,
            f"{a.estimate.n:,}",
            html_report.interval_text(a.estimate),
        )
    console.print(arms)
