"""Every error of the HTTP side as JSON `{"error": key, "params": {...}}`.

Domain errors map by type (one handler): InvalidApiKey 401, PermissionDenied 403, NotFound
404, Conflict 409, ValidationError 422, any other DomainError 400. Transport problems (a body
that is not JSON or CSV, too large, a rate limit) raise ApiError with their own status.
Any other exception is a 500 `{"error": "error.internal", "params": {}}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from core.services.apikeys import InvalidApiKey

_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidApiKey, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (ValidationError, 422),
)
AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="jingong"'}


class ApiError(Exception):
    """An HTTP-level refusal that is no domain rule (bad body, 413, 415, 429)."""

    def __init__(
        self, status: int, key: str, *, headers: dict[str, str] | None = None, **params: Any
    ) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params
        self.headers = headers or {}


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "error.body_too_large", max_bytes=limit)


def status_of(exc: DomainError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def error_response(
    status: int,
    key: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": key, "params": jsonable_encoder(params or {})}
    return JSONResponse(body, status_code=status, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = status_of(exc)
    return error_response(
        status, exc.key, exc.params, AUTHENTICATE if isinstance(exc, InvalidApiKey) else None
    )


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.key, exc.params, exc.headers or None)


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # location, type and message only: the offending input may be personal data
    errors = [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "type": str(err.get("type", "")),
            "msg": str(err.get("msg", "")),
        }
        for err in exc.errors()
    ]
    return error_response(422, "error.request_invalid", {"errors": errors})


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, f"error.http_{exc.status_code}", {}, headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # The documented body, nothing of the exception: Starlette re-raises it after this answer,
    # so the server logs it once, with its traceback (SQL parameters hidden by the engine).
    return error_response(500, "error.internal", {})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
