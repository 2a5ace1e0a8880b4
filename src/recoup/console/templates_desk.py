"""The templates desk: message templates and their versions per language and status; writing a
version with the guard's content verdict for every jurisdiction as one types (htmx posts the text
to `check`, which runs the same check as saving; without JavaScript, a "check" button); a preview
with a real account's figures, the name masked; submitting for approval; approval by a second
person (the service refuses the author's own). Every action goes through `contact.service`, as
the API's `/v1/templates` routes do, and every step is on the audit ledger."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from recoup.console.base import (
    Form,
    StaffPage,
    page_for,
    read_form,
    redirect,
    render,
    translator,
)
from recoup.contact import schemas as contact_schemas
from recoup.contact import service as contact_service
from recoup.contact.templates import CHANNELS, LANGUAGES, TONES, VARIABLES, MessageTemplate
from recoup.http.deps import ClockDep, RowId, SessionDep, SettingsDep
from recoup.identity.permissions import Permission
from recoup.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from recoup.models import TemplateVersion

router = APIRouter(include_in_schema=False)
Writer = Annotated[StaffPage, Depends(page_for(Permission.templates_write))]
Approver = Annotated[StaffPage, Depends(page_for(Permission.templates_approve))]
FIELDS = ("name", "channel", "language", "tone", "subject", "body")
STATUSES = ("draft", "rejected", "submitted", "approved", "retired")


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _words(staff: StaffPage, messages: dict[str, str]) -> dict[str, str]:
    """Messages by field in the staff member's language (text keys are looked up)."""
    t = translator(staff.lang)
    return {k: str(t(v)) if v.startswith("templates.") else v for k, v in messages.items()}


def _draft(
    form: Form | dict[str, str],
) -> tuple[dict[str, str], MessageTemplate | None, dict[str, str]]:
    """The typed fields (bounded), the template they make, and the errors by field."""
    given = {k: (form.get(k) or "")[: contact_schemas.MAX_TEMPLATE_BODY + 1] for k in FIELDS}
    given = {k: v if k == "body" else v.strip() for k, v in given.items()}
    try:
        data = contact_schemas.TemplateDraftIn.model_validate(
            {**given, "subject": given["subject"] or None}
        )
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for problem in exc.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "body"
            errors.setdefault(field, f"templates.error_{field}")
        return given, None, errors
    template = MessageTemplate(
        data.name, data.channel, data.language, data.tone, data.body, data.subject
    )
    return given, template, {}


def _check(template: MessageTemplate | None) -> dict[str, Any]:
    """The verdicts for the editor: the rendered sample and each jurisdiction's answer, or why
    the text does not render."""
    if template is None:
        return {"verdicts": None, "sample": None, "render_error": None}
    try:
        rendered, verdicts = contact_service.check_draft(template)
    except ValidationFailed as exc:
        return {"verdicts": None, "sample": None, "render_error": str(exc).removeprefix("body: ")}
    return {"verdicts": verdicts, "sample": rendered, "render_error": None}


def _editor(
    request: Request,
    staff: StaffPage,
    given: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    context.setdefault("verdicts", None)
    context.setdefault("sample", None)
    context.setdefault("render_error", None)
    context.setdefault("preview", None)
    context.setdefault("preview_error", None)
    if context["preview_error"]:
        context["preview_error"] = _words(staff, {"p": context["preview_error"]})["p"]
    return render(
        request,
        staff,
        "templates_desk/editor.html",
        status=status,
        given=given,
        errors=_words(staff, errors or {}),
        account_id=context.pop("account_id", ""),
        channels=CHANNELS,
        template_languages=list(LANGUAGES),
        tones=TONES,
        variables=VARIABLES,
        **context,
    )


@router.get("/console/templates")
def templates(request: Request, staff: Writer, session: SessionDep) -> Response:
    """Each template (name, channel, language, tone) with its approved and latest versions."""
    language = (request.query_params.get("language") or "").strip()
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for v in contact_service.all_versions(session):
        if language in LANGUAGES and v.language != language:
            continue
        group = groups.setdefault(
            (v.name, v.channel, v.language, v.tone), {"approved": None, "latest": v, "count": 0}
        )
        group["latest"] = v
        group["count"] += 1
        if v.status == "approved":
            group["approved"] = v
    return render(
        request,
        staff,
        "templates_desk/list.html",
        groups=groups,
        language=language if language in LANGUAGES else "",
        template_languages=list(LANGUAGES),
    )


@router.get("/console/templates/new")
def new_version(request: Request, staff: Writer, session: SessionDep) -> Response:
    """The editor, empty or holding the text of a version to start from (`?from=<id>`)."""
    given = dict.fromkeys(FIELDS, "")
    given.update(channel="sms", language="zh-CN" if staff.lang == "zh-CN" else "en", tone="gentle")
    start = (request.query_params.get("from") or "").strip()
    if start:
        if not start.isdigit() or len(start) > 18:
            return _editor(
                request, staff, given, errors={"from": "templates.error_from"}, status=422
            )
        version = contact_service.template_version(session, int(start))
        given = {k: getattr(version, k) or "" for k in FIELDS}
    return _editor(request, staff, given, **_check(_draft(given)[1]))


@router.post("/console/templates/check")
async def check(request: Request, staff: Writer) -> Response:
    """The guard's content verdict per jurisdiction for the text as typed (nothing is saved)."""
    form = await read_form(request, staff)
    given, template, errors = _draft(form)
    found = _check(template)
    if _htmx(request):
        return render(
            request, staff, "templates_desk/_verdicts.html", errors=_words(staff, errors), **found
        )
    return _editor(
        request,
        staff,
        given,
        errors=errors,
        status=422 if errors else 200,
        account_id=form.get("account_id", "")[:20],
        **found,
    )


@router.post("/console/templates/preview")
async def preview(
    request: Request, staff: Writer, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """The text as one account's debtor would read it, the name masked, nothing sent."""
    form = await read_form(request, staff)
    given, template, errors = _draft(form)
    account = form.get("account_id", "").strip()[:20]
    shown, problem, status = None, None, 200
    if not account.isdigit() or not 1 <= int(account) <= 2**63 - 1:
        problem, status = "templates.error_account_id", 422
    elif template is not None:
        try:
            shown = contact_service.preview(
                session,
                template,
                int(account),
                creditor_name=settings.creditor_name,
                support_phone=settings.support_phone,
                actor=staff.principal.actor,
                clock=clock,
                public_url=settings.public_url,
            )
        except NotFound:
            problem, status = "templates.error_account_unknown", 404
        except ValidationFailed as exc:
            problem, status = str(exc).removeprefix("body: "), 422
    else:
        status = 422
    if _htmx(request):
        return render(
            request,
            staff,
            "templates_desk/_preview.html",
            preview=shown,
            preview_error=_words(staff, {"p": problem})["p"] if problem else None,
            account_id=account,
            errors=_words(staff, errors),
        )
    return _editor(
        request,
        staff,
        given,
        errors=errors,
        status=status,
        account_id=account,
        preview=shown,
        preview_error=problem,
        **_check(template),
    )


@router.post("/console/templates/save")
async def save(request: Request, staff: Writer, session: SessionDep, clock: ClockDep) -> Response:
    """A new version: a draft, or kept `rejected` with the guard's reasons."""
    form = await read_form(request, staff)
    given, template, errors = _draft(form)
    if template is None:
        return _editor(request, staff, given, errors=errors, status=422)
    try:
        version = contact_service.save(session, template, author=staff.principal.actor, clock=clock)
    except ValidationFailed as exc:
        return _editor(
            request,
            staff,
            given,
            errors={"body": "templates.error_render"},
            status=422,
            render_error=str(exc),
        )
    return redirect(f"/console/templates/versions/{version.id}")


def _version_page(
    request: Request,
    staff: StaffPage,
    session: Any,
    version: TemplateVersion,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    history = [
        v
        for v in contact_service.all_versions(session)
        if (v.name, v.channel, v.language, v.tone)
        == (version.name, version.channel, version.language, version.tone)
    ]
    return render(
        request,
        staff,
        "templates_desk/version.html",
        status=status,
        version=version,
        history=history,
        error=error,
        own=version.author == staff.principal.actor,
    )


@router.get("/console/templates/versions/{version_id}")
def version(request: Request, version_id: RowId, staff: Writer, session: SessionDep) -> Response:
    found = contact_service.template_version(session, version_id)
    return _version_page(request, staff, session, found)


@router.post("/console/templates/versions/{version_id}/submit")
async def submit(
    request: Request, version_id: RowId, staff: Writer, session: SessionDep, clock: ClockDep
) -> Response:
    await read_form(request, staff)
    try:
        contact_service.submit(session, version_id, actor=staff.principal.actor, clock=clock)
    except Conflict as exc:
        found = contact_service.template_version(session, version_id)
        return _version_page(
            request, staff, session, found, error=f"templates.error_{exc.code}", status=409
        )
    return redirect(f"/console/templates/versions/{version_id}")


@router.post("/console/templates/versions/{version_id}/approve")
async def approve(
    request: Request, version_id: RowId, staff: Approver, session: SessionDep, clock: ClockDep
) -> Response:
    await read_form(request, staff)
    try:
        contact_service.approve(session, version_id, actor=staff.principal.actor, clock=clock)
    except (Conflict, Forbidden) as exc:
        found = contact_service.template_version(session, version_id)
        return _version_page(
            request,
            staff,
            session,
            found,
            error=f"templates.error_{exc.code}",
            status=exc.status_code,
        )
    return redirect(f"/console/templates/versions/{version_id}")
