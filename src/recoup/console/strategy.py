"""The strategy desk: the active policy and its versions, a version's text, the editor with the
first problem at its line and column, a dry-run against the active policy on today's portfolio,
and activation with four eyes (submit; another person approves or rejects with a reason).

Every step calls the same `strategy.service` function as `/v1/policies` (docs/strategy.md); the
service refuses the author's or submitter's own approval, whatever the entry point.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from recoup.console.base import StaffPage, page_for, read_form, redirect, render
from recoup.http.deps import ClockDep, RowId, SessionDep, SettingsDep
from recoup.identity.permissions import Permission as P
from recoup.kit.errors import RecoupError
from recoup.kit.masking import mask_id
from recoup.strategy import service as strategy_service

router = APIRouter(include_in_schema=False)

Writer = Annotated[StaffPage, Depends(page_for(P.policies_write))]
Approver = Annotated[StaffPage, Depends(page_for(P.policies_approve))]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]

VERSIONS_PER_PAGE = 20
ACCOUNTS_PER_PAGE = 25
# What the dry-run counts and lists, in this order (the brief's three first).
SHOWN = ("stage", "treatment", "channel", "decision", "queue")


@router.get("/console/strategy")
def desk(request: Request, session: SessionDep, staff: Writer, page: PageNumber = 1) -> Response:
    versions, total = strategy_service.list_versions(
        session, limit=VERSIONS_PER_PAGE, offset=(page - 1) * VERSIONS_PER_PAGE
    )
    try:
        active: Any = strategy_service.active_policy(session)[0]
    except strategy_service.NoActivePolicy:
        active = None
    return render(
        request,
        staff,
        "strategy/index.html",
        active=active,
        versions=versions,
        page=page,
        pages=max(1, math.ceil(total / VERSIONS_PER_PAGE)),
        total=total,
    )


@router.get("/console/strategy/versions/{version_id}")
def version_page(
    request: Request, version_id: RowId, session: SessionDep, staff: Writer
) -> Response:
    version = strategy_service.get_version(session, version_id)
    return _version(request, staff, version)


def _version(
    request: Request,
    staff: StaffPage,
    version: Any,
    *,
    error: str | None = None,
    status: int = 200,
    reason: str = "",
) -> Response:
    me = staff.principal.actor
    return render(
        request,
        staff,
        "strategy/version.html",
        status=status,
        version=version,
        lines=version.text.split("\n"),
        error=error,
        reason=reason,
        own=me in (version.author, version.submitted_by),
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/console/strategy/edit")
def edit(
    request: Request,
    session: SessionDep,
    staff: Writer,
    from_: Annotated[int | None, Query(alias="from", ge=1, le=2**63 - 1)] = None,
) -> Response:
    """The text of version `from` (the active one by default; an empty page when none is)."""
    base: Any = None
    if from_ is not None:
        base = strategy_service.get_version(session, from_)
    else:
        try:
            base = strategy_service.active_policy(session)[0]
        except strategy_service.NoActivePolicy:
            base = None
    return _editor(request, staff, text=base.text if base else "", base=base)


def _editor(
    request: Request,
    staff: StaffPage,
    *,
    text: str,
    base: Any = None,
    problem: Any = None,
    checked: bool = False,
    status: int = 200,
) -> Response:
    lines = text.split("\n")
    excerpt: list[dict[str, Any]] = []
    if problem is not None:
        first = max(1, problem.line - 3)
        last = min(len(lines), problem.line + 3)
        excerpt = [
            {"number": n, "text": lines[n - 1], "at": n == problem.line}
            for n in range(first, last + 1)
        ]
    return render(
        request,
        staff,
        "strategy/edit.html",
        status=status,
        text=text,
        base=base,
        problem=problem,
        excerpt=excerpt,
        checked=checked,
        max_chars=strategy_service.MAX_POLICY_CHARS,
    )


@router.post("/console/strategy/edit")
async def edit_post(
    request: Request, session: SessionDep, clock: ClockDep, staff: Writer
) -> Response:
    """`check`: the first problem at its line and column, or "no problem"; `save`: the same
    check, and a text that loads becomes a draft version (`strategy_service.save_draft`, as
    `POST /v1/policies`)."""
    form = await read_form(request, staff)
    text = form.get("text", "").replace("\r\n", "\n")
    base = None
    if form.get("from", "").isdigit() and len(form["from"]) <= 18:
        try:
            base = strategy_service.get_version(session, int(form["from"]))
        except strategy_service.PolicyVersionNotFound:
            base = None
    checked = strategy_service.check_policy_text(text)
    if checked.problem is not None:
        return _editor(
            request, staff, text=text, base=base, problem=checked.problem, checked=True, status=422
        )
    if form.get("action") != "save":
        return _editor(request, staff, text=text, base=base, checked=True)
    version = strategy_service.save_draft(session, text, author=staff.principal.actor, clock=clock)
    return redirect(f"/console/strategy/versions/{version.id}?saved=1")


@router.get("/console/strategy/versions/{version_id}/dry-run")
def dry_run(
    request: Request,
    version_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: Writer,
    page: PageNumber = 1,
) -> Response:
    """The version against the active policy on today's portfolio (`GET /v1/policies/{id}/
    dry-run`'s service call), a page of the accounts that change."""
    try:
        version, active, run = strategy_service.dry_run_version(
            session,
            version_id,
            as_of=clock.now().astimezone(settings.business_zone).date(),
            limit=ACCOUNTS_PER_PAGE,
            offset=(page - 1) * ACCOUNTS_PER_PAGE,
        )
    except strategy_service.NoActivePolicy:
        version = strategy_service.get_version(session, version_id)
        return render(
            request, staff, "strategy/dry_run.html", status=409, version=version, run=None
        )
    rows = [
        {
            "account_id": row["account_id"],
            "account_ref": mask_id(str(row["account_ref"])),
            "segment": row["segment"],
            "changes": [
                {"what": c, "before": row[f"{c}_old"], "after": row[f"{c}_new"]}
                for c in SHOWN
                if row[f"{c}_old"] != row[f"{c}_new"]
            ],
        }
        for row in run.rows
    ]
    return render(
        request,
        staff,
        "strategy/dry_run.html",
        version=version,
        active=active,
        run=run,
        shown=SHOWN,
        rows=rows,
        page=page,
        pages=max(1, math.ceil(run.changed / ACCOUNTS_PER_PAGE)),
    )


@router.post("/console/strategy/versions/{version_id}/submit")
async def submit(
    request: Request, version_id: RowId, session: SessionDep, clock: ClockDep, staff: Writer
) -> Response:
    await read_form(request, staff)
    try:
        strategy_service.submit(session, version_id, actor=staff.principal.actor, clock=clock)
    except strategy_service.WrongStatus as exc:
        return _refused(request, session, staff, version_id, exc)
    return redirect(f"/console/strategy/versions/{version_id}")


@router.post("/console/strategy/versions/{version_id}/approve")
async def approve(
    request: Request, version_id: RowId, session: SessionDep, clock: ClockDep, staff: Approver
) -> Response:
    await read_form(request, staff)
    try:
        strategy_service.approve(session, version_id, actor=staff.principal.actor, clock=clock)
    except (strategy_service.WrongStatus, strategy_service.FourEyes) as exc:
        return _refused(request, session, staff, version_id, exc)
    return redirect(f"/console/strategy/versions/{version_id}")


@router.post("/console/strategy/versions/{version_id}/reject")
async def reject(
    request: Request, version_id: RowId, session: SessionDep, clock: ClockDep, staff: Approver
) -> Response:
    form = await read_form(request, staff)
    reason = form.get("reason", "")
    try:
        strategy_service.reject(
            session,
            version_id,
            actor=staff.principal.actor,
            reason=reason[: strategy_service.MAX_REASON_CHARS + 1],
            clock=clock,
        )
    except (
        strategy_service.WrongStatus,
        strategy_service.FourEyes,
        strategy_service.ReasonRefused,
    ) as exc:
        return _refused(request, session, staff, version_id, exc, reason=reason[:2_000])
    return redirect(f"/console/strategy/versions/{version_id}")


def _refused(
    request: Request,
    session: SessionDep,
    staff: StaffPage,
    version_id: int,
    exc: RecoupError,
    *,
    reason: str = "",
) -> Response:
    """The version's page again, with the service's answer above its actions."""
    version = strategy_service.get_version(session, version_id)
    return _version(request, staff, version, error=exc.code, status=exc.status_code, reason=reason)
