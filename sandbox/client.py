"""An async Python client for the sandbox's user side, for tests and scripted demos.

    async with SandboxClient(url) as sandbox:
        foreman = await sandbox.create_user("王工", started=True)
        await foreman.send_text("/start")
        menu = await foreman.wait_for_message(lambda m: "缺工" in m.text)
        await foreman.press("发布缺工")

`wait_for_message` looks at the chat's events after the user's last action (or after the
previous match), so a reply that arrived before the wait started is still found.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


class SandboxClientError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class InlineButton:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ChatMessage:
    """A message as a user sees it: Bot API JSON in `raw`, with handy views."""

    raw: dict[str, Any]
    event: str = "message"  # "message" when it arrived, "edited" for an edit
    base_url: str = ""
    buttons: list[list[InlineButton]] = field(default_factory=list)

    @classmethod
    def from_view(cls, view: dict[str, Any], base_url: str, event: str = "message") -> ChatMessage:
        rows = (view.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [
            [InlineButton(b["text"], b.get("callback_data"), b.get("url")) for b in row]
            for row in rows
        ]
        return cls(raw=view, event=event, base_url=base_url, buttons=buttons)

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def text(self) -> str:
        """The text, or the caption of a photo or document; "" if neither."""
        return str(self.raw.get("text") or self.raw.get("caption") or "")

    @property
    def from_bot(self) -> bool:
        return bool(self.raw.get("from", {}).get("is_bot"))

    @property
    def edited(self) -> bool:
        return "edit_date" in self.raw

    @property
    def button_texts(self) -> list[str]:
        return [b.text for row in self.buttons for b in row]

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def has_photo(self) -> bool:
        return "photo" in self.raw

    @property
    def document_name(self) -> str | None:
        doc = self.raw.get("document")
        return doc.get("file_name") if doc else None

    @property
    def file_url(self) -> str | None:
        url = self.raw.get("file_url")
        return f"{self.base_url}{url}" if url else None

    @property
    def contact(self) -> dict[str, Any] | None:
        return self.raw.get("contact")


Predicate = Callable[[ChatMessage], bool]


class SandboxClient:
    """Talks to /sandbox/api of a running sandbox; one instance can drive many users."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # long polls of up to 10 s ride on these requests, so the HTTP timeout is longer
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=30.0, trust_env=False)
        self._cursors: dict[int, int] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(self, verb: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(verb, f"/sandbox/api{path}", **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json().get("error") or response.text
            except ValueError:
                message = response.text
            raise SandboxClientError(response.status_code, str(message))
        return response.json()

    def _message(self, view: dict[str, Any], event: str = "message") -> ChatMessage:
        return ChatMessage.from_view(view, self.base_url, event)

    # -- people --------------------------------------------------------------------------------
    async def info(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/info"))

    async def personas(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/personas"))

    async def users(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/users"))

    async def create_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "zh",
        last_name: str | None = None,
        username: str | None = None,
        phone_number: str | None = None,
        started: bool = False,
    ) -> UserClient:
        body = {
            "first_name": first_name,
            "id": user_id,
            "language_code": language_code,
            "last_name": last_name,
            "username": username,
            "phone_number": phone_number,
            "started": started,
        }
        created = await self._call("POST", "/users", json=body)
        return UserClient(self, int(created["id"]))

    def user(self, user_id: int) -> UserClient:
        return UserClient(self, user_id)

    # -- actions -------------------------------------------------------------------------------
    def _acted(self, user_id: int, answer: dict[str, Any]) -> None:
        self._cursors[user_id] = max(self._cursors.get(user_id, 0), int(answer["seq"]))

    async def send_text(self, user_id: int, text: str) -> ChatMessage:
        answer = await self._call("POST", f"/users/{user_id}/text", json={"text": text})
        self._acted(user_id, answer)
        return self._message(answer["message"])

    async def send_contact(
        self, user_id: int, phone_number: str, *, first_name: str | None = None
    ) -> ChatMessage:
        body = {"phone_number": phone_number, "first_name": first_name}
        answer = await self._call("POST", f"/users/{user_id}/contact", json=body)
        self._acted(user_id, answer)
        return self._message(answer["message"])

    async def press(self, user_id: int, button: str) -> str:
        """Press the inline button with this text or callback data on the newest message that
        has one; returns the callback query id."""
        for message in reversed(await self.history(user_id)):
            if not message.from_bot:
                continue
            for row in message.buttons:
                for b in row:
                    if b.callback_data is not None and button in (b.text, b.callback_data):
                        body = {"message_id": message.message_id, "data": b.callback_data}
                        answer = await self._call("POST", f"/users/{user_id}/press", json=body)
                        self._acted(user_id, answer)
                        return str(answer["query_id"])
        visible = [t for m in await self.history(user_id) for t in m.button_texts]
        raise LookupError(f"no inline button {button!r}; buttons in the chat: {visible}")

    async def press_reply(
        self, user_id: int, text: str, *, phone_number: str | None = None
    ) -> ChatMessage:
        """Press a reply keyboard button; a share-contact button sends `phone_number`."""
        body = {"text": text, "phone_number": phone_number}
        answer = await self._call("POST", f"/users/{user_id}/reply_button", json=body)
        self._acted(user_id, answer)
        return self._message(answer["message"])

    async def block(self, user_id: int) -> None:
        await self._call("POST", f"/users/{user_id}/block")

    async def actions(self, user_id: int) -> list[dict[str, Any]]:
        """The host program's page actions shown for this user: [{"id", "label"}]."""
        return list(await self._call("GET", f"/users/{user_id}/actions"))

    async def run_action(self, user_id: int, action_id: str) -> str | None:
        """Run a page action (as its button on the page does); returns its note, if any."""
        answer = await self._call("POST", f"/users/{user_id}/actions/{action_id}")
        self._acted(user_id, answer)
        note = answer.get("note")
        return None if note is None else str(note)

    async def unblock(self, user_id: int) -> None:
        await self._call("POST", f"/users/{user_id}/unblock")

    # -- what the user sees --------------------------------------------------------------------
    async def history(self, user_id: int) -> list[ChatMessage]:
        snapshot = await self._call("GET", f"/users/{user_id}/history")
        return [self._message(view) for view in snapshot["messages"]]

    async def reply_keyboard(self, user_id: int) -> dict[str, Any] | None:
        snapshot = await self._call("GET", f"/users/{user_id}/history")
        keyboard = snapshot["reply_keyboard"]
        return dict(keyboard) if keyboard else None

    async def callback_answer(
        self,
        query_id: str,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline for polling, by design
    ) -> dict[str, Any]:
        """Wait until the bot answers the callback query; returns text/show_alert/url."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            query = await self._call("GET", f"/callbacks/{query_id}")
            if query["answered"]:
                return dict(query["answer"])
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the bot did not answer callback query {query_id}")
            await asyncio.sleep(0.05)

    async def wait_for_message(
        self,
        user_id: int,
        predicate: Predicate | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline for polling, by design
        *,
        from_bot: bool = True,
    ) -> ChatMessage:
        """The first new or edited message after the last action (or match) that satisfies
        `predicate`; raises TimeoutError listing what did arrive."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        after = self._cursors.get(user_id, 0)
        seen: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            answer = await self._call(
                "GET",
                f"/users/{user_id}/events",
                params={"after": after, "timeout": max(0.0, min(remaining, 10.0))},
            )
            for event in answer["events"]:
                after = int(event["seq"])
                if event["type"] not in ("message", "edited"):
                    continue
                message = self._message(event["message"], event["type"])
                if from_bot and not message.from_bot:
                    continue
                if predicate is None or predicate(message):
                    self._cursors[user_id] = after
                    return message
                seen.append(f"{event['type']} #{message.message_id}: {message.text[:80]!r}")
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"no matching message for user {user_id} within the timeout; "
                    f"seen: {seen or 'nothing'}"
                )

    async def download(self, message_or_url: ChatMessage | str) -> bytes:
        url = (
            message_or_url.file_url if isinstance(message_or_url, ChatMessage) else message_or_url
        )
        if not url:
            raise ValueError("that message has no photo or document")
        response = await self._http.get(url)
        response.raise_for_status()
        return response.content


@dataclass
class UserClient:
    """The same actions, bound to one user."""

    sandbox: SandboxClient
    user_id: int

    async def send_text(self, text: str) -> ChatMessage:
        return await self.sandbox.send_text(self.user_id, text)

    async def send_contact(
        self, phone_number: str, *, first_name: str | None = None
    ) -> ChatMessage:
        return await self.sandbox.send_contact(self.user_id, phone_number, first_name=first_name)

    async def press(self, button: str) -> str:
        return await self.sandbox.press(self.user_id, button)

    async def press_reply(self, text: str, *, phone_number: str | None = None) -> ChatMessage:
        return await self.sandbox.press_reply(self.user_id, text, phone_number=phone_number)

    async def block(self) -> None:
        await self.sandbox.block(self.user_id)

    async def actions(self) -> list[dict[str, Any]]:
        return await self.sandbox.actions(self.user_id)

    async def run_action(self, action_id: str) -> str | None:
        return await self.sandbox.run_action(self.user_id, action_id)

    async def unblock(self) -> None:
        await self.sandbox.unblock(self.user_id)

    async def history(self) -> list[ChatMessage]:
        return await self.sandbox.history(self.user_id)

    async def reply_keyboard(self) -> dict[str, Any] | None:
        return await self.sandbox.reply_keyboard(self.user_id)

    async def wait_for_message(
        self,
        predicate: Predicate | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline for polling, by design
    ) -> ChatMessage:
        return await self.sandbox.wait_for_message(self.user_id, predicate, timeout)
