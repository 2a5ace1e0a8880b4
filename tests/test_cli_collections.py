"""The demo and `recoup simulate` run with the cyclic collector's start-up objects frozen and its
young generation collected less often (`cli.common.fewer_collections`), and leave it as it was."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import recoup.cli.demo
import recoup.cli.main
from recoup.cli.common import BATCH_GEN0, fewer_collections


@pytest.mark.pure
class TestFewerCollections:
    def test_inside_the_young_generation_waits_longer_and_start_up_is_frozen(self) -> None:
        """Catches `fewer_collections` leaving Python's thresholds or freezing nothing."""
        before = gc.get_threshold()
        with fewer_collections():
            assert gc.get_threshold() == (BATCH_GEN0, *before[1:])
            assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0

    def test_a_cycle_made_inside_is_still_collected(self) -> None:
        """Catches the collector switched off instead of made less frequent: a cycle made inside
        is freed by the next collection."""

        class Node:
            other: Any = None

        with fewer_collections():
            a, b = Node(), Node()
            a.other, b.other = b, a
            gone = weakref.ref(a)
            del a, b
            gc.collect()
            assert gone() is None

    def test_the_demo_runs_inside_it(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Catches `recoup demo` calling `run_demo` outside `fewer_collections`."""
        seen: list[tuple[int, ...]] = []

        def run_demo(**_kw: Any) -> None:
            seen.append(gc.get_threshold())

        monkeypatch.setattr(recoup.cli.demo, "run_demo", run_demo)
        monkeypatch.delenv("RECOUP_ENV", raising=False)
        result = CliRunner().invoke(
            recoup.cli.main.app, ["demo", "--database", str(tmp_path / "demo.db")]
        )
        assert result.exit_code == 0, result.output
        assert [threshold[0] for threshold in seen] == [BATCH_GEN0]


def polars_threads(argv: list[str], environment: str | None) -> str:
    """Polars' thread pool in a fresh interpreter (as the `recoup` script starts one) that imports
    the command with these arguments, `POLARS_MAX_THREADS` set to `environment` or unset."""
    env = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    if environment is not None:
        env["POLARS_MAX_THREADS"] = environment
    code = f"import sys; sys.argv = {argv!r}\nimport recoup.cli.main, polars\nprint(polars.thread_pool_size())"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.pure
def test_the_simulator_commands_run_polars_on_one_thread() -> None:
    """Catches the one-thread setting in `recoup/cli/__init__.py` removed (the demo's Polars on
    its default pool, one thread a core), set after Polars' import (too late: the pool is sized
    at import), applied to every command (the daily run keeps one thread a core), or overriding
    the operator's own `POLARS_MAX_THREADS`."""
    default = str(os.cpu_count())
    assert polars_threads(["recoup", "demo"], None) == "1"
    assert polars_threads(["recoup", "simulate", "--days", "3"], None) == "1"
    assert polars_threads(["recoup", "run", "daily"], None) == default
    assert polars_threads(["recoup", "demo"], "3") == "3"
