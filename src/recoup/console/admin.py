"""Administration: staff and API keys, with four eyes (`identity.service.onboarding`).

An administrator proposes a staff member or a key; a different holder of `staff:approve` approves
(the user or key is made then: a set-password code or the key shown once, to the approver) or
refuses. Staff are listed, disabled and enabled; keys listed and revoked. Every action is the
API's own service call (`/v1/staff/proposals`, `/v1/api-keys/proposals`, `/v1/proposals/...`,
`/v1/staff/{id}/disable|enable`, `DELETE /v1/api-keys/{id}`, `/v1/auth/password`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recoup.console.base import (
    Form,
    StaffPage,
    page_for,
    parse_form,
    read_form,
    redirect,
    render,
    translator,
)
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.identity import service as identity_service
from recoup.identity.permissions import API_KEY_SCOPES, Permission, Role
from recoup.kit.errors import Conflict, RecoupError

router = APIRouter(include_in_schema=False)
P = Permission

StaffManager = Annotated[StaffPage, Depends(page_for(P.staff_manage))]
KeyManager = Annotated[StaffPage, Depends(page_for(P.api_keys_manage))]
Approver = Annotated[StaffPage, Depends(page_for(P.staff_approve))]

SCOPES = sorted(str(s) for s in API_KEY_SCOPES)
ROLES = [str(r) for r in Role]


def _errors(exc: RecoupError, default: str, lang: str) -> dict[str, str]:
    """The message beside the field it names (the service's `details`, else `default`), in the
    person's language when the area has words for it, else the service's own."""
    field = default
    if isinstance(exc.details, list) and exc.details and isinstance(exc.details[0], dict):
        field = str(exc.details[0].get("field") or default)
    key = f"admin.error_{field}_{exc.code}"
    words = translator(lang)(key)
    return {field: exc.message if words == key else words}


def _proposals(session: Any, kind: str, clock: Any) -> list[dict[str, Any]]:
    now = clock.now()
    return [
        {"row": p, "status": identity_service.status_of(p, now)}
        for p in identity_service.list_proposals(session, limit=200)
        if p.kind == kind
    ][:50]


def _staff_page(
    request: Request,
    staff: StaffPage,
    session: Any,
    clock: Any,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: Form | None = None,
) -> Response:
    return render(
        request,
        staff,
        "admin/staff.html",
        status=status,
        people=identity_service.list_staff(session),
        proposals=_proposals(session, "staff", clock),
        roles=ROLES,
        errors=errors or {},
        form=form or {},
        notice=request.query_params.get("done", "")[:20],
    )


@router.get("/console/admin/staff")
def staff_list(
    request: Request, session: SessionDep, clock: ClockDep, staff: StaffManager
) -> Response:
    return _staff_page(request, staff, session, clock)


@router.post("/console/admin/staff/propose")
async def staff_propose(
    request: Request, session: SessionDep, clock: ClockDep, staff: StaffManager
) -> Response:
    form = await read_form(request, staff)
    try:
        identity_service.propose_staff(
            session,
            username=form.get("username", "")[:200],
            display_name=form.get("display_name", "")[:200],
            role=form.get("role", "")[:40],
            proposer=staff.principal,
            clock=clock,
        )
    except RecoupError as exc:
        field = "username" if isinstance(exc, Conflict) else "role"
        return _staff_page(
            request, staff, session, clock, status=exc.status_code,
            errors=_errors(exc, field, staff.lang), form=form,
        )  # fmt: skip
    return redirect("/console/admin/staff?done=proposed")


@router.post("/console/admin/staff/{staff_id}/disable")
async def staff_disable(
    request: Request, staff_id: RowId, session: SessionDep, clock: ClockDep, staff: StaffManager
) -> Response:
    await read_form(request, staff)
    identity_service.set_disabled(
        session, staff_id, disabled=True, actor=staff.principal, clock=clock
    )
    return redirect("/console/admin/staff?done=disabled")


@router.post("/console/admin/staff/{staff_id}/enable")
async def staff_enable(
    request: Request, staff_id: RowId, session: SessionDep, clock: ClockDep, staff: StaffManager
) -> Response:
    await read_form(request, staff)
    identity_service.set_disabled(
        session, staff_id, disabled=False, actor=staff.principal, clock=clock
    )
    return redirect("/console/admin/staff?done=enabled")


def _keys_page(
    request: Request,
    staff: StaffPage,
    session: Any,
    clock: Any,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: Form | None = None,
) -> Response:
    return render(
        request,
        staff,
        "admin/keys.html",
        status=status,
        keys=identity_service.list_api_keys(session),
        proposals=_proposals(session, "api_key", clock),
        scopes=SCOPES,
        chosen=set(form.getlist("scopes")) if form else set(),
        errors=errors or {},
        form=form or {},
        notice=request.query_params.get("done", "")[:20],
    )


@router.get("/console/admin/keys")
def keys_list(
    request: Request, session: SessionDep, clock: ClockDep, staff: KeyManager
) -> Response:
    return _keys_page(request, staff, session, clock)


@router.post("/console/admin/keys/propose")
async def keys_propose(
    request: Request, session: SessionDep, clock: ClockDep, staff: KeyManager
) -> Response:
    form = await read_form(request, staff)
    try:
        identity_service.propose_api_key(
            session,
            name=form.get("name", "")[:200],
            scopes=[s[:64] for s in form.getlist("scopes")[:64]],
            proposer=staff.principal,
            clock=clock,
        )
    except RecoupError as exc:
        return _keys_page(
            request, staff, session, clock, status=exc.status_code,
            errors=_errors(exc, "scopes", staff.lang), form=form,
        )  # fmt: skip
    return redirect("/console/admin/keys?done=proposed")


@router.post("/console/admin/keys/{key_id}/revoke")
async def keys_revoke(
    request: Request, key_id: RowId, session: SessionDep, clock: ClockDep, staff: KeyManager
) -> Response:
    await read_form(request, staff)
    identity_service.revoke_api_key(session, key_id, clock=clock, actor=staff.principal.actor)
    return redirect("/console/admin/keys?done=revoked")


@router.post("/console/admin/proposals/{proposal_id}/approve")
async def proposal_approve(
    request: Request, proposal_id: RowId, session: SessionDep, clock: ClockDep, staff: Approver
) -> Response:
    """The code or key is on this answer only (no redirect: it is shown once)."""
    await read_form(request, staff)
    done = identity_service.approve(session, proposal_id, approver=staff.principal, clock=clock)
    return render(
        request,
        staff,
        "admin/approved.html",
        proposal=done.proposal,
        code=done.code,
        code_expires_at=done.code_expires_at,
        key=done.key,
        set_password_url=str(request.url_for("set_password_page")),
    )


@router.post("/console/admin/proposals/{proposal_id}/refuse")
async def proposal_refuse(
    request: Request, proposal_id: RowId, session: SessionDep, clock: ClockDep, staff: Approver
) -> Response:
    form = await read_form(request, staff)
    proposal = identity_service.refuse(
        session,
        proposal_id,
        approver=staff.principal,
        reason=form.get("reason", "")[:600],
        clock=clock,
    )
    back = "/console/admin/staff" if proposal.kind == "staff" else "/console/admin/keys"
    return redirect(f"{back}?done=refused")


# --- a new person's own password --------------------------------------------------------------


@router.get("/console/set-password")
def set_password_page(request: Request) -> Response:
    return render(request, None, "admin/set_password.html", errors={}, form={})


@router.post("/console/set-password")
async def set_password(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    """No session and no CSRF field: the one-time code is the credential (a page elsewhere that
    knew it could as well post it itself)."""
    form = parse_form(await request.body())
    errors: dict[str, str] = {}
    password = form.get("password", "")
    if password != form.get("password_again", ""):
        errors["password_again"] = "admin.passwords_differ"  # noqa: S105 (a text key)
    else:
        try:
            identity_service.redeem_password_code(
                session,
                username=form.get("username", "")[:64],
                code=form.get("code", "")[:64],
                password=password[:2000],
                clock=clock,
            )
        except identity_service.CodeRefused:
            errors["code"] = "admin.code_refused"
        except RecoupError:
            errors["password"] = "admin.password_rules"  # noqa: S105 (a text key)
    if errors:
        shown = {"username": form.get("username", "")[:64]}
        return render(
            request, None, "admin/set_password.html", status=422, errors=errors, form=shown
        )
    return render(request, None, "admin/password_set.html")
