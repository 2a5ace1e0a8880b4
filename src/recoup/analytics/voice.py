"""The debtor's voice as figures: the post-repayment survey's answers and the learning centre's
reads over a period, aggregates only. The answers are the cases domain's (`survey_responses`),
the reads the education domain's (`article_reads`); this module asks their services. The period's
days are the business zone's, like every KPI's."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from sqlalchemy.orm import Session

from recoup.analytics import schemas
from recoup.analytics.service import DEFAULT_ZONE
from recoup.cases import service as case_service
from recoup.education import service as education_service


def _bounds(period: schemas.Period, zone: str) -> tuple[dt.datetime, dt.datetime]:
    tz = zoneinfo.ZoneInfo(zone)
    start = dt.datetime.combine(period.from_date, dt.time(), tz)
    end = dt.datetime.combine(period.to_date + dt.timedelta(days=1), dt.time(), tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _mean(counts: dict[int, int]) -> float | None:
    n = sum(counts.values())
    return round(sum(k * v for k, v in counts.items()) / n, 2) if n else None


def survey(session: Session, period: schemas.Period, *, zone: str = DEFAULT_ZONE) -> schemas.Survey:
    since, until = _bounds(period, zone)
    found = case_service.survey_results(session, since=since, until=until)
    return schemas.Survey(
        period=period,
        n=found.n,
        treated=[schemas.ScoreCount(score=k, count=v) for k, v in found.treated.items()],
        clear=[schemas.ScoreCount(score=k, count=v) for k, v in found.clear.items()],
        self_service_again_yes=found.self_service_again["yes"],
        self_service_again_no=found.self_service_again["no"],
        treated_mean=_mean(found.treated),
        clear_mean=_mean(found.clear),
    )


def article_reads(
    session: Session, period: schemas.Period, *, zone: str = DEFAULT_ZONE
) -> schemas.ArticleReads:
    since, until = _bounds(period, zone)
    rows = education_service.reads(session, since=since, until=until)
    return schemas.ArticleReads(
        period=period,
        total=sum(n for _, _, n in rows),
        reads=[
            schemas.ArticleReadCount(article=slug, language=language, reads=n)
            for slug, language, n in rows
        ],
    )


def today(clock_now: dt.datetime, zone: str = DEFAULT_ZONE) -> dt.date:
    return clock_now.astimezone(zoneinfo.ZoneInfo(zone)).date()
