"""The offers the active policy makes an account now (what the portal and the API may propose)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from recoup.kit import frames
from recoup.kit.clock import Clock
from recoup.strategy import kernel
from recoup.strategy import repository as repo
from recoup.strategy.policy import Offer
from recoup.strategy.repository import PolicyVersionRepository
from recoup.strategy.service.facts import business_days, facts, with_history
from recoup.strategy.service.versions import compiled


def offers(session: Session, account_id: int, *, clock: Clock) -> list[Offer]:
    """The offers the active policy makes this account now (the first of each kind whose
    condition holds, none while a pause holds): what the portal and the API may propose."""
    return offers_many(session, [account_id], clock=clock).get(account_id, [])


def offers_many(
    session: Session, account_ids: Collection[int], *, clock: Clock
) -> dict[int, list[Offer]]:
    """`offers` for several accounts at once (account → its offers; an account with none, or
    without a delinquency state, is absent)."""
    version = PolicyVersionRepository(session).active()
    if version is None or not account_ids:
        return {}
    policy = compiled(version)
    if not policy.offers:
        return {}
    out: dict[int, list[Offer]] = {}
    with frames.small_reads(session):
        state = repo.base_facts(session, account_ids)
        today = business_days(session, state, clock.now())
        for (as_of,), group in today.group_by("today"):
            ids = group["account_id"].to_list()
            f = facts(session, as_of, ids)
            if f.height == 0:
                continue
            f = with_history(session, f, kernel.stages(policy, f), as_of, ids)
            held = f.select(
                "account_id",
                *(o.when.fill_null(False).alias(f"offer_{i}") for i, o in enumerate(policy.offers)),
            )
            allowed = dict(kernel.offers(policy, f).iter_rows())
            for account_id, *holds in held.iter_rows():
                kinds = set(allowed.get(account_id) or ())
                chosen: dict[str, Offer] = {}  # the first of each kind
                for offer, holding in zip(policy.offers, holds, strict=True):
                    if holding and offer.kind in kinds:
                        chosen.setdefault(offer.kind, offer)
                if chosen:
                    out[account_id] = list(chosen.values())
    return out
