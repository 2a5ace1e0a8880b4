"""The tabular engine (recoup.risk.tabular): it learns a signal that is there and none that is
not, its probabilities mean what they say, it explains a row by the column that moved it, it
handles what real files hold (missing values, categories it never saw), and a stored model scores
exactly as the one trained."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recoup.risk import tabular
from recoup.risk.tabular import Column, ModelError

pytestmark = pytest.mark.pure
FAST = {"max_rounds": 200}  # small data stops far earlier; a ceiling keeps a slow day bounded


def people(n: int, seed: int = 0) -> pl.DataFrame:
    """Who pays: `income` carries most of the signal, `region` some, `noise` none; a few values
    are missing, as in any real file."""
    rng = np.random.default_rng(seed)
    income = rng.normal(size=n)
    region = rng.choice(["north", "south", "east"], size=n)
    noise = rng.normal(size=n)
    logit = 2.0 * income + np.where(region == "south", -1.0, 0.3)
    paid = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    frame = pl.DataFrame({"income": income, "region": region, "noise": noise, "paid": paid})
    gaps = rng.random(n) < 0.03
    return frame.with_columns(
        income=pl.when(pl.Series(gaps)).then(None).otherwise(pl.col("income")),
        region=pl.when(pl.Series(np.roll(gaps, 1))).then(None).otherwise(pl.col("region")),
    )


@pytest.fixture(scope="module")
def model() -> tabular.Model:
    return tabular.train(people(3000), "paid", folds=3, params=FAST)


class TestLearning:
    def test_a_real_signal_gives_a_high_cross_validated_auc(self, model: tabular.Model) -> None:
        # The true model's AUC on this data is about 0.87.
        assert model.metrics["cv_auc"] > 0.8
        assert len(model.metrics["cv_auc_folds"]) == 3
        assert model.metrics["rows"] == 3000
        assert model.metrics["positives"] == int(people(3000)["paid"].sum())
        assert {c.name: c.kind for c in model.columns} == {
            "income": "numeric",
            "region": "categorical",
            "noise": "numeric",
        }

    def test_a_shuffled_target_gives_chance(self) -> None:
        frame = people(3000)
        shuffled = frame.with_columns(pl.col("paid").shuffle(seed=3))
        auc = tabular.train(shuffled, "paid", folds=3, params=FAST).metrics["cv_auc"]
        assert 0.44 < auc < 0.56

    def test_the_same_seed_gives_the_same_model(self) -> None:
        frame = people(1000)
        first = tabular.train(frame, "paid", folds=2, seed=4, params=FAST)
        again = tabular.train(frame, "paid", folds=2, seed=4, params=FAST)
        assert first.booster == again.booster
        assert first.metrics == again.metrics

    def test_without_folds_a_held_out_tenth_measures_and_calibrates(self) -> None:
        model = tabular.train(people(3000), "paid", folds=0, params=FAST)
        assert "cv_auc" not in model.metrics
        assert model.metrics["holdout_rows"] == 300
        assert model.metrics["holdout_auc"] > 0.8
        assert model.params["folds"] == 0


class TestCalibration:
    def test_probabilities_match_observed_frequencies(self) -> None:
        """Catches `predict` returning the booster's own probability instead of the isotonic
        calibration's: weighting the positives 4x (scale_pos_weight) makes the raw probability far
        too high, and only the calibration brings it back. (A fixed round count: the weighted
        loss makes early stopping erratic, and the calibration assumes the folds' boosters and the
        final one score on one scale.)"""
        train_frame, fresh = people(20_000, seed=1), people(20_000, seed=2)
        model = tabular.train(
            train_frame, "paid", folds=3, params={"num_rounds": 100, "scale_pos_weight": 4.0}
        )
        p = tabular.predict(model, fresh)
        y = fresh["paid"].to_numpy()
        for mean_predicted, observed, n in tabular.reliability(p, y):
            # 0.05: the final booster sees all the rows, the folds' boosters two thirds, so its
            # scores are a little sharper than those the calibration was fitted on
            assert abs(mean_predicted - observed) < 0.05, (mean_predicted, observed, n)
        uncalibrated = 1 / (1 + np.exp(-tabular.raw_scores(model, fresh)))
        assert uncalibrated.mean() - y.mean() > 0.1  # the raw scores were off; see above
        # the training metrics say the same, measured out of sample
        for mean_predicted, observed, _ in model.metrics["reliability"]:
            assert abs(mean_predicted - observed) < 0.04
        assert 0.1 < model.metrics["brier"] < 0.2


class TestInputs:
    def test_an_unseen_category_and_missing_values_score_as_missing(
        self, model: tabular.Model
    ) -> None:
        rows = pl.DataFrame(
            {
                "income": [0.5, 0.5, None, float("nan")],
                "region": ["west", None, "north", "north"],
                "noise": [0.0, 0.0, 0.0, 0.0],
            }
        )
        p = tabular.predict(model, rows)
        assert np.all((p >= 0) & (p <= 1))
        assert p[0] == p[1]  # a category never seen is missing
        assert p[2] == p[3]  # null and NaN are both missing

    def test_columns_are_matched_by_name_and_extra_ones_ignored(self, model: tabular.Model) -> None:
        frame = people(50, seed=9)
        shuffled = frame.select("noise", "paid", "region", "income").with_columns(extra=pl.lit("x"))
        assert np.array_equal(tabular.predict(model, frame), tabular.predict(model, shuffled))

    def test_a_missing_column_is_named(self, model: tabular.Model) -> None:
        with pytest.raises(ModelError, match=r"lacks column.*region"):
            tabular.predict(model, people(10).drop("region"))

    def test_a_target_that_is_not_0_or_1_is_refused_with_its_row(self) -> None:
        frame = people(200).with_columns(paid=pl.col("paid").cast(pl.Int64))
        frame = frame.with_columns(
            paid=pl.when(pl.int_range(pl.len()) == 7).then(2).otherwise("paid")
        )
        with pytest.raises(ModelError, match="row 8 holds 2"):
            tabular.train(frame, "paid", folds=2)

    def test_too_few_of_a_class_is_refused(self) -> None:
        frame = pl.DataFrame({"x": list(range(100)), "y": [1] * 3 + [0] * 97})
        with pytest.raises(ModelError, match="3 rows of 1"):
            tabular.train(frame, "y")

    def test_a_numeric_column_holding_text_is_named_with_its_row(
        self, model: tabular.Model
    ) -> None:
        rows = pl.DataFrame({"income": ["1.5", "lots"], "region": ["north"] * 2, "noise": [0, 0]})
        with pytest.raises(ModelError, match=r"'income'.*row 2 holds 'lots'"):
            tabular.predict(model, rows)


class TestMonotone:
    def test_a_monotone_column_never_lowers_the_score_as_it_grows(self) -> None:
        """Catches the constraint not reaching LightGBM (`monotone_constraints` in `train`): the
        data's true effect of `age` dips in the middle, and the unconstrained model follows the
        dip (asserted below), so only the constraint keeps the scores non-decreasing."""
        rng = np.random.default_rng(5)
        n = 4000
        age = rng.uniform(0, 10, size=n)
        logit = 0.4 * age - 2.5 * np.exp(-((age - 5) ** 2))
        frame = pl.DataFrame(
            {
                "age": age,
                "noise": rng.normal(size=n),
                "paid": rng.random(n) < 1 / (1 + np.exp(-logit + 2)),
            }
        ).with_columns(pl.col("paid").cast(pl.Int8))
        grid = pl.DataFrame({"age": np.linspace(0, 10, 201), "noise": np.zeros(201)})
        constrained = tabular.train(frame, "paid", folds=2, monotone={"age": 1}, params=FAST)
        free = tabular.train(frame, "paid", folds=2, params=FAST)
        assert np.all(np.diff(tabular.raw_scores(constrained, grid)) >= 0)
        assert np.all(np.diff(tabular.predict(constrained, grid)) >= 0)
        assert np.any(np.diff(tabular.raw_scores(free, grid)) < -0.05)
        assert constrained.monotone == {"age": 1}

    def test_a_constraint_on_a_category_or_an_unknown_column_is_refused(self) -> None:
        with pytest.raises(ModelError, match="only numeric"):
            tabular.train(people(500), "paid", monotone={"region": 1})
        with pytest.raises(ModelError, match="'height'"):
            tabular.train(people(500), "paid", monotone={"height": 1})


class TestReasons:
    def test_the_reason_for_a_low_score_is_the_column_that_carries_the_signal(
        self, model: tabular.Model
    ) -> None:
        """Catches reasons that ignore the contributions (or read them in the wrong direction):
        the poorest people are unlikely to pay because of their income."""
        frame = people(400, seed=11).drop_nulls()
        poorest = frame.sort("income").head(40)
        found = tabular.reasons(model, poorest, top=2, sign=-1)
        assert all(row[0][0] == "income" for row in found)
        assert all(value < 0 for row in found for _, value in row)
        richest = frame.sort("income").tail(40)
        assert all(row[0][0] == "income" for row in tabular.reasons(model, richest, sign=1))

    def test_contributions_add_up_to_the_raw_score(self, model: tabular.Model) -> None:
        frame = people(100, seed=12)
        contributions = tabular.contributions(model, frame)
        assert contributions.shape == (100, 3)
        bias = tabular.raw_scores(model, frame) - contributions.sum(axis=1)
        assert np.allclose(bias, bias[0])  # the same expected value for every row

    def test_a_column_pushing_the_other_way_is_never_a_reason(self, model: tabular.Model) -> None:
        frame = people(200, seed=13)
        index, values = tabular.top_contributions(model, frame, top=3, sign=-1)
        contributions = tabular.contributions(model, frame)
        for row in range(200):
            for j, v in zip(index[row], values[row], strict=True):
                if j >= 0:
                    assert v == contributions[row, j] < 0
                else:
                    assert v == 0


class TestStorage:
    def test_a_stored_model_scores_exactly_as_the_trained_one(self, model: tabular.Model) -> None:
        text = tabular.dumps(model)
        again = tabular.loads(text)
        assert again == model
        frame = people(500, seed=14)
        assert np.array_equal(tabular.predict(again, frame), tabular.predict(model, frame))
        assert tabular.reasons(again, frame) == tabular.reasons(model, frame)
        assert json.loads(text)["format"] == tabular.FORMAT

    @pytest.mark.parametrize(
        ("edit", "message"),
        [
            (lambda d: "{not json", "not JSON"),
            (lambda d: json.dumps({**d, "format": "other"}), "not a Recoup tabular model"),
            (
                lambda d: json.dumps({k: v for k, v in d.items() if k != "calibration"}),
                "lacks 'calibration'",
            ),
            (lambda d: json.dumps({**d, "booster": "tree\nnonsense"}), "booster"),
            (lambda d: json.dumps({**d, "columns": d["columns"][:2]}), "reads 3 columns"),
            (lambda d: json.dumps({**d, "calibration": {"x": [1, 0], "y": [0, 1]}}), "ascend"),
            (lambda d: json.dumps({**d, "reference": {}}), "no reference distribution"),
        ],
    )
    def test_a_damaged_file_is_refused_with_what_is_wrong(
        self, model: tabular.Model, edit: object, message: str
    ) -> None:
        data = json.loads(tabular.dumps(model))
        with pytest.raises(ModelError, match=message):
            tabular.loads(edit(data))  # type: ignore[operator]


def test_infer_columns_keeps_the_most_frequent_categories_first() -> None:
    frame = pl.DataFrame({"a": ["x", "y", "y", None, "z", "y", "z"], "n": [1, 2, 3, 4, 5, 6, 7]})
    assert tabular.infer_columns(frame, exclude=["n"]) == (
        Column("a", "categorical", ("y", "z", "x")),
    )
    with pytest.raises(ModelError, match="'d' holds Date"):
        tabular.infer_columns(pl.DataFrame({"d": [dt.date(2026, 1, 1)]}))


class TestPathContributions:
    def test_path_contributions_add_up_to_the_raw_score_and_find_the_signal(
        self, model: tabular.Model
    ) -> None:
        """Catches a path table crediting the wrong column or losing a split's step: the rows'
        sums would drift from the raw score, or the poorest's reason would not be income."""
        frame = people(300, seed=15)
        path = tabular.path_contributions(model, frame)
        shap = tabular.contributions(model, frame)
        # each adds up to the raw score less one constant (its own bias) for every row
        gap = path.sum(axis=1) - shap.sum(axis=1)
        assert np.allclose(gap, gap[0])
        for j in (0, 1):  # income's and region's credits agree with tree SHAP's
            assert np.corrcoef(path[:, j], shap[:, j])[0, 1] > 0.9
        poorest = frame.drop_nulls().sort("income").head(30)
        found = tabular.reasons(model, poorest, top=1, method="path")
        assert all(row[0][0] == "income" for row in found)


class TestScoringEngine:
    """Scoring imports LightGBM without its scikit-learn and pandas integrations (1 s of the
    interpreter that the daily run's scoring begun ahead paid beside the delinquency pass)."""

    SCRIPT = """
import json, sys
import polars as pl
from recoup.risk import tabular
model = tabular.loads(open(sys.argv[1], encoding="utf-8").read())
frame = pl.read_parquet(sys.argv[2])
scores = tabular.predict(model, frame).tolist()
imported = sorted(n for n in ("sklearn", "pandas") if n in sys.modules)
trained = tabular.train(frame, "paid", folds=2, params={"max_rounds": 50})
print(json.dumps({"scores": scores, "imported": imported, "booster": trained.booster,
                  "cv_auc": trained.metrics["cv_auc"]}))
"""

    def test_a_process_that_scores_imports_neither_and_trains_the_same_after(
        self, model: tabular.Model, tmp_path: Path
    ) -> None:
        # Catches the removal of the refusal in `_scoring_engine` (scikit-learn and pandas then
        # come in with LightGBM), and a LightGBM so imported that trains differently.
        frame = people(800, seed=9)
        (tmp_path / "model.json").write_text(tabular.dumps(model), encoding="utf-8")
        frame.write_parquet(tmp_path / "rows.parquet")
        done = subprocess.run(
            [sys.executable, "-c", self.SCRIPT, str(tmp_path / "model.json"),
             str(tmp_path / "rows.parquet")],
            capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        out = json.loads(done.stdout)
        assert out["imported"] == []
        assert out["scores"] == tabular.predict(model, frame).tolist()
        here = tabular.train(frame, "paid", folds=2, params={"max_rounds": 50})
        assert out["booster"] == here.booster
        assert out["cv_auc"] == here.metrics["cv_auc"]

    def test_only_the_importing_thread_is_refused(self, tmp_path: Path) -> None:
        # Catches a refusal that is not kept to its own thread: another thread's import of the
        # same module, at the same time, would fail.
        (tmp_path / "recoup_refusal_probe.py").write_text("VALUE = 7\n", encoding="utf-8")
        sys.path.insert(0, str(tmp_path))
        refused = tabular._Refused(["recoup_refusal_probe"])
        sys.meta_path.insert(0, refused)
        try:
            with pytest.raises(ModuleNotFoundError):
                importlib.import_module("recoup_refusal_probe")
            found: list[int] = []
            other = threading.Thread(
                target=lambda: found.append(importlib.import_module("recoup_refusal_probe").VALUE)
            )
            other.start()
            other.join()
            assert found == [7]
        finally:
            sys.meta_path.remove(refused)
            sys.path.remove(str(tmp_path))
            sys.modules.pop("recoup_refusal_probe", None)
