"""REST for the agent's workbench and the supervisor's queues: the same flows the console's pages
call. A task is worked by a staff user (an integration's key holds no queue)."""

from __future__ import annotations

from fastapi import APIRouter

from recoup.agents import service as agents_service
from recoup.http.deps import ClockDep, RowId, SessionDep, SettingsDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from recoup.ledger import service as ledger_service
from recoup.models import AgentTask
from recoup.workbench import flows, schemas

P = Permission
router = APIRouter(prefix="/v1", tags=["workbench"], responses=AUTHENTICATED)
WORKER = "workbench"


def _staff(principal: Principal) -> int:
    if principal.kind != "staff":
        raise Forbidden("only a staff user works a queue (an API key holds no tasks)")
    return principal.id


def _task(task: AgentTask) -> schemas.Task:
    return schemas.Task.model_validate(task)


@router.post(
    "/agent-tasks/next",
    response_model=schemas.Taken,
    summary="Take the next account",
    responses=responses(Forbidden),
)
def take_next(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Principal = require(P.tasks_work),
) -> schemas.Taken:
    """The highest-priority open task of the day's queues (the ones a supervisor gave you first)
    that nobody holds and whose debtor the guard lets us call now, locked to you for 15 minutes
    with the account's other open tasks; the one you hold already, if you hold one."""
    taken = flows.take_next(
        session,
        _staff(principal),
        actor=principal.actor,
        desk=flows.Desk.from_settings(settings, WORKER),
        clock=clock,
    )
    return schemas.Taken(
        task=_task(taken.task) if taken.task else None,
        account_tasks=[_task(t) for t in taken.tasks],
        skipped=taken.skipped,
        already_held=taken.already_held,
    )


@router.post(
    "/agent-tasks/{task_id}/release",
    response_model=list[schemas.TaskEvent],
    summary="Let go of a task without a wrap-up",
    responses=responses(NotFound, Conflict, Forbidden),
)
def release(
    task_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.tasks_work),
) -> list[schemas.TaskEvent]:
    """The account goes back to the queue for anyone to take."""
    agents_service.release(session, task_id, _staff(principal), clock.now(), actor=principal.actor)
    return [
        schemas.TaskEvent.model_validate(e) for e in agents_service.events_of(session, [task_id])
    ]


@router.post(
    "/agent-tasks/{task_id}/wrap-up",
    response_model=schemas.WrappedUp,
    summary="Wrap up a call",
    responses=responses(NotFound, Conflict, Forbidden, ValidationFailed),
)
def wrap_up(
    task_id: RowId,
    data: schemas.WrapUpIn,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Principal = require(P.tasks_work),
) -> schemas.WrappedUp:
    """What became of the call: a promise is made as `POST /v1/accounts/{id}/arrangements`
    makes it, a dispute or hardship opens a case with the debtor's words, consent to other hours
    is recorded with its evidence, a call back becomes a task for that moment; then the
    account's tasks you hold close `done` with the outcome and it leaves the queue."""
    done = flows.wrap_up(
        session,
        task_id,
        _staff(principal),
        flows.WrapUp(
            outcome=data.outcome,
            contact_id=data.contact_id,
            amount_minor=data.amount_minor,
            on=data.date,
            reason=data.reason,
            words=data.words,
            call_at=data.call_at,
            hours_from=data.hours_from,
            hours_to=data.hours_to,
            consent_until=data.consent_until,
            note=data.note,
        ),
        actor=principal.actor,
        desk=flows.Desk.from_settings(settings, WORKER),
        clock=clock,
    )
    return schemas.WrappedUp(
        closed=done.closed,
        arrangement_id=done.arrangement_id,
        arrangement_status=done.arrangement_status,
        case_id=done.case_id,
        consent_id=done.consent_id,
        callback=done.callback,
        call_result=done.call_result,
        call_result_skipped=done.call_result_skipped,
    )


@router.get(
    "/agent-tasks/{task_id}/events",
    response_model=list[schemas.TaskEvent],
    summary="A task's life",
    responses=responses(NotFound),
)
def events(
    task_id: RowId, session: SessionDep, _: Principal = require(P.tasks_work)
) -> list[schemas.TaskEvent]:
    """Assigned, taken, released, reassigned, done (with the outcome), expired: oldest first."""
    agents_service.get_many(session, [task_id])
    return [
        schemas.TaskEvent.model_validate(e) for e in agents_service.events_of(session, [task_id])
    ]


@router.post(
    "/agent-tasks/{task_id}/reassign",
    response_model=schemas.Task,
    summary="Give a task to an agent",
    responses=responses(NotFound, Conflict, ValidationFailed),
)
def reassign(
    task_id: RowId,
    data: schemas.ReassignIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.tasks_manage),
) -> schemas.Task:
    """An open task to an agent (offered to them first, to nobody else) or back to the queue
    (`staff_id` null); whoever held it lets go."""
    return _task(
        flows.reassign(session, task_id, data.staff_id, actor=principal.actor, clock=clock)
    )


@router.get(
    "/queues",
    response_model=schemas.Queues,
    summary="Queues and their load per agent",
)
def queues(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    _: Principal = require(P.tasks_manage),
) -> schemas.Queues:
    """Today's (business day) open, taken, done and expired per queue; per agent, what they hold,
    what is assigned to them and what they did today."""
    day = clock.now().astimezone(settings.business_zone).date()
    per_queue, per_agent = agents_service.queues(session, day, clock.now())
    names = flows.agents_who_work(session)
    return schemas.Queues(
        day=day,
        queues=[schemas.QueueLoad.model_validate(q) for q in per_queue],
        agents=[
            schemas.AgentLoad(
                staff_id=a.staff_id,
                name=names.get(a.staff_id, str(a.staff_id)),
                held=a.held,
                assigned=a.assigned,
                done=a.done,
            )
            for a in per_agent
        ],
    )


@router.get(
    "/accounts/{account_id}/call-check",
    response_model=schemas.CallCheck,
    summary="May an agent call this account now",
    responses=responses(NotFound),
)
def call_check(
    account_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    _: Principal = require(P.tasks_work),
) -> schemas.CallCheck:
    """The send-time check for a call, asked now, writing nothing: allowed, or why not and the next
    moment it would be."""
    account = ledger_service.get_account(session, account_id)
    answer = flows.call_answers(
        session, [account.id], desk=flows.Desk.from_settings(settings, WORKER), now=clock.now()
    )[account.id]
    return schemas.CallCheck(
        account_id=account.id,
        allowed=answer.allowed,
        status=answer.status,
        reasons=answer.reasons,
        next_at=answer.next_at,
    )


@router.get(
    "/accounts/{account_id}/notes",
    response_model=list[schemas.Note],
    summary="Notes on an account",
    responses=responses(NotFound),
)
def notes(
    account_id: RowId, session: SessionDep, _: Principal = require(P.notes_write)
) -> list[schemas.Note]:
    """Newest first."""
    account = ledger_service.get_account(session, account_id)
    return [schemas.Note.model_validate(n) for n in agents_service.notes_of(session, account.id)]


@router.post(
    "/accounts/{account_id}/notes",
    status_code=201,
    response_model=schemas.Note,
    summary="Add a note to an account",
    responses=responses(NotFound, ValidationFailed),
)
def add_note(
    account_id: RowId,
    data: schemas.NoteIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.notes_write),
) -> schemas.Note:
    """At most 2,000 characters, sealed at rest."""
    note_id = flows.add_note(session, account_id, data.text, actor=principal.actor, clock=clock)
    found = [n for n in agents_service.notes_of(session, account_id, limit=5) if n.id == note_id]
    return schemas.Note.model_validate(found[0])
