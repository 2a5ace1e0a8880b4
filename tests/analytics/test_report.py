"""The report: one self-contained HTML file in both languages, and `recoup report` with its clear
refusals."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from recoup.analytics import report, schemas
from recoup.analytics import service as analytics_service
from recoup.cli import report as report_cli
from recoup.cli.common import runtime
from recoup.cli.main import app
from recoup.kit.clock import SettableClock
from recoup.models import RiskModel
from tests.analytics.test_experiments import FROM, TO, portfolio
from tests.analytics.test_kpis import PERIOD, build
from tests.test_cli import workdir  # noqa: F401  (a fixture: a fresh working directory)

runner = CliRunner()


class TestHtml:
    def test_one_file_both_languages_no_cdn(self, session: Session, clock: SettableClock) -> None:
        build(session, clock)
        data = analytics_service.report_data(session, PERIOD)
        page = report.render(data, lang="zh-CN", generated_at=clock.now())
        assert "<script src=" not in page
        assert not re.search(r"<script[^>]*\ssrc\s*=", page)
        # plotly's own bundle, inlined once.
        bundle = get_plotlyjs()
        assert page.count(bundle[:2000]) == 1
        assert page.count(bundle[-2000:]) == 1
        assert page.count("Plotly.newPlot(") == 3  # roll rates, curves, blocks (nothing was sent)
        for label in (
            "Roll rates, month over month",
            "迁徙率（逐月）",
            "回收率（按金额）",
            "Recovery rate by amount",
        ):
            assert label in page
        assert '<html lang="zh-CN" data-lang="zh-CN">' in page
        # Money formatted by Babel for each language: ¥2,000.00 of ¥4,300.00 recovered.
        assert "¥2,000.00 / ¥4,300.00" in page
        assert "CN¥2,000.00 / CN¥4,300.00" in page

    def test_each_arm_says_how_to_read_its_difference_in_both_languages(
        self, session: Session, clock: SettableClock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        portfolio(session, clock)
        period = schemas.Period(from_date=FROM, to_date=TO)
        data = analytics_service.report_data(session, period)
        page = report.render(data, lang="en", generated_at=clock.now())
        [experiment] = data.experiments.experiments
        for arm in experiment.arms:
            if not arm.reference:
                for lang in report.LANGUAGES:
                    label = report.LABELS[lang][f"verdict_{arm.verdict}"]
                    assert f'<span data-l="{lang}">{label}</span>' in page
        report_cli.print_experiments(data.experiments, "zh-CN")  # on the console, a table each
        shown = capsys.readouterr().out
        assert f"实验 {experiment.experiment}" in shown
        assert report.LABELS["zh-CN"][f"verdict_{experiment.arms[-1].verdict}"] in shown

    def test_the_blocks_say_a_contact_held_for_two_reasons_counts_under_each(
        self, session: Session, clock: SettableClock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Removal caught: the table and chart of blocks without their note, where the demo's 16
        deferred contacts showed as 32 (each under `cn.hours.house` and `house.hours`)."""
        build(session, clock)
        data = analytics_service.report_data(session, PERIOD)
        assert data.kpis.held  # something was held
        page = report.render(data, lang="en", generated_at=clock.now())
        for lang in report.LANGUAGES:
            assert f'<span data-l="{lang}">{report.LABELS[lang]["blocks_note"]}</span>' in page
        report_cli.print_kpis(data.kpis, "zh-CN")
        shown = "".join(capsys.readouterr().out.split())  # wrapped to the terminal's width
        assert "".join(report.LABELS["zh-CN"]["blocks_note"].split()) in shown

    def test_an_empty_period_still_makes_a_page(
        self, session: Session, clock: SettableClock
    ) -> None:
        empty = schemas.Period(from_date=dt.date(2020, 1, 1), to_date=dt.date(2020, 1, 31))
        page = report.render(
            analytics_service.report_data(session, empty), lang="en", generated_at=clock.now()
        )
        assert "Nothing recorded in the period." in page

    def test_an_unknown_language_is_refused(self, session: Session, clock: SettableClock) -> None:
        data = analytics_service.report_data(session, PERIOD)
        with pytest.raises(report.UnknownLanguage, match="en or zh-CN"):
            report.render(data, lang="fr", generated_at=clock.now())


class TestCommand:
    def test_prints_the_kpis_and_writes_the_file(self, workdir: Path) -> None:  # noqa: F811
        assert runner.invoke(app, ["init"]).exit_code == 0
        assert (
            runner.invoke(
                app, ["generate", "--customers", "40", "--seed", "3", "--as-of", "2026-06-01"]
            ).exit_code
            == 0
        )
        assert runner.invoke(app, ["run", "daily", "--as-of", "2026-06-01"]).exit_code == 0
        result = runner.invoke(
            app, ["report", "--from", "2026-05-01", "--to", "2026-06-01", "--lang", "zh-CN"]
        )
        assert result.exit_code == 0, result.output
        assert "回收率（按金额）" in result.output
        page = (workdir / "report.html").read_text(encoding="utf-8")
        assert "Recovery rate by amount" in page
        assert "回收率（按金额）" in page

    def test_a_registered_model_is_in_the_tables_and_the_file(self, workdir: Path) -> None:  # noqa: F811
        """Catches the report's session rolled back with the models still in it: they were read
        back after it ended and the command failed (DetachedInstanceError) whenever a model
        existed, which the demo showed once it wrote its report after training."""
        assert runner.invoke(app, ["init"]).exit_code == 0
        with runtime(keys=False).transaction() as session:
            session.add(
                RiskModel(
                    kind="p_pay",
                    version=3,
                    horizon_days=14,
                    window_from=dt.date(2026, 1, 1),
                    window_to=dt.date(2026, 5, 1),
                    trained_at=dt.datetime(2026, 5, 2, tzinfo=dt.UTC),
                    trained_by="lin",
                    metrics={"cv_auc": 0.812},
                    artefact="{}",
                )
            )
        result = runner.invoke(app, ["report", "--from", "2026-05-01", "--to", "2026-06-01"])
        assert result.exit_code == 0, result.output
        assert "p_pay v3" in result.output
        assert "0.812" in result.output
        assert "p_pay v3" in (workdir / "report.html").read_text(encoding="utf-8")

    def test_bad_input_is_a_clear_error(self, workdir: Path) -> None:  # noqa: F811
        assert runner.invoke(app, ["init"]).exit_code == 0
        backwards = runner.invoke(app, ["report", "--from", "2026-06-02", "--to", "2026-06-01"])
        assert backwards.exit_code == 1
        assert "starts (2026-06-02) after it ends (2026-06-01)" in backwards.output
        assert "Traceback" not in backwards.output
        language = runner.invoke(app, ["report", "--lang", "fr"])
        assert language.exit_code == 1
        assert "use en or zh-CN" in language.output
        garbled = runner.invoke(app, ["report", "--from", "June"])
        assert garbled.exit_code == 1
        assert "YYYY-MM-DD" in garbled.output
        costs = workdir / "costs.yaml"
        costs.write_text("per_agent_task_minor: lots\n", encoding="utf-8")
        bad_costs = runner.invoke(app, ["report", "--costs", str(costs)])
        assert bad_costs.exit_code == 1
        # Rich wraps the message at the terminal's width, after a path of any length.
        assert "not a costs file" in " ".join(bad_costs.output.split())
        assert not (workdir / "report.html").exists()


class TestLearningSections:
    def test_models_over_time_and_the_learning_in_both_languages(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The report's sections on the models (AUC per matured day drawn, calibration by
        decile) and on the learning (arms and the holdout's uplift), from the same services as
        the console's pages."""
        from recoup.risk import performance as risk_performance
        from recoup.strategy import service as strategy_service
        from tests.risk.seeding import add_arms, add_model, add_scores
        from tests.risk.test_performance import D1, D2, TODAY
        from tests.risk.test_performance import portfolio as scored_portfolio

        build(session, clock)
        a, b, c, d, e = scored_portfolio(session, clock)
        model = add_model(session, clock, kind="p_pay", horizon_days=30, trained_by="staff:ann")
        add_scores(session, model, D1, {a: 0.9, b: 0.8, c: 0.7, d: 0.6, e: 0.5})
        add_scores(session, model, D2, {a: 0.2, b: 0.9, c: 0.3, d: 0.1, e: 0.4})
        add_arms(session, "cn-wallet-learning", "early", {("young", "call"): [900.0, 100.0]})
        data = analytics_service.report_data(session, PERIOD)
        page = report.render(
            data,
            lang="en",
            generated_at=clock.now(),
            models=risk_performance.reports(session, today=TODAY),
            learning=strategy_service.learning_summary(session, today=TODAY),
        )
        for label in (
            "Risk models: performance over time",
            "风险模型：随时间的表现",
            "The learning strategy: arms and the holdout&#x27;s uplift",
            "学习策略：臂与保留组对比的提升",
        ):
            assert label in page
        assert 'id="model-auc"' in page  # the AUC per day, drawn
        # Over both days' ten scores together: 11.5 of 24 pairs in order (a tie at 0.9).
        assert "0.479" in page
        assert "500.00 (-283.99 … 1,283.99)" in page  # the call arm: 500 ± 1.96·565.69/√2
