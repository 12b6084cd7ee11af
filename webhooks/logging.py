"""JSON logs, one object per line, carrying the update id (or API key id) of the work at hand.

Nothing secret or personal is logged on purpose; the formatter still scrubs what slips through
(an exception text quoting user input): API keys, the configured secrets (webhook secret, bot
token), mainland mobile numbers and ID numbers are masked in the message and the traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

update_id_var: ContextVar[int | None] = ContextVar("update_id", default=None)
api_key_id_var: ContextVar[int | None] = ContextVar("api_key_id", default=None)

# extra=… fields we copy into the JSON object (anything else passed as extra is dropped)
EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "recovered", "client")

_API_KEY = re.compile(r"\bjg_([0-9a-f]{8})_[A-Za-z0-9_\-]+")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s\-]?)?(1[3-9]\d)[\s\-]?\d{4}[\s\-]?(\d{4})(?!\d)")


class Redactor:
    """Masks keys, secrets, ID numbers and mobile numbers in free text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        text = _API_KEY.sub(r"jg_\1_***", text)
        text = _ID_NUMBER.sub(r"\1********\2", text)
        return _MOBILE.sub(r"\1****\2", text)


class ContextFilter(logging.Filter):
    """Stamps the record with the update id / API key id of the task that logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "update_id", None) is None:
            record.update_id = update_id_var.get()
        if getattr(record, "api_key_id", None) is None:
            record.api_key_id = api_key_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redact = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": self.redact(record.getMessage()),
        }
        update_id = getattr(record, "update_id", None) or update_id_var.get()
        if update_id is not None:
            payload["update_id"] = update_id
        key_id = getattr(record, "api_key_id", None) or api_key_id_var.get()
        if key_id is not None:
            payload["api_key_id"] = key_id
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                payload[name] = value if isinstance(value, int | float) else str(value)
        if record.exc_info:
            payload["exc"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False, default=str)


_HANDLER_NAME = "jingong-json"
# libraries whose debug output quotes SQL parameters or payloads (phones, raw updates)
NOISY_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool", "httpcore")


def quiet_noisy_loggers(level: int = logging.WARNING) -> None:
    """Keep libraries that log statement parameters at `level`, whatever the root level."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(level)


def configure_logging(level: int | str = logging.INFO, *, secrets: Iterable[str] = ()) -> None:
    """Root logger → stderr as JSON lines. Safe to call again (replaces our handler only)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter(Redactor(secrets)))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
    quiet_noisy_loggers()
    # uvicorn's own loggers: through ours, no duplicate plain-text handlers
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # requests are logged by webhooks.middleware (no query strings); uvicorn's access log would
    # repeat each one with its query string (`jingong serve` passes access_log=False)
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
