"""World files: a portfolio and how its debtors behave, as YAML. Every parameter has a default taken
from ../shared/calibration.md (the comment says which figure; [assumption] where none is public), so
an empty file is a valid world and a world file says only what it changes. Strategies are meant to
be tried across worlds, not tuned to one.

Rates are per account. A "cure within 30 days" rate r for a product's bucket becomes a daily hazard
h of paying what is overdue, solved so that debtors with no contact at all cure at r across their
spread and segments (`behaviour.daily_hazard`; 1 - (1 - r) ** (1 / 30) for identical debtors).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from recoup.compliance.codes import CALL_RESULTS
from recoup.strategy.policy import FACTS


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Portfolio(_Part):
    accounts: int = Field(
        20_000, ge=1, le=2_000_000, description="accounts (a customer holds one or two)"
    )
    foreign_share: float = Field(0.0, ge=0, le=1, description="US and GB customers")
    # New accounts keep opening through the simulated period, so new bills fall due every day.
    opening_days: int = Field(60, ge=0, le=730, description="days after the start accounts open")


class Repayment(_Part):
    # Pays a bill by its due date with no contact: entry into 1-30 DPD of 5-15 % of instalments
    # (calibration: "Current -> 1-30 DPD"), BNPL the least thanks to autopay (CFPB).
    on_time: dict[str, float] = {"bnpl": 0.93, "credit_line": 0.90, "micro_loan": 0.86}
    # Cured within 30 days with no contact, by bucket (calibration: "1-30 -> cure 60-90 %",
    # "31-60 -> 61-90 35-55 %", "61-90 -> 90+ 60-80 %", China M3 recovery 3-5 %) ...
    cure_30: dict[str, float] = {"M1": 0.75, "M2": 0.50, "M3": 0.25, "M3+": 0.04}
    # ... and by product where calibration.md's roll table tells them apart (the middle of each
    # range; a bucket's cure is one minus its roll to the next): BNPL cures most (autopay), cards
    # least in M1, micro-loans roll most once late.
    cure_30_by_product: dict[str, dict[str, float]] = {
        "bnpl": {"M1": 0.90, "M2": 0.60, "M3": 0.30},
        "credit_line": {"M1": 0.70, "M2": 0.55, "M3": 0.30},
        "micro_loan": {"M1": 0.80, "M2": 0.50, "M3": 0.20},
    }
    partial_share: float = Field(0.25, ge=0, le=1, description="a payment is part of what is due")
    partial_fraction: float = Field(0.5, gt=0, lt=1)
    # Heterogeneity: each debtor's hazard is scaled by a lognormal factor with mean 1 [assumption].
    heterogeneity: float = Field(0.6, ge=0, le=3, description="sd of the log of that factor")
    payday_boost: float = Field(1.5, ge=1, description="hazard on paydays (the 10th and 25th)")
    paydays: tuple[int, ...] = (10, 25)

    def cure(self, product: str, bucket: str) -> float:
        """The 30-day no-contact cure rate of a product's bucket (the product's own, else the
        bucket's)."""
        own = self.cure_30_by_product.get(product, {})
        return own.get(bucket, self.cure_30.get(bucket, 0.0))


class Wallet(_Part):
    """The debtor's wallet balance, for worlds that want money to run out (off by default, so the
    calibrated rates are what the simulator reproduces; on, they fall where balances bind).
    Income lands on the paydays, a share of the balance goes elsewhere every day, and a payment
    takes no more than the balance: the rest waits (a partial payment). calibration.md suggests the
    state after Medina's finding that reminders shift default to other bills [assumption: the
    figures]."""

    income_minor: int = Field(
        250_000, gt=0, description="median income a payday, in yuan fen (other currencies scaled)"
    )
    income_spread: float = Field(0.8, ge=0, le=3, description="sd of the log of the income")
    spend_share: float = Field(
        0.08, ge=0, le=1, description="of the balance spent on other things each day"
    )


class Autopay(_Part):
    """Debtors who set up autopay (a mandate at the wallet): on a bill's due date the wallet
    collects it in full, with no contact, unless their balance is short. Off by default, so the
    calibrated rates are what the simulator reproduces; a world that turns it on sees its effect
    on entries into 1-30 DPD and on the roll rates. CFPB finds BNPL's low late rate owes much to
    autopay [assumption: the figures]."""

    take_up: float = Field(0.15, ge=0, le=1, description="of the accounts, drawn at random")
    # Short on the due date for a debtor of average ability (lasting factor f = 1); the chance
    # scales with 1 / f (capped at 1), so the able are short less often [assumption]. With a
    # `wallet` in the world the balance decides instead: short when it holds less than is due.
    short: float = Field(0.05, ge=0, le=1, description="collection fails, balance short")


class Hardship(_Part):
    monthly_rate: float = Field(0.01, ge=0, le=1, description="debtors hit each month [assumption]")
    hazard_factor: float = Field(0.3, ge=0, le=1, description="what is left of their hazard")
    asks_for_help: float = Field(0.3, ge=0, le=1, description="of those, who file a hardship case")


class ChannelResponse(_Part):
    effect: float = Field(ge=0.1, le=10, description="multiplies the pay hazard while it lasts")
    days: int = Field(ge=0, le=30, description="how long the effect lasts after delivery")


def _channels() -> dict[str, ChannelResponse]:
    return {
        # Reminder SMS: x1.07-1.09 on-time probability (Cadena & Schoar 2011); a multi-day effect.
        "sms": ChannelResponse(effect=1.25, days=3),
        "push": ChannelResponse(effect=1.12, days=2),  # [assumption] weaker than SMS
        "email": ChannelResponse(effect=1.08, days=3),  # opens 16-20 % (DMA) [assumption]
        "in_app": ChannelResponse(effect=1.05, days=2),  # read when the app is opened [assumption]
        # A human conversation: +9 pp 30-day recovery over a bot (Choi et al. 2025); two-way
        # contact resolves delinquency "by a substantial margin" (Laudenbach et al.).
        "call": ChannelResponse(effect=2.0, days=5),
    }


class Personalised(_Part):
    # A message that greets the debtor by name: "only personalised messages work", -20 % relative
    # chance of a late payment, for repeat borrowers only (Karlan, Morten, Zinman 2016). Applied
    # as a multiplier on the pay hazard while the message's effect lasts [assumption on the shape].
    effect: float = Field(1.2, ge=1, le=3, description="multiplies the pay hazard")
    repeat_only: bool = Field(
        True, description="only for debtors who have repaid before (no effect on first-timers)"
    )


class Calls(_Part):
    answer_rate: float = Field(0.35, ge=0, le=1, description="right-party contact [assumption]")
    promise_rate: float = Field(0.5, ge=0, le=1, description="an answered call ends in a promise")
    capacity_per_day: int = Field(400, ge=0, description="calls the agents work a day")
    # How a call the debtor did not take ends, as the agent records it [assumption: no public
    # figures]; `connected` is somebody else answering (no conversation about the debt).
    unanswered: dict[str, float] = {
        "no_answer": 0.55,
        "voicemail": 0.25,
        "busy": 0.1,
        "connected": 0.1,
    }

    @model_validator(mode="after")
    def _outcomes(self) -> Calls:
        allowed = set(CALL_RESULTS) - {"conversation"}
        unknown = sorted(set(self.unanswered) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed))
            raise ValueError(f"responses.calls.unanswered: {', '.join(unknown)} (known: {known})")
        if abs(sum(self.unanswered.values()) - 1) > 1e-6:
            raise ValueError("responses.calls.unanswered: the shares add up to 1")
        return self


class Responses(_Part):
    channels: dict[str, ChannelResponse] = Field(default_factory=_channels)
    # Tone multiplies the channel's effect: moral appeal / positive expectation helps (Bursztyn et
    # al. 2019; Du et al. 2020), threats have no lasting effect [assumption: firm slightly worse].
    tone: dict[str, float] = {"gentle": 1.0, "neutral": 1.0, "firm": 0.9}
    # The share of a message's lift that lands, by the debtor's local hour when it arrives (hours
    # not listed: all of it). Timing made no difference in Karlan et al. 2016, hence none by
    # default; a world can say that messages at 22:00 land half: {22: 0.5}.
    by_hour: dict[int, float] = {}
    personalised: Personalised = Personalised()
    # The response saturates (calibration.md: "model a saturating response"): whatever reached the
    # debtor lately, together it multiplies the pay hazard by at most this much. [assumption: a
    # human call with a reminder, the strongest pair of effects above]
    max_effect: float = Field(2.5, ge=1, le=10)
    # Fatigue and backfire: above this many contacts in 7 days the hazard falls and complaints
    # rise ("Angry borrowers": +6-14 pp default when contact goes too far).
    fatigue_threshold_7d: int = Field(5, ge=1)
    fatigue_penalty: float = Field(0.3, ge=0, le=1)
    # Promises kept, by the bucket on the promised day: vendors claim 50-70 % of promises to human
    # collectors are kept [vendor claim], an average dominated by early buckets; a debtor who could
    # not pay for months keeps far fewer [assumption: falling with the buckets' cure rates]. Each
    # debtor's chance follows their lasting factor (those who pay readily keep their word), with
    # these means across the spread.
    promise_keep: dict[str, float] = {"M1": 0.65, "M2": 0.45, "M3": 0.25, "M3+": 0.1}
    opens_link: float = Field(0.08, ge=0, le=1, description="a delivered message's link is opened")
    wants_plan: float = Field(0.25, ge=0, le=1, description="of those, who ask for a plan")
    promises_online: float = Field(0.3, ge=0, le=1, description="of those, who promise instead")
    dispute_per_contact: float = Field(0.0005, ge=0, le=1)
    complaint_per_contact: float = Field(0.001, ge=0, le=1)
    complaint_when_fatigued: float = Field(0.01, ge=0, le=1)
    stop_per_sms: float = Field(0.003, ge=0, le=1, description="replies STOP to a text")
    # Of the debtors who act on a text (promise, plan, dispute, complaint, STOP; hardship once a
    # text has reached them), the share who write back in words instead of using the link or the
    # form: a line of the assistant's labelled set (its held-out `simulator` split) with the
    # intent of what they do, read by the assistant through the SMS webhook's own road. None by
    # default (the worlds calibrated before the assistant are unchanged); the demo sets it.
    replies_in_words: float = Field(
        0.0, ge=0, le=1, description="of those acting on a text, who reply in words"
    )
    calls: Calls = Calls()


# What a segment may select debtors by: facts the strategy reads from Recoup's ordinary data
# (`strategy.policy.FACTS`), about the debtor and the account as first seen. The other facts are
# the engine's own doing (a score, an arm, contacts, promises, pauses) or the day's, which a
# debtor's lasting segment cannot follow; anything else is a label Recoup never sees.
SELECTABLE: dict[str, str] = {
    name: FACTS[name]
    for name in (
        "product",
        "currency",
        "jurisdiction",
        "language",
        "age_band",
        "region",
        "tenure_days",
        "outstanding_minor",
        "overdue_minor",
        "dpd",
        "bucket",
        "days_since_last_payment",
        "payments_30d",
        "reachable_sms",
        "reachable_email",
        "reachable_push",
        "reachable_call",
    )
}
# A condition on one fact: the values a text fact may take (null: unknown), a number's bounds
# [min, max] (inclusive, either null for open), or a flag's value.
Condition = tuple[str | None, ...] | tuple[int | None, int | None] | bool


def _condition(key: str, value: Any) -> Condition:
    kind = SELECTABLE.get(key)
    if kind is None:
        if key in FACTS:
            raise ValueError(
                f"select.{key}: a fact the engine's own decisions or the day change, not a "
                f"debtor's lasting attribute (select by: {', '.join(SELECTABLE)})"
            )
        raise ValueError(
            f"select.{key}: not a fact Recoup sees through its data, a hidden label no policy "
            f"could find (select by: {', '.join(SELECTABLE)})"
        )
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"select.{key}: true or false")
        return value
    if kind == "str":
        values = value if isinstance(value, list) else [value]
        if not values or not all(v is None or isinstance(v, str) for v in values):
            raise ValueError(f"select.{key}: a list of values (null for unknown)")
        return tuple(values)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value)
        or (None not in value and value[0] > value[1])
    ):
        raise ValueError(f"select.{key}: [min, max], whole numbers (null for open), min <= max")
    return (value[0], value[1])


# The channels whose messages carry a link a debtor may open (an agent's call has none).
LINKED = frozenset({"sms", "push", "email", "in_app"})


class SegmentResponses(_Part):
    """How a segment answers contact, where it differs from the world's `responses`: a channel's
    whole response (effect and days), a tone's factor, the share of a message's lift that lands by
    the local hour (replacing the world's table), the calls answered (and the share of that rate
    by the local hour of the call), the fatigue threshold, the answered calls that end in a
    promise (the world's `calls.promise_rate`), the promises kept by bucket (the world's
    `promise_keep`, bucket by bucket: a bucket the segment does not list keeps the world's), and
    the links it opens by channel and the online promises (the world's `opens_link`, channel by
    channel, and `promises_online`)."""

    channels: dict[str, ChannelResponse] = {}
    tone: dict[str, float] = {}
    by_hour: dict[int, float] | None = None
    answer_rate: float | None = Field(None, ge=0, le=1)
    # The share of the answer rate that holds by the debtor's local hour when the call is placed
    # (hours not listed: all of it): people at work let calls ring. A call's lift by the hour is
    # `by_hour`'s; this decides whether there is a conversation (and a promise) at all.
    answer_by_hour: dict[int, float] | None = None
    fatigue_threshold_7d: int | None = Field(None, ge=1)
    # An angry borrower may promise less often, or keep fewer of the promises given: the world's
    # `responses.calls.promise_rate` and `responses.promise_keep`, for this segment's debtors.
    promise_rate: float | None = Field(
        None, ge=0, le=1, description="an answered call ends in a promise"
    )
    promise_keep: dict[str, float] | None = None
    # Who acts on a message's link, by channel: the share of a delivered message's links this
    # segment opens (the world's `responses.opens_link` for a channel not listed), and the share of
    # those who promise online (the world's `responses.promises_online`). A phone's spam filter
    # may bury a segment's texts while its app's messages are read.
    opens_link: dict[str, float] = {}
    promises_online: float | None = Field(
        None, ge=0, le=1, description="of those who open a link, who promise"
    )

    @model_validator(mode="after")
    def _known(self) -> SegmentResponses:
        unknown = sorted(set(self.channels) - set(_channels()))
        if unknown:
            raise ValueError(f"channels: {', '.join(unknown)} (known: {', '.join(_channels())})")
        unknown = sorted(set(self.tone) - {"gentle", "neutral", "firm"})
        if unknown:
            raise ValueError(f"tone: {', '.join(unknown)} (known: gentle, neutral, firm)")
        for tone, factor in self.tone.items():
            if not 0.1 <= factor <= 10:
                raise ValueError(f"tone.{tone}: a factor from 0.1 to 10")
        for hour, share in (self.by_hour or {}).items():
            if not 0 <= hour <= 23 or not 0 <= share <= 3:
                raise ValueError(f"by_hour.{hour}: an hour 0-23 with a share from 0 to 3")
        for hour, share in (self.answer_by_hour or {}).items():
            if not 0 <= hour <= 23 or not 0 <= share <= 1:
                raise ValueError(f"answer_by_hour.{hour}: an hour 0-23 with a share from 0 to 1")
        for bucket, keep in (self.promise_keep or {}).items():
            if not 0 <= keep < 1:
                raise ValueError(f"promise_keep.{bucket} must be at least 0 and below 1")
        unknown = sorted(set(self.opens_link) - LINKED)
        if unknown:
            known = ", ".join(sorted(LINKED))
            raise ValueError(f"opens_link: {', '.join(unknown)} (channels with a link: {known})")
        for channel, share in self.opens_link.items():
            if not 0 <= share <= 1:
                raise ValueError(f"opens_link.{channel}: a share from 0 to 1")
        return self

    def opens(self, channel: str, world: float) -> float:
        """The share of this segment's delivered `channel` messages whose link is opened (the
        world's `opens_link` when it lists none for the channel)."""
        return self.opens_link.get(channel, world)

    def promises_by_link(self, world: float) -> float:
        """Of this segment's opened links, the share that end in a promise (the world's
        `promises_online` when it says none)."""
        return world if self.promises_online is None else self.promises_online

    def promises(self, world: float) -> float:
        """The share of this segment's answered calls that end in a promise (the world's
        `calls.promise_rate` when it says none)."""
        return world if self.promise_rate is None else self.promise_rate

    def keeps(self, world: Responses) -> dict[str, float]:
        """The promises this segment keeps by bucket: its own table over the world's."""
        return {**world.promise_keep, **(self.promise_keep or {})}


class Segment(_Part):
    """A group of debtors unlike the rest: calibration.md's treatment effects are "heterogeneous
    by segment", but no public figures say which groups or by how much, so a world names its own
    (none by default). The world's cure rates stay the portfolio's: the hazards are solved over
    the mix of segments (per product, when segments select by what Recoup sees).

    A segment is drawn at random (`share` of all debtors), or selected by facts Recoup sees
    (`select`; with a `share` too, that share of those it selects). The first segment that takes
    a debtor keeps them; the rest of the debtors are in none."""

    name: str = Field(min_length=1, max_length=64)
    share: float | None = Field(None, gt=0, le=1, description="of the debtors, drawn at random")
    select: dict[str, Any] | None = Field(
        None, description="fact: values, [min, max] or a flag; every condition must hold"
    )
    ability: float = Field(1.0, gt=0, le=20, description="scales their lasting factor f")
    responsiveness: float = Field(
        1.0, ge=0, le=5, description="scales the log of every contact's effect on them"
    )
    responses: SegmentResponses = SegmentResponses()

    @model_validator(mode="after")
    def _selection(self) -> Segment:
        if self.select is None and self.share is None:
            raise ValueError("a segment needs a share, a select, or both")
        if self.select is not None:
            if not self.select:
                raise ValueError("select: at least one fact")
            for key, value in self.select.items():
                _condition(key, value)
        return self

    def conditions(self) -> dict[str, Condition]:
        return {k: _condition(k, v) for k, v in (self.select or {}).items()}


class World(_Part):
    world: str = "default"
    description: str = ""
    portfolio: Portfolio = Portfolio()
    repayment: Repayment = Repayment()
    hardship: Hardship = Hardship()
    responses: Responses = Responses()
    segments: list[Segment] = []
    wallet: Wallet | None = None
    autopay: Autopay | None = None

    @property
    def selects(self) -> bool:
        """Some segment selects debtors by what Recoup sees: the segments' shares of a product's
        debtors are then the portfolio's, not the world file's."""
        return any(s.select is not None for s in self.segments)

    def mix(self) -> tuple[tuple[float, float], ...]:
        """(share, ability) of each segment, the debtors in none last (ability 1), for segments
        drawn at random; a world whose segments select has no mix of its own (the simulator
        counts it per product, `behaviour.mixes`)."""
        if self.selects:
            raise ValueError("segments selected by facts: their mix is the portfolio's")
        rest = 1 - sum(s.share or 0 for s in self.segments)
        return (*((s.share or 0, s.ability) for s in self.segments), (rest, 1.0))

    @model_validator(mode="after")
    def _rates(self) -> World:
        for name, rates in (
            ("on_time", self.repayment.on_time),
            ("cure_30", self.repayment.cure_30),
            *(
                (f"cure_30_by_product.{product}", rates)
                for product, rates in self.repayment.cure_30_by_product.items()
            ),
            ("promise_keep", self.responses.promise_keep),
        ):
            for key, value in rates.items():
                if not 0 <= value < 1:
                    section = "responses" if name == "promise_keep" else "repayment"
                    raise ValueError(f"{section}.{name}.{key} must be at least 0 and below 1")
        if not self.selects and sum(s.share or 0 for s in self.segments) > 1 + 1e-9:
            raise ValueError("segments: their shares add up to more than 1")
        names = [s.name for s in self.segments]
        if len(set(names)) < len(names):
            raise ValueError("segments: each needs a name of its own")
        for hour, share in self.responses.by_hour.items():
            if not 0 <= hour <= 23 or not 0 <= share <= 3:
                raise ValueError(f"responses.by_hour.{hour}: an hour 0-23 with a share from 0 to 3")
        return self


class WorldError(ValueError):
    pass


def parse_world(text: str, *, source: str) -> World:
    try:
        data: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise WorldError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(data, dict):
        raise WorldError(f"{source}: a world is a mapping of sections")
    try:
        return World.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'world'}: {e['msg']}" for e in exc.errors()
        )
        raise WorldError(f"{source}: {problems}") from exc


def load_world(path: Path | None) -> World:
    if path is None:
        return World()
    return parse_world(path.read_text(encoding="utf-8"), source=str(path))
