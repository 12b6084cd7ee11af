"""Fake WeCom group robots and DingTalk custom robots: the tests' (and the demo's) endpoints.

Request and answer shapes follow the platforms' documentation:
- WeCom (developer.work.weixin.qq.com/document/path/91770, 群机器人配置说明):
  POST /cgi-bin/webhook/send?key=KEY with {"msgtype": "markdown"|"text"|"image"|"file", …};
  markdown content ≤ 4096 bytes, image {base64, md5} ≤ 2 MB, file {media_id} from
  POST /cgi-bin/webhook/upload_media?key=KEY&type=file (multipart field "media", 5 B–20 MB);
  20 messages a minute per robot. Answers {"errcode": 0, "errmsg": "ok"}; 93000 for an
  unknown key, 45009 over the limit.
- DingTalk (open.dingtalk.com/document/robots/custom-robot-access):
  POST /robot/send?access_token=TOKEN[&timestamp=MS&sign=SIGN] with {"msgtype": "markdown",
  "markdown": {"title", "text"}} (or text/link/actionCard); with 加签, sign =
  base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")) and the timestamp within an hour;
  20 messages a minute per robot. Answers {"errcode": 0, "errmsg": "ok"}; 300001 for an
  unknown token, 310000 for a bad signature, 410100 over the limit.
`fail_next` makes the next answers HTTP 502, as a platform outage would.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

PER_MINUTE = 20


@dataclass
class RobotState:
    wecom_keys: set[str] = field(default_factory=set)
    dingtalk: dict[str, str | None] = field(default_factory=dict)  # token → signing secret
    received: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    fail_next: int = 0
    fail_msgtype: str | None = None  # answer 502 once to the next message of this type
    per_minute: int = PER_MINUTE
    _sent_at: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def add_wecom(self, key: str) -> str:
        self.wecom_keys.add(key)
        return f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}"

    def add_dingtalk(self, token: str, secret: str | None = None) -> str:
        self.dingtalk[token] = secret
        return f"https://oapi.dingtalk.com/robot/send?access_token={token}"

    def over_limit(self, robot: str) -> bool:
        now = time.monotonic()
        window = self._sent_at[robot]
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return True
        window.append(now)
        return False


def _answer(code: int = 0, message: str = "ok", **extra: Any) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": message, **extra})


def _outage(state: RobotState) -> Response | None:
    """A gateway error while `fail_next` lasts."""
    if state.fail_next > 0:
        state.fail_next -= 1
        return Response("Bad Gateway", status_code=502)
    return None


async def _wecom_send(state: RobotState, request: Request) -> Response:
    if (down := _outage(state)) is not None:
        return down
    key = request.query_params.get("key", "")
    if key not in state.wecom_keys:
        return _answer(93000, "invalid webhook url, hint: [fake]")
    try:
        body = await request.json()
    except ValueError:
        return _answer(40035, "invalid json")
    if (refused := _wecom_refusal(state, body)) is not None:
        return refused
    if state.over_limit(f"wecom:{key}"):
        return _answer(45009, "api freq out of limit")
    state.received[f"wecom:{key}"].append(body)
    return _answer()


async def _wecom_upload(state: RobotState, request: Request) -> Response:
    if (down := _outage(state)) is not None:
        return down
    key = request.query_params.get("key", "")
    if key not in state.wecom_keys:
        return _answer(93000, "invalid webhook url, hint: [fake]")
    if request.query_params.get("type") not in ("file", "voice"):
        return _answer(40005, "invalid media type")
    form = await request.form()
    media = form.get("media")
    if media is None or isinstance(media, str):
        return _answer(41001, "media missing")
    data = await media.read()
    if not 5 < len(data) <= 20 * 1024 * 1024:
        return _answer(40006, "invalid file size")
    media_id = uuid.uuid4().hex
    state.media[media_id] = (str(media.filename), data)
    return _answer(type="file", media_id=media_id, created_at=str(int(time.time())))


async def _dingtalk_send(state: RobotState, request: Request) -> Response:
    if (down := _outage(state)) is not None:
        return down
    token = request.query_params.get("access_token", "")
    if token not in state.dingtalk:
        return _answer(300001, "token is not exist")
    secret = state.dingtalk[token]
    if secret is not None and not _dingtalk_signed(request, secret):
        return _answer(310000, "sign not match")
    try:
        body = await request.json()
    except ValueError:
        return _answer(40035, "invalid json")
    if (refused := _dingtalk_refusal(body)) is not None:
        return refused
    if state.over_limit(f"dingtalk:{token}"):
        return _answer(410100, "send too fast, exceed 20 times per minute")
    state.received[f"dingtalk:{token}"].append(body)
    return _answer()


def create_robot_app(state: RobotState) -> Starlette:
    async def wecom_send(request: Request) -> Response:
        return await _wecom_send(state, request)

    async def wecom_upload(request: Request) -> Response:
        return await _wecom_upload(state, request)

    async def dingtalk_send(request: Request) -> Response:
        return await _dingtalk_send(state, request)

    async def group_page(request: Request) -> Response:
        return HTMLResponse(render_group_page(state))

    return Starlette(
        routes=[
            Route("/", group_page, methods=["GET"]),
            Route("/cgi-bin/webhook/send", wecom_send, methods=["POST"]),
            Route("/cgi-bin/webhook/upload_media", wecom_upload, methods=["POST"]),
            Route("/robot/send", dingtalk_send, methods=["POST"]),
        ]
    )


def _wecom_refusal(state: RobotState, body: dict[str, Any]) -> Response | None:
    """WeCom's answer to a message it won't post, or None when the message is fine."""
    kind = body.get("msgtype")
    if kind is not None and kind == state.fail_msgtype:
        state.fail_msgtype = None
        return Response("Bad Gateway", status_code=502)
    if kind in ("markdown", "text"):
        content = str((body.get(kind) or {}).get("content", ""))
        limit = 4096 if kind == "markdown" else 2048
        if not content or len(content.encode()) > limit:
            return _answer(40058, f"{kind}.content exceed max length {limit}")
        return None
    if kind == "image":
        return _wecom_image_refusal(body.get("image") or {})
    if kind == "file":
        if (body.get("file") or {}).get("media_id") not in state.media:
            return _answer(40007, "invalid media_id")
        return None
    return _answer(40008, "invalid message type")


def _wecom_image_refusal(image: dict[str, Any]) -> Response | None:
    try:
        data = base64.b64decode(str(image.get("base64", "")), validate=True)
    except (binascii.Error, ValueError):
        return _answer(40035, "invalid image base64")
    if not data or len(data) > 2 * 1024 * 1024:
        return _answer(40009, "invalid image size")
    if hashlib.md5(data).hexdigest() != image.get("md5"):
        return _answer(40035, "image md5 not match")
    return None


def _dingtalk_signed(request: Request, secret: str) -> bool:
    """A fresh timestamp (within the hour) signed with the robot's secret."""
    timestamp = request.query_params.get("timestamp", "")
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    fresh = timestamp.isdigit() and abs(time.time() * 1000 - int(timestamp)) < 3600_000
    return fresh and hmac.compare_digest(expected, request.query_params.get("sign", ""))


def _dingtalk_refusal(body: dict[str, Any]) -> Response | None:
    """DingTalk's answer to a message it won't post, or None when the message is fine."""
    kind = body.get("msgtype")
    if kind == "markdown":
        md = body.get("markdown") or {}
        if not md.get("title") or not md.get("text"):
            return _answer(40035, "markdown title and text are required")
        if len(str(md["text"]).encode()) > 20000:
            return _answer(460101, "message too long")
    elif kind != "text":
        return _answer(40035, "unsupported msgtype in this fake")
    return None


def _markdown_html(text: str) -> str:
    """Just enough of WeCom's markdown for the page: **bold**, line breaks; all else escaped."""
    escaped = html.escape(text, quote=False)
    parts = escaped.split("**")
    bolded = "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))
    return bolded.replace("\n", "<br>")


def render_group_page(state: RobotState, title: str = "企业微信群 · WeCom group") -> str:
    """What the WeCom groups of this fake received, newest robot first, as a phone shows it."""
    blocks = []
    for robot, messages in state.received.items():
        if not robot.startswith("wecom:"):
            continue
        items = []
        for body in messages:
            kind = body.get("msgtype")
            if kind in ("markdown", "text"):
                inner = _markdown_html(str(body[kind].get("content", "")))
            elif kind == "image":
                inner = f'<img alt="chart" src="data:image/png;base64,{body["image"]["base64"]}">'
            elif kind == "file":
                name, data = state.media.get(body["file"]["media_id"], ("?", b""))
                inner = f"📎 {html.escape(name)} · {len(data) // 1024 + 1} KB"
            else:
                inner = html.escape(str(body))
            items.append(f'<div class="msg"><div class="who">🤖 晋工调度机器人</div>{inner}</div>')
        blocks.append("".join(items) or '<p class="muted">暂无消息 · no messages yet</p>')
    if not blocks:
        blocks.append('<p class="muted">暂无消息 · no messages yet</p>')
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="5">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;background:#ededed;margin:0;padding:1em;max-width:42em}"
        ".msg{background:#fff;border-radius:6px;padding:.7em 1em;margin:.6em 0;"
        "line-height:1.5;font-size:14px}.who{color:#888;font-size:12px;margin-bottom:.3em}"
        "img{max-width:100%}.muted{color:#888}h1{font-size:18px}</style></head><body>"
        f"<h1>💬 {html.escape(title)}</h1>"
        '<p class="muted">太原市住建局的企业微信群收到的日报副本（演示；每 5 秒刷新）· '
        "The WeCom copy of the Taiyuan regulator's digest (demo; refreshes every 5 s)</p>"
        + "".join(blocks)
        + "</body></html>"
    )
