"""The learning centre in the portal, behind the same pay link: the approved articles in the
debtor's language (zh-CN, zh-TW, en), the rights article rendered from the rule packs for the
debtor's jurisdiction. Each article opened is counted (article and language, no reader)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from recoup.education import service as education_service
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.kit.errors import NotFound
from recoup.web.visit import open_visit, render

router = APIRouter(include_in_schema=False)


@router.get("/p/{token}/learn", response_class=HTMLResponse)
def learning_centre(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse:
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    listed = education_service.catalogue(session, visit.language)
    return render(visit, "learn.html", settings, articles=listed)


@router.get("/p/{token}/learn/{slug}", response_class=HTMLResponse)
def article(
    token: str,
    slug: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse:
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    try:
        reading = education_service.read(
            session,
            slug,
            language=visit.language,
            jurisdiction=visit.customer.jurisdiction,
            clock=clock,
        )
    except NotFound:
        return render(visit, "article.html", settings, 404, reading=None)
    return render(
        visit,
        "article.html",
        settings,
        reading=reading,
        jurisdiction=visit.customer.jurisdiction,
    )
