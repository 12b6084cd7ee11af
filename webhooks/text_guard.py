"""Control characters in the data API's input are refused with one 422, in one place.

A NUL byte cannot be stored in a PostgreSQL text column: before this guard, `trade=%00` reached
the SQL and came back as a 500. No field of ours has a use for control characters, so every
query and path string is checked by a router dependency, and every string of an import body
(values and column names) by `refuse_in_rows`, which the one body reader calls. In a body,
tab and line breaks are allowed: Excel writes them in multi-line cells (the import flattens
free text anyway).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

from core.domain.errors import ValidationError
from webhooks.deps import PrincipalDep

_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ERROR_KEY = "error.control_characters"


def _refuse(loc: list[str | int]) -> ValidationError:
    return ValidationError(ERROR_KEY, loc=loc)


async def refuse_control_characters(request: Request, _principal: PrincipalDep) -> None:
    """Router dependency: 422 `error.control_characters` for a query or path string with any.
    After the key check (the principal is the route's own, resolved once): 401 comes first."""
    for name, value in request.query_params.multi_items():
        if _ANY_CONTROL.search(name):
            raise _refuse(["query"])  # the name itself is not echoed back
        if _ANY_CONTROL.search(value):
            raise _refuse(["query", name])
    for name, value in request.path_params.items():
        if isinstance(value, str) and _ANY_CONTROL.search(value):
            raise _refuse(["path", name])


def refuse_in_rows(rows: list[Any]) -> None:
    """422 for an import body with a control character in any string, naming the row and field.
    Walked with a stack, not recursion: a body may nest as deep as the JSON parser allows."""
    stack: list[tuple[Any, list[str | int]]] = [
        (row, ["body", "rows", index]) for index, row in enumerate(rows)
    ]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, str):
            if _CONTROL_BUT_WHITESPACE.search(value):
                raise _refuse(loc)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and _CONTROL_BUT_WHITESPACE.search(key):
                    raise _refuse(loc)
                stack.append((item, [*loc, str(key)]))
        elif isinstance(value, list):
            stack.extend((item, [*loc, index]) for index, item in enumerate(value))
