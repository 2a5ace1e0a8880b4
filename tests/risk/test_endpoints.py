"""The API twins of the models desk: `GET /v1/risk-models`, `GET /v1/risk-models/{id}` (with its
performance over time), `POST /v1/risk-models/{id}/activate` (four eyes) and
`GET /v1/learning/arms`; an agent's session is refused."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.factories import shanghai
from tests.risk.seeding import add_arms, add_model, add_scores
from tests.risk.test_performance import D1, TODAY, portfolio
from tests.strategy.test_desk import PASSWORD, signed_in


@pytest.fixture
def world(session: Session, clock: SettableClock) -> dict[str, int]:
    a, b, c, d, e = portfolio(session, clock)
    clock.set(shanghai(TODAY, 10))
    for name, role in (("mei", Role.strategist), ("tao", Role.strategist), ("ana", Role.agent)):
        identity_service.create_staff(
            session, username=name, display_name=name, role=role, password=PASSWORD, clock=clock
        )
    model = add_model(session, clock, kind="p_pay", horizon_days=30, trained_by="staff:mei")
    add_scores(session, model, D1, {a: 0.9, b: 0.8, c: 0.7, d: 0.6, e: 0.5})
    add_arms(session, "cn-wallet-learning", "early", {("young", "sms"): [10.0, 30.0]})
    session.commit()
    return {"model": model.id}


def test_list_detail_and_four_eyes_activation(app: FastAPI, world: dict[str, int]) -> None:
    model_id = world["model"]
    tao = signed_in(app, "tao")
    listing = tao.get("/v1/risk-models")
    assert listing.status_code == 200, listing.text
    assert [m["id"] for m in listing.json()["items"]] == [model_id]
    detail = tao.get(f"/v1/risk-models/{model_id}")
    assert detail.status_code == 200
    body = detail.json()
    assert [d["as_of_date"] for d in body["days"]] == [D1.isoformat()]
    assert body["days"][0]["auc"] == pytest.approx(5 / 6)
    assert sum(b["n"] for b in body["reliability"]) == 5
    assert tao.get("/v1/risk-models/987654").status_code == 404

    mei = signed_in(app, "mei")
    refused = mei.post(f"/v1/risk-models/{model_id}/activate")
    assert refused.status_code == 403
    assert refused.json()["error"] == "four_eyes"
    activated = tao.post(f"/v1/risk-models/{model_id}/activate")
    assert activated.status_code == 200, activated.text
    assert (activated.json()["status"], activated.json()["activated_by"]) == ("active", "staff:tao")


def test_the_learning_arms(app: FastAPI, world: dict[str, int]) -> None:
    answer = signed_in(app, "tao").get("/v1/learning/arms")
    assert answer.status_code == 200, answer.text
    arms = answer.json()["arms"]
    assert [(a["arm"], a["reward"]["n"], a["reward"]["mean"]) for a in arms] == [("sms", 2, 20.0)]
    assert answer.json()["uplift"]["diff"] is None  # no decision has matured


def test_an_agent_is_refused(app: FastAPI, world: dict[str, int]) -> None:
    ana = signed_in(app, "ana")
    for path in ("/v1/risk-models", f"/v1/risk-models/{world['model']}", "/v1/learning/arms"):
        assert ana.get(path).status_code == 403, path
