"""`jingong serve` (webhook, production) and `jingong run` (long polling, development).

Listed in webhooks.main.COMMANDS. At module level only the standard library is
imported, so `jingong --help` loads no web stack; the handlers import it when they run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.config import Settings

SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from exc
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {value}")
    return port


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from exc
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"must be 1..64: {value}")
    return number


def add_parser(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the webhook server and the data API (uvicorn)",
        description="Serve Telegram's webhook, /healthz, /readyz and the data API /api/v1. "
        "On start one worker calls setWebhook (WEBHOOK_BASE_URL + WEBHOOK_PATH, the secret "
        "WEBHOOK_SECRET and the update types the bot uses). Every worker runs the outbox "
        "sender; the scheduler runs in every worker but only the lease holder ticks.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    serve.add_argument("--workers", type=_count, default=1, help="worker processes (1..64)")
    serve.add_argument(
        "--no-scheduler",
        action="store_true",
        help="don't run the scheduler here (a separate `jingong scheduler` runs it)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )
    serve.set_defaults(handler=run_serve)

    run = subparsers.add_parser(
        "run",
        help="run the bot with long polling (development)",
        description="Delete the webhook and fetch updates by long polling, with the outbox "
        "sender. For one developer machine; production uses `jingong serve`.",
    )
    run.add_argument(
        "--concurrency", type=_count, default=16, help="updates handled at once (default 16)"
    )
    run.add_argument(
        "--scheduler", action="store_true", help="also run the digest scheduler in-process"
    )
    run.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    run.set_defaults(handler=run_polling_command)


def _check_bot(settings: Settings) -> None:
    from core.cli.common import CliError

    if not settings.bot_token.get_secret_value():
        raise CliError("BOT_TOKEN is not set")


def _check_database(settings: Settings) -> None:
    from core.cli.common import open_services

    async def go() -> None:
        async with open_services(settings):
            pass

    asyncio.run(go())


def _secrets(settings: Settings) -> list[str]:
    return [
        settings.webhook_secret.get_secret_value(),
        settings.bot_token.get_secret_value(),
        settings.secret_key.get_secret_value(),
    ]


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from core.cli.common import CliError, load_settings
    from webhooks.app import ENV_SCHEDULER
    from webhooks.logging import configure_logging

    settings = load_settings()
    _check_bot(settings)
    if not SECRET_TOKEN.match(settings.webhook_secret.get_secret_value()):
        raise CliError(
            "WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - "
            "(Telegram sends it back in every webhook request)"
        )
    _check_database(settings)
    configure_logging(args.log_level.upper(), secrets=_secrets(settings))
    if not settings.webhook_base_url:
        print("jingong: warning: WEBHOOK_BASE_URL is not set; the webhook is not registered")
    os.environ[ENV_SCHEDULER] = "0" if args.no_scheduler else "1"
    os.environ["LOG_LEVEL"] = args.log_level.upper()
    uvicorn.run(
        "webhooks.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,  # our JSON logging, configured by the factory in each worker
        access_log=False,  # webhooks.middleware logs requests without query strings
        server_header=False,
        proxy_headers=True,
        timeout_graceful_shutdown=30,
    )
    return 0


def run_polling_command(args: argparse.Namespace) -> int:
    from core.cli.common import load_settings
    from webhooks.logging import configure_logging

    settings = load_settings()
    _check_bot(settings)
    configure_logging(args.log_level.upper(), secrets=_secrets(settings))
    asyncio.run(run_polling(settings, concurrency=args.concurrency, scheduler=args.scheduler))
    return 0


async def run_polling(settings: Settings, *, concurrency: int, scheduler: bool = False) -> None:
    """Long polling until SIGINT/SIGTERM, with the outbox sender (and the scheduler)."""
    from bot.runtime import open_runtime
    from core.cli.common import open_services

    async with (
        open_services(settings) as (_engine, services),
        open_runtime(settings, services=services) as runtime,
    ):
        runtime.start_sender()
        if scheduler:
            runtime.start_scheduler()
        dp = runtime.dispatcher
        await runtime.bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(
            runtime.bot,
            allowed_updates=dp.resolve_used_update_types(),
            tasks_concurrency_limit=concurrency,
            handle_signals=True,
            close_bot_session=False,  # the sender still needs it while it stops
        )
