"""The agent's workbench and the supervisor's queues as pages: next account, account 360 with the
guard's answer, the wrap-up form through the same flow as the API, notes, offers, reassignment;
every POST refused without its CSRF field, every page refused without its permission."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import AgentTask, Arrangement
from tests.arrangements.test_flows import activate
from tests.console.conftest import ConsoleClient
from tests.contact.test_dispatch import AS_OF
from tests.contact.test_replies import add_contact
from tests.factories import shanghai
from tests.workbench.test_workbench import queue


def test_an_agent_takes_the_next_account_sees_the_guard_and_records_a_promise(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    first, second = queue(session, clock, 2)
    activate(session, clock)
    session.commit()
    console.sign_in(Role.agent)
    work = console.get("/console/work")
    assert work.status_code == 200
    assert 'id="next-account"' in work.text
    taken = console.post_form("/console/work/next", follow_redirects=False)
    assert taken.status_code == 303
    assert taken.headers["location"] == f"/console/accounts/{first.id}"
    page = console.get(taken.headers["location"])
    assert page.status_code == 200, page.text
    assert 'id="guard-answer">Allowed now' in page.text
    assert "王*" in page.text
    assert "王芳" not in page.text
    assert 'id="wrap-up"' in page.text
    task = session.scalars(select(AgentTask).where(AgentTask.account_id == first.id)).one()
    # The wrap-up form: a promise outside the policy's days is refused beside the form.
    late = console.post_form(
        f"/console/tasks/{task.id}/wrap-up",
        {"outcome": "promise", "amount": "500", "date": "2026-09-01"},
    )
    assert late.status_code == 422
    assert 'role="alert"' in late.text
    done = console.post_form(
        f"/console/tasks/{task.id}/wrap-up",
        {"outcome": "promise", "amount": "500", "date": "2026-06-24"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    session.expire_all()
    promise = session.scalars(select(Arrangement).where(Arrangement.account_id == first.id)).one()
    assert (promise.kind, promise.amount_minor, promise.channel) == ("promise", 50_000, "agent")
    assert session.get(AgentTask, task.id).status == "done"  # type: ignore[union-attr]
    again = console.post_form("/console/work/next", follow_redirects=False)
    assert again.headers["location"] == f"/console/accounts/{second.id}"
    assert "1</strong>" in console.get("/console/work").text  # one done today


def test_at_night_the_page_says_not_now_with_the_next_moment_in_both_zones(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    [account] = queue(session, clock, 1)
    clock.set(shanghai(AS_OF, 22) + dt.timedelta(minutes=30))
    console.sign_in(Role.agent)
    taken = console.post_form("/console/work/next", follow_redirects=False)
    assert taken.headers["location"].startswith("/console/work?none=1&skipped=1")
    page = console.get(f"/console/accounts/{account.id}")
    assert 'id="guard-answer">Not now' in page.text
    assert "OUTSIDE_HOURS" in page.text
    assert "2026-06-21 08:00" in page.text  # Asia/Shanghai: the debtor's and the agent's


def test_notes_offers_and_csrf(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    [account] = queue(session, clock, 1)
    activate(session, clock)
    session.commit()
    console.sign_in(Role.agent)
    forged = console.post(f"/console/accounts/{account.id}/notes", data={"text": "hi"})
    assert forged.status_code == 403
    long = console.post_form(f"/console/accounts/{account.id}/notes", {"text": "长" * 2_001})
    assert long.status_code == 422
    ok = console.post_form(
        f"/console/accounts/{account.id}/notes", {"text": "下周再联系"}, follow_redirects=False
    )
    assert ok.status_code == 303
    assert "下周再联系" in console.get(f"/console/accounts/{account.id}").text
    # A settlement below the policy's share waits for a supervisor (60% of ¥500).
    settled = console.post_form(
        f"/console/accounts/{account.id}/offers",
        {"kind": "settlement", "offer_amount": "300"},
        follow_redirects=False,
    )
    assert settled.status_code == 303, settled.text
    session.expire_all()
    made = session.scalars(select(Arrangement).where(Arrangement.account_id == account.id)).one()
    assert (made.kind, made.status) == ("settlement", "awaiting_approval")
    bad = console.post_form(
        f"/console/accounts/{account.id}/offers", {"kind": "settlement", "offer_amount": "abc"}
    )
    assert bad.status_code == 422


def test_the_supervisor_sees_the_queues_and_reassigns_agents_do_not(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    queue(session, clock, 2)
    agent = console.sign_in(Role.agent)
    console.post_form("/console/work/next")
    assert console.get("/console/queues").status_code == 403
    task = session.scalars(select(AgentTask).order_by(AgentTask.id.desc())).first()
    assert task is not None
    refused = console.post_form(f"/console/queues/tasks/{task.id}/reassign", {"staff_id": ""})
    assert refused.status_code == 403
    console.sign_in(Role.supervisor)
    page = console.get("/console/queues")
    assert page.status_code == 200
    assert '<td>mid_late</td><td class="num">1</td><td class="num">1</td>' in page.text
    moved = console.post_form(
        f"/console/queues/tasks/{task.id}/reassign",
        {"staff_id": str(agent.id)},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    session.expire_all()
    assert session.get(AgentTask, task.id).assigned_to == agent.id  # type: ignore[union-attr]
    nobody = console.post_form(f"/console/queues/tasks/{task.id}/reassign", {"staff_id": "999999"})
    assert nobody.status_code == 422
    assert "not a staff user" in nobody.text


def test_hostile_wrap_up_offer_and_reassign_forms_are_4xx_never_5xx(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    [account] = queue(session, clock, 1)
    activate(session, clock)
    session.commit()
    console.sign_in(Role.supervisor)  # works queues and manages them
    console.post_form("/console/work/next")
    task = session.scalars(select(AgentTask)).one()
    wrap = f"/console/tasks/{task.id}/wrap-up"
    hostile = [
        {"outcome": ""},
        {"outcome": "promise", "amount": "1e400", "date": "2026-06-22"},
        {"outcome": "promise", "amount": "-5", "date": "2026-06-22"},
        {"outcome": "promise", "amount": "0.001", "date": "tomorrow"},
        {"outcome": "promise", "amount": "9" * 40, "date": "2026-06-22"},
        {"outcome": "dispute", "reason": "zzz", "words": "x"},
        {"outcome": "hardship", "reason": "illness", "words": "字" * 2_001},
        {"outcome": "callback", "call_at": "yesterday"},
        {"outcome": "callback", "call_at": "1999-01-01T10:00"},
        {"outcome": "consent", "hours_from": "99:99", "hours_to": "21:00"},
        {
            "outcome": "consent",
            "hours_from": "20:00",
            "hours_to": "20:00",
            "consent_until": "2027-01-01",
        },
        {
            "outcome": "consent",
            "hours_from": "20:00",
            "hours_to": "21:00",
            "consent_until": "2099-01-01",
        },
        {"outcome": "no_answer", "contact_id": "abc"},
        {"outcome": "no_answer", "contact_id": "99999999"},
        {"outcome": "no_answer", "note": "x" * 2_001},
    ]
    for form in hostile:
        answer = console.post_form(wrap, form)
        assert 400 <= answer.status_code < 500, (form, answer.status_code)
    assert (
        console.post_form("/console/tasks/999999/wrap-up", {"outcome": "no_answer"}).status_code
        == 404
    )
    offers = f"/console/accounts/{account.id}/offers"
    for form in (
        {"kind": "loan"},
        {"kind": "plan", "instalments": "999999999"},
        {"kind": "extension", "days": "-1"},
        {"kind": "settlement", "offer_amount": "NaN"},
    ):
        answer = console.post_form(offers, form)
        assert 400 <= answer.status_code < 500, (form, answer.status_code)
    for staff_id in ("abc", "0", "9" * 30):
        answer = console.post_form(
            f"/console/queues/tasks/{task.id}/reassign", {"staff_id": staff_id}
        )
        assert 400 <= answer.status_code < 500, (staff_id, answer.status_code)
    session.expire_all()
    assert session.get(AgentTask, task.id).status == "open"  # type: ignore[union-attr]


def test_notes_are_read_where_they_are_written(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    """An auditor reads account 360 (accounts:read) but not the notes, as the API's notes need
    notes:write: agents' free text about a person stays with those who work the account."""
    [account] = queue(session, clock, 1)
    console.sign_in(Role.agent)
    console.post_form(f"/console/accounts/{account.id}/notes", {"text": "客户在医院"})
    console.sign_in(Role.auditor)
    page = console.get(f"/console/accounts/{account.id}")
    assert page.status_code == 200
    assert "客户在医院" not in page.text
    assert 'id="guard-answer"' in page.text


def test_the_supervisor_sees_a_task_past_its_window_as_ended_and_expired_at_its_end(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    from tests.workbench.test_task_window import DAY, HALF_PAST_SIX, NO_END, queued

    day, _ = queued(session, clock, [DAY, NO_END])
    clock.set(HALF_PAST_SIX)
    console.sign_in(Role.supervisor)
    page = console.get("/console/queues")
    assert page.status_code == 200
    # open 1 (the task without an end), taken 0, window ended 1 (the day task).
    assert (
        '<td>mid_late</td><td class="num">1</td><td class="num">0</td><td class="num">1</td>'
        in (page.text)
    )
    task = session.scalars(select(AgentTask).where(AgentTask.account_id == day.id)).one()
    row = page.text.split(f"#{task.id} ·")[1].split("</tr>")[0]
    assert "expired 6:00\u202fPM" in row or "expired 6:00 PM" in row, row


def test_the_timeline_and_the_last_call_read_in_the_pages_language(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    """Removal caught: account 360 printing the stored codes (`dial`, `sent (busy)`) on a Chinese
    page, as it did for the demo's agent ("呼叫 #2904：sent")."""
    [account] = queue(session, clock, 1)
    yesterday = AS_OF - dt.timedelta(days=1)
    clock.set(shanghai(yesterday, 10))  # yesterday's call: today's next account may be called
    call = add_contact(
        session, clock, account, channel="dial", treatment="agent_dial_1", status="sent",
        result="busy",
    )  # fmt: skip
    add_contact(session, clock, account, channel="sms", treatment="early_sms", status="delivered")
    clock.set(shanghai(AS_OF, 10))
    console.sign_in(Role.agent)
    taken = console.post_form("/console/work/next", follow_redirects=False)
    assert taken.headers["location"] == f"/console/accounts/{account.id}"  # the call card shows
    chinese = console.get(f"/console/accounts/{account.id}?lang=zh-CN").text
    assert f'id="last-call">呼叫 #{call.id}：已发送 (忙线)' in chinese
    timeline = chinese.split('id="timeline"', 1)[1].split("</table>", 1)[0]
    assert "坐席外呼 · agent_dial_1" in timeline
    assert "已发送 (忙线)" in timeline
    assert "短信 · early_sms" in timeline
    assert "已送达" in timeline
    for code in (">dial ", ">sms ", ">sent", ">delivered", "busy"):
        assert code not in timeline
    english = console.get(f"/console/accounts/{account.id}?lang=en").text
    assert f'id="last-call">Call #{call.id}: Sent (busy)' in english


def test_arrangements_cases_and_tasks_read_in_the_pages_language(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    """Removal caught: account 360's tables printing stored codes (`active`, `open`, `done`,
    `not_mine`) on a Chinese page, as the demo's agent saw them ("promise · broken")."""
    promised, disputed = queue(session, clock, 2)
    activate(session, clock)
    session.commit()
    console.sign_in(Role.agent)
    for account, form in (
        (promised, {"outcome": "promise", "amount": "500", "date": "2026-06-24"}),
        (disputed, {"outcome": "dispute", "reason": "not_mine", "words": "不是我借的"}),
    ):
        taken = console.post_form("/console/work/next", follow_redirects=False)
        assert taken.headers["location"] == f"/console/accounts/{account.id}"
        task = session.scalars(select(AgentTask).where(AgentTask.account_id == account.id)).one()
        done = console.post_form(f"/console/tasks/{task.id}/wrap-up", form, follow_redirects=False)
        assert done.status_code == 303, done.text
    page = console.get(f"/console/accounts/{promised.id}?lang=zh-CN").text
    assert "<td>进行中</td>" in page  # the promise
    assert "<td>已完成</td>" in page  # the task
    assert "<td>active</td>" not in page
    assert "<td>done</td>" not in page
    page = console.get(f"/console/accounts/{disputed.id}?lang=zh-CN").text
    assert "<td>不是本人的</td><td>处理中</td>" in page  # the dispute's reason and status
