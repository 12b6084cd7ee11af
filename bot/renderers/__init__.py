"""Outbox renderers by feature, each module with its own `RENDERERS` table.

`outbox_renderers()` is the one list of them: the runtime builder (bot.runtime) calls it and
hands the table to the outbox sender. A new renderer module is added to that list."""

from bot import notifier
from bot.notifier import Renderers
from bot.renderers import (
    contact_exchange,
    deals,
    digest,
    dispatch,
    interrupted,
    join,
    match,
    posting_approval,
    rating,
    regulator,
    rings,
)


def outbox_renderers() -> Renderers:
    """Every outbox kind the bot can deliver, with its renderer."""
    return Renderers.combine(
        notifier.RENDERERS,
        contact_exchange.RENDERERS,
        deals.RENDERERS,
        digest.RENDERERS,
        dispatch.RENDERERS,
        interrupted.RENDERERS,
        join.RENDERERS,
        match.RENDERERS,
        posting_approval.RENDERERS,
        rating.RENDERERS,
        rings.RENDERERS,
        regulator.RENDERERS,
    )


__all__ = ["outbox_renderers"]
