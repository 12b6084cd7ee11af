"""Multi-step conversations as aiogram-dialog dialogs, one module per conversation; the
router of them all and the Dispatcher wiring live in bot.dialogs.wiring (importing a widget
module must not import every dialog, and through them every handler)."""
