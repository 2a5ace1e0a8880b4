"""The demo and `recoup simulate` run with the cyclic collector's start-up objects frozen and its
young generation collected less often (`cli.common.fewer_collections`), and leave it as it was."""

from __future__ import annotations

import gc
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
