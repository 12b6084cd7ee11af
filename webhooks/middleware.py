"""Pure ASGI middlewares: a request body size limit and a JSON access log line per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webhooks.errors import BodyTooLarge, error_response
from webhooks.logging import api_key_id_var

access_log = logging.getLogger("webhooks.access")

QUIET_PATHS = frozenset({"/healthz", "/readyz"})  # load balancer probes: debug level only


class BodyLimitMiddleware:
    """413 for a body over the limit: at once when Content-Length says so, else as soon as the
    streamed bytes pass it (the route's `await request.body()` raises BodyTooLarge)."""

    def __init__(
        self, app: ASGIApp, *, limit: int, per_path: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.limit)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await error_response(400, "error.bad_body", {"reason": "content_length"})(
                    scope, receive, send
                )
                return
            if int(declared) > limit:
                await error_response(413, "error.body_too_large", {"max_bytes": limit})(
                    scope, receive, send
                )
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        token = api_key_id_var.set(None)

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            path = scope.get("path", "")
            extra: dict[str, Any] = {
                "method": scope.get("method"),
                "path": path,  # never the query string
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            key_id = scope.get("state", {}).get("api_key_id")
            if key_id is not None:
                extra["api_key_id"] = key_id
            level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
            access_log.log(level, "%s %s %s", scope.get("method"), path, status, extra=extra)
            api_key_id_var.reset(token)
