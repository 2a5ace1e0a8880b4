"""REST: QA samples of sent messages and placed calls, and their reviews."""

from __future__ import annotations

from fastapi import APIRouter

from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.http.openapi import link, links
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import ValidationFailed
from recoup.quality import schemas, service
from recoup.quality.service import AlreadyReviewed, ReviewNotFound, SampleNotFound

P = Permission
router = APIRouter(prefix="/v1/qa", tags=["quality"], responses=AUTHENTICATED)


def _sample(session: SessionDep, sample_id: int) -> schemas.Sample:
    sample, items = service.get_sample(session, sample_id)
    out = schemas.Sample.model_validate(sample)
    out.items = [schemas.Review.model_validate(i) for i in items]
    return out


@router.post(
    "/samples",
    status_code=201,
    response_model=schemas.Sample,
    summary="Draw a QA sample",
    responses={
        **responses(ValidationFailed),
        **links(
            201,
            Read=link(
                "get", "/v1/qa/samples/{sample_id}", "Read it", sample_id="$response.body#/id"
            ),
        ),
    },
)
def draw(
    data: schemas.SampleIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.qa_review),
) -> schemas.Sample:
    """Up to `size` messages sent and calls placed in the period, drawn at random with the seed:
    the same seed over the same period draws the same contacts. Each is a pending review."""
    sample = service.draw_sample(
        session,
        start=data.start,
        end=data.end,
        size=data.size,
        seed=data.seed,
        actor=principal.actor,
        clock=clock,
    )
    return _sample(session, sample.id)


@router.get("/samples", response_model=list[schemas.Sample], summary="QA samples, newest first")
def samples(session: SessionDep, _: Principal = require(P.qa_review)) -> list[schemas.Sample]:
    return [schemas.Sample.model_validate(s.sample) for s in service.samples(session, limit=50)]


@router.get(
    "/samples/{sample_id}",
    response_model=schemas.Sample,
    summary="A QA sample with its items",
    responses=responses(SampleNotFound),
)
def sample(
    sample_id: RowId, session: SessionDep, _: Principal = require(P.qa_review)
) -> schemas.Sample:
    return _sample(session, sample_id)


@router.post(
    "/reviews/{review_id}",
    response_model=schemas.Review,
    summary="Review a sampled contact",
    responses=responses(ReviewNotFound, AlreadyReviewed, ValidationFailed),
)
def review(
    review_id: RowId,
    data: schemas.ReviewIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.qa_review),
) -> schemas.Review:
    """The checklist (yes, no or na each) and findings; any "no" fails the item and needs
    findings. An item is reviewed once."""
    item = service.review(
        session,
        review_id,
        checks=data.checks.model_dump(),
        findings=data.findings,
        actor=principal.actor,
        clock=clock,
    )
    return schemas.Review.model_validate(item)
