"""🎖 评级 by browsing (the region's workers, paged, filtered by 工种, 技能等级, 性别, age and 学历;
each opens the grading card) and by the bureau's workbook (export, fill in "新等级", send back,
see every change and refused row, confirm: all applied at once, audited).

The filters and the previewed upload's file id wait in the FSM data; buttons carry short codes.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import Event, clip, home, locale, show
from bot.handlers.regulator.states import RegulatorGrading
from bot.i18n import N_, tr
from bot.keyboards.common import cancel_button
from bot.keyboards.regulator import GradeCb, GradeListCb, button, markup, pager, rows
from bot.render.errors import error_text
from core.db.uow import UnitOfWork
from core.domain.errors import ValidationError
from core.domain.timeutil import local_date
from core.reports.xlsx import DATE, Sheet, workbook_bytes
from core.services import grading_upload, reference_choices, worker_grading
from core.services.accounts import AccountView
from core.services.paging import decode_id_cursor
from core.services.regions import get_region

PAGE = 10
FILTER_KEY = "grading_filter"
UPLOAD_KEY = "grading_upload"
SHOWN = 15  # changes and refusals listed in the preview; the counts cover all
MAX_FILE_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
AGES = {"1": (16, 30), "2": (31, 40), "3": (41, 50), "4": (51, 60), "5": (61, 100)}
GENDERS = {"M": N_("regulator.gender.male"), "F": N_("regulator.gender.female")}
FILTER_NAMES = {
    "t": N_("regulator.browse.f_trade"),
    "g": N_("regulator.browse.f_grade"),
    "s": N_("regulator.browse.f_gender"),
    "a": N_("regulator.browse.f_age"),
    "e": N_("regulator.browse.f_education"),
}


async def _filters(state: FSMContext) -> dict[str, str]:
    return {k: str(v) for k, v in ((await state.get_data()).get(FILTER_KEY) or {}).items() if v}


def _worker_filter(chosen: dict[str, str]) -> worker_grading.WorkerFilter:
    ages = AGES.get(chosen.get("a", ""))
    grade = chosen.get("g", "")
    return worker_grading.WorkerFilter(
        trade_code=chosen.get("t") or None,
        grade_level=int(grade) if grade.isdecimal() else None,
        gender=chosen.get("s") or None,
        age_min=ages[0] if ages else None,
        age_max=ages[1] if ages else None,
        education=chosen.get("e") or None,
    )


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


async def _value_names(uow: UnitOfWork, what: str) -> dict[str, str]:
    loc = locale()
    if what == "t":
        return {c.code: c.name(loc) for c in await reference_choices.trade_choices(uow)}
    if what == "g":
        return {c.code: c.name(loc) for c in await reference_choices.grade_choices(uow)}
    if what == "s":
        return {code: _(name) for code, name in GENDERS.items()}
    if what == "a":
        return {code: f"{low}–{high}" for code, (low, high) in AGES.items()}
    return {}


async def show_list(
    event: Event, uow: UnitOfWork, account: AccountView, state: FSMContext, cursor: str = ""
) -> None:
    actor = account.actor()
    chosen = await _filters(state)
    found = await worker_grading.browse_workers(
        uow, actor, _worker_filter(chosen), cursor=cursor or None, limit=PAGE
    )
    loc = locale()
    region = await get_region(uow, home(account))
    today = local_date(uow.now())
    first = decode_id_cursor(cursor) if cursor else 0
    lines = [
        tr(
            "regulator.browse.title",
            region=region.name(loc),
            n=found.total,
            page=first // PAGE + 1,
        )
    ]
    labels = []
    for what in FILTER_NAMES:
        if what in chosen:
            names = await _value_names(uow, what)
            labels.append(f"{_(FILTER_NAMES[what])} {names.get(chosen[what], chosen[what])}")
    lines.append(tr("regulator.browse.filters", filters=" · ".join(labels) or _("regulator.all")))
    if not found.page.items:
        lines.append(_("regulator.browse.empty"))
    picks = []
    for index, card in enumerate(found.page.items, start=first + 1):
        lines.append(
            tr(
                "regulator.browse.line",
                n=index,
                name=card.name,
                gender=_(GENDERS.get(card.gender, GENDERS["M"])),
                age=_age(card.birth_date, today),
                trade=card.trade_name(loc),
                grade=card.grade_name(loc),
                education=card.education or "—",
                enterprise=clip(card.enterprise_name, 12),
            )
        )
        picks.append(button(f"{index}. {card.name}", GradeCb(worker=card.worker_id)))
    filters = [
        button(("✅ " if what in chosen else "") + _(name), GradeListCb(act="f", v=what))
        for what, name in FILTER_NAMES.items()
    ]
    prev = GradeListCb(act="l", cursor=found.page.prev_cursor) if found.page.prev_cursor else None
    nxt = GradeListCb(act="l", cursor=found.page.next_cursor) if found.page.next_cursor else None
    workbook = [
        button(_("regulator.browse.export"), GradeListCb(act="x")),
        button(_("regulator.browse.upload"), GradeListCb(act="u")),
    ]
    keyboard = markup(*rows(picks, 2), filters[:3], filters[3:], pager(prev, nxt), workbook)
    await show(event, "\n".join(lines), keyboard)


async def _choices(uow: UnitOfWork, account: AccountView, what: str) -> dict[str, str]:
    """code → name of the values filter `what` offers."""
    if what == "e":
        return {e: e for e in await worker_grading.education_choices(uow, account.actor())}
    return await _value_names(uow, what)


async def _picker(query: CallbackQuery, uow: UnitOfWork, account: AccountView, what: str) -> None:
    if what not in FILTER_NAMES:
        await query.answer(_("common.stale"))
        return
    names = await _choices(uow, account, what)
    choices = [button(_("regulator.all"), GradeListCb(act=what))]
    choices += [button(name, GradeListCb(act=what, v=code)) for code, name in names.items()]
    text = tr("regulator.browse.pick", what=_(FILTER_NAMES[what]))
    await show(
        query, text, markup(*rows(choices), [button(_("regulator.back"), GradeListCb(act="l"))])
    )


async def browse_tap(
    query: CallbackQuery,
    callback_data: GradeListCb,
    uow: UnitOfWork,
    account: AccountView,
    state: FSMContext,
    bot: Bot,
) -> None:
    cb = callback_data
    if cb.act == "l":
        await show_list(query, uow, account, state, cb.cursor)
    elif cb.act == "f":
        await _picker(query, uow, account, cb.v)
    elif cb.act in FILTER_NAMES:
        if cb.v and cb.v not in await _choices(uow, account, cb.act):
            raise ValidationError("error.invalid")  # a forged value is never kept
        chosen = await _filters(state)
        chosen[cb.act] = cb.v
        await state.update_data({FILTER_KEY: chosen})
        await show_list(query, uow, account, state)
    elif cb.act == "x":
        await _export(query, uow, account, state, bot)
    elif cb.act == "u":
        await state.set_state(RegulatorGrading.upload)
        await show(query, _("regulator.browse.ask_upload"), markup([cancel_button()]))
    elif cb.act == "ok":
        await _apply(query, uow, account, state, bot)
    else:
        await query.answer(_("common.stale"))


async def _export(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, state: FSMContext, bot: Bot
) -> None:
    loc = locale()
    chosen = await _filters(state)
    header, body = await grading_upload.grading_rows(
        uow, account.actor(), _worker_filter(chosen), loc
    )
    sheet = Sheet(
        _("regulator.browse.sheet"), header, body, (10, 10, 6, 12, 22, 10, 8, 8), {3: DATE}
    )
    name = f"grading-{home(account)}-{local_date(uow.now()).isoformat()}.xlsx"
    await query.answer()
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(workbook_bytes([sheet]), filename=name),
        caption=tr("regulator.browse.export_caption", n=len(body), max=grading_upload.MAX_ROWS),
    )


async def _download(bot: Bot, file_id: str) -> bytes:
    out = io.BytesIO()
    await bot.download(file_id, destination=out)
    return out.getvalue()


def _preview(upload: grading_upload.GradingUpload) -> str:
    lines = [
        tr(
            "regulator.browse.preview",
            rows=upload.rows,
            changes=len(upload.changes),
            refused=len(upload.refused),
            unchanged=upload.unchanged,
        )
    ]
    names = {level: tr("regulator.stats.grade_col", level=level) for level in range(1, 6)}
    for change in upload.changes[:SHOWN]:
        lines.append(
            tr(
                "regulator.browse.change",
                row=change.row,
                name=change.name,
                old=names.get(change.old_grade, change.old_grade),
                new=names.get(change.new_grade, change.new_grade),
            )
        )
    if len(upload.changes) > SHOWN:
        lines.append(tr("regulator.browse.more", n=len(upload.changes) - SHOWN))
    if upload.refused:
        lines.append(_("regulator.browse.refused_head"))
    for refused in upload.refused[:SHOWN]:
        lines.append(
            tr(
                "regulator.browse.refused",
                row=refused.row,
                value=refused.value or "—",
                reason=tr(refused.reason),
            )
        )
    if len(upload.refused) > SHOWN:
        lines.append(tr("regulator.browse.more", n=len(upload.refused) - SHOWN))
    return "\n".join(lines)


async def upload_sent(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext, bot: Bot
) -> None:
    """The workbook sent back: read it, show what it would change, wait for the confirm."""
    document = message.document
    assert document is not None  # the router's filter
    try:
        if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
            raise ValidationError("error.grading_not_xlsx")
        upload = await grading_upload.read_grading_upload(
            uow, account.actor(), await _download(bot, document.file_id)
        )
    except ValidationError as exc:
        await message.answer(
            "\n".join((error_text(exc), _("regulator.browse.ask_upload"))),
            reply_markup=markup([cancel_button()]),
        )
        return
    buttons: list[Any] = [button(_("regulator.back"), GradeListCb(act="l"))]
    if upload.changes:
        await state.update_data({UPLOAD_KEY: document.file_id})
        await state.set_state(RegulatorGrading.confirm)
        buttons.insert(
            0,
            button(tr("regulator.browse.apply", n=len(upload.changes)), GradeListCb(act="ok")),
        )
    else:
        await state.set_state(None)
    await message.answer(_preview(upload), reply_markup=markup(buttons, [cancel_button()]))


async def upload_expected(message: Message) -> None:
    """Text, a photo … where the workbook is due."""
    await message.answer(_("regulator.browse.ask_upload"), reply_markup=markup([cancel_button()]))


async def _apply(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, state: FSMContext, bot: Bot
) -> None:
    file_id = (await state.get_data()).get(UPLOAD_KEY)
    if await state.get_state() != RegulatorGrading.confirm.state or not file_id:
        await query.answer(_("common.stale"))  # applied already, or a button of an old preview
        return
    # read again: the grades now in the database are the "before" that the audit records
    upload = await grading_upload.read_grading_upload(
        uow, account.actor(), await _download(bot, str(file_id))
    )
    applied = await grading_upload.apply_grading_upload(uow, account.actor(), upload)
    await state.set_state(None)
    await state.update_data({UPLOAD_KEY: None})
    await show(
        query,
        tr("regulator.browse.applied", n=applied, refused=len(upload.refused)),
        markup([button(_("regulator.back"), GradeListCb(act="l"))]),
    )
