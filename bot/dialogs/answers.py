"""Two shapes the company's dialogs share. A typed answer: a window asks, a core parser checks
the text; a refused one is said above the same prompt, which asks again, and nothing is
written before a good answer. A decision on a card (an application, a 需求待批 request): a tap
a rule refuses is answered with the reason, and a card with nothing left to decide loses its
buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Row

from bot.dialogs.widgets import (
    ERROR,
    account_of,
    cancel_button,
    pop_error,
    show_error,
    typed,
    uow_of,
)
from bot.i18n import N_
from bot.keyboards.common import account_menu
from bot.render.errors import alert_text, error_text
from bot.render.messages import drop_inline_keyboard, edit_or_send
from core.domain.errors import DomainError, ValidationError

Take = Callable[[DialogManager, str], Awaitable[None]]
Refuse = Callable[[DomainError], Awaitable[None]]
Card = Callable[[Any], Awaitable[str]]


def on_answer(take: Take, retry: type[DomainError] = DomainError) -> Any:
    """Typed text goes to `take`; a `retry` error it raises is said above the same prompt."""

    async def answered(message: Message, _widget: Any, manager: DialogManager) -> None:
        try:
            await take(manager, message.text or "")
        except retry as exc:
            await uow_of(manager).rollback()
            show_error(manager, error_text(exc))

    return answered


async def error_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {"error": pop_error(dialog_manager)}


def answer_window(
    state: State,
    *widgets: Any,
    take: Take,
    need: str = N_("shortage.need_text"),
    retry: type[DomainError] = DomainError,
    nav: Any = None,
    getter: Any = None,
) -> Window:
    """The prompt (and any buttons) in `widgets`, ❌ Cancel unless `nav` says otherwise; a
    sticker or photo is told `need`."""
    return Window(
        ERROR,
        *widgets,
        nav if nav is not None else Row(cancel_button()),
        *typed(on_answer(take, retry), need),
        getter=(error_getter, getter) if getter is not None else error_getter,
        state=state,
    )


def started(manager: DialogManager, key: str) -> int:
    """An id the dialog was opened with (its start data)."""
    data = manager.start_data
    assert isinstance(data, dict)
    return int(data[key])


async def refuse_on_card(
    query: CallbackQuery, exc: DomainError, done: frozenset[str], text: str = ""
) -> None:
    """A clear alert (`text`, else the error's); a card whose `done` refusal leaves nothing to
    decide (decided already, gone, out of reach) loses its buttons."""
    await query.answer(alert_text(text or error_text(exc)), show_alert=True)
    if exc.key in done:
        await drop_inline_keyboard(query)


async def decide_on_card(
    query: CallbackQuery, decision: Awaitable[Any], refuse: Refuse, short: str, card: Card
) -> None:
    """A one-tap decision (✅ 批准): the card becomes the decided one, or `refuse` says why not."""
    try:
        view = await decision
    except DomainError as exc:
        await refuse(exc)
        return
    await query.answer(short)
    await edit_or_send(query, await card(view))


async def ask_from_card(
    query: CallbackQuery,
    manager: DialogManager,
    state: State,
    data: dict[str, int],
    check: Awaitable[Any],
    refuse: Refuse,
) -> None:
    """A card's button that asks something first (a reason, new values): the rules are checked
    before the question (`refuse` says why not), then its dialog opens."""
    try:
        await check
    except DomainError as exc:
        await refuse(exc)
        return
    await query.answer()
    await manager.start(state, mode=StartMode.RESET_STACK, data=data)


async def settle(manager: DialogManager, decision: Awaitable[Any], card: Card) -> None:
    """A decision typed in its dialog: a bad value (ValidationError) is asked again; else the
    dialog ends with the decided `card`, or why nothing was left to decide (decided meanwhile,
    out of reach), and the menu."""
    try:
        text = await card(await decision)
    except ValidationError:
        raise
    except DomainError as exc:
        text = error_text(exc)
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    event = manager.event
    message = event if isinstance(event, Message) else getattr(event, "message", None)
    if isinstance(message, Message):
        await message.answer(text, reply_markup=account_menu(account_of(manager)))
