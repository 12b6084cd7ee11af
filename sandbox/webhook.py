"""Delivers queued updates to the bot's webhook the way Telegram does.

One update at a time, oldest first; any non-2xx answer or connection error keeps the update
queued and retries after a growing pause; the secret token travels in
X-Telegram-Bot-Api-Secret-Token; a reply that carries a method call is executed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import aiohttp

from sandbox.errors import ApiError
from sandbox.params import Params, parse_body

if TYPE_CHECKING:
    from sandbox.state import SandboxState

log = logging.getLogger(__name__)
WEBHOOK_TASK = "sandbox-webhook-delivery"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_RETRY_DELAY = 5.0

Execute = Callable[["SandboxState", str, Params], Awaitable[tuple[int, dict[str, Any]]]]


async def deliver_webhooks(state: SandboxState, execute: Execute) -> None:
    delay = state.webhook_retry_delay
    # aiohttp, not httpx: aiogram brings it, so the demo needs no dev dependency
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as http:
        while not state.closed:
            hook = state.webhook
            if hook is None:
                return
            if not state.updates:
                await state.updates_changed.wait(30.0)
                continue
            update = state.updates[0]
            headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
            try:
                async with http.post(hook.url, json=update, headers=headers) as response:
                    status = response.status
                    content_type = response.headers.get("content-type", "")
                    body = await response.read()
            except (TimeoutError, aiohttp.ClientError) as error:
                failure = f"Connection failed: {type(error).__name__}: {error}"
            else:
                if 200 <= status < 300:
                    if state.updates and state.updates[0] is update:
                        state.updates.popleft()
                    delay = state.webhook_retry_delay
                    await _run_reply(state, content_type, body, execute)
                    continue
                failure = f"Wrong response from the webhook: {status} {_reason(status)}"
            hook.last_error_date = state.now()
            hook.last_error_message = failure
            log.info("webhook delivery failed, will retry: %s", failure)
            await state.updates_changed.wait(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def _run_reply(
    state: SandboxState, content_type: str, body: bytes, execute: Execute
) -> None:
    """A bot may answer the webhook with a method call instead of calling the API."""
    try:
        params = await parse_body(content_type, body)
    except ApiError as error:
        log.warning("unreadable webhook reply: %s", error.description)
        return
    name = params.text("method")
    if not name:
        return
    status, answer = await execute(state, name, params)
    if status != 200:
        log.warning("method %s returned from the webhook failed: %s", name, answer["description"])
