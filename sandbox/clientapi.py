"""The users' side of the sandbox: JSON under /sandbox/api, a WebSocket per user, files, font."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from sandbox.errors import SandboxError
from sandbox.state import SandboxState

FONT_FILE = "NotoSansSC-Regular.otf"


class NewUser(BaseModel):
    first_name: str
    id: int | None = None
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh"
    phone_number: str | None = None
    started: bool = False


class TextIn(BaseModel):
    text: str


class ContactIn(BaseModel):
    phone_number: str
    first_name: str | None = None
    last_name: str | None = None


class PressIn(BaseModel):
    message_id: int
    data: str | None = None
    text: str | None = None


class ReplyButtonIn(BaseModel):
    text: str
    phone_number: str | None = None


class EventsQuery(BaseModel):
    after: int = 0
    timeout: float = Field(default=0.0, ge=0, le=60)


def sandbox_error_response(request: Request, error: Exception) -> Response:
    assert isinstance(error, SandboxError)
    return JSONResponse({"ok": False, "error": error.message}, status_code=error.status)


def chat_snapshot(state: SandboxState, user_id: int) -> dict[str, Any]:
    user = state.user(user_id)
    chat = state.chats[user.id]
    return {
        "user": user.to_json(),
        "messages": state.history(user.id),
        "reply_keyboard": chat.reply_keyboard,
        "last_seq": state.last_seq(user.id),
    }


def create_client_router(state: SandboxState) -> APIRouter:
    router = APIRouter(prefix="/sandbox")
    _add_user_routes(router, state)
    _add_chat_routes(router, state)
    _add_file_routes(router, state)
    _add_chat_socket(router, state)
    return router


def _add_user_routes(router: APIRouter, state: SandboxState) -> None:
    """The sandbox, its personas and users."""

    @router.get("/api/info")
    async def info() -> dict[str, Any]:
        return {
            "bot": state.bot_user,
            "webhook": state.webhook.url if state.webhook else None,
            "pending_updates": len(state.updates),
        }

    @router.get("/api/personas")
    async def personas() -> list[dict[str, Any]]:
        return [p.to_json() for p in state.personas]

    @router.get("/api/users")
    async def users() -> list[dict[str, Any]]:
        return [u.to_json() for u in state.users.values()]

    @router.post("/api/users", status_code=201)
    async def create_user(body: NewUser) -> dict[str, Any]:
        user = state.create_user(
            body.first_name,
            user_id=body.id,
            last_name=body.last_name,
            username=body.username,
            language_code=body.language_code,
            phone_number=body.phone_number,
            started=body.started,
        )
        return user.to_json()

    @router.get("/api/users/{user_id}")
    async def get_user(user_id: int) -> dict[str, Any]:
        return state.user(user_id).to_json()

    @router.get("/api/users/{user_id}/history")
    async def history(user_id: int) -> dict[str, Any]:
        return chat_snapshot(state, user_id)


def _add_chat_routes(router: APIRouter, state: SandboxState) -> None:
    """What a user sees and does in the chat."""

    @router.get("/api/users/{user_id}/events")
    async def events(
        user_id: int,
        after: int = 0,
        timeout: float = 0.0,  # noqa: ASYNC109 - a query parameter, as in getUpdates
    ) -> dict[str, Any]:
        query = EventsQuery(after=after, timeout=timeout)
        found = await state.wait_events(user_id, query.after, query.timeout)
        return {"events": found, "last_seq": found[-1]["seq"] if found else query.after}

    # each action answers with "seq": the bot's reactions are the chat's events after it
    @router.post("/api/users/{user_id}/text")
    async def send_text(user_id: int, body: TextIn) -> dict[str, Any]:
        message = state.user_send_text(user_id, body.text)
        return {"message": message.view(), "seq": state.last_seq(user_id)}

    @router.post("/api/users/{user_id}/contact")
    async def send_contact(user_id: int, body: ContactIn) -> dict[str, Any]:
        message = state.user_send_contact(
            user_id, body.phone_number, first_name=body.first_name, last_name=body.last_name
        )
        return {"message": message.view(), "seq": state.last_seq(user_id)}

    @router.post("/api/users/{user_id}/press")
    async def press(user_id: int, body: PressIn) -> dict[str, Any]:
        query = state.user_press_inline(user_id, body.message_id, data=body.data, text=body.text)
        return {"query_id": query.id, "data": query.data, "seq": state.last_seq(user_id)}

    @router.post("/api/users/{user_id}/reply_button")
    async def reply_button(user_id: int, body: ReplyButtonIn) -> dict[str, Any]:
        message = state.user_press_reply(user_id, body.text, phone_number=body.phone_number)
        return {"message": message.view(), "seq": state.last_seq(user_id)}

    @router.post("/api/users/{user_id}/block")
    async def block(user_id: int) -> dict[str, Any]:
        state.set_blocked(user_id, True)
        return state.user(user_id).to_json()

    @router.post("/api/users/{user_id}/unblock")
    async def unblock(user_id: int) -> dict[str, Any]:
        state.set_blocked(user_id, False)
        return state.user(user_id).to_json()

    @router.get("/api/users/{user_id}/actions")
    async def actions(user_id: int) -> list[dict[str, Any]]:
        return [a.to_json() for a in state.actions_for(user_id)]

    @router.post("/api/users/{user_id}/actions/{action_id}")
    async def run_action(user_id: int, action_id: str) -> dict[str, Any]:
        # the cursor from before: what the action sets off may arrive while it still runs
        seq = state.last_seq(state.user(user_id).id)
        note = await state.run_action(user_id, action_id)
        return {"ok": True, "note": note, "seq": seq}


def _add_file_routes(router: APIRouter, state: SandboxState) -> None:
    """Answered callbacks, the files the bot sent, and the page's font."""

    @router.get("/api/callbacks/{query_id}")
    async def callback(query_id: str) -> dict[str, Any]:
        return state.callback_query(query_id).to_json()

    @router.get("/files/{file_id}")
    async def file(file_id: str) -> Response:
        stored = state.files.get(file_id)
        if stored is None:
            return JSONResponse({"ok": False, "error": "no such file"}, status_code=404)
        name = stored.file_name or stored.file_path.rsplit("/", 1)[-1]
        disposition = "attachment" if stored.kind == "document" else "inline"
        return Response(
            stored.data,
            media_type=stored.mime_type,
            headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"},
        )

    @router.get(f"/font/{FONT_FILE}")
    async def font() -> Response:
        try:
            import pylopdf_fonts_zh_cn
        except ImportError:
            return Response(status_code=404)
        return FileResponse(
            pylopdf_fonts_zh_cn.sans_path(),
            media_type="font/otf",
            headers={"Cache-Control": "public, max-age=86400"},
        )


def _add_chat_socket(router: APIRouter, state: SandboxState) -> None:
    """A page's live view of one chat: a snapshot, then every event as it happens."""

    @router.websocket("/ws/{user_id}")
    async def chat_socket(websocket: WebSocket, user_id: int) -> None:
        if user_id not in state.users:
            await websocket.close(code=4404)
            return
        await websocket.accept()
        snapshot = chat_snapshot(state, user_id)
        await websocket.send_json({"type": "snapshot", **snapshot})
        pump = asyncio.create_task(_pump(state, websocket, user_id, snapshot["last_seq"]))
        try:
            while True:  # the page only listens; this notices when it goes away
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump


async def _pump(state: SandboxState, websocket: WebSocket, user_id: int, after: int) -> None:
    while not state.closed:
        events = await state.wait_events(user_id, after, 20.0)
        for event in events:
            await websocket.send_json(event)
            after = event["seq"]
        if not events and not state.closed:
            await websocket.send_json({"type": "ping"})  # keeps proxies and idle timers happy
    with contextlib.suppress(Exception):
        await websocket.close(code=1001)
