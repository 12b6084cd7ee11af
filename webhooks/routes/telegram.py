"""POST <settings.webhook_path>: Telegram's webhook.

Order matters: the secret token first (401 before the body is even read), then the body
(400 unless it is JSON of an Update, never 500), then the durable insert (see
webhooks/updates.py), then 200 with `{}` whether or not any handler will take the update.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiogram.types import Update
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError as PydanticValidationError

from webhooks.errors import error_response
from webhooks.logging import update_id_var
from webhooks.updates import MAX_UPDATE_ID, UpdateIntake

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_MAX_BODY = 1024 * 1024  # an update is a few KiB; Telegram's own cap is far below this


def _secret_ok(request: Request) -> bool:
    expected = request.app.state.settings.webhook_secret.get_secret_value()
    presented = request.headers.get(SECRET_HEADER)
    if not expected or presented is None:
        return False  # no secret configured: refuse everything rather than accept anyone
    return secrets.compare_digest(presented.encode(), expected.encode())


def _bad_request(reason: str) -> JSONResponse:
    return error_response(400, "error.bad_update", {"reason": reason})


async def telegram_webhook(request: Request) -> JSONResponse:
    if not _secret_ok(request):
        return error_response(401, "error.webhook_secret")
    body = await request.body()
    try:
        text = body.decode("utf-8")
        data: Any = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _bad_request("json")
    if not isinstance(data, dict):
        return _bad_request("not_an_update")
    intake: UpdateIntake = request.app.state.intake
    try:
        update = Update.model_validate(data, context={"bot": intake.bot})
    except (PydanticValidationError, ValueError, TypeError, RecursionError):
        return _bad_request("not_an_update")
    if not 0 <= update.update_id < MAX_UPDATE_ID:
        return _bad_request("update_id")
    token = update_id_var.set(update.update_id)
    try:
        await intake.take_in(update, text)
    finally:
        update_id_var.reset(token)
    # Telegram only needs a 2xx; an empty object is a valid answer for any update type
    return JSONResponse({})


def create_router(path: str) -> APIRouter:
    router = APIRouter()
    router.add_api_route(
        path, telegram_webhook, methods=["POST"], include_in_schema=False, name="telegram"
    )
    return router
