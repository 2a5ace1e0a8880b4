"""The portal's chat with the assistant, behind the pay link's identity step (the one-time code):
a page with the conversation and a form that posts a message, answered on the next page (post,
then redirect: it works without JavaScript). What the debtor writes goes to
`assistant.flows.on_chat`, which acts through the same flows as the portal's forms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie
from fastapi.responses import HTMLResponse, RedirectResponse

from recoup.assistant import flows as assistant_flows
from recoup.assistant import service as assistant_service
from recoup.config import Settings
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.kit.errors import RecoupError
from recoup.models import ConversationState
from recoup.web.portal import HEADERS, BadForm, read_form
from recoup.web.refusals import failure, refusal
from recoup.web.visit import (
    VERIFIED,
    Body,
    Visit,
    form_csrf_ok,
    form_value,
    render,
    verified_visit,
)

router = APIRouter(include_in_schema=False)
MAX_MESSAGE = 1_000
SHOWN = 50  # the latest turns, across the conversations the chat has had


def _page(
    session: SessionDep, visit: Visit, settings: Settings, status: int = 200, **extra: object
) -> HTMLResponse:
    conversation = assistant_service.latest(session, visit.customer.id, "chat")
    turns = assistant_service.recent_turns(session, visit.customer.id, "chat", limit=SHOWN)
    return render(
        visit,
        "chat.html",
        settings,
        status,
        turns=turns,
        with_person=conversation is not None
        and conversation.state == ConversationState.handed_over,
        **extra,
    )


@router.get("/p/{token}/chat", response_model=None)
def chat_page(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    visit = verified_visit(session, token, settings, clock, lang, verified, "/chat")
    if not isinstance(visit, Visit):
        return visit
    return _page(session, visit, settings)


@router.post("/p/{token}/chat", response_model=None)
def chat_send(
    token: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    visit = verified_visit(session, token, settings, clock, lang, verified, "/chat")
    if not isinstance(visit, Visit):
        return visit
    try:
        form = read_form(body)
        if not form_csrf_ok(form, settings, token):
            return _page(session, visit, settings, 403, error=refusal(visit.language, "csrf"))
        message = form_value(form, "message")
        if not message or len(message) > MAX_MESSAGE:
            raise BadForm(
                f"a message is 1 to {MAX_MESSAGE:,} characters",
                reason="chat_message",
                most=MAX_MESSAGE,
            )
        assistant_flows.on_chat(
            session,
            visit.customer.id,
            text=message,
            clock=clock,
            voice=assistant_flows.Voice(settings.creditor_name, settings.support_phone),
            language=visit.language,
            pay_url=settings.public_url.rstrip("/") + visit.url(),
            chosen=visit.explicit,
        )
    except (RecoupError, ValueError) as exc:
        status, reason = failure(exc, visit.language)
        return _page(session, visit, settings, status, error=reason)
    return RedirectResponse(visit.url("/chat"), status_code=303, headers=HEADERS)
