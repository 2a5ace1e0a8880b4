"""Every error documents its response, and the OpenAPI lists the errors each route can answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from recoup.http.errors import responses
from recoup.kit.errors import (
    Conflict,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from recoup.ledger.service import AccountNotFound
from tests.identity.test_auth import api_routes, permission_of

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def examples(entry: dict[str, Any]) -> dict[str, Any]:
    examples: dict[str, Any] = entry["content"]["application/json"]["examples"]
    return examples


class TestAnErrorClassDocumentsItsResponse:
    def test_with_its_status_description_and_code(self) -> None:
        entry = responses(PayloadTooLarge)[413]
        assert entry["model"].__name__ == "ErrorBody"
        assert entry["description"] == PayloadTooLarge.description
        assert examples(entry)["payload_too_large"]["value"]["error"] == "payload_too_large"

    def test_classes_of_one_status_share_one_entry(self) -> None:
        declared = responses(Conflict, IdempotencyConflict, ValidationFailed)
        assert set(declared) == {409, 422}
        assert set(examples(declared[409])) == {"conflict", "idempotency_conflict"}
        assert Conflict.description in declared[409]["description"]
        assert IdempotencyConflict.description in declared[409]["description"]


class TestTheOpenApiDocument:
    def test_a_permission_checked_route_lists_403_with_the_error_body(self, app: FastAPI) -> None:
        operation = app.openapi()["paths"]["/v1/accounts/{account_id}"]["get"]
        forbidden = operation["responses"]["403"]
        assert forbidden["description"] == Forbidden.description
        assert forbidden["content"]["application/json"]["schema"] == ERROR_BODY
        assert "forbidden" in examples(forbidden)
        assert "401" in operation["responses"]

    def test_a_by_id_route_lists_404_with_its_code(self, app: FastAPI) -> None:
        operation = app.openapi()["paths"]["/v1/accounts/{account_id}"]["get"]
        missing = operation["responses"]["404"]
        assert missing["content"]["application/json"]["schema"] == ERROR_BODY
        assert AccountNotFound.code in examples(missing)

    def test_every_permission_checked_route_lists_401_and_403(self, app: FastAPI) -> None:
        paths = app.openapi()["paths"]
        undocumented = [
            (method, path)
            for method, path, route in api_routes(app)
            if permission_of(route) is not None
            and route.include_in_schema
            and not {"401", "403"} <= set(paths[path][method.lower()]["responses"])
        ]
        assert undocumented == []

    def test_a_signed_webhook_lists_its_refusals_and_no_403(self, app: FastAPI) -> None:
        operation = app.openapi()["paths"]["/v1/webhooks/wallet/payments"]["post"]
        listed = operation["responses"]
        assert {"401", "409", "413", "422"} <= set(listed)
        assert "403" not in listed
        assert "bad_signature" in examples(listed["401"])
        assert "replay_rejected" in examples(listed["409"])

    def test_a_route_that_finds_nothing_by_id_lists_no_404(self, app: FastAPI) -> None:
        operation = app.openapi()["paths"]["/v1/customers"]["get"]
        assert "404" not in operation["responses"]
        assert NotFound.code not in str(operation["responses"])
