"""CallbackData shared by search, match notifications and deals. Opaque ids only (64 bytes);
every handler re-checks the sender's rights through the core services."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ProposeCb(CallbackData, prefix="pp"):
    """Propose a deal between this shortage and this idle posting (0 = pick one of mine)."""

    shortage_id: int
    idle_id: int


class ViewPostingCb(CallbackData, prefix="vp"):
    """Open the card of a posting: kind "s" (shortage) or "i" (idle)."""

    kind: str
    id: int
