"""The automated decisions about a debtor, as their "my data" page shows them (PIPL art. 24:
transparency of automated decision-making; art. 45: access): per open account (its product's
kind), the latest scores with their reasons in words, the strategy's latest decision (what it
chose and why, the channel of the contact it planned, whether a learner or an experiment chose),
and the reviews the debtor asked a person for.

The policy's own identifiers (stage, treatment, experiment, arm) are kept here for staff and the
export; the page words what they mean, and a support agent finds the decision by the account and
its day (one decision per account a day), which the page shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from recoup.models import Case, CaseKind, StrategyDecision
from recoup.privacy import repository as repo
from recoup.risk import reasons
from recoup.risk import service as risk_service

MAX_REASONS = 5  # the top reasons of a score, as the model ranked them


@dataclass(frozen=True)
class Score:
    kind: str  # p_pay (chance of paying) or p_roll (chance of falling further behind)
    as_of: dt.date
    score: float
    reasons: list[str]  # in the page's language


@dataclass(frozen=True)
class Decision:
    as_of: dt.date
    decision: str  # contact, wait, pause, holdout, none
    stage: str | None
    treatment: str | None
    pause_reason: str | None
    segment: str | None
    experiment: str | None  # an experiment's random assignment (with `arm`)
    arm: str | None
    learned_arm: str | None = None  # the arm a learning stage chose, when one did
    channel: str | None = None  # the channel of the contact the decision planned, if one was


@dataclass(frozen=True)
class AccountDecisions:
    account_id: int
    reference: str
    product_kind: str | None = None  # bnpl, credit_line... (the product's kind, not its code)
    scores: list[Score] = field(default_factory=list)
    decision: Decision | None = None
    reviews: list[Case] = field(default_factory=list)  # the debtor's review cases, newest first

    @property
    def review_open(self) -> Case | None:
        return next((c for c in self.reviews if c.status == "open"), None)


def automated_decisions(
    session: Session, customer_id: int, *, language: str
) -> list[AccountDecisions]:
    """Per open account of the customer, what automated means decided about it, reasons in
    `language` (the reason catalogue's: en, zh-CN, zh-TW; any other reads en)."""
    words_in = language if language in reasons.LANGUAGES else "en"
    accounts = [a for a in repo.accounts_of(session, customer_id) if a.status == "open"]
    ids = [a.id for a in accounts]
    if not ids:
        return []
    decisions = {d.account_id: d for d in repo.latest_decisions(session, ids)}
    channels = repo.planned_channels(session, list(decisions.values()))
    kinds = repo.product_kinds(session, sorted({a.product_code for a in accounts}))
    scores = {
        account.id: [
            Score(
                e.kind,
                e.as_of_date,
                e.score,
                [
                    reasons.words(r["code"], r.get("value"), words_in, currency=account.currency)
                    for r in e.reasons[:MAX_REASONS]
                ],
            )
            for e in risk_service.explain(session, account.id)
        ]
        for account in accounts
    }
    reviews = [c for c in repo.cases_of(session, customer_id) if c.kind == CaseKind.review]
    out = []
    for account in accounts:
        d = decisions.get(account.id)
        out.append(
            AccountDecisions(
                account_id=account.id,
                reference=account.external_ref,
                product_kind=kinds.get(account.product_code),
                scores=scores.get(account.id, []),
                decision=Decision(
                    d.as_of_date,
                    d.decision,
                    d.stage,
                    d.treatment,
                    d.pause_reason,
                    d.segment,
                    d.experiment,
                    d.arm,
                    _learned_arm(d),
                    channels.get((d.account_id, d.as_of_date, d.treatment or "")),
                )
                if d is not None
                else None,
                reviews=sorted(
                    (c for c in reviews if c.account_id in (None, account.id)),
                    key=lambda c: c.id,
                    reverse=True,
                ),
            )
        )
    return out


def _learned_arm(decision: StrategyDecision) -> str | None:
    """The learner's arm from the decision's explanation (`learning`, a dict with `arm`), when a
    learning stage chose the treatment."""
    learning = decision.learning
    if isinstance(learning, dict) and learning.get("arm"):
        return str(learning["arm"])
    return None
