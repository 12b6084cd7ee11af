"""CallbackData factories. Opaque ids and short codes only (64-byte limit); the client can send
anything, so every handler re-checks the sender's rights."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LangCb(CallbackData, prefix="lang"):
    code: str  # "zh" | "en"


class SettingsCb(CallbackData, prefix="set"):
    """A target value, never "toggle": a repeated tap sets the same value (one change)."""

    field: str  # "notify" | "quiet" | "digest" | "lang" | "phone"
    value: str = ""  # "1"/"0", "2200-0700"/"off", "0800"


class InviteProjectCb(CallbackData, prefix="invp"):
    project_id: int


class CancelCb(CallbackData, prefix="cancel"):
    """The inline Cancel button of any step (the reply-keyboard one is a text)."""


class DeclareIdleCb(CallbackData, prefix="idl"):
    """📤 Declare idle from another screen: `s` the shortage to come back to, `tr` its trade
    (0 / "": none). Both are only hints: the dialog checks them again."""

    s: int = 0
    tr: str = ""
