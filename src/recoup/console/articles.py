"""The learning centre's desk and the debtor's voice: articles and their versions per language;
writing a version (an edit is always a new version); submitting it; approval by a second person
(the service refuses the author's own); the survey's results and the articles' reads. Every action
goes through `education.service` and `cases.service`; the figures are analytics' (the same as
`GET /v1/analytics/survey` and `/article-reads`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recoup.analytics import service as analytics_service
from recoup.analytics import voice
from recoup.console.base import Form, StaffPage, page_for, read_form, redirect, render
from recoup.contact.templates import LANGUAGES
from recoup.education import service as education_service
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.identity.permissions import Permission
from recoup.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from recoup.models import ArticleVersion

router = APIRouter(include_in_schema=False)
Writer = Annotated[StaffPage, Depends(page_for(Permission.articles_write))]
Approver = Annotated[StaffPage, Depends(page_for(Permission.articles_approve))]
Reader = Annotated[StaffPage, Depends(page_for(Permission.analytics_read))]
FIELDS = ("slug", "language", "title", "summary", "body")


@router.get("/console/articles")
def articles(request: Request, staff: Writer, session: SessionDep) -> Response:
    """Each article with, per language, the version in use and the latest one."""
    rows: list[dict[str, Any]] = []
    for article in education_service.articles(session):
        _, versions = education_service.versions_of(session, article.slug)
        per: dict[str, dict[str, ArticleVersion | None]] = {
            lang: {"approved": None, "latest": None} for lang in LANGUAGES
        }
        for v in versions:  # newest first per language
            cell = per.setdefault(v.language, {"approved": None, "latest": None})
            cell["latest"] = cell["latest"] or v
            if v.status == "approved":
                cell["approved"] = v
        rows.append({"article": article, "languages": per})
    return render(
        request, staff, "articles/list.html", rows=rows, article_languages=list(LANGUAGES)
    )


def _editor(
    request: Request,
    staff: StaffPage,
    given: dict[str, str],
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        staff,
        "articles/editor.html",
        status=status,
        given=given,
        error=error,
        article_languages=list(LANGUAGES),
        limits={
            "title": education_service.MAX_TITLE,
            "summary": education_service.MAX_SUMMARY,
            "body": education_service.MAX_BODY,
        },
    )


@router.get("/console/articles/new")
def new_version(request: Request, staff: Writer, session: SessionDep) -> Response:
    """The editor, empty or holding a version's words to start from (`?from=<id>`)."""
    given = dict.fromkeys(FIELDS, "")
    given["language"] = "zh-CN" if staff.lang == "zh-CN" else "en"
    start = (request.query_params.get("from") or "").strip()
    if start:
        if not start.isdigit() or len(start) > 18:
            return _editor(request, staff, given, error="articles.error_from", status=422)
        try:
            version = education_service.article_version(session, int(start))
        except NotFound:
            return _editor(request, staff, given, error="articles.error_from", status=404)
        slug = next(
            a.slug for a in education_service.articles(session) if a.id == version.article_id
        )
        given = {
            "slug": slug,
            "language": version.language,
            "title": version.title,
            "summary": version.summary,
            "body": version.body,
        }
    return _editor(request, staff, given)


def _given(form: Form) -> dict[str, str]:
    bounds = {"body": education_service.MAX_BODY + 1}
    return {k: (form.get(k) or "")[: bounds.get(k, 1_000)] for k in FIELDS}


@router.post("/console/articles/save")
async def save(request: Request, staff: Writer, session: SessionDep, clock: ClockDep) -> Response:
    """A new draft version; what the portal shows changes only when a second person approves."""
    form = await read_form(request, staff)
    given = _given(form)
    try:
        version = education_service.save(
            session,
            given["slug"].strip(),
            language=given["language"].strip(),
            title=given["title"],
            summary=given["summary"],
            body=given["body"],
            author=staff.principal.actor,
            clock=clock,
        )
    except ValidationFailed as exc:
        return _editor(request, staff, given, error=exc.message, status=422)
    return redirect(f"/console/articles/versions/{version.id}")


def _version_page(
    request: Request,
    staff: StaffPage,
    session: Any,
    version: ArticleVersion,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    article = next(a for a in education_service.articles(session) if a.id == version.article_id)
    _, versions = education_service.versions_of(session, article.slug)
    return render(
        request,
        staff,
        "articles/version.html",
        status=status,
        article=article,
        version=version,
        history=[v for v in versions if v.language == version.language],
        error=error,
        own=version.author == staff.principal.actor,
    )


@router.get("/console/articles/versions/{version_id}")
def version(request: Request, version_id: RowId, staff: Writer, session: SessionDep) -> Response:
    found = education_service.article_version(session, version_id)
    return _version_page(request, staff, session, found)


@router.post("/console/articles/versions/{version_id}/submit")
async def submit(
    request: Request, version_id: RowId, staff: Writer, session: SessionDep, clock: ClockDep
) -> Response:
    await read_form(request, staff)
    try:
        education_service.submit(session, version_id, actor=staff.principal.actor, clock=clock)
    except Conflict as exc:
        found = education_service.article_version(session, version_id)
        return _version_page(
            request, staff, session, found, error=f"articles.error_{exc.code}", status=409
        )
    return redirect(f"/console/articles/versions/{version_id}")


@router.post("/console/articles/versions/{version_id}/approve")
async def approve(
    request: Request, version_id: RowId, staff: Approver, session: SessionDep, clock: ClockDep
) -> Response:
    await read_form(request, staff)
    try:
        education_service.approve(session, version_id, actor=staff.principal.actor, clock=clock)
    except (Conflict, Forbidden) as exc:
        found = education_service.article_version(session, version_id)
        return _version_page(
            request,
            staff,
            session,
            found,
            error=f"articles.error_{exc.code}",
            status=exc.status_code,
        )
    return redirect(f"/console/articles/versions/{version_id}")


@router.get("/console/voice")
def debtor_voice(request: Request, staff: Reader, session: SessionDep, clock: ClockDep) -> Response:
    """The survey's answers and the articles' reads over the last 30 days: aggregates only."""
    period = analytics_service.period(session, None, voice.today(clock.now()), clock=clock)
    survey = voice.survey(session, period)
    reads = voice.article_reads(session, period)
    most = max([c.count for c in (*survey.treated, *survey.clear)] or [0]) or 1
    return render(request, staff, "articles/voice.html", survey=survey, reads=reads, most=most)
