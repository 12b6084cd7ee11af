"""One notification, rendered for each kind of channel from the same data.

A renderer builds neutral `Content` (title, Telegram-style HTML lines, chart PNG, workbook)
and a formatter turns it into what the platform takes:

- WeCom group robot (developer.work.weixin.qq.com/document/path/91770): `markdown` messages,
  content at most 4096 bytes of UTF-8, so longer text is split at line ends; the chart as an
  `image` message (base64 of the PNG and the md5 of its bytes, at most 2 MB before encoding);
  the workbook uploaded with upload_media (type=file) and sent as a `file` message.
- DingTalk custom robot (open.dingtalk.com/document/robots/custom-robot-access): `markdown`
  messages of at most ~20000 bytes (the limit DingTalk states for a robot message), split
  likewise. A custom robot has no upload API, and a markdown image needs a public URL: we
  publish none, because a link to a bureau's chart would open for anyone who has it. So the
  chart and workbook are left out and the last message says where to find them.
- E-mail: an HTML body with the chart inline (cid:chart), the workbook attached.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, cast

from core.channels.kinds import DIGEST, ESCALATION, TEST, WEEKLY
from core.channels.targets import ChannelKind
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.money import format_money
from core.reports.text import render_digest_text
from core.services.digests import Digest, build_digest

WECOM_MARKDOWN_BYTES = 4096
WECOM_IMAGE_BYTES = 2 * 1024 * 1024
DINGTALK_MARKDOWN_BYTES = 20000
_PART_MARK_BYTES = 16  # room for the "(2/3)" line added to split messages
BRAND = {"zh": "晋工调度", "en": "JinGong"}

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "test_title": "晋工调度 · 测试消息",
        "test_body": "这是一条测试消息：本群（或邮箱）已接入晋工调度，日报和提醒会发到这里。",
        "test_at": "发送时间：{at}",
        "escalation_shortage": "🧭 企业提请协调：缺工",
        "escalation_idle": "🧭 企业提请协调：赋闲工人",
        "card": (
            "{enterprise} · {county} · {trade} {level}级 · 待满 {headcount} 人 · "
            "{price} 元/月 · 联系人 {contact} {phone}"
        ),
        "card_project": "项目：{project}",
        "escalation_hint": "请在 Telegram 的「🧭 协调」中处理。",
        "dingtalk_no_files": (
            "📎 图表和 Excel 明细请在 Telegram 或邮件中查看（钉钉机器人不支持上传文件）。"
        ),
        "chart_too_big": "（图表超过 2 MB，未发送）",
        "email_attachment": "明细见附件 {filename}。",
    },
    "en": {
        "test_title": "JinGong · test message",
        "test_body": "This is a test: this group (or mailbox) is connected to JinGong Dispatch; "
        "digests and alerts will arrive here.",
        "test_at": "Sent at {at}",
        "escalation_shortage": "🧭 Escalated to the bureau: shortage",
        "escalation_idle": "🧭 Escalated to the bureau: idle workers",
        "card": (
            "{enterprise} · {county} · {trade} grade {level} · {headcount} open · "
            "{price} CNY/month · contact {contact} {phone}"
        ),
        "card_project": "Project: {project}",
        "escalation_hint": "Handle it under 🧭 Escalations in Telegram.",
        "dingtalk_no_files": "📎 Chart and Excel details: see Telegram or e-mail (DingTalk "
        "robots cannot upload files).",
        "chart_too_big": "(chart over 2 MB, not sent)",
        "email_attachment": "Details in the attached {filename}.",
    },
}


def _label(locale: str, key: str, **params: object) -> str:
    """A label as Telegram-style HTML: the template and every value escaped."""
    table = LABELS["en" if locale.startswith("en") else "zh"]
    template = html.escape(table[key], quote=False)
    return template.format(**{k: html.escape(str(v), quote=False) for k, v in params.items()})


@dataclass(frozen=True)
class Content:
    """What to say, before any platform's format. `lines` are HTML: escaped text, <b> only."""

    title: str  # plain text: e-mail subject, DingTalk title
    lines: list[str]
    chart_png: bytes | None = None
    attachment: tuple[str, bytes] | None = None  # (file name, bytes)


@dataclass(frozen=True)
class RobotPart:
    """One robot call: POST `body`; with `upload`, upload that file first and send its
    media_id as a `file` message (WeCom only)."""

    body: dict[str, Any] | None = None
    upload: tuple[str, bytes] | None = None


# --- content of each kind -----------------------------------------------------------------


async def _digest(uow: UnitOfWork, payload: dict[str, Any]) -> Digest:
    from core.services.digest_schedule import recent_digest, remember_digest

    region = str(payload["region_code"])
    day = date.fromisoformat(str(payload["day"]))
    digest = recent_digest(region, day)  # the tick of this process built it moments ago
    if digest is None:
        # as the system: the recipient's scope was checked when the digest was queued
        digest = await build_digest(uow, Actor.system(), region, day)
        remember_digest(digest)
    await uow.rollback()  # end the read before the CPU work (SQLite: the write lock)
    return digest


def digest_filename(digest: Digest, locale: str) -> str:
    brand = BRAND["en" if locale.startswith("en") else "zh"]
    region = digest.region.name(locale).replace(" ", "_").replace("/", "_")
    return f"{brand}_{region}_{digest.day.isoformat()}.xlsx"


async def digest_content(uow: UnitOfWork, payload: dict[str, Any], locale: str) -> Content:
    from core.reports.chart import render_digest_chart
    from core.reports.xlsx import digest_workbook

    digest = await _digest(uow, payload)
    (text,) = render_digest_text(digest, locale, limit=10**9)
    chart = await asyncio.to_thread(render_digest_chart, digest, locale)
    workbook = await asyncio.to_thread(digest_workbook, digest, locale)
    lines = text.split("\n")
    title = html.unescape(re.sub(r"<[^>]+>", "", lines[0])) + f" {digest.day.isoformat()}"
    return Content(title, lines, chart, (digest_filename(digest, locale), workbook))


async def weekly_content(uow: UnitOfWork, payload: dict[str, Any], locale: str) -> Content:
    from datetime import timedelta

    from core.reports.text import render_company_weekly_text
    from core.services.digests import build_company_weekly

    day = date.fromisoformat(str(payload["day"]))
    # as the system: the recipient's scope was checked when the digest was queued
    weekly = await build_company_weekly(
        uow, Actor.system(), int(payload["enterprise_id"]), day - timedelta(days=1)
    )
    await uow.rollback()
    (text,) = render_company_weekly_text(weekly, locale, limit=10**9)
    lines = text.split("\n")
    title = html.unescape(re.sub(r"<[^>]+>", "", lines[0])) + f" {day.isoformat()}"
    return Content(title, lines)


async def escalation_content(uow: UnitOfWork, payload: dict[str, Any], locale: str) -> Content:
    from core.services.search import load_cards

    kind = str(payload["posting_kind"])
    posting_id = int(payload["posting_id"])
    card = (await load_cards(uow, kind, [posting_id])).get(posting_id)
    await uow.rollback()
    zh = not locale.startswith("en")
    title_html = _label(locale, "escalation_shortage" if kind == "shortage" else "escalation_idle")
    lines = [f"<b>{title_html}</b>"]
    if card is not None:
        lines.append(
            _label(
                locale,
                "card",
                enterprise=card.enterprise_name,
                county=card.county_name_zh if zh else card.county_name_en,
                trade=card.trade_name_zh if zh else card.trade_name_en,
                level=card.grade_level,
                headcount=card.open_headcount,
                price=format_money(card.price, symbol=False),
                contact=card.contact_name,
                phone=card.contact_phone_masked,
            )
        )
        if card.project_name:
            lines.append(_label(locale, "card_project", project=card.project_name))
    lines.append(_label(locale, "escalation_hint"))
    return Content(html.unescape(title_html), lines)


def test_content(payload: dict[str, Any], locale: str) -> Content:
    at = str(payload.get("at", ""))[:19].replace("T", " ")
    title = _label(locale, "test_title")
    lines = [
        f"<b>{title}</b>",
        _label(locale, "test_body"),
        _label(locale, "test_at", at=at + " UTC"),
    ]
    return Content(html.unescape(title), lines)


class UnknownChannelKind(LookupError):
    pass


async def build_content(
    uow: UnitOfWork, kind: str, payload: dict[str, Any], locale: str
) -> Content | None:
    """The content of one channel row; None when there is nothing to say any more."""
    if kind == DIGEST:
        return await digest_content(uow, payload, str(payload.get("locale") or locale))
    if kind == WEEKLY:
        return await weekly_content(uow, payload, str(payload.get("locale") or locale))
    if kind == ESCALATION:
        return await escalation_content(uow, payload, locale)
    if kind == TEST:
        return test_content(payload, locale)
    raise UnknownChannelKind(kind)


# --- formats ------------------------------------------------------------------------------


# Characters a name could carry that the robots' markdown would read as syntax (bold, code,
# WeCom's <font> tags): shown as their full-width twins, which read the same
_MARKDOWN_SAFE = str.maketrans({"*": "＊", "`": "｀", "<": "＜", ">": "＞", "_": "＿"})


def to_markdown(line: str) -> str:
    """A Telegram-HTML line as markdown: <b> becomes **, entities are decoded, and the text
    itself cannot open markdown or HTML of its own."""
    pieces = re.split(r"</?b>", line)
    return "**".join(html.unescape(piece).translate(_MARKDOWN_SAFE) for piece in pieces)


def split_utf8(lines: list[str], limit: int, joiner: str = "\n") -> list[str]:
    """Join lines into chunks of at most `limit` UTF-8 bytes, breaking only between lines
    (a single overlong line is cut at a character boundary)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    sep = len(joiner.encode())
    for line in lines:
        pieces = [line]
        if len(line.encode()) > limit:
            pieces, buf = [], ""
            for ch in line:
                if len((buf + ch).encode()) > limit:
                    pieces.append(buf)
                    buf = ""
                buf += ch
            pieces.append(buf)
        for piece in pieces:
            extra = len(piece.encode()) + (sep if current else 0)
            if current and size + extra > limit:
                chunks.append(joiner.join(current).strip())
                current, size = [], 0
                extra = len(piece.encode())
            if not current and not piece.strip():
                continue  # no chunk starts with a blank line
            current.append(piece)
            size += extra
    if current:
        chunks.append(joiner.join(current).strip())
    chunks = [c for c in chunks if c]
    if len(chunks) > 1:
        chunks = [f"{c}{joiner}({i}/{len(chunks)})" for i, c in enumerate(chunks, 1)]
    return chunks


def wecom_parts(content: Content, locale: str) -> list[RobotPart]:
    lines = [to_markdown(line) for line in content.lines]
    parts = [
        RobotPart({"msgtype": "markdown", "markdown": {"content": chunk}})
        for chunk in split_utf8(lines, WECOM_MARKDOWN_BYTES - _PART_MARK_BYTES)
    ]
    if content.chart_png is not None:
        if len(content.chart_png) <= WECOM_IMAGE_BYTES:
            parts.append(
                RobotPart(
                    {
                        "msgtype": "image",
                        "image": {
                            "base64": base64.b64encode(content.chart_png).decode(),
                            "md5": hashlib.md5(
                                content.chart_png
                            ).hexdigest(),  # WeCom asks for md5
                        },
                    }
                )
            )
        else:
            text = to_markdown(_label(locale, "chart_too_big"))
            parts.append(RobotPart({"msgtype": "markdown", "markdown": {"content": text}}))
    if content.attachment is not None:
        parts.append(RobotPart(upload=content.attachment))
    return parts


def dingtalk_parts(content: Content, locale: str) -> list[RobotPart]:
    lines = [to_markdown(line) for line in content.lines]
    if content.chart_png is not None or content.attachment is not None:
        lines += ["", to_markdown(_label(locale, "dingtalk_no_files"))]
    # DingTalk's markdown joins single newlines into one paragraph: end lines with a hard break
    chunks = split_utf8(lines, DINGTALK_MARKDOWN_BYTES - _PART_MARK_BYTES, joiner="  \n")
    return [
        RobotPart(
            {"msgtype": "markdown", "markdown": {"title": content.title[:60], "text": chunk}}
        )
        for chunk in chunks
    ]


def email_message(content: Content, locale: str, *, sender: str, to: str) -> EmailMessage:
    """An HTML mail (with a plain-text alternative), the chart inline, the workbook attached."""
    msg = EmailMessage()
    msg["Subject"] = content.title
    msg["From"] = sender
    msg["To"] = to
    plain = "\n".join(html.unescape(re.sub(r"<[^>]+>", "", line)) for line in content.lines)
    msg.set_content(plain)
    body = "<br>\n".join(content.lines)
    cid = make_msgid(domain="jingong.local")
    if content.chart_png is not None:
        body += f'<p><img src="cid:{cid[1:-1]}" alt="chart" style="max-width:100%"></p>'
    if content.attachment is not None:
        body += "<p>" + _label(locale, "email_attachment", filename=content.attachment[0]) + "</p>"
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f'<body style="font-family:sans-serif;line-height:1.5">{body}</body></html>'
    )
    msg.add_alternative(page, subtype="html")
    if content.chart_png is not None:
        html_part = cast(EmailMessage, msg.get_body(preferencelist=("html",)))
        html_part.add_related(content.chart_png, "image", "png", cid=cid, filename="chart.png")
    if content.attachment is not None:
        filename, data = content.attachment
        msg.add_attachment(
            data,
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=filename,
        )
    return msg


def robot_parts(kind: ChannelKind, content: Content, locale: str) -> list[RobotPart]:
    return (
        wecom_parts(content, locale)
        if kind is ChannelKind.WECOM
        else dingtalk_parts(content, locale)
    )
