"""`recoup models train` and `recoup models score` end to end (typer's CliRunner on small CSVs):
what they print and write, and the one-line refusals (exit status 2) of files they cannot use."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from recoup.cli import models as models_cli
from recoup.cli.main import app
from recoup.risk import tabular

pytestmark = pytest.mark.pure
runner = CliRunner()


def borrowers(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(size=n).round(3)
    plan = rng.choice(["basic", "plus", "gold"], size=n)
    bad_logit = -2.0 * income + np.where(plan == "gold", 0.0, -1.5)  # about a third are bad
    bad = rng.random(n) < 1 / (1 + np.exp(-bad_logit))
    return pl.DataFrame(
        {
            "customer": [f"c{i:05d}" for i in range(n)],
            "income": income,
            "plan": plan,
            "status": np.where(bad, "bad", "good"),
        }
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("models")
    data, model = root / "train.csv", root / "model.json"
    borrowers(1500).write_csv(data)
    args = ["models", "train", str(data), "--target", "status", "--id", "customer"]
    args += ["--folds", "3", "--out", str(model), "--monotone", "income=-1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return data, model


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["models", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


class TestTrainThenScore:
    def test_train_prints_the_folds_and_the_calibration_and_writes_the_model(
        self, trained: tuple[Path, Path], tmp_path: Path
    ) -> None:
        data, _ = trained
        code, out = run(
            "train",
            str(data),
            "--target",
            "status",
            "--id",
            "customer",
            "--folds",
            "3",
            "--out",
            str(tmp_path / "m.json"),
        )
        assert code == 0, out
        assert "rows 1,500" in out
        assert "1 = 'bad'" in out  # the rarer of two values is the event, and it says so
        assert out.count("fold ") >= 3
        assert "cross-validated AUC: 0.8" in out or "cross-validated AUC: 0.9" in out
        assert "Brier score" in out
        assert "reliability" in out
        model = tabular.loads((tmp_path / "m.json").read_text())
        assert [c.name for c in model.columns] == ["income", "plan"]  # the id is not learned
        assert model.params["id"] == "customer"

    def test_score_writes_ids_scores_and_reasons(
        self, trained: tuple[Path, Path], tmp_path: Path
    ) -> None:
        _, model_file = trained
        fresh = borrowers(300, seed=1)
        data, out = tmp_path / "fresh.csv", tmp_path / "scores.csv"
        fresh.write_csv(data)
        code, said = run("score", str(model_file), str(data), "--out", str(out))
        assert code == 0, said
        scores = pl.read_csv(out)
        assert scores.columns == ["id", "score", "reason_1", "reason_2", "reason_3"]
        assert scores["id"].to_list() == fresh["customer"].to_list()  # the model's id column
        assert scores["score"].is_between(0, 1).all()
        model = tabular.loads(model_file.read_text())
        assert np.allclose(scores["score"].to_numpy(), tabular.predict(model, fresh))
        # the poorest are likeliest to be bad, because of their income (as it is in the file)
        poorest = scores.join(fresh, left_on="id", right_on="customer").sort("income").head(20)
        for reason, income in zip(poorest["reason_1"], poorest["income"], strict=True):
            assert reason == f"income={income}"
        assert scores["reason_3"].null_count() > 0  # two columns: never three reasons

    def test_a_gzipped_file_without_the_id_column_is_numbered(
        self, trained: tuple[Path, Path], tmp_path: Path
    ) -> None:
        _, model_file = trained
        data, out = tmp_path / "fresh.csv.gz", tmp_path / "scores.csv"
        data.write_bytes(gzip.compress(borrowers(50, seed=2).drop("customer").write_csv().encode()))
        code, said = run("score", str(model_file), str(data), "--out", str(out), "--reasons", "1")
        assert code == 0, said
        scores = pl.read_csv(out)
        assert scores["id"].to_list() == list(range(1, 51))
        assert scores.columns == ["id", "score", "reason_1"]

    def test_positive_says_which_value_is_1(self, tmp_path: Path) -> None:
        data, model = tmp_path / "d.csv", tmp_path / "m.json"
        borrowers(600).write_csv(data)
        code, out = run(
            "train",
            str(data),
            "--target",
            "status",
            "--positive",
            "good",
            "--drop",
            "customer",
            "--folds",
            "2",
            "--out",
            str(model),
        )
        assert code == 0, out
        assert "1 = 'good'" in out
        positives = tabular.loads(model.read_text()).metrics["positives"]
        assert positives == (borrowers(600)["status"] == "good").sum()


class TestRefusals:
    """Each refusal is one line on standard error, exit status 2, and no traceback."""

    def refused(self, *args: str) -> str:
        code, out = run(*args)
        assert code == 2, out
        assert "Traceback" not in out
        assert out.startswith("error:")
        return " ".join(out.split())

    def test_a_missing_file(self, tmp_path: Path) -> None:
        out = self.refused("train", str(tmp_path / "nope.csv"), "--target", "y", "--out", "m.json")
        assert "no such file" in out

    def test_an_empty_file_and_a_header_without_rows(self, tmp_path: Path) -> None:
        (tmp_path / "empty.csv").write_text("")
        (tmp_path / "header.csv").write_text("a,b,y\n")
        assert "empty" in self.refused(
            "train", str(tmp_path / "empty.csv"), "--target", "y", "--out", "m.json"
        )
        assert "no rows" in self.refused(
            "train", str(tmp_path / "header.csv"), "--target", "y", "--out", "m.json"
        )

    def test_no_such_column_lists_the_columns(self, tmp_path: Path) -> None:
        data = tmp_path / "d.csv"
        borrowers(30).write_csv(data)
        out = self.refused("train", str(data), "--target", "defaulted", "--out", "m.json")
        assert "no column 'defaulted'" in out
        assert "customer, income, plan, status" in out

    def test_a_target_that_is_not_binary_says_its_values_and_first_bad_row(
        self, tmp_path: Path
    ) -> None:
        data = tmp_path / "d.csv"
        borrowers(30).with_columns(
            plan=pl.Series(["basic", "plus"] * 10 + ["gold"] + ["basic"] * 9)
        ).write_csv(data)
        out = self.refused("train", str(data), "--target", "plan", "--out", "m.json")
        assert "'basic', 'plus', 'gold'" in out
        assert "row 21" in out

    def test_files_past_the_bounds(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        data = tmp_path / "d.csv"
        borrowers(30).write_csv(data)
        monkeypatch.setattr(models_cli, "MAX_COLUMNS", 3)
        assert "at most 3" in self.refused(
            "train", str(data), "--target", "status", "--out", "m.json"
        )
        monkeypatch.setattr(models_cli, "MAX_COLUMNS", 500)
        monkeypatch.setattr(models_cli, "MAX_ROWS", 20)
        assert "more than 20 rows" in self.refused(
            "train", str(data), "--target", "status", "--out", "m.json"
        )

    def test_a_bad_monotone_spec(self, tmp_path: Path) -> None:
        data = tmp_path / "d.csv"
        borrowers(200).write_csv(data)
        out = self.refused(
            "train", str(data), "--target", "status", "--monotone", "income=up", "--out", "m.json"
        )
        assert "COLUMN=+1" in out

    def test_scoring_a_file_without_a_column_the_model_needs(
        self, trained: tuple[Path, Path], tmp_path: Path
    ) -> None:
        _, model_file = trained
        data = tmp_path / "d.csv"
        borrowers(20).drop("plan").write_csv(data)
        out = self.refused("score", str(model_file), str(data), "--out", str(tmp_path / "s.csv"))
        assert "lacks column(s) the model needs: plan" in out

    def test_a_file_that_is_not_a_model(self, tmp_path: Path) -> None:
        (tmp_path / "m.json").write_text('{"format": "something else"}')
        data = tmp_path / "d.csv"
        borrowers(20).write_csv(data)
        out = self.refused(
            "score", str(tmp_path / "m.json"), str(data), "--out", str(tmp_path / "s.csv")
        )
        assert "not a Recoup tabular model" in out
