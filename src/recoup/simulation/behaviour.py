"""How simulated debtors behave, pure: frames and arrays in, decisions out, no database.

Every debtor has a lasting repayment factor f (lognormal, mean 1: some pay readily, some hardly).
On each day a debtor owing an overdue amount pays it in full with probability
    1 - (1 - h[bucket]) ** (f * m)
where h is the bucket's daily hazard and m multiplies what happened lately: messages delivered and
calls answered (each channel's effect, its lift scaled by the local hour it arrived, times its
tone's, times a personal greeting's for debtors it works on, while it lasts), a payday, hardship,
fatigue after too many contacts. A debtor with a bill due today and nothing overdue pays it on time
with probability 1 - (1 - on_time) ** (f * m). Some payments are partial. A promise due today is
kept with probability 1 - (1 - k[bucket]) ** f (less in hardship): late debtors keep fewer. In a
world with a wallet, a payment takes no more than the balance (the rest waits: a partial payment).

`h` is solved so that, across the lognormal spread of f and with paydays, the share of a bucket's
entrants who pay in full within 30 days with no contact at all is exactly the world's cure rate for
the account's product and bucket (`Repayment.cure`):
the world's rates are what the simulator reproduces, not an approximation of them; `k` likewise,
for the world's `promise_keep` (or a segment's own, over that segment's spread).

Randomness is a hash of (seed, account, day, purpose): the same debtor on the same day draws the
same numbers whatever else happens, so two policies run on one world differ only where the policy
made a difference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from recoup.simulation.world import SELECTABLE, SegmentResponses, World

# Gauss-Hermite nodes for E[g(f)] with log f ~ N(-s^2/2, s^2).
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()
MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


class Salt:
    factor = 1
    pay = 2
    partial = 3
    promise = 4
    hardship = 5
    link = 6
    link_choice = 7
    complaint = 8
    stop = 9
    answer = 10
    call_promise = 11
    dispute = 12
    segment = 13
    income = 14
    call_outcome = 15
    autopay = 16
    autopay_short = 17
    words = 18
    words_text = 19


# (share, ability) of each group of debtors: `World.mix`; one group of ability 1 without segments.
Mix = tuple[tuple[float, float], ...]
NO_SEGMENTS: Mix = ((1.0, 1.0),)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over uint64 arrays."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out: np.ndarray = x ^ (x >> np.uint64(31))
        return out


def uniform(seed: int, ids: np.ndarray, day: int, salt: int) -> np.ndarray:
    """One uniform draw in [0, 1) per id for (seed, day, salt), independent of everything else."""
    with np.errstate(over="ignore"):
        key = np.uint64((seed * 1_000_003 + day * 7_919 + salt * 104_729) & 0xFFFFFFFFFFFFFFFF)
        x = _mix(ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + key)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


_M64 = 0xFFFFFFFFFFFFFFFF


def on_autopay(world: World, seed: int, ids: np.ndarray) -> np.ndarray:
    """Which accounts have autopay: a draw per account that does not change from day to day."""
    if world.autopay is None:
        return np.zeros(len(ids), dtype=bool)
    return uniform(seed, ids, 0, Salt.autopay) < world.autopay.take_up


def uniform_one(seed: int, id_: int, day: int, salt: int) -> float:
    """`uniform` for one id, in plain integers (the same number, without an array's overhead:
    the runner draws one at a time for each message a debtor reads)."""
    key = (seed * 1_000_003 + day * 7_919 + salt * 104_729) & _M64
    x = (id_ * 0x9E3779B97F4A7C15 + key) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    x ^= x >> 31
    return (x >> 11) / float(1 << 53)


def pick(shares: dict[str, float], u: float) -> str:
    """The outcome a uniform draw `u` falls on, the shares (adding up to 1) laid end to end in
    order."""
    for outcome, share in shares.items():
        if u < share:
            return outcome
        u -= share
    return next(reversed(shares))  # a sum a rounding short of 1


def factors(seed: int, ids: np.ndarray, sigma: float) -> np.ndarray:
    """Each debtor's lasting factor f: lognormal with mean 1 and log-sd `sigma`."""
    u = np.clip(uniform(seed, ids, 0, Salt.factor), 1e-12, 1 - 1e-12)
    return np.exp(sigma * _probit(u) - sigma * sigma / 2)


def debtors(seed: int, ids: np.ndarray, world: World) -> tuple[np.ndarray, np.ndarray]:
    """Each debtor's lasting factor (f times their segment's ability) and responsiveness to
    contact, their segment drawn with the segments' shares (a world whose segments draw at
    random; one that selects assigns with `segments_of` from the facts)."""
    f = factors(seed, ids, world.repayment.heterogeneity)
    ability, responsiveness = traits(world, segments_of(seed, ids, world))
    return f * ability, responsiveness


def traits(world: World, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ability, responsiveness) of each debtor from their segment's index (the last: none)."""
    ability = np.array([*(s.ability for s in world.segments), 1.0])[segment]
    responsiveness = np.array([*(s.responsiveness for s in world.segments), 1.0])[segment]
    return ability, responsiveness


def segments_of(
    seed: int, ids: np.ndarray, world: World, facts: pl.DataFrame | None = None
) -> np.ndarray:
    """Each debtor's segment, an index into `world.segments` (`len(world.segments)`: none).

    Segments drawn at random take their shares of all debtors, laid end to end on one draw. In a
    world whose segments select, each segment in turn takes the debtors not yet taken whose facts
    (`facts`, a row per id in the same order, the strategy's columns) meet every condition of its
    `select`, and of those its `share` (when it has one) by a draw of its own."""
    n = len(world.segments)
    if not world.selects:
        edges = np.cumsum([s.share or 0 for s in world.segments])
        return np.searchsorted(edges, uniform(seed, ids, 0, Salt.segment), side="right")
    if facts is None or facts.height != ids.size:
        raise ValueError("segments selected by facts need the debtors' facts, a row per debtor")
    out = np.full(ids.size, n, dtype=np.int64)
    for i, segment in enumerate(world.segments):
        chosen = out == n
        for key, condition in segment.conditions().items():
            chosen &= _meets(facts, key, condition)
        if segment.share is not None:
            chosen &= uniform(seed, ids, i + 1, Salt.segment) < segment.share
        out[chosen] = i
    return out


def _meets(facts: pl.DataFrame, key: str, condition: object) -> np.ndarray:
    """Which rows' fact `key` meets the condition (a missing column: unknown for every row)."""
    column = facts[key] if key in facts.columns else pl.Series(key, [None] * facts.height)
    if isinstance(condition, bool):
        return (column == condition).fill_null(False).to_numpy().astype(bool)
    assert isinstance(condition, tuple)
    if key in SELECTABLE and SELECTABLE[key] == "int":
        low, high = condition
        ok = column.is_not_null()
        if low is not None:
            ok &= column >= low
        if high is not None:
            ok &= column <= high
        return ok.fill_null(False).to_numpy().astype(bool)
    values = [v for v in condition if v is not None]
    ok = column.cast(pl.String).is_in(values)
    if None in condition:
        ok |= column.is_null()
    return ok.fill_null(False).to_numpy().astype(bool)


def mixes(world: World, products: list[str], segment: np.ndarray) -> dict[str, Mix]:
    """(share, ability) of each segment among each product's debtors, as assigned: the mix a
    product's hazards are solved over when segments select (a segment may hold more of one
    product than another, or be one product)."""
    abilities = [*(s.ability for s in world.segments), 1.0]
    frame = pl.DataFrame({"product": products, "segment": segment.astype(np.int64)})
    counts = frame.group_by("product", "segment").len()
    out: dict[str, Mix] = {}
    for (product,), part in counts.group_by(["product"]):
        total = part["len"].sum()
        out[str(product)] = tuple(
            sorted(
                (count / total, abilities[k])
                for k, count in part.select("segment", "len").iter_rows()
            )
        )
    return out


def incomes(seed: int, ids: np.ndarray, world: World, scale: np.ndarray) -> np.ndarray:
    """Each debtor's income a payday, in minor units (lognormal around the world's median, times
    the currency's `scale` against the yuan); zeros without a wallet."""
    if world.wallet is None:
        return np.zeros(ids.size, dtype=np.int64)
    u = np.clip(uniform(seed, ids, 0, Salt.income), 1e-12, 1 - 1e-12)
    median = world.wallet.income_minor * scale
    return (median * np.exp(world.wallet.income_spread * _probit(u))).astype(np.int64)


def _probit(u: np.ndarray) -> np.ndarray:
    """The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = [
        -3.969683028665376e01,
        2.209460984245205e02,
        -2.759285104469687e02,
        1.383577518672690e02,
        -3.066479806614716e01,
        2.506628277459239e00,
    ]
    b = [
        -5.447609879822406e01,
        1.615858368580409e02,
        -1.556989798598866e02,
        6.680131188771972e01,
        -1.328068155288572e01,
    ]
    c = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e00,
        -2.549732539343734e00,
        4.374664141464968e00,
        2.938163982698783e00,
    ]
    d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00]  # fmt: skip
    out = np.empty_like(u)
    low, high = u < 0.02425, u > 1 - 0.02425
    mid = ~(low | high)
    q = np.sqrt(-2 * np.log(u[low]))
    out[low] = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
        (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
    )
    q = np.sqrt(-2 * np.log(1 - u[high]))
    out[high] = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
        (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
    )
    q = u[mid] - 0.5
    r = q * q
    out[mid] = (
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    )
    return out


def cure_within(h: float, sigma: float, exposure: float, mix: Mix = NO_SEGMENTS) -> float:
    """E over f (and the segments' abilities a) of 1 - (1 - h) ** (a * f * exposure): the share
    who pay in full within `exposure` hazard-days (30, more with paydays)."""
    f = np.exp(sigma * _NODES - sigma * sigma / 2)
    return float(
        sum(
            share * np.sum(_WEIGHTS * (1 - (1 - h) ** (ability * f * exposure)))
            for share, ability in mix
            if share > 0
        )
    )


@lru_cache(maxsize=256)
def daily_hazard(rate: float, sigma: float, exposure: float, mix: Mix = NO_SEGMENTS) -> float:
    """The daily hazard h for which `cure_within(h, sigma, exposure, mix)` equals `rate`
    (bisection)."""
    if rate <= 0:
        return 0.0
    lo, hi = 0.0, 1.0 - 1e-12
    for _ in range(80):
        mid = (lo + hi) / 2
        if cure_within(mid, sigma, exposure, mix) < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def exposure(world: World, days: int = 30) -> float:
    """Hazard-days in a 30-day window: paydays count `payday_boost` times."""
    r = world.repayment
    paydays = len(r.paydays) * days / 30
    return days - paydays + paydays * r.payday_boost


@dataclass(frozen=True)
class Delivery:
    day: int  # days since the start
    account_id: int
    channel: str  # sms, email, push, in_app, call (an answered call)
    tone: str


def _responds_by_segment(world: World) -> bool:
    return any(s.responses != SegmentResponses() for s in world.segments)


def _response_tables(world: World) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Per segment (the last index: none), the channels' effect and days, the tones' factors and
    the hours' shares: the world's, with each segment's own where it says so."""
    r = world.responses
    chans: list[tuple[int, str, float, int]] = []
    tones: list[tuple[int, str, float]] = []
    hours: list[tuple[int, int, float]] = []
    own = [s.responses for s in world.segments] + [SegmentResponses()]
    for k, answers in enumerate(own):
        for name, c in {**r.channels, **answers.channels}.items():
            chans.append((k, name, c.effect, c.days))
        tones += [(k, t, float(v)) for t, v in {**r.tone, **answers.tone}.items()]
        by_hour = r.by_hour if answers.by_hour is None else answers.by_hour
        hours += [(k, h, float(v)) for h, v in by_hour.items()]
    return (
        pl.DataFrame(
            chans,
            schema={
                "segment": pl.Int64,
                "channel": pl.String,
                "lift": pl.Float64,
                "lasts": pl.Int64,
            },
            orient="row",
        ),
        pl.DataFrame(
            tones,
            schema={"segment": pl.Int64, "tone": pl.String, "tone_factor": pl.Float64},
            orient="row",
        ),
        pl.DataFrame(
            hours,
            schema={"segment": pl.Int64, "hour": pl.Int64, "hour_share": pl.Float64},
            orient="row",
        ),
    )


def contact_multiplier(
    world: World,
    deliveries: pl.DataFrame,
    day: int,
    account_ids: np.ndarray,
    responsiveness: np.ndarray | None = None,
    segments: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(multiplier, contacts in the last 7 days) per account on `day`, from the deliveries
    (account_id, day, channel, tone, and optionally hour: the debtor's local hour when it arrived,
    personal: it greeted a debtor the greeting works on). `segments`: each account's segment
    index, for a world whose segments answer contact their own way."""
    n = account_ids.size
    if deliveries.height == 0 or n == 0:
        return np.ones(n), np.zeros(n, dtype=np.int64)
    if segments is not None and _responds_by_segment(world):
        return _segment_multiplier(world, deliveries, day, account_ids, responsiveness, segments)
    channels = world.responses.channels
    tones = world.responses.tone
    longest = max((c.days for c in channels.values()), default=0)
    recent = deliveries.filter(pl.col("day") > day - max(longest, 7), pl.col("day") <= day)
    if recent.height == 0:
        return np.ones(n), np.zeros(n, dtype=np.int64)
    lift = pl.col("channel").replace_strict(
        {k: v.effect for k, v in channels.items()}, default=1.0, return_dtype=pl.Float64
    )
    by_hour = world.responses.by_hour
    if by_hour and "hour" in recent.columns:
        share = pl.col("hour").replace_strict(
            {h: float(s) for h, s in by_hour.items()}, default=1.0, return_dtype=pl.Float64
        )
        lift = (1 + (lift - 1) * share).clip(lower_bound=0.01)
    log_effect = lift.log() + pl.col("tone").replace_strict(
        {k: float(np.log(v)) for k, v in tones.items()}, default=0.0, return_dtype=pl.Float64
    )
    if "personal" in recent.columns:
        personal = float(np.log(world.responses.personalised.effect))
        log_effect = log_effect + pl.when(pl.col("personal")).then(personal).otherwise(0.0)
    effect = recent.with_columns(
        lasts=pl.col("channel").replace_strict(
            {k: v.days for k, v in channels.items()}, default=0, return_dtype=pl.Int64
        ),
        log_effect=log_effect,
    )
    return _combine(world, effect, recent, day, account_ids, responsiveness)


def _segment_multiplier(
    world: World,
    deliveries: pl.DataFrame,
    day: int,
    account_ids: np.ndarray,
    responsiveness: np.ndarray | None,
    segments: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """`contact_multiplier` where each delivery's effect is its debtor's segment's."""
    n = account_ids.size
    chans, tones, hours = _response_tables(world)
    longest = max(chans["lasts"].to_list(), default=0)
    recent = deliveries.filter(pl.col("day") > day - max(longest, 7), pl.col("day") <= day)
    if recent.height == 0:
        return np.ones(n), np.zeros(n, dtype=np.int64)
    who = pl.DataFrame(
        {"account_id": account_ids.astype(np.int64), "segment": segments.astype(np.int64)}
    )
    joined = (
        recent.join(who, on="account_id", how="left")
        .with_columns(pl.col("segment").fill_null(len(world.segments)))
        .join(chans, on=["segment", "channel"], how="left")
        .join(tones, on=["segment", "tone"], how="left")
    )
    lift = pl.col("lift").fill_null(1.0)
    if hours.height and "hour" in joined.columns:
        joined = joined.join(hours, on=["segment", "hour"], how="left")
        lift = (1 + (lift - 1) * pl.col("hour_share").fill_null(1.0)).clip(lower_bound=0.01)
    log_effect = lift.log() + pl.col("tone_factor").fill_null(1.0).log()
    if "personal" in joined.columns:
        personal = float(np.log(world.responses.personalised.effect))
        log_effect = log_effect + pl.when(pl.col("personal")).then(personal).otherwise(0.0)
    effect = joined.with_columns(lasts=pl.col("lasts").fill_null(0), log_effect=log_effect)
    return _combine(world, effect, recent, day, account_ids, responsiveness)


def _combine(
    world: World,
    effect: pl.DataFrame,
    recent: pl.DataFrame,
    day: int,
    account_ids: np.ndarray,
    responsiveness: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The effects still lasting summed per account, scaled and capped; the week's contacts."""
    active = (
        effect.filter(day - pl.col("day") < pl.col("lasts"))
        .group_by("account_id")
        .agg(pl.col("log_effect").sum())
    )
    week = recent.filter(pl.col("day") > day - 7).group_by("account_id").agg(pl.len().alias("week"))
    base = pl.DataFrame({"account_id": account_ids}, schema={"account_id": pl.Int64})
    joined = base.join(active, on="account_id", how="left").join(week, on="account_id", how="left")
    log_mult = joined["log_effect"].fill_null(0.0).to_numpy()
    if responsiveness is not None:
        log_mult = log_mult * responsiveness
    mult = np.minimum(np.exp(log_mult), world.responses.max_effect)
    return mult, joined["week"].fill_null(0).to_numpy().astype(np.int64)


@dataclass(frozen=True)
class DayInput:
    """What the debtors face on a day: one row per open account owing something.

    accounts: account_id, product, bucket, overdue_minor, due_today_minor, hardship (bool),
    promise_minor (an arrangement's amount due today, 0 if none), and optionally segment (the
    debtor's segment's index, for segments answering contact their own way), responsiveness
    (the debtor's segment's; 1 if absent) and balance_minor (what the wallet holds, when the world
    has one)."""

    day: int
    date: dt.date
    accounts: pl.DataFrame
    deliveries: pl.DataFrame


def _segment_keeps(
    world: World, k: np.ndarray, buckets: list[str], segment: np.ndarray
) -> np.ndarray:
    """`k` with the debtors of a segment that says its own `promise_keep` given that table's
    chance: solved over the segment's own spread (its ability times f), so the table's figure is
    the mean share of promises its debtors keep in the bucket. The others keep `k`."""
    out = k.copy()
    sigma = world.repayment.heterogeneity
    for index, s in enumerate(world.segments):
        if s.responses.promise_keep is None:
            continue
        table = s.responses.keeps(world.responses)
        mix: Mix = ((1.0, s.ability),)
        for i in np.flatnonzero(segment == index):
            rate = table.get(buckets[i], table.get("M1", 0.0))
            out[i] = daily_hazard(rate, sigma, 1.0, mix)
    return out


def decide_payments(
    world: World,
    seed: int,
    state: DayInput,
    f: dict[int, float],
    mixes: dict[str, Mix] | None = None,
) -> pl.DataFrame:
    """account_id, amount_minor, kind (on_time, autopay, cure, partial, promise) for the day's payments.

    `mixes`: the segments' mix per product (`mixes`), which a world whose segments select needs
    to solve its hazards over; a product missing from it has none."""
    a = state.accounts
    if a.height == 0:
        return pl.DataFrame(
            schema={"account_id": pl.Int64, "amount_minor": pl.Int64, "kind": pl.String}
        )
    ids = a["account_id"].to_numpy().astype(np.int64)
    r = world.repayment
    sigma = r.heterogeneity
    exp30 = exposure(world)
    factor = np.array([f.get(int(i), 1.0) for i in ids])
    if world.selects and mixes is None:
        raise ValueError("segments selected by facts: give the mix per product (`mixes`)")
    default_mix = NO_SEGMENTS if world.selects else world.mix()

    def mix_of(product: str) -> Mix:
        return (mixes or {}).get(product, default_mix)

    responsiveness = a["responsiveness"].to_numpy() if "responsiveness" in a.columns else None
    segment = a["segment"].to_numpy() if "segment" in a.columns else None
    mult, week = contact_multiplier(
        world, state.deliveries, state.day, ids, responsiveness, segment
    )
    threshold: np.ndarray | int = world.responses.fatigue_threshold_7d
    if segment is not None:
        threshold = np.array(
            [
                *(
                    s.responses.fatigue_threshold_7d or world.responses.fatigue_threshold_7d
                    for s in world.segments
                ),
                world.responses.fatigue_threshold_7d,
            ]
        )[segment]
    fatigued = week > threshold
    mult = mult * np.where(fatigued, 1 - world.responses.fatigue_penalty, 1.0)
    in_hardship = np.where(a["hardship"].to_numpy(), world.hardship.hazard_factor, 1.0)
    mult = mult * in_hardship
    if state.date.day in r.paydays:
        mult = mult * r.payday_boost
    buckets = a["bucket"].to_list()
    products = a["product"].to_list()
    pairs = list(zip(products, buckets, strict=True))
    hazard_of = {(p, b): daily_hazard(r.cure(p, b), sigma, exp30, mix_of(p)) for p, b in set(pairs)}
    hazards = np.array([hazard_of[pair] for pair in pairs])
    on_time = np.array([r.on_time.get(p, 0.9) for p in products])
    overdue = a["overdue_minor"].to_numpy()
    due_today = a["due_today_minor"].to_numpy()
    u_pay = uniform(seed, ids, state.day, Salt.pay)
    u_promise = uniform(seed, ids, state.day, Salt.promise)
    exponent = factor * mult
    p_cure = 1 - (1 - hazards) ** exponent
    p_on_time = 1 - (1 - on_time) ** exponent
    late = overdue > 0
    pays_late = late & (u_pay < p_cure)
    partial = late & ~pays_late & (u_pay < p_cure * (1 + r.partial_share))
    pays_due = ~late & (due_today > 0) & (u_pay < p_on_time)
    promise = a["promise_minor"].to_numpy()
    # A promise is kept with the bucket's mean chance across the spread of f, each debtor's chance
    # following f (and shrinking in hardship), as `h` does for a day's payment.
    keep = world.responses.promise_keep
    k = np.array(
        [daily_hazard(keep.get(b, keep.get("M1", 0.0)), sigma, 1.0, mix_of(p)) for p, b in pairs]
    )
    if segment is not None:
        k = _segment_keeps(world, k, buckets, segment)
    p_keep = 1 - (1 - k) ** (factor * in_hardship)
    keeps = (promise > 0) & ~pays_late & (u_promise < p_keep)
    amount = np.where(
        pays_late,
        overdue + due_today,
        np.where(
            partial,
            np.maximum(1, (overdue * r.partial_fraction).astype(np.int64)),
            np.where(pays_due, due_today, 0),
        ),
    )
    amount = np.where(keeps, np.maximum(amount, promise), amount)
    kind = np.where(
        keeps & (amount == promise),
        "promise",
        np.where(pays_late, "cure", np.where(partial, "partial", "on_time")),
    )
    collected = np.zeros(len(ids), dtype=bool)
    if world.autopay is not None:
        # A mandate collects what falls due today in full, unless the balance is short: then
        # nothing is collected and the debtor pays (or not) as anyone else does.
        has = on_autopay(world, seed, ids)
        if world.wallet is not None and "balance_minor" in a.columns:
            short = a["balance_minor"].to_numpy() < due_today
        else:
            chance = np.minimum(1.0, world.autopay.short / np.maximum(factor, 1e-9))
            short = uniform(seed, ids, state.day, Salt.autopay_short) < chance
        collected = has & ~late & (due_today > 0) & ~short
        amount = np.where(collected, np.maximum(amount, due_today), amount)
        kind = np.where(collected, "autopay", kind)
    if world.wallet is not None and "balance_minor" in a.columns:
        # No more than the wallet holds: what is short waits, and the payment is partial.
        balance = np.maximum(a["balance_minor"].to_numpy(), 0)
        short = (amount > balance) & ~collected
        amount = np.where(short, balance, amount)
        kind = np.where(short, "partial", kind)
    chosen = amount > 0
    return pl.DataFrame(
        {
            "account_id": ids[chosen],
            "amount_minor": amount[chosen].astype(np.int64),
            "kind": kind[chosen],
        },
        schema={"account_id": pl.Int64, "amount_minor": pl.Int64, "kind": pl.String},
    )
