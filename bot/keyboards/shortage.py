"""Buttons of the shortage feature shown outside its dialog (bot/dialogs/shortage.py)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.callbacks_deals import ProposeCb
from bot.keyboards.common import POST_SHORTAGE
from core.services.matching import MatchView

PROPOSE_NAME_LEN = 16


class ShCb(CallbackData, prefix="sh"):
    """Opens the dialog from another screen: act "start", val a project id or ""."""

    act: str
    val: str = ""


def start_button(project_id: int | None = None) -> InlineKeyboardButton:
    """ "📝 Post shortage" as an inline button (for other screens, e.g. a project card)."""
    return InlineKeyboardButton(
        text=_(POST_SHORTAGE), callback_data=ShCb(act="start", val=str(project_id or "")).pack()
    )


def propose_buttons(
    matches: Sequence[MatchView], *, shortage_id: int | None = None, idle_id: int | None = None
) -> list[list[InlineKeyboardButton]]:
    """One "🤝 n. company" button per match, a row each (the deals feature handles the tap)."""
    buttons = []
    for n, m in enumerate(matches, 1):
        posting_id = m.posting_id
        sid = shortage_id if shortage_id is not None else posting_id
        iid = idle_id if idle_id is not None else posting_id
        # named after the line it belongs to: "🤝 提议 3" had to be matched up by number
        name = m.card.enterprise_name[:PROPOSE_NAME_LEN]
        buttons.append(
            InlineKeyboardButton(
                text=_("posting.propose_to").format(n=n, name=name),
                callback_data=ProposeCb(shortage_id=sid, idle_id=iid).pack(),
            )
        )
    return [[button] for button in buttons]
