"""Schemathesis against the OpenAPI description, deep: over a seeded database (customers, accounts,
bills, payments, arrangements, pauses, cases, contacts, in-app messages, agent tasks and calls made
through the real services), each operation called with the credentials its `security` declares
(an API key holding exactly the operation's scope, or a staff session of each role that holds the
permission; now and then a caller without it, or none), signed webhooks signed, path ids and body
references drawn from the seeded rows as often as from the generator. Every response is checked by
Schemathesis: no 5xx, a status the operation documents, the documented content type and headers,
and a body that fits the documented schema. Then the OpenAPI links (create, then read, change, act)
drive a stateful run.

The test counts, per operation, whether any call reached a 2xx, prints the coverage, and fails if
it falls below `COVERAGE_FLOOR` or if an operation outside `NO_2XX` never reaches a 2xx.

Removals it catches (each tried once): the unsubscribe routes' documented 401 (an undocumented
status); the handler turning FastAPI's bare 400 for a body that is not UTF-8 into a 422 (an
undocumented status); a signed callback's documented body (`request_body`: no delivery can be
valid, so no 2xx); the links on the routes (`links()` answering nothing: Schemathesis finds no
link to walk and the stateful run refuses to start).

Runs in about a minute and a half on two cores: `max_examples` per operation is small, Hypothesis
is derandomized and keeps no example database, and the stateful run is bounded in steps.

(Schemathesis' pytest plugin does not run under pytest 9 yet, so the operations are driven through
its Hypothesis strategies and state machine directly.)"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.generation.stateful.state_machine import StepOutput
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from recoup.agents import service as agent_service
from recoup.arrangements import flows as arrangement_flows
from recoup.cases import flows as case_flows
from recoup.channels import Accepted, Outgoing
from recoup.channels.sms import twilio_signature
from recoup.channels.whatsapp import signature as whatsapp_signature
from recoup.compliance import load_guard
from recoup.config import Settings
from recoup.contact import flows as contact_flows
from recoup.contact import service as contact_service
from recoup.contact.dispatch import DispatchConfig
from recoup.contact.templates import MessageTemplate
from recoup.delinquency import flows as delinquency_flows
from recoup.identity import service as identity_service
from recoup.identity.auth import SESSION_COOKIE
from recoup.identity.permissions import API_KEY_SCOPES, MATRIX, Permission, Role
from recoup.kit import signing
from recoup.kit.clock import SettableClock
from recoup.kit.ratelimit import RateLimiter
from recoup.kit.tokens import sign_token
from recoup.ledger import schemas as ledger_schemas
from recoup.ledger import service as ledger_service
from recoup.models import AgentTask, ContactPlan, CustomerPhone, PauseKind
from recoup.privacy import service as privacy_service
from recoup.quality import service as qa_service
from recoup.strategy import service as strategy_service
from tests.arrangements.test_flows import DAY0, POLICY, activate
from tests.conftest import WEBHOOK_SECRET
from tests.contact.test_dispatch import dispatcher, drain, spool
from tests.contact.test_replies import add_contact
from tests.factories import add_bill, create_account, create_customer, pay, shanghai
from tests.risk.seeding import add_arms, add_model, add_scores

PASSWORD = "correct horse battery staple"
TWILIO_TOKEN = "twilio-auth-token-0123456789"
GATEWAY_SECRET = "gateway-secret-0123456789"
EMAIL_SECRET = "email-inbound-secret-0123456789"
CALL_SECRET = "click-to-call-secret-0123"
POST_CALLBACK_SECRET = "post-callback-secret-fuzz"
WHATSAPP_SECRET = "meta-app-secret-fuzz"
WHATSAPP_VERIFY_TOKEN = "meta-verify-token-fuzz"
# The customer and account the OpenAPI examples name (`u-100234`, `bnpl-778812`).
EXAMPLE_CUSTOMER, EXAMPLE_ACCOUNT = "u-100234", "bnpl-778812"

PER_OPERATION = settings(
    max_examples=20,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # nothing raises in a call: nothing to shrink
    suppress_health_check=list(HealthCheck),
)
STATEFUL = settings(
    max_examples=30,
    stateful_step_count=10,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # nothing raises in a call: nothing to shrink
    suppress_health_check=list(HealthCheck),
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]

# Operations that never reach a 2xx here, and why. Empty: every operation does.
NO_2XX: dict[str, str] = {}
# Operations reaching a 2xx, out of all, as measured (docs/security.md); it may only rise.
COVERAGE_FLOOR = 111
# Operations reaching a 2xx in a step along a declared link (create, then read, change, act).
LINKED_FLOOR = 4

# Field values that make a generated body one the business accepts (a known product, a reason of
# the case's kind, a plan within the policy's bounds): put over about half the positive bodies, so
# the generator's own values still reach every validation.
FITTING: dict[str, dict[str, Any]] = {
    "POST /v1/customers": {
        "jurisdiction": "CN",
        "phones": [{"number": "+8613812345678"}],
        "emails": [{"address": "li.na@example.com"}],
        "addresses": [{"country": "CN", "city": "深圳"}],
        "timezones": [],
        "preferred_language": "zh-CN",
    },
    "POST /v1/accounts": {
        "product": "bnpl",
        "currency": "CNY",
        "opened_date": "2026-05-01",
        "closed_date": None,
        "status": "open",
        "collector": "creditor",
        "agency_ref": None,
    },
    "POST /v1/accounts/{account_id}/plan-quotes": {
        "instalments": 3,
        "monthly_budget_minor": 25_000,
        "monthly_income_minor": None,
    },
    "POST /v1/api-keys": {"expires_at": None, "scopes": ["accounts:read"]},
    # Both ends of a window or neither: a generated pair rarely agrees, so the operation could go a
    # whole run without a 2xx (seen once 107 operations shifted the generator's draws).
    "PUT /v1/customers/{customer_id}/preferences": {
        "quiet_from": "22:00",
        "quiet_to": "08:00",
        "preferred_from": None,
        "preferred_to": None,
    },
    # An administrator gives only a role whose every permission it holds itself (an auditor or
    # another administrator); any other role is proposed, for a second person's approval.
    "POST /v1/staff": {"role": "auditor", "password": "a-long-enough-password"},
    "POST /v1/api-keys/proposals": {"scopes": ["accounts:read"]},
    "POST /v1/accounts/{account_id}/pauses": {"start_date": "2026-06-21", "end_date": None},
    "POST /v1/accounts/{account_id}/pauses/{pause_id}/end": {"end_date": "2026-06-30"},
    "POST /v1/customers/{customer_id}/reveal": {"reason": "the debtor asked for a call back"},
    # The seed's active policy, again (saving a text stored already answers with its version).
    "POST /v1/policies": {"text": POLICY.replace("REAGE", "pause")},
    "POST /v1/customers/{customer_id}/consents": {
        "kind": "electronic",
        "channel": "sms",
        "scope": {},
        "evidence": "sms YES to message 7781",
        "expires_at": None,
    },
    "POST /v1/qa/samples": {"start": DAY0.isoformat(), "end": DAY0.isoformat(), "size": 5},
    "POST /v1/agent-tasks/{task_id}/wrap-up": {
        "outcome": "no_answer",
        "contact_id": None,
        "note": None,
        "call_at": None,
    },
    "POST /v1/agent-tasks/{task_id}/reassign": {"staff_id": None},
}
BY_KIND: dict[str, dict[str, dict[str, Any]]] = {
    "POST /v1/accounts/{account_id}/arrangements": {
        "promise": {"amount_minor": 10_000, "date": (DAY0 + dt.timedelta(days=2)).isoformat()},
        "extension": {"days": 10},
        "plan": {"instalments": 3, "monthly_budget_minor": 25_000, "monthly_income_minor": None},
        "settlement": {"amount_minor": 55_000},
    },
    "POST /v1/replies/{task_id}": {"action": "done"},
    "POST /v1/customers/{customer_id}/cases": {
        "dispute": {"reason": "wrong_amount", "account_ref": None},
        "hardship": {"reason": "job_loss", "account_ref": None},
        "complaint": {"reason": "rude", "account_ref": None},
    },
}


@dataclass
class World:
    """What the seed made: ids by path parameter, references by body field, credentials."""

    ids: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    # Ids an operation uses up (a settlement approved cannot be rejected): its own, by label.
    pools: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    pauses: list[tuple[int, int]] = field(default_factory=list)  # (account_id, pause_id)
    refs: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    keys: dict[str, str] = field(default_factory=dict)  # scope -> a key holding only it
    sessions: dict[Role, str] = field(default_factory=dict)  # role -> session cookie
    throwaway: list[str] = field(default_factory=list)  # cookies that signing out may end
    codes: list[tuple[str, str]] = field(default_factory=list)  # (username, set-password code)


class Dialer:
    """The click-to-call provider, accepting every call (the seed's calls are placed)."""

    name = "click-to-call"
    channel = "dial"
    concurrency = 1
    rate_per_second = None
    inline = True

    def send(self, message: Outgoing) -> Accepted:
        return Accepted(provider=self.name, provider_id=f"call-{message.idempotency_key}")

    def close(self) -> None:
        pass


def channels_file(tmp_path: Path, name: str, config: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """SMS through Twilio (whose token signs its callbacks) and click-to-call telephony."""
    path = channels_file(
        tmp_path,
        "twilio.yaml",
        {
            "sms": {
                "provider": "twilio",
                "account_sid": "AC" + "0" * 32,
                "auth_token": TWILIO_TOKEN,
                "from_number": "+861012345678",
            },
            "dial": {
                "provider": "click-to-call",
                "url": "http://127.0.0.1:9/calls",
                "secret": CALL_SECRET,
            },
            "letter": {
                "provider": "post",
                "url": "http://127.0.0.1:9",
                "api_key": "post-key-fuzz",
                "callback_secret": POST_CALLBACK_SECRET,
            },
            "whatsapp": {
                "provider": "whatsapp",
                "phone_number_id": "106540352242922",
                "access_token": "whatsapp-token-fuzz",
                "app_secret": WHATSAPP_SECRET,
                "verify_token": WHATSAPP_VERIFY_TOKEN,
                "template": "account_notice",
            },
        },
    )
    return settings.model_copy(update={"channels_file": path, "spool_dir": tmp_path / "spool"})


@pytest.fixture
def gateway_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The same deployment with its SMS through the generic gateway (whose secret signs replies)
    and its e-mail provider's inbound webhook signed with its own secret."""
    path = channels_file(
        tmp_path,
        "gateway.yaml",
        {
            "sms": {
                "provider": "http-sms",
                "url": "http://127.0.0.1:9/send",
                "secret": GATEWAY_SECRET,
            },
            "email": {
                "provider": "smtp",
                "host": "127.0.0.1",
                "port": 9,
                "sender": "billing@recoup.example",
                "inbound_secret": EMAIL_SECRET,
            },
        },
    )
    return settings.model_copy(update={"channels_file": path})


def sign_in(app: FastAPI, username: str) -> str:
    client = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
    response = client.post("/v1/auth/sessions", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.cookies[SESSION_COOKIE])


def seed(
    app: FastAPI,
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    settings: Settings,
    tmp_path: Path,
) -> World:
    """A small portfolio through the real services, as of 10:00 in Shanghai on DAY0."""
    world = World()
    clock.set(shanghai(DAY0, 10))
    activate(session, clock)  # a policy offering promises, extensions, plans and settlements
    example = ledger_service.create_customer(
        session,
        ledger_schemas.CustomerCreate(
            external_ref=EXAMPLE_CUSTOMER,
            name="李娜",
            jurisdiction="CN",
            phones=[ledger_schemas.PhoneIn(number="+8613812341234")],
            emails=[ledger_schemas.EmailIn(address="li.na@example.com")],
        ),
        clock=clock,
    )
    customers = [example] + [create_customer(session, clock) for _ in range(7)]
    accounts = []
    for n, customer in enumerate(customers):
        account = ledger_service.create_account(
            session,
            ledger_schemas.AccountCreate(
                external_ref=EXAMPLE_ACCOUNT if n == 0 else f"acc-fuzz-{n}",
                customer_ref=customer.external_ref,
                product="bnpl",
                currency="CNY",
                opened_date=dt.date(2026, 1, 1),
            ),
            clock=clock,
        )
        add_bill(session, clock, account, DAY0 - dt.timedelta(days=10), 28_000, interest=2_000)
        add_bill(session, clock, account, DAY0 + dt.timedelta(days=20), 28_000, interest=2_000)
        payment = pay(session, clock, account, 1_000, clock.now() - dt.timedelta(days=1))
        world.ids["payment_id"].append(payment.id)
        world.refs["payment_external_id"].append(payment.external_id)
        accounts.append(account)
    second = create_account(session, clock, customer=customers[1])
    add_bill(session, clock, second, DAY0 - dt.timedelta(days=40), 50_000)
    accounts.append(second)
    # Forty days late: offered a plan by the test policy and by the shipped ones alike (from 31
    # DPD), whichever is active when the quote is asked for; with every seeded account drawn, a
    # run could go without a 2xx once the generator's draws shifted (seen at 108 operations).
    world.pools["POST /v1/accounts/{account_id}/plan-quotes"] = {"account_id": [second.id]}
    for customer in customers:
        world.ids["customer_id"].append(customer.id)
        world.refs["customer_ref"].append(customer.external_ref)
    for account in accounts:
        world.ids["account_id"].append(account.id)
        world.refs["account_ref"].append(account.external_ref)

    # Settlements past the approval threshold, agreed by an agent: a supervisor approves or rejects.
    for n, account in enumerate(accounts[1:5]):
        deal = arrangement_flows.make(
            session, account, "settlement", amount_minor=40_000, made_by="staff:agent-0",
            channel="agent", clock=clock,
        )  # fmt: skip
        world.ids["arrangement_id"].append(deal.id)
        # The approve route runs first and the generator likes small ids: the lowest deal is
        # the one it may approve by chance, so the reject route's deals are the higher ones.
        verb = "reject" if n % 2 else "approve"
        label = f"POST /v1/arrangements/{{arrangement_id}}/{verb}"
        world.pools.setdefault(label, {"arrangement_id": []})["arrangement_id"].append(deal.id)
    promise = arrangement_flows.make(
        session, accounts[5], "promise", amount_minor=10_000, on=DAY0 + dt.timedelta(days=3),
        made_by="staff:agent-0", channel="agent", clock=clock,
    )  # fmt: skip
    world.ids["arrangement_id"].append(promise.id)
    # A new arrangement is refused on an account holding one (the settlements above, the promise)
    # or paused (below): drawn from every account, a run went without a 2xx once a new operation
    # shifted the generator's draws (seen at 112 operations). The three with none are its pool.
    world.pools["POST /v1/accounts/{account_id}/arrangements"] = {
        "account_id": [accounts[0].id, accounts[7].id, second.id]
    }
    pause = delinquency_flows.pause(
        session, accounts[6], start=DAY0, end=None, kind=PauseKind.other,
        reason="disaster relief", by="supervisor:wang", clock=clock,
    )  # fmt: skip
    world.pauses.append((accounts[6].id, pause.id))
    for customer in customers[4:]:
        case = case_flows.open_case(
            session, customer.id, kind="complaint", reason="rude", text=None, account_ref=None,
            opened_by="staff:agent-0", channel="agent", clock=clock,
        )  # fmt: skip
        world.ids["case_id"].append(case.id)
    # Policy versions for the desk: drafts to submit; versions another person (not the fuzzing
    # strategist) submitted, to approve or reject. Each is the active policy's text with a
    # comment, so an approval keeps the same rules in force for the operations that follow.
    for n in range(6):
        text = POLICY.replace("REAGE", "pause") + f"\n# variant {n}\n"
        version = strategy_service.save_draft(session, text, author="staff:lin", clock=clock)
        world.ids["version_id"].append(version.id)
        if n < 2:
            label = "POST /v1/policies/{version_id}/submit"
        else:
            strategy_service.submit(session, version.id, actor="staff:lin", clock=clock)
            label = f"POST /v1/policies/{{version_id}}/{'approve' if n % 2 else 'reject'}"
        world.pools.setdefault(label, {"version_id": []})["version_id"].append(version.id)
    # Free-text SMS replies nobody could classify: the replies inbox's tasks to handle.
    for customer in customers[2:5]:
        number = session.scalars(
            select(CustomerPhone.number).where(CustomerPhone.customer_id == customer.id)
        ).first()
        assert number is not None
        contact_flows.receive_sms(
            session, provider="twilio", provider_id=f"SMfuzz{customer.id}", from_number=number,
            body="下个月发工资再还可以吗", region="CN", clock=clock,
        )  # fmt: skip
    session.commit()
    world.pools["POST /v1/replies/{task_id}"] = {
        "task_id": list(session.scalars(select(AgentTask.id).where(AgentTask.queue == "replies")))
    }

    # Messages: an in-app reminder delivered to each of two debtors (their inbox), and calls.
    for account in accounts[:2]:
        add_contact(session, clock, account, channel="in_app", treatment="early_in_app")
    assert drain(dispatcher(sessions, clock, spool(tmp_path, "in_app", "sms")))["delivered"] == 2
    for account in accounts[:2]:
        for message in contact_service.inbox(session, account.customer_id, limit=10):
            world.ids["message_id"].append(message.id)
    # Dead letters a supervisor may put back in the outbox.
    retry = world.pools.setdefault("POST /v1/contacts/{contact_id}/retry", {"contact_id": []})
    for account in accounts[2:6]:
        dead = add_contact(
            session, clock, account, channel="email", treatment="early_email", status="failed"
        )
        session.flush()
        retry["contact_id"].append(dead.id)
    # Letters the printer accepted, whose statuses it reports.
    for number, account in enumerate(accounts[6:8]):
        letter = add_contact(
            session, clock, account, channel="letter", treatment="late_letter", status="sent",
            provider="post", provider_id=f"L-fuzz-{number}",
        )  # fmt: skip
        world.refs["letter_id"].append(letter.provider_id)
    session.commit()
    agent_service.open_tasks(
        session,
        [
            {
                "account_id": account.id,
                "as_of_date": DAY0,
                "queue": "mid_late",
                "priority": 1.0,
                "source": None,  # a policy queue's task, as the daily run opens them
                "subject_id": None,
                "created_at": clock.now(),
            }
            for account in accounts
        ],
    )
    session.commit()
    world.ids["task_id"] = list(
        session.scalars(
            select(AgentTask.id)
            .where(AgentTask.account_id.in_([a.id for a in accounts]))
            .order_by(AgentTask.id)
        )
    )
    config = DispatchConfig.from_settings(settings, "api")
    for task_id in world.ids["task_id"][:3]:
        call = contact_flows.dial(
            session, task_id, agent="8021", actor="staff:agent-0", clock=clock, config=config,
            guard=load_guard(), channels=["dial", "sms", "in_app"],
        )  # fmt: skip
        world.ids["contact_id"].append(call.id)
    session.commit()
    drain(dispatcher(sessions, clock, {"dial": Dialer()}))
    session.expire_all()
    for contact_id in world.ids["contact_id"]:
        placed = session.get(ContactPlan, contact_id)
        assert placed is not None
        if placed.provider_id:
            world.refs["call_id"].append(placed.provider_id)
    assert world.refs["call_id"], "no seeded call was placed"
    world.ids["contact_id"] += list(
        session.scalars(select(ContactPlan.id).where(ContactPlan.channel == "in_app"))
    )
    for customer in customers:
        world.ids["token"].append(
            sign_token(
                settings.link_signing_keys[0],
                {"k": "unsubscribe", "c": customer.id, "ch": "email", "a": None, "n": 1},
                expires_at=clock.now() + dt.timedelta(days=30),
            )
        )

    # Consents (a pair of customer and consent in each withdrawing operation's pools, so the
    # path names the consent's own customer) and a QA sample of what went out today.
    consent = privacy_service.record_consent(
        session, customers[0].id, purpose="electronic", channel="sms",
        evidence="sms YES 7781", source="api", clock=clock,
    )  # fmt: skip
    for label in (
        "POST /v1/customers/{customer_id}/consents/{consent_id}/withdraw",
        "DELETE /v1/customers/{customer_id}/consents/{consent_id}",
    ):
        world.pools[label] = {"customer_id": [customers[0].id], "consent_id": [consent.id]}
    sample = qa_service.draw_sample(
        session, start=DAY0, end=DAY0, size=50, seed=1, actor="staff:fuzz", clock=clock
    )
    world.ids["sample_id"].append(sample.id)
    world.ids["review_id"] += [r.id for r in qa_service.get_sample(session, sample.id)[1]]
    assert world.ids["review_id"], "nothing went out to sample"
    # Template versions by a person who is none of the fuzzing staff: drafts to submit, submitted
    # versions to approve (their author may not: four eyes).
    text = (
        "{{ creditor_name }}: Hi {{ first_name }}, {{ overdue_minor|money(currency) }} is late. "
        "Pay or choose a plan: {{ pay_link }} {{ opt_out }}"
    )
    template = MessageTemplate("early_reminder", "sms", "en", "gentle", text)
    for n in range(6):
        version = contact_service.save(session, template, author="staff:lin", clock=clock)
        world.ids["version_id"].append(version.id)
        verb = "submit" if n % 2 else "approve"
        if verb == "approve":
            contact_service.submit(session, version.id, actor="staff:lin", clock=clock)
        label = f"POST /v1/templates/{{version_id}}/{verb}"
        world.pools.setdefault(label, {"version_id": []})["version_id"].append(version.id)
    # Risk models trained by a person who is none of the fuzzing staff (the trainer may not
    # activate: four eyes), one scored on a day whose horizon has passed; a learning arm.
    for kind in ("p_pay", "p_roll", "p_pay"):
        model = add_model(session, clock, kind=kind, horizon_days=7, trained_by="staff:lin")
        world.ids["model_id"].append(model.id)
    add_scores(
        session,
        model,
        DAY0 - dt.timedelta(days=20),
        {a.id: 0.1 * (n + 1) for n, a in enumerate(accounts[:5])},
    )
    world.pools["POST /v1/risk-models/{model_id}/activate"] = {
        "model_id": world.ids["model_id"][:2]
    }
    add_arms(session, "cn-wallet-learning", "early", {("young", "sms"): [100.0, 300.0]})
    session.commit()

    # Credentials: a key per scope, staff of every role (and throwaway sessions to sign out).
    for scope in sorted(API_KEY_SCOPES):
        key, _ = identity_service.create_api_key(
            session, name=f"fuzz {scope}", scopes=[scope], created_by="tests", clock=clock
        )
        world.keys[str(scope)] = key
    for n in range(3):  # keys the fuzzer may revoke
        _, row = identity_service.create_api_key(
            session,
            name=f"spare {n}",
            scopes=[Permission.accounts_read],
            created_by="t",
            clock=clock,
        )
        world.ids["key_id"].append(row.id)
    staff = {}
    for role in Role:
        staff[role] = identity_service.create_staff(
            session, username=f"fuzz-{role}", display_name=str(role), role=role,
            password=PASSWORD, clock=clock,
        )  # fmt: skip
    identity_service.create_staff(
        session, username="chen.gang", display_name="陈刚", role=Role.agent,
        password=PASSWORD, clock=clock,
    )  # fmt: skip
    # Four eyes: proposals by an administrator who is not the fuzzer's, for it to approve or
    # refuse; staff it may disable and enable (never one it signs in as); set-password codes.
    other = identity_service.staff_principal(
        identity_service.create_staff(
            session,
            username="other-admin",
            display_name="other",
            role=Role.administrator,
            password=PASSWORD,
            clock=clock,
        )
    )
    for verb in ("approve", "refuse"):
        label = f"POST /v1/proposals/{{proposal_id}}/{verb}"
        for n in range(4):
            proposal = (
                identity_service.propose_staff(
                    session,
                    username=f"proposed-{verb}-{n}",
                    display_name="proposed",
                    role=Role.agent,
                    proposer=other,
                    clock=clock,
                )
                if n % 2
                else identity_service.propose_api_key(
                    session,
                    name=f"proposed {verb} {n}",
                    scopes=[Permission.accounts_read],
                    proposer=other,
                    clock=clock,
                )
            )
            world.ids["proposal_id"].append(proposal.id)
            world.pools.setdefault(label, {"proposal_id": []})["proposal_id"].append(proposal.id)
    for n in range(3):
        spare = identity_service.create_staff(
            session, username=f"spare-{n}", display_name="spare", role=Role.agent,
            password=PASSWORD, clock=clock,
        )  # fmt: skip
        world.ids["staff_id"].append(spare.id)
        code, _ = identity_service.issue_password_code(session, spare, actor="t", clock=clock)
        world.codes.append((spare.username, code))
    # The agent and the supervisor each hold an account: one to wrap up, one to let go; the
    # supervisor reassigns the others.
    held = {}
    for role in (Role.agent, Role.supervisor):
        taken = agent_service.take_next(
            session, staff[role].id, DAY0, clock.now(), actor=f"staff:fuzz-{role}"
        )
        assert taken.task is not None
        held[role] = [t.id for t in taken.tasks]
    world.pools["POST /v1/agent-tasks/{task_id}/wrap-up"] = {"task_id": held[Role.agent]}
    world.pools["POST /v1/agent-tasks/{task_id}/release"] = {"task_id": held[Role.supervisor]}
    world.pools["POST /v1/agent-tasks/{task_id}/reassign"] = {
        "task_id": [
            t for t in world.ids["task_id"] if t not in held[Role.agent] + held[Role.supervisor]
        ]
    }
    session.commit()
    for role in Role:
        world.sessions[role] = sign_in(app, f"fuzz-{role}")
    world.throwaway = [sign_in(app, "fuzz-agent") for _ in range(2)]
    clock.advance(dt.timedelta(minutes=2))  # the sign-in limiter's minute has passed
    return world


def linked_operations(raw: dict[str, Any]) -> set[str]:
    """Labels of the operations that declare links, and of those the links lead to."""
    found: set[str] = set()
    for path, methods in raw["paths"].items():
        for method, operation in methods.items():
            for response in operation.get("responses", {}).values():
                for target in response.get("links", {}).values():
                    found.add(f"{method.upper()} {path}")
                    _, _, pointer = target["operationRef"].partition("#/paths/")
                    where, _, verb = pointer.rpartition("/")
                    where = where.replace("%7B", "{").replace("%7D", "}")
                    found.add(f"{verb.upper()} {where.replace('~1', '/').replace('~0', '~')}")
    return found


def is_negative_at(case: schemathesis.Case, *locations: str) -> bool:
    """Whether the generator made this case invalid in one of these places."""
    return case.meta is not None and any(
        case.meta.is_negative_at(ParameterLocation(location)) for location in locations
    )


class Caller:
    """Calls one case as the right caller, validates the answer, and counts 2xx per operation."""

    def __init__(
        self,
        app: FastAPI,
        world: World,
        clock: SettableClock,
        settings: Settings,
        gateway_settings: Settings,
    ) -> None:
        self.app = app
        self.world = world
        self.clock = clock
        self.settings = settings
        self.gateway_settings = gateway_settings
        self.reached: set[str] = set()
        self.phase = "per operation"
        self.reached_in: dict[str, set[str]] = defaultdict(set)
        self.linked_steps = 0
        self.statuses: dict[str, set[int]] = defaultdict(set)
        self.failures: dict[str, str] = {}  # operation -> its first failure

    # -- data ------------------------------------------------------------------------------

    def substitute(self, case: schemathesis.Case, rng: random.Random, *, ids: bool) -> None:
        """Seeded ids in the path and seeded references in the body, about two times in three."""
        path = case.path_parameters or {}
        if ids:
            if "pause_id" in path and rng.random() < 0.7:
                path["account_id"], path["pause_id"] = rng.choice(self.world.pauses)
            pools = self.world.pools.get(case.operation.label, {})
            for name in list(path):
                pool = pools.get(name) or self.world.ids.get(name)
                if pool and name != "pause_id" and rng.random() < 0.7:
                    path[name] = rng.choice(pool)
        if "key_id" in path and path["key_id"] not in self.world.ids["key_id"]:
            path["key_id"] = 10**12  # never a key the fuzzer itself authenticates with
        if "staff_id" in path and path["staff_id"] not in self.world.ids["staff_id"]:
            path["staff_id"] = 10**12  # never a user the fuzzer signs in as (disabling ends it)
        body = case.body
        label = case.operation.label
        if label == "GET /v1/channels/whatsapp/status" and rng.random() < 0.6:
            # Meta's subscription check, as Meta sends it (the challenge stays the generator's).
            case.query = {
                **(case.query or {}),
                "hub.mode": "subscribe",
                "hub.verify_token": WHATSAPP_VERIFY_TOKEN,
            }
        if isinstance(body, dict) and rng.random() < 0.6:
            body.update(FITTING.get(label, {}))
            kind = body.get("kind")
            if isinstance(kind, str):
                body.update(BY_KIND.get(label, {}).get(kind, {}))
        if isinstance(body, dict):
            for name, values in self.world.refs.items():
                if name in body and rng.random() < 0.7:
                    body[name] = rng.choice(values)
            if "currency" in body and rng.random() < 0.7:
                body["currency"] = "CNY"
            if isinstance(body.get("payment"), dict) and rng.random() < 0.7:
                body["payment"]["account_ref"] = rng.choice(self.world.refs["account_ref"])
                body["payment"]["currency"] = "CNY"
            if case.operation.label == "POST /v1/auth/sessions" and rng.random() < 0.7:
                body.update(username="chen.gang", password=PASSWORD)
            if case.operation.label == "POST /v1/auth/password" and rng.random() < 0.7:
                username, code = rng.choice(self.world.codes)
                body.update(username=username, code=code)
            if (
                case.operation.label == "POST /v1/channels/click-to-call/status"
                and rng.random() < 0.7
            ):
                body["id"] = rng.choice(self.world.refs["call_id"])
            if case.operation.label == "POST /v1/channels/post/status" and rng.random() < 0.7:
                body["id"] = rng.choice(self.world.refs["letter_id"])

    # -- credentials -----------------------------------------------------------------------

    def credentials(
        self, case: schemathesis.Case, rng: random.Random
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and cookies for the operation's declared `security`: mostly a caller holding
        the permission; one call in eight a caller without it or none."""
        declared = case.operation.definition.raw.get("security") or []
        # The generator fills declared credentials with made-up values: ours replace them.
        for container, name in ((case.headers, "Authorization"), (case.cookies, SESSION_COOKIE)):
            if container:
                for key in [k for k in container if k.lower() == name.lower()]:
                    del container[key]
        if case.operation.label == "DELETE /v1/auth/sessions/current":
            return {}, {SESSION_COOKIE: rng.choice(self.world.throwaway)}
        if not declared:
            return {}, {}
        schemes = {name: scopes for entry in declared for name, scopes in entry.items()}
        wanted = {Permission(s) for scopes in schemes.values() for s in scopes}
        holders: list[tuple[dict[str, str], dict[str, str]]] = []
        others: list[tuple[dict[str, str], dict[str, str]]] = [({}, {})]
        for scope, key in self.world.keys.items():
            entry = ({"Authorization": f"Bearer {key}"}, {})
            if "apiKey" in schemes and (not wanted or Permission(scope) in wanted):
                holders.append(entry)
            else:
                others.append(entry)
        for role, cookie in self.world.sessions.items():
            entry = ({}, {SESSION_COOKIE: cookie})
            if "staffSession" in schemes and wanted <= MATRIX[role]:
                holders.append(entry)
            else:
                others.append(entry)
        assert holders, f"{case.operation.label}: no seeded caller holds {wanted}"
        return rng.choice(others if rng.random() < 0.125 else holders)

    def sign(self, case: schemathesis.Case) -> dict[str, str]:
        """Signed callbacks: the body as bytes, signed as the provider signs it."""
        label = case.operation.label
        if label in ("POST /v1/channels/twilio/inbound", "POST /v1/channels/twilio/status"):
            form = (
                {str(k): str(v) for k, v in (case.body or {}).items()}
                if isinstance(case.body, dict)
                else {}
            )
            case.body = urlencode(form).encode()
            url = self.settings.public_url.rstrip("/") + case.formatted_path
            return {
                "X-Twilio-Signature": twilio_signature(url, form, TWILIO_TOKEN),
                "Content-Type": "application/x-www-form-urlencoded",
            }
        if label == "POST /v1/channels/whatsapp/status":
            body = case.body if isinstance(case.body, dict | list | str | int | float) else None
            case.body = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
            return {
                "X-Hub-Signature-256": whatsapp_signature(case.body, WHATSAPP_SECRET),
                "Content-Type": "application/json",
            }
        secrets = {
            "POST /v1/webhooks/wallet/payments": WEBHOOK_SECRET,
            "POST /v1/channels/sms/inbound": GATEWAY_SECRET,
            "POST /v1/channels/email/inbound": EMAIL_SECRET,
            "POST /v1/channels/click-to-call/status": CALL_SECRET,
            "POST /v1/channels/post/status": POST_CALLBACK_SECRET,
        }
        if label not in secrets:
            return {}
        if not isinstance(case.body, bytes):  # no documented body: an empty one, signed
            body = case.body if isinstance(case.body, dict | list | str | int | float) else None
            case.body = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        timestamp = int(self.clock.now().timestamp())
        return {
            "X-Recoup-Timestamp": str(timestamp),
            "X-Recoup-Signature": signing.sign(secrets[label].encode(), timestamp, case.body),
            "Content-Type": "application/json",
        }

    # -- the call --------------------------------------------------------------------------

    def call(self, case: schemathesis.Case, rng: random.Random, *, ids: bool = True) -> Any:
        label = case.operation.label
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        if not negative:  # an invalid input stays invalid: Schemathesis checks it is refused
            self.substitute(case, rng, ids=ids)
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        if not (negative and is_negative_at(case, "header", "cookie")):
            headers, cookies = self.credentials(case, rng)
        if not (negative and is_negative_at(case, "header")):  # else the signature is what is wrong
            headers.update(self.sign(case))
        gateway = label in ("POST /v1/channels/sms/inbound", "POST /v1/channels/email/inbound")
        self.app.state.settings = self.gateway_settings if gateway else self.settings
        try:
            response = case.call(headers=headers, cookies=cookies)
        except Exception as exc:  # an exception the app did not turn into an answer: a 500
            self.failures.setdefault(label, f"unhandled {exc!r}: {case.as_curl_command()}")
            return None
        self.statuses[label].add(response.status_code)
        if 200 <= response.status_code < 300:
            self.reached.add(label)
            self.reached_in[self.phase].add(label)
        try:
            signed = any(
                name in headers
                for name in ("X-Recoup-Signature", "X-Twilio-Signature", "X-Hub-Signature-256")
            )
            # A signed body is rewritten as the bytes that were signed, which Schemathesis' record
            # of what it made invalid does not follow: there, only the other checks apply.
            checks = [c for c in CHECKS if not (signed and c is negative_data_rejection)]
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as exc:
            self.failures.setdefault(label, str(exc)[:1500])
        return response


@pytest.fixture
def schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_reaches_a_2xx_and_answers_as_documented(
    app: FastAPI,
    connection: Connection,
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    settings: Settings,
    gateway_settings: Settings,
    tmp_path: Path,
    schema: Any,
) -> None:
    world = seed(app, session, sessions, clock, settings, tmp_path)
    caller = Caller(app, world, clock, settings, gateway_settings)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}

    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @PER_OPERATION
        @given(case=strategy, seed=st.integers(0, 2**32))
        def exercise(case: schemathesis.Case, seed: int) -> None:
            caller.call(case, random.Random(seed))

        exercise()

    # The stateful run walks the routes' own links: the operations that declare links and those
    # they lead to (the rest had their turn above), without links Schemathesis would infer.
    linked = linked_operations(schema.raw_schema)
    stateful = schema.include(name=sorted(linked))
    stateful.config.phases.stateful.inference.algorithms = []

    class Machine(stateful.as_state_machine()):  # type: ignore[misc]
        """Each scenario starts from the same state (the seeded database, a fresh sign-in limiter,
        the same random stream), so Hypothesis can replay it."""

        def setup(self) -> None:
            self.rng = random.Random(17)
            self.savepoint = connection.begin_nested()
            app.state.sign_in_limiter = RateLimiter(
                limit=10, window=dt.timedelta(minutes=1), clock=clock
            )

        def teardown(self) -> None:
            self.savepoint.rollback()

        def step(self, input: Any) -> Any:
            # A step along a link the routes declare (not one Schemathesis inferred), applied.
            declared = input.transition is not None and not input.transition.is_inferred
            caller.phase = "link" if declared and input.is_applied else "stateful"
            caller.linked_steps += caller.phase == "link"
            response = caller.call(input.case, self.rng, ids=input.transition is None)
            return StepOutput(response, input.case) if response is not None else None

    caller.phase = "stateful"
    run_state_machine_as_test(Machine, settings=STATEFUL)

    missing = sorted(labels - caller.reached)
    print(
        f"\nSchemathesis coverage: {len(caller.reached)} of {len(labels)} operations reached a 2xx"
    )
    print(
        f"  per operation: {len(caller.reached_in['per operation'])}; stateful: "
        f"{len(caller.reached_in['stateful'] | caller.reached_in['link'])}; "
        f"{caller.linked_steps} steps along declared links, reaching a 2xx in "
        f"{len(caller.reached_in['link'])}: {', '.join(sorted(caller.reached_in['link']))}"
    )
    for label in sorted(caller.reached - caller.reached_in["per operation"]):
        print(f"  a 2xx only in the stateful run: {label}")
    for label in missing:
        print(f"  no 2xx: {label} {sorted(caller.statuses[label])} {NO_2XX.get(label, '?')}")
    assert caller.failures == {}, f"failures in {sorted(caller.failures)}:\n\n" + "\n\n".join(
        f"{label}: {failure}" for label, failure in sorted(caller.failures.items())[:5]
    )
    assert [label for label in missing if label not in NO_2XX] == []
    assert len(caller.reached) >= COVERAGE_FLOOR
    assert len(caller.reached_in["link"]) >= LINKED_FLOOR


@pytest.mark.parametrize("size", [2_000_000])
def test_an_oversized_body_is_refused_with_a_4xx(
    app: FastAPI, integration_key: str, size: int
) -> None:
    with TestClient(app, raise_server_exceptions=False, base_url="https://testserver") as client:
        body = b'{"external_ref": "' + b"x" * size + b'"}'
        response = client.post(
            "/v1/customers",
            content=body,
            headers={
                "Authorization": f"Bearer {integration_key}",
                "Content-Type": "application/json",
            },
        )
        assert 400 <= response.status_code < 500
