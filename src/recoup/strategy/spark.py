"""The day's decisions on Apache Spark: the pure step (`planning.decide_day`: the kernel, the
history join, the guard's batch check) run per partition of customers through `mapInArrow`.

What runs where:

- the driver (this process) reads the day's frames from the database (`planning.read_day`),
  stacks them into one Arrow table (a `_table` column says which frame a row belongs to; every
  frame carries `customer_id`), hands it to Spark and collects the results;
- Spark hash-partitions the rows by `customer_id`, so a customer's accounts, contact history,
  consents and quiet hours land in one partition, and each Python worker rebuilds the frames of
  its partition and calls `decide_day` on them, returning the decisions and contact plans as
  Arrow IPC payloads (one per frame and partition);
- the driver concatenates them, and the caller writes them through their owners' repositories
  as the local engine's (COPY on PostgreSQL).

The session is created once per process (`session()`), at `RECOUP_SPARK_MASTER` (default
`local[2]`), with Spark's logs at WARN and its scratch files under one temporary folder.
pyspark is an optional dependency (`pip install 'recoup[spark]'`): without it, asking for the
engine is `SparkMissing`.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from recoup.kit.errors import ValidationFailed
from recoup.strategy.policy import Policy

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from recoup.strategy.service.planning import DayFrames

DEFAULT_MASTER = "local[2]"
# Rows per partition past which a day gets more partitions than the cluster's parallelism.
ROWS_PER_PARTITION = 200_000
KEY = "customer_id"
_TABLE = "_table"
_OUT = pa.schema([("table", pa.string()), ("payload", pa.binary())])

Tables = dict[str, pl.DataFrame]


class SparkMissing(ValidationFailed):
    code = "spark_missing"
    description = "pyspark is not installed"


_session: SparkSession | None = None
_lock = threading.Lock()


def master() -> str:
    """Where Spark runs: `RECOUP_SPARK_MASTER` (`local[N]`, `spark://host:7077`, `yarn`, ...)."""
    return os.environ.get("RECOUP_SPARK_MASTER") or DEFAULT_MASTER


def session() -> SparkSession:
    """The process's Spark session, created on first use and reused."""
    global _session
    with _lock:
        if _session is not None:
            return _session
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise SparkMissing(
                "the spark engine needs pyspark: pip install 'recoup[spark]' (and Java 17+)"
            ) from exc
        url = master()
        scratch = tempfile.mkdtemp(prefix="recoup-spark-")
        if url.startswith("local"):
            # Local workers run this interpreter (a cluster's have their own, with recoup).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder: Any = SparkSession.builder
        _session = (
            builder.master(url)
            .appName("recoup-daily")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.local.dir", scratch)
            .config("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse"))
            .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={scratch}")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "100000")
            .getOrCreate()
        )
        _session.sparkContext.setLogLevel("WARN")
        return _session


def decide_day(
    frames: DayFrames, as_of: dt.date, now: dt.datetime, policy: Policy
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`planning.decide_day` per partition of customers on Spark: (decisions, contacts), in
    account order."""
    from recoup.strategy.service import planning

    tables = {
        "facts": frames.facts,
        # The history is keyed by account: its customer comes from the facts (an account with
        # no facts row decides nothing, as locally).
        "history": frames.history.join(
            frames.facts.select("account_id", KEY), on="account_id", how="inner"
        ),
        "consents": frames.consents,
        "quiet": frames.quiet,
    }

    def step(part: Tables) -> Tables:
        decisions, contacts = planning.decide_day(
            planning.DayFrames(
                facts=part["facts"],
                history=part["history"].drop(KEY),
                consents=part["consents"],
                quiet=part["quiet"],
            ),
            as_of,
            now,
            policy,
        )
        return {"decisions": decisions, "contacts": contacts}

    out = run_by_customer(tables, step)
    decisions = out.get("decisions", pl.DataFrame())
    contacts = out.get("contacts", pl.DataFrame())
    if decisions.height:
        decisions = decisions.sort("account_id")
    if contacts.height:
        contacts = contacts.sort("account_id")
    return decisions, contacts


def run_by_customer(
    tables: Tables, step: Callable[[Tables], Tables], *, partitions: int | None = None
) -> Tables:
    """`step` on every partition of customers: each frame in `tables` has a `customer_id`, and
    `step` receives the rows of one partition's customers, frame by frame, typed as given. The
    frames it returns are concatenated across partitions (a frame no partition returned is
    absent)."""
    spark = session()
    schemas = {name: frame.schema for name, frame in tables.items()}
    stacked = _stack(tables)
    count = partitions or max(
        spark.sparkContext.defaultParallelism, math.ceil(stacked.num_rows / ROWS_PER_PARTITION)
    )
    data = spark.createDataFrame(stacked).repartition(count, KEY)

    def each(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        received = list(batches)
        if not received or not any(b.num_rows for b in received):
            return
        part = pl.from_arrow(pa.Table.from_batches(received))
        assert isinstance(part, pl.DataFrame)
        for name, frame in step(_unstack(part, schemas)).items():
            sink = io.BytesIO()
            frame.write_ipc(sink)
            yield pa.RecordBatch.from_pydict(
                {"table": [name], "payload": [sink.getvalue()]}, schema=_OUT
            )

    collected = data.mapInArrow(each, "table string, payload binary").toArrow()
    parts: dict[str, list[pl.DataFrame]] = {}
    for name, payload in zip(
        collected.column("table").to_pylist(), collected.column("payload").to_pylist(), strict=True
    ):
        parts.setdefault(name, []).append(pl.read_ipc(io.BytesIO(payload)))
    return {name: pl.concat(frames, how="diagonal_relaxed") for name, frames in parts.items()}


def _stack(tables: Tables) -> pa.Table:
    """One Arrow table of every frame's rows: `_table` names the frame, `customer_id` is shared
    and every other column is prefixed with its frame's name; types Spark reads (no unsigned
    integers, no large or view strings and lists, no null-typed columns)."""
    stacked = []
    for name, frame in tables.items():
        columns = [
            pl.col(c).cast(_spark_type(t)).alias(c if c == KEY else f"{name}__{c}")
            for c, t in frame.schema.items()
            if t != pl.Null
        ]
        stacked.append(frame.select(pl.lit(name).alias(_TABLE), *columns))
    table = pl.concat(stacked, how="diagonal").to_arrow(compat_level=pl.CompatLevel.oldest())
    return table.cast(pa.schema([_narrow(f) for f in table.schema]))


def _unstack(part: pl.DataFrame, schemas: dict[str, pl.Schema]) -> Tables:
    """The frames of one partition, with the columns and types they were given."""
    out = {}
    for name, schema in schemas.items():
        rows = part.filter(pl.col(_TABLE) == name)
        out[name] = rows.select(
            (
                pl.col(c if c == KEY else f"{name}__{c}").cast(t)
                if (c == KEY or f"{name}__{c}" in rows.columns) and t != pl.Null
                else pl.lit(None, t)
            ).alias(c)
            for c, t in schema.items()
        )
    return out


def _spark_type(dtype: pl.DataType) -> pl.DataType:
    """The type a column travels as: unsigned integers widen (Spark has none), the rest as is."""
    if dtype in (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64):
        return pl.Int64()
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return pl.String()
    return dtype


def _narrow(field: pa.Field) -> pa.Field:
    return pa.field(field.name, _narrow_type(field.type), field.nullable)


def _narrow_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t):
        return pa.binary()
    if pa.types.is_large_list(t) or pa.types.is_list(t) or pa.types.is_list_view(t):
        return pa.list_(_narrow(t.value_field))
    if pa.types.is_struct(t):
        return pa.struct([_narrow(t.field(i)) for i in range(t.num_fields)])
    return t
