from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartParser

from sandbox.errors import bad_request

MAX_FIELD_BYTES = 16 * 1024 * 1024


@dataclass
class Upload:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Params:
    """Request parameters: strings from query/form data, JSON values from a JSON body."""

    values: dict[str, Any]
    uploads: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value, ensure_ascii=False)

    def integer(self, name: str, *, error: str | None = None) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(error or f"invalid {name} specified") from None

    def boolean(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, name: str, *, error: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error) from None
        return value


async def parse_body(content_type: str, body: bytes) -> Params:
    """JSON, urlencoded or multipart bytes into Params, as the Bot API accepts them."""
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return Params({})
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(data, dict):
            raise bad_request("JSON object expected")
        return Params(data)
    if kind == "multipart/form-data":
        return await _multipart(content_type, body)
    # Telegram reads anything else as a query string, like application/x-www-form-urlencoded
    try:
        return Params(dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)))
    except UnicodeDecodeError:
        raise bad_request("request body is not UTF-8") from None


async def _multipart(content_type: str, body: bytes) -> Params:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        Headers({"content-type": content_type}), stream(), max_part_size=MAX_FIELD_BYTES
    )
    try:
        form = await parser.parse()
    except Exception as error:  # starlette raises its own MultiPartException
        raise bad_request(f"can't parse multipart form data: {error}") from None
    values: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads[key] = Upload(value.filename, value.content_type, await value.read())
            else:
                values[key] = value
    finally:
        await form.close()
    return Params(values, uploads)
