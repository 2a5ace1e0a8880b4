"""`recoup models train --from-history` refuses what it cannot do before touching a database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from recoup.cli.main import app

pytestmark = pytest.mark.pure
runner = CliRunner()


def test_from_history_needs_the_last_day_it_reads() -> None:
    result = runner.invoke(app, ["models", "train", "--from-history"])
    assert result.exit_code == 2
    assert "--from-history needs --as-of" in result.output


def test_a_csv_training_still_needs_its_file_target_and_output() -> None:
    result = runner.invoke(app, ["models", "train"])
    assert result.exit_code == 2
    assert "FILE --target COLUMN --out MODEL" in result.output


def test_a_date_that_is_not_one_is_named() -> None:
    result = runner.invoke(app, ["models", "train", "--from-history", "--as-of", "30/06/2026"])
    assert result.exit_code != 0
    assert "'30/06/2026' is not a date" in result.output
