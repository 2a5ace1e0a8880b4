"""The compliance guard over one batch of planned contacts, as the daily run calls it.

    .venv/bin/python benchmarks/bench_compliance.py --contacts 1000000

Builds N planned contacts with NumPy and Polars in the shape of a wallet's portfolio (most debtors in
China, the rest across the US with state overlays, Indonesia, the Philippines, India, Vietnam,
Thailand and Europe; one or two candidate zones; calls, SMS, push and e-mail planned across the
day) with their pre-aggregated counters (one row per contact and cap rule), then times
`decide_frame` twice (the first run includes Polars' warm-up). Target: under 5 s for 1,000,000 on
2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import polars as pl

from recoup.compliance import load_guard
from recoup.compliance.batch import decide_frame

UTC = dt.UTC
MARKETS = [  # jurisdiction, share, zone sets
    ("CN", 0.55, [["Asia/Shanghai"]]),
    (
        "US",
        0.08,
        [["America/New_York"], ["America/Chicago", "America/New_York"], ["America/Los_Angeles"]],
    ),
    ("US-MA", 0.02, [["America/New_York"]]),
    ("US-WA", 0.02, [["America/Los_Angeles"]]),
    ("US-NY-NYC", 0.02, [["America/New_York"]]),
    ("ID", 0.12, [["Asia/Jakarta"], ["Asia/Jakarta", "Asia/Makassar"]]),
    ("PH", 0.07, [["Asia/Manila"]]),
    ("IN", 0.05, [["Asia/Kolkata"]]),
    ("VN", 0.03, [["Asia/Ho_Chi_Minh"]]),
    ("TH", 0.02, [["Asia/Bangkok"]]),
    ("GB", 0.01, [["Europe/London"]]),
    ("IE", 0.005, [["Europe/Dublin"]]),
    ("NL", 0.005, [["Europe/Amsterdam"]]),
]


def planned(n: int, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    shares = np.array([m[1] for m in MARKETS])
    market = rng.choice(len(MARKETS), size=n, p=shares / shares.sum())
    pick = rng.integers(0, 3, size=n)
    choices = pl.DataFrame(
        [(m, p, sets[p % len(sets)]) for m, (_, _, sets) in enumerate(MARKETS) for p in range(3)],
        schema={"market": pl.Int64, "pick": pl.Int64, "zones": pl.List(pl.String)},
        orient="row",
    )
    zones = pl.DataFrame({"market": market, "pick": pick}).join(
        choices, on=["market", "pick"], how="left", maintain_order="left"
    )["zones"]
    base = dt.datetime(2026, 6, 15, tzinfo=UTC)
    minutes = rng.integers(0, 24 * 60, size=n)
    channels = np.array(["call", "sms", "push", "email", "ai_call", "in_app"])
    return pl.DataFrame(
        {
            "contact_id": np.arange(n),
            "at": pl.Series([base], dtype=pl.Datetime("us", "UTC")).repeat_by(n).explode()
            + pl.Series(minutes * 60_000_000).cast(pl.Duration("us")),
            "channel": channels[rng.choice(6, size=n, p=[0.3, 0.3, 0.2, 0.1, 0.05, 0.05])],
            "jurisdiction": np.array([m[0] for m in MARKETS])[market],
            "zones": zones,
            "collector": np.where(rng.random(n) < 0.8, "creditor", "third_party"),
            "handover_notice_sent": rng.random(n) < 0.95,
            "product": np.array(["bnpl", "credit_line", "micro_loan"])[rng.integers(0, 3, n)],
            "dpd": rng.integers(0, 120, size=n),
            "electronic_consent": rng.random(n) < 0.7,
            "recent_inbound": rng.random(n) < 0.2,
            "opted_out": rng.random(n) < 0.02,
            "flags": [["dispute_open"] if x < 0.01 else [] for x in rng.random(n)],
        }
    )


def counters(contacts: pl.DataFrame, seed: int = 11) -> pl.DataFrame:
    """Two counters per contact (the caps most packs have), a tenth of them at their cap."""
    rng = np.random.default_rng(seed)
    n = contacts.height
    rules = np.array(["cn.effective_calls", "house.calls_per_person_7d"])
    ids = np.repeat(contacts["contact_id"].to_numpy(), 2)
    at = contacts["at"].to_numpy().repeat(2)
    count = rng.integers(0, 9, size=2 * n)
    return pl.DataFrame(
        {
            "contact_id": ids,
            "rule": np.tile(rules, n),
            "count": count,
            "release_at": pl.Series(at).cast(pl.Datetime("us", "UTC"))
            + pl.Series(rng.integers(1, 48, size=2 * n) * 3_600_000_000).cast(pl.Duration("us")),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    args = parser.parse_args()
    guard = load_guard()
    t0 = time.perf_counter()
    contacts = planned(args.contacts)
    tallies = counters(contacts)
    print(
        f"built {contacts.height:,} planned contacts and {tallies.height:,} counters in {time.perf_counter() - t0:.1f} s"
    )
    for label in ("first run", "second run"):
        start = time.perf_counter()
        out = decide_frame(guard, contacts, tallies)
        elapsed = time.perf_counter() - start
        allowed = int(out["allowed"].sum())
        deferred = int(out["next_allowed_at"].is_not_null().sum())
        print(
            f"{label}: {elapsed:.2f} s ({contacts.height / elapsed:,.0f} contacts/s); "
            f"allowed {allowed:,}, deferred {deferred:,}, dropped {contacts.height - allowed - deferred:,}"
        )


if __name__ == "__main__":
    main()
