"""FastAPI dependencies: one unit of work per request, the API key's principal, the rate limit."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from core.db.uow import Services, UnitOfWork
from core.services import apikeys
from core.services.apikeys import ApiPrincipal, InvalidApiKey
from webhooks.errors import ApiError
from webhooks.logging import api_key_id_var
from webhooks.ratelimit import RateLimiter

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="`Authorization: Bearer jg_…` with a key from `jingong apikey create`",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="apiKey", description="the same key"
)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_uow(
    services: Annotated[Services, Depends(get_services)],
) -> AsyncIterator[UnitOfWork]:
    """The request's unit of work; closed (rolled back unless a service committed) after it."""
    async with services.uow() as uow:
        yield uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


async def get_principal(
    request: Request,
    uow: UowDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    header_key: Annotated[str | None, Depends(api_key_scheme)],
) -> ApiPrincipal:
    """401 without a valid key, 429 over the key's rate."""
    presented = bearer.credentials if bearer is not None else header_key
    if not presented:
        raise InvalidApiKey()
    principal = await apikeys.authenticate(uow, presented)
    api_key_id_var.set(principal.key_id)
    request.state.api_key_id = principal.key_id  # for the access log line
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.acquire(principal.key_id)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429, "error.rate_limited", headers={"Retry-After": str(seconds)}, retry_after=seconds
        )
    return principal


PrincipalDep = Annotated[ApiPrincipal, Depends(get_principal)]
