"""Delivery channels in ⚙️ 设置: a regulator sees its WeCom / DingTalk groups and mailboxes
(masked) and can send each a test message. Adding one is the admin's CLI (the URL is a secret
that does not belong in a chat history)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton

from bot.i18n import tr
from core.channels.service import BROKEN, ChannelView, list_channels, queue_test
from core.channels.targets import ChannelKind
from core.db.uow import UnitOfWork
from core.services.accounts import AccountView

ICONS = {ChannelKind.WECOM: "💬", ChannelKind.DINGTALK: "📌", ChannelKind.EMAIL: "✉️"}


class ChannelTestCb(CallbackData, prefix="cht"):
    """Send a test message to a channel; ownership is checked again on every tap."""

    id: int


async def channels_of(uow: UnitOfWork, account: AccountView) -> list[ChannelView]:
    """The account's channels, for accounts that receive digests (regulators)."""
    if not account.has_digest:
        return []
    return await list_channels(uow, account.actor(), account.id)


def channel_lines(account: AccountView, channels: Sequence[ChannelView]) -> list[str]:
    if not account.has_digest:
        return []
    if not channels:
        return [tr("channels.settings_none")]
    lines = [tr("channels.settings_title")]
    for channel in channels:
        status = tr("channels.status_broken") if channel.status == BROKEN else ""
        lines.append(
            tr("channels.line", icon=ICONS[channel.kind], label=channel.label, status=status)
        )
    return lines


def channel_buttons(channels: Sequence[ChannelView]) -> list[list[InlineKeyboardButton]]:
    return [
        [
            InlineKeyboardButton(
                text=tr("channels.test_button", label=channel.label),
                callback_data=ChannelTestCb(id=channel.id).pack(),
            )
        ]
        for channel in channels
    ]


async def test_tapped(
    query: CallbackQuery, callback_data: ChannelTestCb, uow: UnitOfWork, account: AccountView
) -> None:
    _, channel = await queue_test(uow, account.actor(), callback_data.id)
    await query.answer(tr("channels.test_queued", label=channel.label), show_alert=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(test_tapped, ChannelTestCb.filter())
    return router
