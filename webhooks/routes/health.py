"""/healthz: the process answers. /readyz: the database (and Redis, when configured) answer."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from core.db.uow import Services
from webhooks.schemas import HealthOut, ReadyOut

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0  # seconds per dependency; a load balancer must not wait longer

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="The process is up")
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


async def _database(services: Services) -> None:
    async with services.uow() as uow:
        await uow.session.execute(text("SELECT 1"))


@router.get(
    "/readyz",
    response_model=ReadyOut,
    summary="The database and Redis (when configured) are reachable",
    responses={503: {"model": ReadyOut, "description": "a dependency is unreachable"}},
)
async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(_database(request.app.state.services), CHECK_TIMEOUT)
        checks["database"] = "ok"
    except Exception:
        log.warning("readiness: database unreachable", exc_info=True)
        checks["database"] = "error"
    redis = getattr(request.app.state, "redis", None)
    if redis is None:
        checks["redis"] = "skipped"
    else:
        try:
            await asyncio.wait_for(redis.ping(), CHECK_TIMEOUT)
            checks["redis"] = "ok"
        except Exception:
            log.warning("readiness: redis unreachable", exc_info=True)
            checks["redis"] = "error"
    ready = all(value in ("ok", "skipped") for value in checks.values())
    body = ReadyOut(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
