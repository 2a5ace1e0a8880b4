"""REST: the strategy desk. Policy versions saved as drafts, dry-run against the active policy on
today's portfolio, submitted, and approved (activated) or rejected by a second person."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from recoup.http.deps import ClockDep, Limit, Offset, RowId, SessionDep, SettingsDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.http.openapi import link, links
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.masking import mask_id
from recoup.strategy import schemas
from recoup.strategy import service as strategy_service

P = Permission
router = APIRouter(prefix="/v1", tags=["policies"], responses=AUTHENTICATED)


def _version(v: object) -> schemas.PolicyVersion:
    return schemas.PolicyVersion.model_validate(v)


@router.get(
    "/policies",
    response_model=schemas.PolicyVersions,
    summary="Policy versions",
)
def list_policies(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    _: Principal = require(P.policies_write),
) -> schemas.PolicyVersions:
    """Every stored version, newest first, with its status and who saved, submitted and
    reviewed it."""
    rows, total = strategy_service.list_versions(session, limit=limit, offset=offset)
    return schemas.PolicyVersions(
        items=[_version(v) for v in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/policies",
    status_code=201,
    response_model=schemas.PolicyVersion,
    summary="Save a policy version (a draft)",
    responses={
        **responses(strategy_service.PolicyTextInvalid),
        **links(
            201,
            DryRun=link(
                "get",
                "/v1/policies/{version_id}/dry-run",
                "Dry-run it",
                version_id="$response.body#/id",
            ),
            Submit=link(
                "post",
                "/v1/policies/{version_id}/submit",
                "Submit it",
                version_id="$response.body#/id",
            ),
        ),
    },
)
def save_policy(
    data: schemas.PolicyIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.policies_write),
) -> schemas.PolicyVersion:
    """The text becomes a draft version (the same text again is the version it already is). A
    text that does not load is a 422 whose `details` name the line, column and path of the first
    problem."""
    version = strategy_service.save_draft(session, data.text, author=principal.actor, clock=clock)
    return _version(version)


@router.get(
    "/policies/{version_id}",
    response_model=schemas.PolicyVersionText,
    summary="A policy version with its text",
    responses=responses(strategy_service.PolicyVersionNotFound),
)
def get_policy(
    version_id: RowId, session: SessionDep, _: Principal = require(P.policies_write)
) -> schemas.PolicyVersionText:
    return schemas.PolicyVersionText.model_validate(
        strategy_service.get_version(session, version_id)
    )


@router.get(
    "/policies/{version_id}/dry-run",
    response_model=schemas.DryRun,
    summary="Dry-run a version against the active policy",
    responses=responses(strategy_service.PolicyVersionNotFound, strategy_service.NoActivePolicy),
)
def dry_run(
    version_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    limit: Limit = 50,
    offset: Offset = 0,
    _: Principal = require(P.policies_write),
) -> schemas.DryRun:
    """How the version would decide today's portfolio (the business day in the business zone) differently from the active policy: per
    compared column (stage, decision, treatment, channel, queue) how many accounts change, and a
    page of those accounts, before and after. Writes nothing (`recoup strategy diff` is the same
    comparison)."""
    version, active, run = strategy_service.dry_run_version(
        session,
        version_id,
        as_of=clock.now().astimezone(settings.business_zone).date(),
        limit=limit,
        offset=offset,
    )
    columns = strategy_service.COMPARED
    return schemas.DryRun(
        version_id=version.id,
        active_version_id=active.id,
        as_of=run.as_of,
        accounts=run.accounts,
        changed=run.changed,
        counts=run.counts,
        items=[
            schemas.ChangedAccount(
                account_id=int(str(row["account_id"])),
                account_ref=mask_id(str(row["account_ref"])),
                segment=None if row["segment"] is None else str(row["segment"]),
                before={c: _text(row[f"{c}_old"]) for c in columns},
                after={c: _text(row[f"{c}_new"]) for c in columns},
            )
            for row in run.rows
        ],
        limit=limit,
        offset=offset,
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@router.post(
    "/policies/{version_id}/submit",
    response_model=schemas.PolicyVersion,
    summary="Submit a version for activation",
    responses=responses(strategy_service.PolicyVersionNotFound, strategy_service.WrongStatus),
)
def submit(
    version_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.policies_write),
) -> schemas.PolicyVersion:
    """A draft (or a rejected version, again) waits for a second person's approval."""
    return _version(
        strategy_service.submit(session, version_id, actor=principal.actor, clock=clock)
    )


@router.post(
    "/policies/{version_id}/approve",
    response_model=schemas.PolicyVersion,
    summary="Approve a submitted version (it becomes active)",
    responses=responses(
        strategy_service.PolicyVersionNotFound,
        strategy_service.WrongStatus,
        strategy_service.FourEyes,
    ),
)
def approve(
    version_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.policies_approve),
) -> schemas.PolicyVersion:
    """Four eyes: whoever wrote or submitted the version cannot approve it (403). Approval
    activates it; the previous active version is superseded."""
    return _version(
        strategy_service.approve(session, version_id, actor=principal.actor, clock=clock)
    )


@router.post(
    "/policies/{version_id}/reject",
    response_model=schemas.PolicyVersion,
    summary="Reject a submitted version, with the reason",
    responses=responses(
        strategy_service.PolicyVersionNotFound,
        strategy_service.WrongStatus,
        strategy_service.FourEyes,
    ),
)
def reject(
    version_id: RowId,
    data: schemas.RejectIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.policies_approve),
) -> schemas.PolicyVersion:
    """Four eyes, as for approval. The author may submit it again, or save a changed text."""
    return _version(
        strategy_service.reject(
            session, version_id, actor=principal.actor, reason=data.reason, clock=clock
        )
    )


def _interval(e: Any) -> schemas.Interval:
    return schemas.Interval(n=e.n, mean=e.mean, low=e.low, high=e.high)


@router.get(
    "/learning/arms",
    response_model=schemas.Learning,
    summary="The learning strategy's arms and the holdout's uplift",
    tags=["learning"],
)
def learning_arms(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    _: Principal = require(P.models_read),
) -> schemas.Learning:
    """Per learning stage and arm the pulls and mean reward with its 95 % interval, the leading
    arm per context cell, and the learner's decisions against the random holdout's over the
    decisions whose horizon ended in the last 90 days (Welch's interval)."""
    today = clock.now().astimezone(settings.business_zone).date()
    s = strategy_service.learning_summary(session, today=today)
    u = s.uplift
    return schemas.Learning(
        arms=[
            schemas.LearningArm(
                policy=a.policy,
                stage=a.stage,
                arm=a.arm,
                reward=_interval(a.estimate),
                contexts=a.contexts,
            )
            for a in s.arms
        ],
        leaders=[
            schemas.LeadingArm(
                policy=x.policy,
                stage=x.stage,
                context=x.context,
                arm=x.arm,
                reward=_interval(x.estimate),
                arms=x.arms,
            )
            for x in s.leaders
        ],
        uplift=schemas.LearningUplift(
            first_end=s.first_end,
            last_end=s.last_end,
            learner=_interval(u.learner),
            holdout=_interval(u.holdout),
            diff=u.diff,
            low=u.low,
            high=u.high,
            recovered_learner=_interval(u.recovered_learner),
            recovered_holdout=_interval(u.recovered_holdout),
            recovered_diff=u.recovered_diff,
            recovered_low=u.recovered_low,
            recovered_high=u.recovered_high,
        ),
    )
