"""Running a step per partition of customers on Spark (`recoup.kit.spark.run_by_customer`): every
customer's rows of every frame meet in one partition, whether the frames travel inside the tasks
or as Parquet files in a staging folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from recoup.kit import spark as kit_spark
from recoup.strategy.spark import master


def tables() -> kit_spark.Tables:
    return {
        "accounts": pl.DataFrame(
            {"customer_id": [1, 2, 3, 4, 5, 6], "account_id": [10, 20, 30, 40, 50, 60]}
        ),
        "events": pl.DataFrame(
            {"customer_id": [1, 1, 2, 5, 6, 6, 6], "amount": [1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]}
        ),
    }


def step(part: kit_spark.Tables) -> kit_spark.Tables:
    """Per customer of the partition: their accounts with the sum of their events (a customer
    whose events landed elsewhere would get none)."""
    sums = part["events"].group_by("customer_id").agg(pl.col("amount").sum())
    return {"joined": part["accounts"].join(sums, on="customer_id", how="left")}


EXPECTED = [
    {"customer_id": 1, "account_id": 10, "amount": 3.5},
    {"customer_id": 2, "account_id": 20, "amount": 3.0},
    {"customer_id": 3, "account_id": 30, "amount": None},
    {"customer_id": 4, "account_id": 40, "amount": None},
    {"customer_id": 5, "account_id": 50, "amount": 4.0},
    {"customer_id": 6, "account_id": 60, "amount": 18.0},
]


class TestRunByCustomer:
    def test_the_frames_travel_inside_the_tasks(self) -> None:
        out = kit_spark.run_by_customer(master(), tables(), step, partitions=3)
        assert out["joined"].sort("customer_id").to_dicts() == EXPECTED

    def test_staged_frames_travel_as_parquet_files_removed_after_the_run(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The workers read the partitions from the files (a worker reading the path as an
        Arrow payload fails the run), and the run's files are gone after it."""
        written: list[str] = []
        write = pl.DataFrame.write_parquet

        def spy(self: pl.DataFrame, path: Any, *args: Any, **kwargs: Any) -> None:
            written.append(str(path))
            write(self, path, *args, **kwargs)

        monkeypatch.setattr(pl.DataFrame, "write_parquet", spy)
        out = kit_spark.run_by_customer(
            master(), tables(), step, partitions=3, staging=str(tmp_path)
        )
        assert out["joined"].sort("customer_id").to_dicts() == EXPECTED
        assert len(written) == 6  # 3 partitions x 2 frames, in the staging folder
        assert all(Path(p).is_relative_to(tmp_path) for p in written)
        assert list(tmp_path.iterdir()) == []
