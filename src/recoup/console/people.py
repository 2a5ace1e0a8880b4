"""A customer as staff see them: masked by default, revealed field by field for a stated reason.

The view is logged (`view`, masked) and a reveal goes through the same service as the API's
(`ledger.service.reveal`): on the audit ledger and on the data-access log the customer reads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from recoup.audit import service as audit_service
from recoup.console.base import StaffPage, page_for, read_form, redirect, render
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.identity.permissions import Permission as P
from recoup.kit.errors import ValidationFailed
from recoup.ledger import schemas as ledger_schemas
from recoup.ledger import service as ledger_service
from recoup.ledger.repository import AccountRepository

router = APIRouter(include_in_schema=False)

Reader = Annotated[StaffPage, Depends(page_for(P.customers_read))]
Revealer = Annotated[StaffPage, Depends(page_for(P.customers_reveal))]


@router.get("/console/customers/{customer_id}")
def customer(
    request: Request, customer_id: RowId, session: SessionDep, clock: ClockDep, staff: Reader
) -> Response:
    found = ledger_service.get_customer(session, customer_id)
    audit_service.log_access(
        session,
        customer_id=found.id,
        actor=staff.principal.actor,
        kind="view",
        fields=["name", "phones", "emails"],
        reason="console: customer page (masked)",
        clock=clock,
    )
    masked = ledger_schemas.Customer.masked(found)
    accounts = AccountRepository(session).open_of_customer(found.id)
    return render(request, staff, "customer.html", customer=masked, accounts=accounts)


@router.get("/console/find")
def find(staff: Reader, customer_id: Annotated[int, Query(ge=1, le=2**63 - 1)]) -> Response:
    """The home page's "open a customer" box."""
    return redirect(f"/console/customers/{customer_id}")


@router.post("/console/customers/{customer_id}/reveal")
async def reveal(
    request: Request, customer_id: RowId, session: SessionDep, clock: ClockDep, staff: Revealer
) -> Response:
    form = await read_form(request, staff)
    field = form.get("field", "")
    try:
        wanted = ledger_schemas.RevealRequest.model_validate(
            {"fields": [field], "reason": form.get("reason", "").strip()}
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise ValidationFailed(f"{where}: {problem['msg']}") from exc
    shown = ledger_service.reveal(
        session, customer_id, wanted, actor=staff.principal.actor, clock=clock
    )
    value = getattr(shown, field)
    values = value if isinstance(value, list) else [value]
    return render(
        request,
        staff,
        "_revealed.html" if request.headers.get("hx-request") == "true" else "revealed.html",
        customer_id=customer_id,
        field=field,
        values=[str(v) for v in values if v is not None],
    )
