"""Helpers for command modules: one-line errors, argument types, a services context."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import Settings, get_settings
from core.db.uow import Services
from core.domain.errors import DomainError, NotFound, ValidationError

EXIT_USAGE = 2  # argparse's own code for a wrong argument
EXIT_FAILURE = 1


class CliError(Exception):
    """A failure to show as one line; `code` is the process exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class JingongParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and does not exit the process."""

    def error(self, message: str) -> NoReturn:
        raise CliError(message, EXIT_USAGE)


# English text for the error keys a command line user meets; the bot has full translations
_MESSAGES = {
    "error.unknown_region": "unknown region code {code!r} (expected 14, 14xx00 or a Shanxi "
    "county code such as 140105)",
    "error.already_seeded": "the database already holds enterprises; demo data goes only into "
    "an empty database",
    "error.out_of_scope": "outside your region or enterprise",
    "error.forbidden": "not allowed for this role",
    "error.enterprise_not_found": "no such enterprise",
}


def _catalog_template(key: str) -> str | None:
    """The bot's English text for an error key (locales/en), without its HTML tags."""
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po

    folder = Path(__file__).resolve().parents[2] / "locales" / "en" / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fp:
            message = read_po(fp).get(key)
        if message is not None and message.string:
            return re.sub(r"<[^>]+>", "", str(message.string)).strip()
    return None


def describe_domain_error(exc: DomainError) -> str:
    template = _MESSAGES.get(exc.key) or _catalog_template(exc.key)
    if template is not None:
        try:
            return template.format(**exc.params)
        except (KeyError, IndexError):
            pass
    params = ", ".join(f"{k}={v}" for k, v in exc.params.items())
    return f"{exc.key} ({params})" if params else exc.key


def describe_exception(exc: BaseException) -> tuple[str, int]:
    """One line and an exit code for anything a command raised."""
    if isinstance(exc, DomainError):
        code = EXIT_USAGE if isinstance(exc, ValidationError | NotFound) else EXIT_FAILURE
        return describe_domain_error(exc), code
    if isinstance(exc, SQLAlchemyError):
        origin = getattr(exc, "orig", None) or exc
        return f"database error: {_first_line(origin)}", EXIT_FAILURE
    if isinstance(exc, OSError):
        return f"cannot reach the database or a file: {_first_line(exc)}", EXIT_FAILURE
    return f"{type(exc).__name__}: {_first_line(exc)}", EXIT_FAILURE


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


# --- argument types -------------------------------------------------------------------------


def region_arg(value: str) -> str:
    """argparse type: a region code, normalized ("1401" → "140100")."""
    from core.services.regions import normalize_region_code

    try:
        return normalize_region_code(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(describe_domain_error(exc)) from exc


def date_arg(value: str) -> date:
    """argparse type: a calendar day written YYYY-MM-DD."""
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"malformed date {value!r} (expected YYYY-MM-DD)"
        ) from exc


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from exc
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be positive: {value!r}")
    return number


# --- settings and services ------------------------------------------------------------------


def load_settings() -> Settings:
    """Settings read afresh from the environment (a process runs one command)."""
    get_settings.cache_clear()
    try:
        return get_settings()
    except Exception as exc:  # pydantic's ValidationError lists every field over many lines
        raise CliError(f"bad settings: {_first_line(exc)}") from exc


def safe_url(settings: Settings) -> str:
    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


def _sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


@asynccontextmanager
async def open_services(
    settings: Settings, *, must_exist: bool = True, **kwargs: Any
) -> AsyncIterator[tuple[AsyncEngine, Services]]:
    """Engine and services for one command; the engine is disposed afterwards.

    With `must_exist` a missing SQLite file or an empty schema is an error that names the fix,
    instead of creating an empty database by accident."""
    from core.bootstrap import build_services

    path = _sqlite_path(settings)
    if must_exist and path is not None and not path.exists():
        raise CliError(f"no database at {path}; run `jingong db upgrade` first")
    engine, services = build_services(settings, **kwargs)
    try:
        if must_exist:
            async with engine.connect() as conn:
                ready = await conn.run_sync(lambda c: inspect(c).has_table("region"))
            if not ready:
                raise CliError(
                    f"the database at {safe_url(settings)} has no schema; "
                    "run `jingong db upgrade` first"
                )
        yield engine, services
    finally:
        await engine.dispose()


async def upgrade_database(engine: AsyncEngine, services: Services) -> dict[str, int]:
    """Migrate to the newest revision, then insert or update the reference data."""
    from core.db.migrate import upgrade
    from core.reference.loader import load_reference_data

    await upgrade(engine)
    async with services.uow() as uow:
        counts = await load_reference_data(uow.session)
        await uow.commit()
    return counts
