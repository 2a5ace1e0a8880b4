from __future__ import annotations

from fastapi import APIRouter

from recoup.delinquency import flows as delinquency_flows
from recoup.delinquency import schemas
from recoup.delinquency import service as delinquency_service
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.http.openapi import link, links
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import Conflict, NotFound
from recoup.ledger import service as ledger_service
from recoup.ledger.service import AccountNotFound

P = Permission
router = APIRouter(
    prefix="/v1/accounts",
    tags=["delinquency"],
    responses=AUTHENTICATED,
)


@router.get(
    "/{account_id}/delinquency",
    response_model=schemas.DelinquencyState,
    summary="Current delinquency",
    responses=responses(AccountNotFound),
)
def get_delinquency(
    account_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.delinquency_read),
) -> schemas.DelinquencyState:
    """DPD, bucket and balances as of the latest computation (the daily pass or the account's last
    payment, reversal, bill or pause)."""
    account = ledger_service.get_account(session, account_id)
    state = delinquency_service.get_state(session, account_id)
    if state is None:
        delinquency_service.recompute_account(
            session, account, from_date=account.opened_date, clock=clock, cause="first_read"
        )
        state = delinquency_service.get_state(session, account_id)
    return schemas.DelinquencyState.model_validate(state)


@router.get(
    "/{account_id}/delinquency/history",
    response_model=list[schemas.BucketChange],
    summary="Bucket history",
    responses=responses(AccountNotFound),
)
def get_history(
    account_id: RowId, session: SessionDep, _: Principal = require(P.delinquency_read)
) -> list[schemas.BucketChange]:
    """Each bucket change, dated the day the account entered the bucket."""
    ledger_service.get_account(session, account_id)
    return [
        schemas.BucketChange.model_validate(e)
        for e in delinquency_service.history(session, account_id)
    ]


@router.post(
    "/{account_id}/pauses",
    status_code=201,
    response_model=schemas.Pause,
    summary="Pause delinquency",
    responses={
        **responses(AccountNotFound, Conflict),
        **links(
            201,
            End=link(
                "post",
                "/v1/accounts/{account_id}/pauses/{pause_id}/end",
                "End the pause",
                account_id="$response.body#/account_id",
                pause_id="$response.body#/id",
            ),
            History=link(
                "get",
                "/v1/accounts/{account_id}/delinquency/history",
                "Bucket history",
                account_id="$response.body#/account_id",
            ),
        ),
    },
)
def create_pause(
    account_id: RowId,
    data: schemas.PauseCreate,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.delinquency_pause),
) -> schemas.Pause:
    """Stop counting days past due over a date range (for example a disaster-relief programme).
    `kind` (default `other`) is what the strategy, the guard and the contact audit read: a
    `dispute`, `hardship` or `cease` pause stops collection contact; the reason is for people."""
    account = ledger_service.get_account(session, account_id)
    pause = delinquency_flows.pause(
        session,
        account,
        start=data.start_date,
        end=data.end_date,
        kind=data.kind,
        reason=data.reason,
        by=data.created_by,
        clock=clock,
    )
    return schemas.Pause.model_validate(pause)


@router.post(
    "/{account_id}/pauses/{pause_id}/end",
    response_model=schemas.Pause,
    summary="End a pause",
    responses=responses(NotFound),
)
def end_pause(
    account_id: RowId,
    pause_id: RowId,
    data: schemas.PauseEnd,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.delinquency_pause),
) -> schemas.Pause:
    """Set or move the last paused day; days after it count again."""
    account = ledger_service.get_account(session, account_id)
    pause = delinquency_service.pause_on(session, account_id, pause_id)
    return schemas.Pause.model_validate(
        delinquency_flows.end_pause(session, account, pause, end=data.end_date, clock=clock)
    )
