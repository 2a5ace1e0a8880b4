"""REST: a customer's autopay mandates, for staff and integrators (read only: a mandate is set up
and cancelled by the debtor in the portal, or at the wallet)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from recoup.autopay import schemas
from recoup.autopay import service as autopay_service
from recoup.http.deps import SessionDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import ValidationFailed

P = Permission
router = APIRouter(prefix="/v1/autopay", tags=["autopay"], responses=AUTHENTICATED)


@router.get(
    "/mandates",
    response_model=list[schemas.Mandate],
    summary="A customer's autopay mandates",
    responses=responses(ValidationFailed),
)
def mandates(
    session: SessionDep,
    customer_id: int = Query(ge=1, le=2**63 - 1, description="Recoup's id of the customer"),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=100_000),
    _: Principal = require(P.arrangements_read),
) -> list[schemas.Mandate]:
    """Newest first, every state; empty for a customer with none (or no such customer)."""
    found = autopay_service.mandates_of(session, customer_id, limit=limit, offset=offset)
    return [schemas.Mandate.model_validate(m) for m in found]
