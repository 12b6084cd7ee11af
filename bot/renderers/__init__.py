"""Outbox renderers by feature. Importing this package registers them all with bot.notifier;
the composition root (bot process, scheduler, web app) imports it before the sender starts."""

from bot.renderers import deals, digest, dispatch, match, rating, regulator

__all__ = ["deals", "digest", "dispatch", "match", "rating", "regulator"]
