"""The FastAPI application: routers from each domain, one error renderer, state set at startup."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import Engine

from recoup import __version__
from recoup.analytics.endpoints import router as analytics_router
from recoup.arrangements.endpoints import router as arrangements_router
from recoup.assistant.endpoints import router as assistant_router
from recoup.autopay.endpoints import router as autopay_router
from recoup.bootstrap import install_keys, load_audit_signer
from recoup.cases.endpoints import router as cases_router
from recoup.config import Settings
from recoup.console.base import FORM_BYTES as CONSOLE_BODY_LIMIT
from recoup.console.install import install as install_console
from recoup.contact.endpoints import router as contact_router
from recoup.delinquency.endpoints import router as delinquency_router
from recoup.http.deps import known_query_only
from recoup.http.errors import error_response, install_error_handlers
from recoup.http.limits import DEFAULT_BODY_LIMIT, BodyLimit
from recoup.http.webhooks import WEBHOOK_BODY_LIMIT
from recoup.identity.endpoints import router as identity_router
from recoup.ingest.endpoints import router as webhook_router
from recoup.kit.clock import Clock, SystemClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.kit.errors import ValidationFailed
from recoup.kit.logging import get_logger, loggable_path
from recoup.kit.ratelimit import RateLimiter
from recoup.kit.tokens import canonical_token
from recoup.ledger.endpoints import router as ledger_router
from recoup.privacy.endpoints import router as privacy_router
from recoup.quality.endpoints import router as quality_router
from recoup.risk.endpoints import router as risk_router
from recoup.sandbox.wallet import router as sandbox_wallet_router
from recoup.strategy.endpoints import router as strategy_router
from recoup.web.autopay import router as autopay_portal_router
from recoup.web.chat import router as chat_router
from recoup.web.heard import router as heard_router
from recoup.web.learn import router as learn_router
from recoup.web.portal import router as portal_router
from recoup.web.portal import static_files
from recoup.web.selfservice import router as selfservice_router
from recoup.web.unsubscribe import router as unsubscribe_router
from recoup.workbench.endpoints import router as workbench_router

log = get_logger(__name__)
API = [Depends(known_query_only)]

DESCRIPTION = """
Recoup's REST API for wallets and lenders: send customers, accounts, bills and payments; read
delinquency. Writes accept an `Idempotency-Key` header: a repeat of the same request returns the first
answer and changes nothing. Amounts are integers in minor units (fen, cents) with an ISO 4217 code;
times are ISO 8601 with an offset. Personal data comes back masked.
"""


PORTAL_POSTS_PER_MINUTE = 60
# A portal form is a few short fields (`recoup.web.portal.read_form` takes 40 of 4,000 characters).
PORTAL_BODY_LIMIT = 64 * 1024


def _portal_wait(request: Request) -> dt.timedelta | None:
    """How long a link that has posted too much must wait (None: go ahead). Counted per link in
    its one canonical spelling: a token written another way is not a new link (and is refused by
    the page anyway), so every spelling that is not canonical shares one count."""
    if request.method != "POST" or not request.url.path.startswith("/p/"):
        return None
    token = canonical_token(request.url.path.split("/")[2]) or "not a canonical token"
    limiter: RateLimiter = request.app.state.portal_limiter
    return limiter.hit(hashlib.sha256(token.encode()).hexdigest()[:32])


# Bodies: 1 MiB by default (`recoup.http.limits`); the signed webhooks and the portal's forms take
# far less. No route takes more: imports are files given to `recoup import`, not request bodies.
BODY_LIMITS = {
    "/v1/webhooks/": WEBHOOK_BODY_LIMIT,
    "/v1/channels/": WEBHOOK_BODY_LIMIT,
    "/p/": PORTAL_BODY_LIMIT,
    "/v1/unsubscribe/": PORTAL_BODY_LIMIT,
    "/console/": CONSOLE_BODY_LIMIT,
}


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or Settings()
    engine = engine or make_engine(
        settings.database_url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    install_keys(settings, engine)
    if settings.audit_signing_key_file.exists():
        load_audit_signer(settings)
    app = FastAPI(title="Recoup", version=__version__, description=DESCRIPTION)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.clock = clock or SystemClock()
    app.state.sign_in_limiter = RateLimiter(
        limit=10, window=dt.timedelta(minutes=1), clock=app.state.clock
    )
    # The portal's forms, per link: far above what a person sends, well below a flood.
    app.state.portal_limiter = RateLimiter(
        limit=PORTAL_POSTS_PER_MINUTE, window=dt.timedelta(minutes=1), clock=app.state.clock
    )
    install_error_handlers(app)
    # Inside the request log (so a 413 is logged), outside every route: a body over its route's
    # limit is refused while it streams, before any other code holds it.
    app.add_middleware(BodyLimit, default=DEFAULT_BODY_LIMIT, routes=BODY_LIMITS)

    @app.middleware("http")
    async def log_requests(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        wait = _portal_wait(request)
        if "%00" in request.url.query or "%00" in request.url.path:
            # No text we store may hold NUL (PostgreSQL refuses it): a 422, not a database error.
            response: Response = error_response(
                ValidationFailed("the request holds a NUL character, which no field accepts")
            )
        elif wait is not None:
            response = PlainTextResponse(
                "Too many requests from this link; try again in a minute.",
                status_code=429,
                headers={"Retry-After": str(int(wait.total_seconds()) + 1)},
            )
        else:
            response = await call_next(request)
        principal = getattr(request.state, "principal", None)
        log.info(
            "http.request",
            method=request.method,
            path=loggable_path(request.url.path),
            status_code=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            actor=principal.actor if principal else None,
        )
        return response

    # The API refuses a query parameter a route does not take (the portal's pages, the
    # unsubscribe link and the sandbox wallet, opened by browsers and mail clients, are not).
    app.include_router(ledger_router, dependencies=API)
    app.include_router(delinquency_router, dependencies=API)
    app.include_router(webhook_router, dependencies=API)
    app.include_router(identity_router, dependencies=API)
    app.include_router(contact_router, dependencies=API)
    app.include_router(assistant_router, dependencies=API)
    app.include_router(arrangements_router, dependencies=API)
    app.include_router(autopay_router, dependencies=API)
    app.include_router(cases_router, dependencies=API)
    app.include_router(analytics_router, dependencies=API)
    app.include_router(privacy_router, dependencies=API)
    app.include_router(quality_router, dependencies=API)
    app.include_router(workbench_router, dependencies=API)
    app.include_router(strategy_router, dependencies=API)
    app.include_router(risk_router, dependencies=API)
    app.include_router(portal_router)
    app.include_router(selfservice_router)
    app.include_router(learn_router)
    app.include_router(heard_router)
    app.include_router(autopay_portal_router)
    app.include_router(chat_router)
    app.include_router(unsubscribe_router)
    if settings.sandbox_wallet:
        app.include_router(sandbox_wallet_router)
    app.mount("/static", static_files(), name="static")
    install_console(app)

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
