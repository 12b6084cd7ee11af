"""🎖 评级: find a worker of the region by name or by the full ID number (looked up by its
hash, never shown back unmasked), pick a new skill grade, confirm; the change is audited."""

from __future__ import annotations

import contextlib
import re

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import Event, clip, locale, show
from bot.handlers.regulator.states import RegulatorGrading
from bot.i18n import N_, tr
from bot.keyboards.common import cancel_button
from bot.keyboards.regulator import GradeCb, GradeListCb, button, markup, rows, with_cancel
from bot.render.errors import error_text
from core.db.uow import UnitOfWork
from core.domain.errors import ValidationError
from core.services import reference_choices, worker_grading
from core.services.accounts import AccountView

# six digits or more: meant as an ID number (names have none), so never searched as a name
_ID_LIKE = re.compile(r"\d{6,}")
GENDERS = {"M": N_("regulator.gender.male"), "F": N_("regulator.gender.female")}


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


async def grading_menu(message: Message, state: FSMContext) -> None:
    await state.set_state(RegulatorGrading.query)
    ways = [
        button(_("regulator.browse.open"), GradeListCb(act="l")),
        button(_("regulator.browse.export"), GradeListCb(act="x")),
        button(_("regulator.browse.upload"), GradeListCb(act="u")),
    ]
    await message.answer(
        _("regulator.grading.ask"), reply_markup=markup(ways[:1], ways[1:], [cancel_button()])
    )


async def _forget(message: Message) -> None:
    """Take a typed ID number out of the chat (bots may delete what users send them)."""
    with contextlib.suppress(TelegramBadRequest):  # too old or already gone: nothing to do
        await message.delete()


async def query_typed(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    text = message.text or ""
    actor = account.actor()
    try:
        if _ID_LIKE.search(_compact(text)):
            await _forget(message)
            found = await worker_grading.find_workers_in_scope(
                uow, actor, id_number=_compact(text)
            )
        else:
            found = await worker_grading.find_workers_in_scope(uow, actor, name=text)
    except ValidationError as exc:
        await message.answer(
            "\n".join((error_text(exc), _("regulator.grading.ask_again"))),
            reply_markup=markup([cancel_button()]),
        )
        return
    if not found:
        await message.answer(
            _("regulator.grading.not_found"), reply_markup=markup([cancel_button()])
        )
        return
    await state.set_state(None)
    if len(found) == 1:
        await _card(message, uow, found[0])
        return
    loc = locale()
    lines = [tr("regulator.grading.found", n=len(found))]
    buttons = []
    for index, card in enumerate(found, start=1):
        lines.append(
            tr(
                "regulator.grading.item",
                n=index,
                name=card.name,
                id_masked=card.id_masked,
                trade=card.trade_name(loc),
                grade=card.grade_name(loc),
                enterprise=clip(card.enterprise_name, 20),
            )
        )
        buttons.append(button(f"{index}. {card.name}", GradeCb(worker=card.worker_id)))
    await message.answer("\n".join(lines), reply_markup=with_cancel(*rows(buttons)))


async def query_expected(message: Message) -> None:
    await message.answer(_("regulator.grading.ask_again"), reply_markup=markup([cancel_button()]))


def _card_text(card: worker_grading.GradingCard) -> str:
    loc = locale()
    rating = (
        tr("regulator.grading.rating", avg=card.avg_rating, count=card.rating_count)
        if card.avg_rating is not None
        else _("regulator.grading.no_rating")
    )
    return tr(
        "regulator.grading.card",
        name=card.name,
        gender=_(GENDERS.get(card.gender, GENDERS["M"])),
        id_masked=card.id_masked,
        trade=card.trade_name(loc),
        grade=card.grade_name(loc),
        enterprise=card.enterprise_name,
        rating=rating,
    )


async def _card(
    event: Event, uow: UnitOfWork, card: worker_grading.GradingCard, head: str | None = None
) -> None:
    loc = locale()
    grades = [
        button(
            f"✅ {g.name(loc)}" if int(g.code) == card.grade_level else g.name(loc),
            GradeCb(worker=card.worker_id, grade=int(g.code)),
        )
        for g in await reference_choices.grade_choices(uow)
    ]
    lines = [head] if head else []
    lines += [_card_text(card), _("regulator.grading.pick")]
    await show(event, "\n".join(lines), with_cancel(*rows(grades)))


async def grade_tap(
    query: CallbackQuery, callback_data: GradeCb, uow: UnitOfWork, account: AccountView
) -> None:
    cb = callback_data
    actor = account.actor()
    card = await worker_grading.get_grading_card(uow, actor, cb.worker)
    loc = locale()
    if cb.grade == 0:
        await _card(query, uow, card)
        return
    names = {int(g.code): g.name(loc) for g in await reference_choices.grade_choices(uow)}
    if cb.grade not in names:
        raise ValidationError("error.grade_unknown")
    if cb.grade == card.grade_level:
        await query.answer(_("regulator.grading.same"))
        return
    if not cb.ok:
        text = tr(
            "regulator.grading.confirm",
            name=card.name,
            id_masked=card.id_masked,
            old=card.grade_name(loc),
            new=names[cb.grade],
        )
        keyboard = with_cancel(
            [
                button(
                    _("regulator.confirm"), GradeCb(worker=card.worker_id, grade=cb.grade, ok=1)
                ),
                button(_("regulator.back"), GradeCb(worker=card.worker_id)),
            ]
        )
        await show(query, text, keyboard)
        return
    updated = await worker_grading.set_worker_grade(uow, actor, cb.worker, cb.grade)
    head = tr("regulator.grading.saved", name=updated.name, grade=updated.grade_name(loc))
    await _card(query, uow, updated, head)
