"""The `recoup` command.

Before any module of the command imports Polars (which sizes its thread pool once, at import), the
simulator's commands, `recoup demo` and `recoup simulate`, ask for one Polars thread unless the
environment already says how many (`POLARS_MAX_THREADS`). Their frames are a slot's accounts, tens
to thousands of rows in some 100,000 small queries over a 60-day demo: a second thread shortens
them little and its idle spinning costs CPU. The 60-day demo's threads other than its main one
took 4-14 s less CPU in five pairs, loaded and quiet, with the same outcomes; a quiet run's wall
was not shorter (docs/benchmarks.md, "The demo", 7 December 2026, evening). Every other command, the daily run over a million accounts first, keeps
Polars' default of one thread a core.
"""

import os
import sys

SIMULATOR_COMMANDS = frozenset({"demo", "simulate"})

if sys.argv[1:2] and sys.argv[1] in SIMULATOR_COMMANDS:
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
