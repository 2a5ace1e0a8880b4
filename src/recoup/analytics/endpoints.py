"""REST: the KPIs, roll rates and experiment results of a period (optionally of one product or
segment), as the console's dashboard shows them. Thin:
each endpoint resolves the period and calls one service function; nothing here writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from recoup.analytics import fairness as fairness_service
from recoup.analytics import schemas, voice
from recoup.analytics import service as analytics_service
from recoup.analytics.service import BadPeriod, BadScope
from recoup.http.deps import ClockDep, IsoDate, SessionDep
from recoup.http.errors import AUTHENTICATED_ERRORS, responses
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal

P = Permission
router = APIRouter(
    prefix="/v1/analytics",
    tags=["analytics"],
    responses=responses(*AUTHENTICATED_ERRORS, BadPeriod, BadScope),
)

From = Annotated[
    IsoDate | None,
    Query(
        alias="from",
        description="First business day (default: 29 days before `to`)",
        examples=["2026-06-01"],
    ),
]
To = Annotated[
    IsoDate | None,
    Query(
        description="Last business day (default: the last day the daily pass computed)",
        examples=["2026-06-30"],
    ),
]

ProductFilter = Annotated[
    str | None,
    Query(
        alias="product",
        max_length=32,
        description="Only the accounts of this product (its code)",
        examples=["bnpl"],
    ),
]
SegmentFilter = Annotated[
    str | None,
    Query(
        alias="segment",
        max_length=64,
        description="Only the accounts whose last decision by the period's end was in this segment",
        examples=["large"],
    ),
]


@router.get("/kpis", response_model=schemas.Kpis, summary="KPIs of a period")
def get_kpis(
    session: SessionDep,
    clock: ClockDep,
    from_: From = None,
    to: To = None,
    product: ProductFilter = None,
    segment: SegmentFilter = None,
    _: Principal = require(P.analytics_read),
) -> schemas.Kpis:
    """Recovery by amount and count, cure rates, contacts by channel and outcome, right-party
    contact, promises kept, cost per unit collected (the shipped costs), complaints and opt-outs
    per 1,000 attempts, blocks and deferrals by reason, agent workload and contacts by local hour.
    `product` and `segment` keep the figures to those accounts. A start after the end, or an
    unknown product or segment, is a 422."""
    period = analytics_service.period(session, from_, to, clock=clock)
    scope = analytics_service.scope(session, product, segment)
    return analytics_service.kpis(session, period, scope=scope)


@router.get("/roll-rates", response_model=schemas.RollRates, summary="Roll-rate matrix")
def get_roll_rates(
    session: SessionDep,
    clock: ClockDep,
    from_: From = None,
    to: To = None,
    product: ProductFilter = None,
    segment: SegmentFilter = None,
    _: Principal = require(P.analytics_read),
) -> schemas.RollRates:
    """Bucket at each snapshot (a month apart, from the day before the period) against the bucket
    at the next, with each row's shares."""
    period = analytics_service.period(session, from_, to, clock=clock)
    scope = analytics_service.scope(session, product, segment)
    return analytics_service.roll_rates(session, period, scope=scope)


@router.get("/experiments", response_model=schemas.Experiments, summary="Experiment results")
def get_experiments(
    session: SessionDep,
    clock: ClockDep,
    from_: From = None,
    to: To = None,
    product: ProductFilter = None,
    segment: SegmentFilter = None,
    _: Principal = require(P.analytics_read),
) -> schemas.Experiments:
    """Per experiment and arm, the mean account recovery rate and its difference from the holdout
    (or the first arm), with a 95 % normal-approximation interval and the relative uplift."""
    period = analytics_service.period(session, from_, to, clock=clock)
    scope = analytics_service.scope(session, product, segment)
    return analytics_service.experiments(session, period, scope=scope)


@router.get("/fairness", response_model=schemas.Fairness, summary="Fairness of treatment")
def get_fairness(
    session: SessionDep,
    clock: ClockDep,
    from_: From = None,
    to: To = None,
    _: Principal = require(P.analytics_read),
) -> schemas.Fairness:
    """Contact attempts, delivered contacts and calls per day in collection, the firm-tone share,
    pauses, cures and recovery, by age band, region and sex (each "unknown" where not on file),
    each group against the rest of the portfolio in the same risk bands (p_pay quintiles when
    accounts were scored in the period, else the bucket they entered collection in). An alert: a
    group pursued more than 1.25 times as hard, on at least 50 accounts each side, the difference
    above zero beyond chance across all the comparisons made (Bonferroni); its words are in
    English and Chinese. A start after
    the end is a 422."""
    period = analytics_service.period(session, from_, to, clock=clock)
    return fairness_service.fairness(session, period)


@router.get("/survey", response_model=schemas.Survey, summary="The post-repayment survey")
def get_survey(
    session: SessionDep,
    clock: ClockDep,
    from_: From = None,
    to: To = None,
    _: Principal = require(P.analytics_read),
) -> schemas.Survey:
    """The survey's answers in the period (by the day they were given, default: the 30 days to
    today): how many, and the distribution of each answer. Aggregates only: no answer, no words,
    no customer. A start after the end is a 422."""
    period = analytics_service.period(session, from_, to or voice.today(clock.now()), clock=clock)
    return voice.survey(session, period)


@router.get("/article-reads", response_model=schemas.ArticleReads, summary="Learning centre reads")
def get_article_reads(
    session: SessionDep,
    clock: ClockDep,
    from_: From = None,
    to: To = None,
    _: Principal = require(P.analytics_read),
) -> schemas.ArticleReads:
    """How often each article of the learning centre was opened in the portal, per language, in
    the period (default: the 30 days to today). No reader is recorded. A start after the end is
    a 422."""
    period = analytics_service.period(session, from_, to or voice.today(clock.now()), clock=clock)
    return voice.article_reads(session, period)
