"""CallbackData of posting cards, match notifications and deals. Opaque ids and short codes only
(64 bytes); the client can send anything, so every handler re-checks the sender's rights
through the core services."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ProposeCb(CallbackData, prefix="pp"):
    """Propose a deal between this shortage and this idle posting; 0 on one side means "the
    proposer picks one of its own" (a shortage) or "offers workers without a posting"."""

    shortage_id: int
    idle_id: int


class ViewPostingCb(CallbackData, prefix="vp"):
    """Open the card of a posting: kind "s" (shortage) or "i" (idle). `via`: the viewer's own
    posting of the other kind the card was matched with (a match notification), so 🤝 from
    the card pairs these two; 0 when opened from search."""

    kind: str
    id: int
    via: int = 0


class DealActCb(CallbackData, prefix="da"):
    """An action on deal `id` at `v`ersion: "a" accept, "c" counter, "d" decline,
    "x" withdraw, "o" open the card. The version makes a button of an
    older offer stale once the deal moved on."""

    a: str
    id: int = 0
    v: int = 0
