"""The OpenAPI of a body an endpoint reads itself. A signed webhook reads the raw bytes (the
signature covers them), so FastAPI sees no model; `request_body(Model)` is the operation's
`openapi_extra` that documents it, as one self-contained JSON Schema (no references), so clients
and Schemathesis see what to send."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def inline_schema(type_: Any) -> dict[str, Any]:
    """The JSON Schema of `type_` (a model or a union of models) with its definitions inlined."""
    schema = TypeAdapter(type_).json_schema()
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
    return inlined


def request_body(
    type_: Any = None, *, schema: dict[str, Any] | None = None, media_type: str = "application/json"
) -> dict[str, Any]:
    """`openapi_extra` declaring a required body of `type_` (or of a JSON Schema) as `media_type`."""
    body_schema = schema if schema is not None else inline_schema(type_)
    return {"requestBody": {"required": True, "content": {media_type: {"schema": body_schema}}}}


def link(method: str, path: str, description: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method path`, its parameters taken from this answer
    (`$response.body#/id`) or this request (`$request.path.account_id`): what a client, and
    Schemathesis' stateful run, does next with what it just made."""
    pointer = path.replace("~", "~0").replace("/", "~1").replace("{", "%7B").replace("}", "%7D")
    return {
        "operationRef": f"#/paths/{pointer}/{method.lower()}",
        "description": description,
        "parameters": parameters,
    }


def links(status: int, **named: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """A `responses` entry adding these links to the answer of `status`."""
    return {status: {"links": named}}
