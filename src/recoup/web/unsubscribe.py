"""One-click unsubscribe (RFC 8058) for e-mail: the page a link opens (one button; a GET changes
nothing, mail scanners follow links) and the POST that opts the address out, which mail clients
send on their own from the List-Unsubscribe-Post header. In both languages of the address's
messages, since the page does not know who clicked."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from recoup.config import Settings
from recoup.contact import flows
from recoup.contact import service as contact_service
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.http.errors import Responses
from recoup.kit.errors import NotAuthenticated
from recoup.web.portal import HEADERS, environment

router = APIRouter(prefix="/v1", tags=["contact"])
# A forged, tampered or expired link answers a page saying so (and how else to reach us).
GONE: Responses = {
    401: {
        "description": "The link is forged, altered or expired: a page that says so",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}


def _page(settings: Settings, status: int = 200, **context: object) -> HTMLResponse:
    html = (
        environment()
        .get_template("unsubscribe.html")
        .render(phone=settings.support_phone, **context)
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


@router.get(
    "/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe page", responses=GONE
)
def unsubscribe_page(token: str, settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    """The page an unsubscribe link opens: one button. A GET changes nothing."""
    try:
        contact_service.read_link(token, keys=settings.link_signing_keys, clock=clock)
    except NotAuthenticated:
        return _page(settings, 401, gone=True)
    return _page(settings, action=f"/v1/unsubscribe/{token}")


@router.post(
    "/unsubscribe/{token}",
    response_class=HTMLResponse,
    summary="Unsubscribe (one click)",
    responses=GONE,
)
def unsubscribe(
    token: str, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe: the address is opted out of e-mail at once."""
    try:
        flows.unsubscribe(session, token, keys=settings.link_signing_keys, clock=clock)
    except NotAuthenticated:
        return _page(settings, 401, gone=True)
    return _page(settings, done=True)
