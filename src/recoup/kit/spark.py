"""Running a pure step per partition of customers on Apache Spark, for the engines that offer
`engine="spark"` (the strategy's day, `recoup.strategy.spark`; the risk models' daily score,
`recoup.risk.service`).

What runs where: the driver (this process) holds the frames, partitions every one of them by
`customer_id` (modulo the partition count), so a customer's rows of every frame land in one
partition, and hands Spark a DataFrame of one row per partition (its frames' rows as Arrow IPC
payloads), one row in each Spark partition; each Python worker rebuilds its partition's frames
and runs the step on them (`mapInArrow`), returning frames as Arrow IPC payloads; the driver
concatenates them.

The session is created once per process (`session`), with Spark's logs at WARN and its scratch
files under one temporary folder. pyspark is an optional dependency (`pip install
'recoup[spark]'`): without it, asking for a session is `SparkMissing`.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from recoup.kit.errors import ValidationFailed

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Rows per partition past which a run gets more partitions than the cluster's parallelism.
ROWS_PER_PARTITION = 200_000
KEY = "customer_id"
_PART = "part"
_IN_DDL = "part int, tables array<string>, payloads array<binary>"
_OUT = pa.schema([(_PART, pa.int32()), ("table", pa.string()), ("payload", pa.binary())])
_OUT_DDL = "part int, table string, payload binary"

Tables = dict[str, pl.DataFrame]


class SparkMissing(ValidationFailed):
    code = "spark_missing"
    description = "pyspark is not installed"


_session: SparkSession | None = None
_lock = threading.Lock()


def session(url: str) -> SparkSession:
    """The process's Spark session at `url` (`local[N]`, `spark://host:7077`, `yarn`, ...),
    created on first use and reused (a process has one)."""
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
        scratch = tempfile.mkdtemp(prefix="recoup-spark-")
        if url.startswith("local"):
            # Local workers run this interpreter (a cluster's have their own, with recoup).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder: Any = SparkSession.builder
        _session = (
            builder.master(url)
            .appName("recoup")
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


def run_by_customer(
    url: str,
    tables: Tables,
    step: Callable[[Tables], Tables],
    *,
    partitions: int | None = None,
    staging: str | None = None,
) -> Tables:
    """`step` on every partition of customers: each frame in `tables` has a `customer_id`, and
    `step` receives the rows of one partition's customers, frame by frame, with the columns and
    types given. The frames it returns are concatenated across partitions (a frame no partition
    returned is absent).

    The driver partitions the rows (by `customer_id` modulo the partition count) and hands Spark
    one row per partition: its number, and its frames' rows as Arrow IPC payloads, one Spark
    partition each (`parallelize` with as many slices as rows). Spark moves those few rows (no
    conversion of every fact into its own row format, which took longer than the decisions
    themselves: docs/strategy.md) and `mapInArrow` runs `step` on each.

    `staging`: a folder every worker reads at the same path (a shared filesystem on a cluster).
    Given, the driver writes each partition's frames there as Parquet files and the rows carry
    their paths instead of the rows themselves, so the tasks stay small whatever the day's size;
    the workers write their results there too (only paths travel back through Spark); the run's
    files are removed when it ends."""
    spark = session(url)
    rows = max((frame.height for frame in tables.values()), default=0)
    count = partitions or max(
        spark.sparkContext.defaultParallelism, math.ceil(rows / ROWS_PER_PARTITION)
    )
    schemas = {name: frame.schema for name, frame in tables.items()}
    split = {
        name: {
            key[0]: part.drop(_PART)
            for key, part in frame.with_columns((pl.col(KEY) % count).alias(_PART))
            .partition_by(_PART, as_dict=True)
            .items()
        }
        for name, frame in tables.items()
    }
    folder = None if staging is None else tempfile.mkdtemp(prefix="recoup-run-", dir=staging)

    def put(stem: str, frame: pl.DataFrame) -> bytes:
        """A frame as a task carries it: its rows (Arrow IPC), or the path of its Parquet file."""
        if folder is None:
            return _ipc(frame)
        path = os.path.join(folder, f"{stem}.parquet")
        frame.write_parquet(path)
        return path.encode()

    def get(payload: bytes) -> pl.DataFrame:
        if folder is None:
            return pl.read_ipc(io.BytesIO(payload))
        return pl.read_parquet(payload.decode())

    def each(received: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in received:
            for row in batch.to_pylist():
                part = row[_PART]
                frames = {
                    name: get(payload).cast(schemas[name])
                    for name, payload in zip(row["tables"], row["payloads"], strict=True)
                }
                for name, frame in step(frames).items():
                    yield pa.RecordBatch.from_pydict(
                        {
                            _PART: [part],
                            "table": [name],
                            "payload": [put(f"out-{part}-{name}", frame)],
                        },
                        schema=_OUT,
                    )

    try:
        payloads = [
            (
                part,
                list(split),
                [
                    put(f"in-{part}-{name}", split[name].get(part, frame.clear()))
                    for name, frame in tables.items()
                ],
            )
            for part in range(count)
        ]
        data = spark.createDataFrame(
            spark.sparkContext.parallelize(payloads, numSlices=count), _IN_DDL
        )
        collected = data.mapInArrow(each, _OUT_DDL).toArrow()
        out: dict[str, list[pl.DataFrame]] = {}
        for name, result in zip(
            collected.column("table").to_pylist(),
            collected.column("payload").to_pylist(),
            strict=True,
        ):
            out.setdefault(name, []).append(get(result))
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return {name: pl.concat(frames, how="diagonal_relaxed") for name, frames in out.items()}


def _ipc(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.write_ipc(sink)
    return sink.getvalue()
