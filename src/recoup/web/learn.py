"""The learning centre in the portal, behind the same pay link: the approved articles in the
debtor's language (zh-CN, zh-TW, en), the rights article rendered from the rule packs for the
debtor's jurisdiction. Each article opened is counted (article and language, no reader)."""

from __future__ import annotations

from babel import Locale
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from recoup.compliance.vocabulary import COLLECTOR_ROLE
from recoup.contact.templates import LANGUAGES
from recoup.education import service as education_service
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.kit.errors import NotFound
from recoup.ledger.repository import AccountRepository
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
            collectors=[
                COLLECTOR_ROLE.get(a.collector, "creditor")
                for a in AccountRepository(session).open_of_customer(visit.customer.id)
            ]
            or ["creditor"],
        )
    except NotFound:
        return render(visit, "article.html", settings, 404, reading=None)
    return render(
        visit,
        "article.html",
        settings,
        reading=reading,
        jurisdiction=place(visit.customer.jurisdiction, visit.language),
    )


def place(jurisdiction: str, language: str) -> str:
    """A jurisdiction as the page names it: the country in the page's language (中国, United
    States), a subdivision's code after it (美国 US-MA)."""
    country = jurisdiction.split("-")[0].upper()
    name = Locale.parse(LANGUAGES[language]).territories.get(country, country)
    return name if jurisdiction.upper() == country else f"{name} {jurisdiction}"
