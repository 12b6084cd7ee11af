"""Typed domain errors: each carries a message key and parameters, the front ends render them."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no. `key` is a message id the front end translates; `params` fill it."""

    key: str = "error.generic"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        if key is not None:
            self.key = key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class ValidationError(DomainError):
    key = "error.invalid"


class NotFound(DomainError):
    key = "error.not_found"


class PermissionDenied(DomainError):
    key = "error.forbidden"


class Conflict(DomainError):
    """The state changed under the caller (stale button, worker taken, posting closed)."""

    key = "error.conflict"
