"""The risk models' registry as a service: activation with four eyes (whoever trained a model
never activates it, whatever the entry point), the kind's active model retired, every step on the
audit ledger. Stateless functions, session first; never commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, Forbidden
from recoup.models import RiskModel
from recoup.risk import repository as repo
from recoup.risk.performance import RiskModelNotFound


class WrongStatus(Conflict):
    code = "model_status"
    description = "The model is not in a status that allows this step"


class FourEyes(Forbidden):
    code = "four_eyes"
    description = "A model is activated by someone other than the person who trained it"


def activate(session: Session, model_id: int, *, actor: str, clock: Clock) -> RiskModel:
    """The daily run scores with this model from its next run; the kind's active model is
    retired. Refused for the person who trained it (four eyes) and for a model not `trained`."""
    model = repo.get_model(session, model_id)
    if model is None:
        raise RiskModelNotFound(f"no risk model {model_id}")
    if model.trained_by == actor:
        raise FourEyes("the person who trained a model does not activate it: another one does")
    if model.status != "trained":
        raise WrongStatus(f"model {model_id} is {model.status}, not trained")
    now = clock.now()
    for other in repo.active_models(session, model.kind):
        other.status = "retired"
        audit_service.record(
            session,
            actor=actor,
            action="risk_model.retired",
            subject_type="risk_model",
            subject_id=other.id,
            clock=clock,
            details={"kind": other.kind, "version": other.version, "replaced_by": model.id},
        )
    model.status = "active"
    model.activated_at = now
    model.activated_by = actor
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="risk_model.activated",
        subject_type="risk_model",
        subject_id=model.id,
        clock=clock,
        details={
            "kind": model.kind,
            "version": model.version,
            "trained_by": model.trained_by,
            "cv_auc": (model.metrics or {}).get("cv_auc"),
        },
    )
    return model
