"""What analytics returns: the KPIs of a period, its roll rates and its experiments. Rates are
fractions (0.25 is 25 %), null when their denominator is zero; money is in minor units with its
currency."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, computed_field, model_validator

from recoup.kit.schemas import Schema


class Period(Schema):
    from_date: dt.date = Field(
        description="First business day of the period", examples=["2026-06-01"]
    )
    to_date: dt.date = Field(description="Last business day of the period", examples=["2026-06-30"])


class Scope(Schema):
    """Which accounts the figures cover: all of them, or those of a product and/or a segment (the
    segment of the strategy's last decision for the account on or before the period's end)."""

    product: str | None = Field(None, description="A product's code", examples=["bnpl"])
    segment: str | None = Field(None, description="A policy segment", examples=["large"])


class CurrencyRecovery(Schema):
    currency: str = Field(
        description="ISO 4217 code; amounts are never summed across currencies", examples=["CNY"]
    )
    accounts: int = Field(description="Accounts with money overdue in the period", examples=[1200])
    accounts_paying: int = Field(
        description="Of those, accounts that paid some of it", examples=[700]
    )
    accounts_recovered: int = Field(
        description="Of those, accounts that paid all of it", examples=[500]
    )
    base_minor: int = Field(
        description="Overdue at the start plus what fell overdue in the period", examples=[36000000]
    )
    collected_minor: int = Field(
        description="Applied to that money in the period", examples=[12000000]
    )
    rate_amount: float | None = Field(
        description="Recovery rate by amount: collected / base", examples=[0.33]
    )
    rate_count: float | None = Field(
        description="Recovery rate by count: paying / accounts", examples=[0.58]
    )


class CureRate(Schema):
    bucket: str = Field(description="A delinquency bucket", examples=["M1"])
    accounts: int = Field(
        description="Accounts in the bucket at some point of the period", examples=[900]
    )
    cured: int = Field(
        description="Of those, accounts that returned to M0 afterwards in the period",
        examples=[540],
    )
    rate: float | None = Field(description="cured / accounts", examples=[0.6])


class ContactCount(Schema):
    channel: str = Field(description="sms, email, push, in_app, call, dial...", examples=["sms"])
    purpose: str = Field(
        description="collection, or service (an opt-out's confirmation)", examples=["collection"]
    )
    status: str = Field(description="Where the contact stands now", examples=["delivered"])
    contacts: int = Field(description="Contacts planned for days in the period", examples=[4200])


class ChannelReach(Schema):
    channel: str = Field(examples=["sms"])
    attempts: int = Field(
        description="Contacts a channel accepted (sent, delivered or bounced)", examples=[4000]
    )
    reached: int = Field(
        description="Delivered to the debtor, or a call that was a conversation", examples=[3100]
    )
    rate: float | None = Field(description="reached / attempts", examples=[0.775])


class Promises(Schema):
    kept: int = Field(description="Promises to pay kept in the period", examples=[80])
    broken: int = Field(description="Promises to pay broken in the period", examples=[20])
    rate: float | None = Field(description="kept / (kept + broken)", examples=[0.8])


class CostFigures(Schema):
    currency: str = Field(description="The costs' currency", examples=["CNY"])
    contacts_minor: int = Field(description="Attempts times each channel's cost", examples=[21000])
    agents_minor: int = Field(description="Agent tasks times the cost of one", examples=[60000])
    total_minor: int = Field(examples=[81000])
    collected_minor: int = Field(
        description="Recovered in the costs' currency", examples=[12000000]
    )
    per_unit_collected: float | None = Field(
        description="total / collected: cost of each unit recovered", examples=[0.00675]
    )


class HeldReason(Schema):
    status: str = Field(description="blocked or deferred", examples=["deferred"])
    reason: str = Field(description="A reason the guard gave", examples=["cn.hours.house"])
    contacts: int = Field(examples=[120])


class HeldOverTime(Schema):
    period_start: dt.date = Field(description="The day, or the Monday of the week")
    status: str = Field(description="blocked or deferred", examples=["blocked"])
    rule: str = Field(description="The rule that held the contact", examples=["cn.hours.house"])
    code: str = Field(description="The guard's reason code", examples=["OUTSIDE_HOURS"])
    contacts: int = Field(examples=[12])


class TaskCount(Schema):
    queue: str = Field(examples=["calls"])
    status: str = Field(examples=["open"])
    tasks: int = Field(examples=[35])


class HourCount(Schema):
    hour: int = Field(ge=0, le=23, description="Hour of the debtor's local day", examples=[10])
    contacts: int = Field(examples=[800])


class AllowedWindow(Schema):
    jurisdiction: str = Field(examples=["CN"])
    start_minute: int = Field(description="Minutes after local midnight", examples=[480])
    end_minute: int = Field(description="Minutes after local midnight (exclusive)", examples=[1260])
    contacts: int = Field(description="Attempts to debtors of the jurisdiction", examples=[4000])


class Kpis(Schema):
    period: Period
    scope: Scope = Field(default_factory=Scope, description="The accounts covered")
    accounts: int = Field(description="Accounts the delinquency pass has seen", examples=[20000])
    recovery: list[CurrencyRecovery] = Field(description="By currency, the largest base first")
    cure: list[CureRate] = Field(description="By bucket, in ageing order")
    contacts: list[ContactCount] = Field(description="By channel, purpose and status")
    attempts: int = Field(description="Contacts a channel accepted", examples=[4000])
    reached: int = Field(
        description="Attempts delivered to the debtor or answered", examples=[3100]
    )
    calls: int = Field(description="Calls placed by agents (click-to-call)", examples=[900])
    conversations: int = Field(
        description="Placed calls whose recorded result is a conversation with the debtor",
        examples=[270],
    )
    right_party_rate: float | None = Field(
        description="Right-party contact: conversations / calls", examples=[0.3]
    )
    reach: list[ChannelReach] = Field(description="Attempts and reach by channel")
    promises: Promises
    costs: CostFigures
    complaints: int = Field(description="Complaints opened in the period", examples=[3])
    opt_outs: int = Field(description="Opt-outs recorded in the period", examples=[12])
    complaints_per_1000: float | None = Field(description="Per 1,000 attempts", examples=[0.75])
    opt_outs_per_1000: float | None = Field(description="Per 1,000 attempts", examples=[3.0])
    held: list[HeldReason] = Field(description="Blocked and deferred contacts by reason")
    agent_tasks: list[TaskCount] = Field(description="Agent workload by queue and status")
    local_hours: list[HourCount] = Field(description="Attempts by the debtor's local hour")
    allowed_windows: list[AllowedWindow] = Field(description="Each jurisdiction's allowed hours")


class RollCell(Schema):
    from_bucket: str = Field(examples=["M1"])
    to_bucket: str = Field(examples=["M2"])
    accounts: int = Field(examples=[180])
    share: float = Field(description="Of the accounts in from_bucket at a snapshot", examples=[0.2])


class RollRates(Schema):
    period: Period
    scope: Scope = Field(default_factory=Scope, description="The accounts covered")
    snapshots: list[dt.date] = Field(description="Snapshot days, a month apart")
    buckets: list[str] = Field(description="Buckets in ageing order", examples=[["M0", "M1", "M2"]])
    cells: list[RollCell] = Field(description="Counts and row shares, summed over the steps")


class ArmResult(Schema):
    arm: str = Field(examples=["firm"])
    accounts: int = Field(
        description="Accounts assigned with money overdue in the period", examples=[500]
    )
    mean_rate: float | None = Field(description="Mean account recovery rate", examples=[0.41])
    sd: float | None = Field(description="Its sample standard deviation", examples=[0.3])
    paying_share: float | None = Field(
        description="Share of accounts that paid something", examples=[0.62]
    )
    reference: bool = Field(description="The arm the others are compared with")
    diff: float | None = Field(description="mean_rate minus the reference's", examples=[0.04])
    se: float | None = Field(description="Standard error of diff", examples=[0.015])
    ci_low: float | None = Field(description="95 % interval, low end", examples=[0.011])
    ci_high: float | None = Field(description="95 % interval, high end", examples=[0.069])
    uplift: float | None = Field(description="diff over the reference's mean rate", examples=[0.1])

    @computed_field(  # type: ignore[prop-decorator]
        description="How to read diff: `unclear` when its 95 % interval holds zero (no difference "
        "shown: too few accounts, or none there), else `higher` or `lower`; `reference` for the "
        "reference arm"
    )
    @property
    def verdict(self) -> Literal["reference", "unclear", "higher", "lower"]:
        if self.reference or self.ci_low is None or self.ci_high is None:
            return "reference"
        if self.ci_low > 0:
            return "higher"
        return "lower" if self.ci_high < 0 else "unclear"


class ExperimentResult(Schema):
    experiment: str = Field(examples=["tone_test"])
    reference_arm: str = Field(examples=["holdout"])
    arms: list[ArmResult]


class Experiments(Schema):
    period: Period
    scope: Scope = Field(default_factory=Scope, description="The accounts covered")
    confidence: float = Field(0.95, description="Two-sided confidence of the intervals")
    experiments: list[ExperimentResult]


class Costs(Schema):
    """What a contact and an agent task cost: `costs.yaml` beside this module holds the defaults."""

    currency: str = Field("CNY", description="ISO 4217 code of every cost")
    per_contact_minor: dict[str, int] = Field(
        default_factory=dict, description="Per attempt, by channel (minor units)"
    )
    per_agent_task_minor: int = Field(0, ge=0, description="Per agent task (minor units)")


class Target(Schema):
    """A KPI's target: at least or at most a value (rates as fractions, 0.25 is 25 %)."""

    at_least: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False, examples=[0.25])
    at_most: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False, examples=[1.0])

    @model_validator(mode="after")
    def _one_bound(self) -> Target:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("a target is either at_least or at_most, not both or neither")
        return self


class Targets(Schema):
    """The KPIs' targets: `targets.yaml` beside this module holds the defaults."""

    targets: dict[str, Target] = Field(default_factory=dict)


class Reading(Schema):
    """One KPI of a period against its target."""

    kpi: str = Field(examples=["recovery_rate"])
    value: float | None = Field(description="null when its denominator is zero", examples=[0.31])
    target: Target | None = None
    met: bool | None = Field(
        description="null when there is no target or no value", examples=[True]
    )


# -- fairness ------------------------------------------------------------------------------------


class FairnessMeasure(Schema):
    """One measure of a group against the rest of the portfolio at the same risk."""

    measure: str = Field(
        description="attempts_per_day, delivered_per_day, calls_per_day, firm_share (how hard "
        "the accounts were pursued), paused, cured, recovery (how they ended)",
        examples=["attempts_per_day"],
    )
    accounts: int = Field(description="The group's accounts the measure speaks of", examples=[214])
    rest_accounts: int = Field(
        description="The other accounts in the same risk bands", examples=[1830]
    )
    value: float | None = Field(description="The group's mean", examples=[0.42])
    expected: float | None = Field(
        description="The rest's mean in each risk band, weighted by the group's accounts in it",
        examples=[0.21],
    )
    ratio: float | None = Field(description="value / expected, risk for risk", examples=[2.0])
    diff: float | None = Field(description="Standardised value minus expected", examples=[0.21])
    ci_low: float | None = Field(description="95 % interval of the difference", examples=[0.15])
    ci_high: float | None = Field(description="95 % interval of the difference", examples=[0.27])
    alert: bool = Field(description="Pursued harder beyond the threshold", examples=[True])


class FairnessGroup(Schema):
    attribute: str = Field(description="age_band, region or sex", examples=["age_band"])
    group: str = Field(
        description="The attribute's value; unknown when it is not known (never guessed)",
        examples=["18-24"],
    )
    accounts: int = Field(description="Accounts in collection in the period", examples=[214])
    account_days: int = Field(description="Their days in collection", examples=[5120])
    measures: list[FairnessMeasure] = Field(description="Each measure against the rest")


class FairnessAlert(Schema):
    attribute: str = Field(examples=["age_band"])
    group: str = Field(examples=["18-24"])
    measure: str = Field(examples=["attempts_per_day"])
    ratio: float = Field(description="How many times the rest's, risk for risk", examples=[2.0])
    accounts: int = Field(examples=[214])
    words: dict[str, str] = Field(
        description="The alert as a compliance officer reads it, by language (en, zh-CN)",
        examples=[{"en": "Customers aged 18-24 were sent 2.0 times ...", "zh-CN": "..."}],
    )


class RiskBand(Schema):
    band: str = Field(description="p_pay k/n (a quantile band) or a bucket", examples=["M1"])
    accounts: int = Field(examples=[900])


class Fairness(Schema):
    """Treatment intensity and outcomes by age band, region and sex within risk bands."""

    period: Period
    risk_basis: Literal["p_pay", "bucket"] = Field(
        description="Risk bands from the accounts' p_pay scores when there are any in the "
        "period, else from the bucket each account entered collection in",
        examples=["bucket"],
    )
    ratio_threshold: float = Field(description="A ratio above it may alert", examples=[1.25])
    min_accounts: int = Field(
        description="Accounts needed in the group and in the rest to alert", examples=[50]
    )
    accounts: int = Field(description="Accounts in collection in the period", examples=[2044])
    bands: list[RiskBand]
    groups: list[FairnessGroup]
    alerts: list[FairnessAlert]


class ScoreCount(Schema):
    score: int = Field(description="An answer on the 1-5 scale", examples=[4])
    count: int = Field(description="How many answered it", examples=[31])


class Survey(Schema):
    """The post-repayment survey in aggregate: how many answered, and each answer's
    distribution. Never who, never their words."""

    period: Period
    n: int = Field(description="Answers in the period", examples=[57])
    treated: list[ScoreCount] = Field(
        description="How were you treated (1 very badly, 5 very well)"
    )
    clear: list[ScoreCount] = Field(description="Was it clear (1 not at all, 5 very clear)")
    self_service_again_yes: int = Field(
        description="Would use self-service again: yes", examples=[44]
    )
    self_service_again_no: int = Field(
        description="Would use self-service again: no", examples=[13]
    )
    treated_mean: float | None = Field(
        description="Mean of `treated`, null with no answers", examples=[4.2]
    )
    clear_mean: float | None = Field(
        description="Mean of `clear`, null with no answers", examples=[3.9]
    )


class ArticleReadCount(Schema):
    article: str = Field(description="The article's slug", examples=["credit-record"])
    language: str = Field(description="zh-CN, zh-TW or en", examples=["zh-CN"])
    reads: int = Field(description="Times it was opened in the portal", examples=[120])


class ArticleReads(Schema):
    """The learning centre's reads per article and language (no reader is recorded)."""

    period: Period
    total: int = Field(description="Reads in the period", examples=[310])
    reads: list[ArticleReadCount]
