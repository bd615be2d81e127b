"""The REST API: ``GET /v1/<endpoint>`` with OpenF1-style filters, JSON or CSV, paged.

Every request runs one parameterised SELECT on the server's in-memory copy of the warehouse
(:class:`~f1pipe.serve.snapshot.WarehouseSnapshot`); only GET routes exist.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from f1pipe.errors import F1PipeError
from f1pipe.serve.endpoints import ENDPOINTS, Endpoint, column_types
from f1pipe.serve.filters import (
    DEFAULT_LIMIT,
    INT64,
    MAX_LIMIT,
    MAX_VALUE_CHARS,
    TEXT_PATTERN,
    FilterError,
    Query,
    parse,
)
from f1pipe.serve.snapshot import WarehouseSnapshot

_JSON_TYPES = {"int": "integer", "float": "number", "string": "string", "bool": "boolean",
               "timestamp": "string"}
_ENCODER = msgspec.json.Encoder()


def run_query(snapshot: WarehouseSnapshot, endpoint: Endpoint,
              query: Query) -> tuple[list[str], list[tuple], bool]:
    """(columns, rows of the page, whether more rows follow)."""
    columns = list(column_types()[endpoint.name])
    if any(t not in snapshot.tables for t in endpoint.tables):
        return columns, [], False  # nothing loaded yet for this endpoint
    where, params = query.where()
    order = ", ".join(f'"{c}"' for c in endpoint.order_by)
    sql = (f"SELECT * FROM ({endpoint.sql}) AS t {where} ORDER BY {order} NULLS LAST "
           "LIMIT ? OFFSET ?")
    cursor = snapshot.cursor()
    try:
        rows = cursor.execute(sql, [*params, query.limit + 1, query.offset]).fetchall()
    finally:
        cursor.close()
    return columns, rows[:query.limit], len(rows) > query.limit


def records(snapshot: WarehouseSnapshot, name: str, limit: int = MAX_LIMIT,
            **equals: Any) -> list[dict[str, Any]]:
    """Rows of endpoint ``name`` where each column equals its value (pages, report)."""
    endpoint = ENDPOINTS[name]
    query = Query(conditions=[(c, "=", [v]) for c, v in equals.items()], limit=limit)
    columns, rows, _ = run_query(snapshot, endpoint, query)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return value


def to_json(columns: list[str], rows: list[tuple]) -> bytes:
    return _ENCODER.encode([{c: _json_value(v) for c, v in zip(columns, row, strict=True)}
                            for row in rows])


def to_csv(columns: list[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() + "Z" if isinstance(v, datetime)
                         else v for v in row])
    return out.getvalue()


def error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _parameters(endpoint: Endpoint) -> list[dict]:
    params = [{
        "name": column, "in": "query", "required": False,
        "description": f"{column} equals this value; also {column}>=, >, <=, <, != "
                       "(OpenF1 style), repeated = for any of several values",
        "schema": _filter_schema(kind),
    } for column, kind in column_types()[endpoint.name].items() if kind != "json"]
    params += [
        {"name": "format", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"}},
        {"name": "limit", "in": "query", "required": False,
         "description": f"rows per page (default {DEFAULT_LIMIT}); the X-Next-Offset header "
                        "gives the next page's offset when there is one",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT}},
        {"name": "offset", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 0}},
    ]
    return params


def _filter_schema(kind: str) -> dict:
    if kind == "string":
        return {"type": "string", "maxLength": MAX_VALUE_CHARS, "pattern": TEXT_PATTERN}
    if kind == "timestamp":
        return {"type": "string", "format": "date-time", "example": "2024-07-07T14:00:00Z"}
    if kind == "int":
        return {"type": "integer", "minimum": INT64[0], "maximum": INT64[1]}
    return {"type": _JSON_TYPES[kind]}


def _row_schema(endpoint: Endpoint) -> dict:
    properties = {column: ({} if kind == "json" else {"type": [_JSON_TYPES[kind], "null"]})
                  for column, kind in column_types()[endpoint.name].items()}
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


ERROR_SCHEMA = {"type": "object", "properties": {"detail": {"type": "string"}},
                "required": ["detail"]}


def router(snapshot: WarehouseSnapshot) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["data"])
    for endpoint in ENDPOINTS.values():
        api.add_api_route(
            f"/{endpoint.name}", _handler(snapshot, endpoint), methods=["GET"],
            summary=endpoint.summary, operation_id=f"get_{endpoint.name}",
            response_class=Response,
            openapi_extra={"parameters": _parameters(endpoint)},
            responses={
                200: {"description": "matching rows, a JSON array (or CSV)",
                      "content": {"application/json": {"schema": {
                          "type": "array", "items": _row_schema(endpoint)}},
                                  "text/csv": {"schema": {"type": "string"}}}},
                400: {"description": "a bad filter, with the fix",
                      "content": {"application/json": {"schema": ERROR_SCHEMA}}},
                503: {"description": "the warehouse cannot be read yet",
                      "content": {"application/json": {"schema": ERROR_SCHEMA}}},
            })
    return api


def _handler(snapshot: WarehouseSnapshot, endpoint: Endpoint):
    def handler(request: Request) -> Response:
        try:
            query = parse(request.url.query, column_types()[endpoint.name], endpoint.name)
            columns, rows, more = run_query(snapshot, endpoint, query)
        except FilterError as exc:
            return error(400, str(exc))
        except F1PipeError as exc:
            return error(503, str(exc))
        headers = {"X-Next-Offset": str(query.offset + query.limit)} if more else {}
        if query.format == "csv":
            return Response(to_csv(columns, rows), media_type="text/csv; charset=utf-8",
                            headers=headers)
        return Response(to_json(columns, rows), media_type="application/json",
                        headers=headers)

    handler.__name__ = f"get_{endpoint.name}"
    return handler
