"""Being heard, in the portal: the post-repayment survey the `fairness_survey` message links to
(answered once per message; a second answer is refused, the first stands), and the debtor's own
disputes, complaints and requests with their status in words and the answer when there is one.
A link shows only its own customer's cases."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Cookie
from fastapi.responses import HTMLResponse, RedirectResponse

from recoup.cases import flows as case_flows
from recoup.cases import service as case_service
from recoup.compliance import deployment_guard
from recoup.compliance.vocabulary import jurisdiction_zones
from recoup.config import get_settings
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.kit.errors import RecoupError
from recoup.web.portal import HEADERS, read_form
from recoup.web.refusals import failure, refusal
from recoup.web.visit import (
    VERIFIED,
    Body,
    code_verified,
    form_csrf_ok,
    form_value,
    open_visit,
    render,
)

router = APIRouter(include_in_schema=False)


@router.get("/p/{token}/survey", response_class=HTMLResponse)
def survey_page(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
    thanks: str | None = None,
) -> HTMLResponse:
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    done = case_service.answered(session, visit.customer.id, visit.link.contact_id)
    return render(
        visit,
        "survey.html",
        settings,
        done=done,
        thanks=thanks == "1" and done,
        values={},
        max_text=case_service.MAX_SURVEY_TEXT,
    )


@router.post("/p/{token}/survey", response_model=None)
def survey_answer(
    token: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    values: dict[str, str] = {}

    def again(status: int, error: str) -> HTMLResponse:
        done = case_service.answered(session, visit.customer.id, visit.link.contact_id)
        return render(
            visit,
            "survey.html",
            settings,
            status,
            done=done,
            thanks=False,
            error=error,
            values=values,
            max_text=case_service.MAX_SURVEY_TEXT,
        )

    try:
        form = read_form(body)
        values = {k: form_value(form, k) for k in ("treated", "clear", "again", "text")}
        if not form_csrf_ok(form, settings, token):
            return again(403, refusal(visit.language, "csrf"))
        case_service.answer_survey(
            session,
            visit.customer.id,
            contact_id=visit.link.contact_id,
            treated=values["treated"],
            clear=values["clear"],
            again=values["again"],
            text=values["text"] or None,
            clock=clock,
        )
    except (RecoupError, ValueError) as exc:
        status, message = failure(exc, visit.language)
        return again(status, message)
    return RedirectResponse(visit.url("/survey", thanks="1"), status_code=303, headers=HEADERS)


@router.get("/p/{token}/requests", response_class=HTMLResponse)
def my_requests(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
) -> HTMLResponse:
    """The customer's own cases (only the link's customer's): status in words and dates; the
    answer's words (personal, like "my data") only after the one-time code."""
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    unlocked = code_verified(verified, settings, visit, clock)
    cases = case_service.debtor_cases(
        session, visit.customer.id, with_answers=unlocked, clock=clock
    )
    # The date staff work to (the cases inbox's): the pack's for the role of whoever collects
    # the case's account, a third party's where an agency holds it.
    due = {
        case_id: d.date
        for case_id, d in case_flows.due_dates(
            session,
            [c.case for c in cases if c.status in ("received", "being_looked_at")],
            guard=deployment_guard(get_settings().compliance_house_file),
            clock=clock,
        ).items()
    }
    zone = ZoneInfo(jurisdiction_zones(visit.customer.jurisdiction)[0])
    return render(
        visit,
        "requests.html",
        settings,
        cases=cases,
        due=due,
        unlocked=unlocked,
        day=lambda at: at.astimezone(zone).date(),  # the debtor's own calendar day
    )
