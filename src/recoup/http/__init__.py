"""Request plumbing below the domains: dependencies (`deps`), error rendering and the OpenAPI entries
of errors (`errors`), idempotency keys (`idempotency`), signed-webhook verification and body limits
(`webhooks`).

It imports only `recoup.config`, `recoup.models` and `recoup.kit` (and the web libraries), so every
domain's endpoints can use it. It owns two tables, through `repository`: `idempotency_records` (the
first answer to an idempotent request) and `webhook_receipts` (signed deliveries already seen).
"""
