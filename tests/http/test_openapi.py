"""What the OpenAPI description promises beyond errors: the credentials and permission of each
operation, the bodies of the signed callbacks, links from what is made to what can be done with it;
and an unreadable body answered like any other invalid input."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from recoup.identity.permissions import API_KEY_SCOPES
from tests.identity.test_auth import api_routes, permission_of


class TestDeclaredSecurity:
    def test_every_permission_checked_operation_declares_its_credentials_and_permission(
        self, app: FastAPI
    ) -> None:
        """Catches: `require` no longer declaring the schemes (`Security(...)` replaced by a plain
        `Depends`, or the scopes dropped); the deep fuzzing picks its callers from this."""
        paths = app.openapi()["paths"]
        wrong = []
        for method, path, route in api_routes(app):
            permission = permission_of(route)
            if permission is None or not route.include_in_schema:
                continue
            declared = paths[path][method.lower()].get("security")
            expected = [{"staffSession": [str(permission)]}]
            if permission in API_KEY_SCOPES:
                expected.insert(0, {"apiKey": [str(permission)]})
            if sorted(map(str, declared or [])) != sorted(map(str, expected)):
                wrong.append((method, path, declared))
        assert wrong == []

    def test_the_schemes_are_a_bearer_key_and_the_session_cookie(self, app: FastAPI) -> None:
        schemes = app.openapi()["components"]["securitySchemes"]
        assert schemes["apiKey"] == {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["apiKey"]["description"],
        }
        assert (schemes["staffSession"]["in"], schemes["staffSession"]["name"]) == (
            "cookie",
            "recoup_session",
        )


class TestDocumentedBodies:
    def test_each_signed_callback_documents_the_body_it_reads(self, app: FastAPI) -> None:
        """Catches: a signed route losing its `openapi_extra=request_body(...)` (its body is read
        raw for the signature, so FastAPI alone documents none)."""
        paths = app.openapi()["paths"]
        media = {
            "/v1/webhooks/wallet/payments": "application/json",
            "/v1/channels/sms/inbound": "application/json",
            "/v1/channels/email/inbound": "application/json",
            "/v1/channels/click-to-call/status": "application/json",
            "/v1/channels/post/status": "application/json",
            "/v1/channels/twilio/inbound": "application/x-www-form-urlencoded",
            "/v1/channels/twilio/status": "application/x-www-form-urlencoded",
        }
        for path, media_type in media.items():
            body = paths[path]["post"]["requestBody"]
            schema = body["content"][media_type]["schema"]
            assert body["required"] is True
            assert schema.get("properties") or schema.get("anyOf"), path
            assert "$ref" not in str(schema), path  # self-contained: nothing to resolve
        wallet = paths["/v1/webhooks/wallet/payments"]["post"]["requestBody"]
        events = wallet["content"]["application/json"]["schema"]["anyOf"]
        assert {e["properties"]["type"]["const"] for e in events} == {
            "payment.succeeded",
            "payment.declined",
            "payment.reversed",
        }


class TestLinks:
    def test_what_is_made_links_to_what_can_be_done_with_it(self, app: FastAPI) -> None:
        paths = app.openapi()["paths"]
        made = paths["/v1/accounts/{account_id}/arrangements"]["post"]["responses"]["201"]
        approve = made["links"]["Approve"]
        assert approve["operationRef"] == (
            "#/paths/~1v1~1arrangements~1%7Barrangement_id%7D~1approve/post"
        )
        assert approve["parameters"] == {"arrangement_id": "$response.body#/id"}

    def test_every_link_leads_to_an_operation_that_exists_with_its_parameters(
        self, app: FastAPI
    ) -> None:
        paths = app.openapi()["paths"]
        broken = []
        for path, methods in paths.items():
            for method, operation in methods.items():
                for status, response in operation["responses"].items():
                    for name, target in response.get("links", {}).items():
                        pointer = target["operationRef"].removeprefix("#/paths/")
                        where, _, verb = pointer.rpartition("/")
                        where = where.replace("~1", "/").replace("%7B", "{").replace("%7D", "}")
                        goal = paths.get(where, {}).get(verb)
                        params = {
                            f"{p['in']}.{p['name']}" for p in (goal or {}).get("parameters", [])
                        }
                        for parameter in target["parameters"]:
                            qualified = parameter if "." in parameter else f"path.{parameter}"
                            if qualified not in params:
                                broken.append((method, path, status, name, parameter))
        assert broken == []


class TestUnreadableBody:
    def test_a_body_that_is_not_utf8_is_a_422_with_the_error_body(self, client: TestClient) -> None:
        """Catches: removing the handler in `recoup.http.errors` that turns FastAPI's bare 400
        ("There was an error parsing the body"), which no route documents, into a 422."""
        response = client.post(
            "/v1/payments/1/reversal",
            content=b'{"reason": "\xff\xfe"}',
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "validation_failed"
        assert "cannot be read" in response.json()["message"]
