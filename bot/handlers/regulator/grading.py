"""🎖 评级: find a worker of the region by name or by the full ID number (looked up by its
hash, never shown back unmasked), pick a new skill grade, confirm; the change is audited."""

from __future__ import annotations

import contextlib
import re

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import (
    NOT_MENU,
    Ctx,
    Reply,
    ask,
    cancel_only,
    clip,
    locale,
    mark,
    on_message,
    screen,
    show,
)
from bot.handlers.regulator.states import RegulatorGrading
from bot.i18n import N_, tr
from bot.keyboards.common import GRADING, MenuText, cancel_button
from bot.keyboards.regulator import GradeCb, GradeListCb, button, markup, rows, with_cancel
from bot.render.errors import error_text
from core.domain.errors import ValidationError
from core.services import worker_grading

# six digits or more: meant as an ID number (names have none), so never searched as a name
_ID_LIKE = re.compile(r"\d{6,}")
GENDERS = {"M": N_("regulator.gender.male"), "F": N_("regulator.gender.female")}


def gender(code: str) -> str:
    return _(GENDERS.get(code, GENDERS["M"]))


@on_message(MenuText(GRADING))
async def grading_menu(c: Ctx) -> None:
    await c.state.set_state(RegulatorGrading.query)
    ways = [
        button(_("regulator.browse.open"), GradeListCb(act="l")),
        button(_("regulator.browse.export"), GradeListCb(act="x")),
        button(_("regulator.browse.upload"), GradeListCb(act="u")),
    ]
    keyboard = markup(ways[:1], ways[1:], [cancel_button()])
    await c.message.answer(_("regulator.grading.ask"), reply_markup=keyboard)


@on_message(RegulatorGrading.query, F.text, NOT_MENU)
async def query_typed(c: Ctx) -> None:
    message, text = c.message, c.message.text or ""
    compact = re.sub(r"\s+", "", text)
    try:
        if _ID_LIKE.search(compact):
            # take the typed ID number out of the chat (bots may delete what users send them);
            # too old or already gone: nothing to do
            with contextlib.suppress(TelegramBadRequest):
                await message.delete()
            found = await worker_grading.find_workers_in_scope(c.uow, c.actor, id_number=compact)
        else:
            found = await worker_grading.find_workers_in_scope(c.uow, c.actor, name=text)
    except ValidationError as exc:
        await ask(message, error_text(exc), _("regulator.grading.ask_again"))
        return
    if not found:
        await message.answer(_("regulator.grading.not_found"), reply_markup=cancel_only())
        return
    await c.state.set_state(None)
    if len(found) == 1:
        await show(message, *await card_screen(c, found[0]))
        return
    loc = locale()
    lines = [tr("regulator.grading.found", n=len(found))]
    for n, card in enumerate(found, start=1):
        lines.append(
            tr(
                "regulator.grading.item",
                n=n,
                name=card.name,
                id_masked=card.id_masked,
                trade=card.trade_name(loc),
                grade=card.grade_name(loc),
                enterprise=clip(card.enterprise_name, 20),
            )
        )
    buttons = [
        button(f"{n}. {card.name}", GradeCb(worker=card.worker_id))
        for n, card in enumerate(found, start=1)
    ]
    await message.answer("\n".join(lines), reply_markup=with_cancel(*rows(buttons)))


@on_message(RegulatorGrading.query, NOT_MENU)
async def query_expected(c: Ctx) -> None:
    await ask(c.message, _("regulator.grading.ask_again"))


async def card_screen(c: Ctx, card: worker_grading.GradingCard, head: str = "") -> Reply:
    """The worker's card with a button per grade (✅ the current one)."""
    loc = locale()
    rating = (
        tr("regulator.grading.rating", avg=card.avg_rating, count=card.rating_count)
        if card.avg_rating is not None
        else _("regulator.grading.no_rating")
    )
    text = tr(
        "regulator.grading.card",
        name=card.name,
        gender=gender(card.gender),
        id_masked=card.id_masked,
        trade=card.trade_name(loc),
        grade=card.grade_name(loc),
        enterprise=card.enterprise_name,
        rating=rating,
    )
    grades = [
        button(mark(level == card.grade_level, name), GradeCb(worker=card.worker_id, grade=level))
        for level, name in (await c.grades()).items()
    ]
    lines = [head, text, _("regulator.grading.pick")]
    return "\n".join(line for line in lines if line), with_cancel(*rows(grades))


@screen(GradeCb)
async def grade(c: Ctx, cb: GradeCb) -> Reply | None:
    """The card (grade 0), a new grade to confirm, or (ok 1) the grade applied."""
    card = await worker_grading.get_grading_card(c.uow, c.actor, cb.worker)
    if cb.grade == 0:
        return await card_screen(c, card)
    names = await c.grades()
    if cb.grade not in names:
        raise ValidationError("error.grade_unknown")
    if cb.grade == card.grade_level:
        await c.event.answer(_("regulator.grading.same"))
        return None
    if cb.ok:
        updated = await worker_grading.set_worker_grade(c.uow, c.actor, cb.worker, cb.grade)
        name, level = updated.name, updated.grade_name(locale())
        return await card_screen(c, updated, tr("regulator.grading.saved", name=name, grade=level))
    text = tr(
        "regulator.grading.confirm",
        name=card.name,
        id_masked=card.id_masked,
        old=card.grade_name(locale()),
        new=names[cb.grade],
    )
    ok = GradeCb(worker=card.worker_id, grade=cb.grade, ok=1)
    back = button(_("regulator.back"), GradeCb(worker=card.worker_id))
    return text, with_cancel([button(_("regulator.confirm"), ok), back])
