"""🎖 评级: find a worker of the region by name or by the full ID number (looked up by its
hash, never shown back unmasked), or browse the region's workers (paged, filtered by 工种,
技能等级, 性别, age and 学历); each opens the grading card: pick a new skill grade, confirm. Or by
the bureau's workbook: export, fill in "新等级", send back, see every change and refused row,
confirm: all applied at once. Every change is audited.

The filters and the previewed upload's file id wait in the FSM data; buttons carry short codes.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Sequence
from datetime import date

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import (
    NOT_MENU,
    PAGE,
    Ctx,
    Reply,
    Screen,
    ask,
    cancel_only,
    clip,
    first_row,
    locale,
    mark,
    on_message,
    page_no,
    paging,
    screen,
    send_file,
    show,
    stale,
)
from bot.handlers.regulator.states import RegulatorGrading
from bot.i18n import N_, tr
from bot.keyboards.common import GRADING, MenuText, cancel_button
from bot.keyboards.regulator import GradeCb, GradeListCb, button, markup, rows, with_cancel
from bot.render.errors import error_text
from core.domain.errors import ValidationError
from core.domain.timeutil import local_date
from core.reports.xlsx import DATE, Sheet, workbook_bytes
from core.services import grading_upload, worker_grading
from core.services.regions import get_region

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
    await message.answer("\n".join(lines), reply_markup=with_cancel(*rows(_picks(found, 1))))


def _picks(cards: Sequence[worker_grading.GradingCard], first: int) -> list[InlineKeyboardButton]:
    """A numbered button per worker, opening their grading card."""
    return [
        button(f"{n}. {card.name}", GradeCb(worker=card.worker_id))
        for n, card in enumerate(cards, start=first)
    ]


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


# --- browsing and the workbook -------------------------------------------------------------

FILTER_KEY = "grading_filter"
UPLOAD_KEY = "grading_upload"
SHOWN = 15  # changes and refusals listed in the preview; the counts cover all
MAX_FILE_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
AGES = {"1": (16, 30), "2": (31, 40), "3": (41, 50), "4": (51, 60), "5": (61, 100)}
FILTER_NAMES = {
    "t": N_("regulator.browse.f_trade"),
    "g": N_("regulator.browse.f_grade"),
    "s": N_("regulator.browse.f_gender"),
    "a": N_("regulator.browse.f_age"),
    "e": N_("regulator.browse.f_education"),
}
BACK = GradeListCb(act="l")


async def _filters(state: FSMContext) -> dict[str, str]:
    return {k: str(v) for k, v in ((await state.get_data()).get(FILTER_KEY) or {}).items() if v}


def _worker_filter(chosen: dict[str, str]) -> worker_grading.WorkerFilter:
    low, high = AGES.get(chosen.get("a", ""), (None, None))
    grade = chosen.get("g", "")
    return worker_grading.WorkerFilter(
        trade_code=chosen.get("t") or None,
        grade_level=int(grade) if grade.isdecimal() else None,
        gender=chosen.get("s") or None,
        age_min=low,
        age_max=high,
        education=chosen.get("e") or None,
    )


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


async def _choices(c: Ctx, what: str) -> dict[str, str]:
    """code → name of the values filter `what` offers."""
    if what == "t":
        return await c.trades()
    if what == "g":
        return {str(level): name for level, name in (await c.grades()).items()}
    if what == "s":
        return {code: _(name) for code, name in GENDERS.items()}
    if what == "a":
        return {code: f"{low}–{high}" for code, (low, high) in AGES.items()}
    if what == "e":
        return {e: e for e in await worker_grading.education_choices(c.uow, c.actor)}
    return {}


async def _list(c: Ctx, cb: GradeListCb) -> Reply:
    chosen = await _filters(c.state)
    found = await worker_grading.browse_workers(
        c.uow, c.actor, _worker_filter(chosen), cursor=cb.cursor or None, limit=PAGE
    )
    loc = locale()
    region = await get_region(c.uow, c.home)
    today = local_date(c.uow.now())
    n = found.total
    lines = [tr("regulator.browse.title", region=region.name(loc), n=n, page=page_no(cb.cursor))]
    labels = [
        f"{_(FILTER_NAMES[what])} {(await _choices(c, what)).get(chosen[what], chosen[what])}"
        for what in FILTER_NAMES
        if what in chosen
    ]
    lines.append(tr("regulator.browse.filters", filters=" · ".join(labels) or _("regulator.all")))
    if not found.page.items:
        lines.append(_("regulator.browse.empty"))
    for n, card in enumerate(found.page.items, start=first_row(cb.cursor) + 1):
        lines.append(
            tr(
                "regulator.browse.line",
                n=n,
                name=card.name,
                gender=gender(card.gender),
                age=_age(card.birth_date, today),
                trade=card.trade_name(loc),
                grade=card.grade_name(loc),
                education=card.education or "—",
                enterprise=clip(card.enterprise_name, 12),
            )
        )
    picks = _picks(found.page.items, first_row(cb.cursor) + 1)
    filters = [
        button(mark(what in chosen, _(name)), GradeListCb(act="f", v=what))
        for what, name in FILTER_NAMES.items()
    ]
    pages = paging(found.page, lambda at: GradeListCb(act="l", cursor=at))
    workbook = [
        button(_("regulator.browse.export"), GradeListCb(act="x")),
        button(_("regulator.browse.upload"), GradeListCb(act="u")),
    ]
    keyboard = markup(*rows(picks, 2), filters[:3], filters[3:], pages, workbook)
    return "\n".join(lines), keyboard


async def _picker(c: Ctx, cb: GradeListCb) -> Reply | None:
    what = cb.v
    if what not in FILTER_NAMES:
        return await stale(c)
    choices = [button(_("regulator.all"), GradeListCb(act=what))]
    choices += [
        button(name, GradeListCb(act=what, v=code))
        for code, name in (await _choices(c, what)).items()
    ]
    text = tr("regulator.browse.pick", what=_(FILTER_NAMES[what]))
    return text, markup(*rows(choices), [button(_("regulator.back"), BACK)])


async def _set_filter(c: Ctx, cb: GradeListCb) -> Reply:
    if cb.v and cb.v not in await _choices(c, cb.act):
        raise ValidationError("error.invalid")  # a forged value is never kept
    await c.state.update_data({FILTER_KEY: {**await _filters(c.state), cb.act: cb.v}})
    return await _list(c, BACK)


async def _export(c: Ctx, cb: GradeListCb) -> None:
    """The filtered workers as the workbook to fill in (the screen stays)."""
    header, body = await grading_upload.grading_rows(
        c.uow, c.actor, _worker_filter(await _filters(c.state)), locale()
    )
    widths = (10, 10, 6, 12, 22, 10, 8, 8)
    sheet = Sheet(_("regulator.browse.sheet"), header, body, widths, {3: DATE})
    name = f"grading-{c.home}-{local_date(c.uow.now()).isoformat()}.xlsx"
    caption = tr("regulator.browse.export_caption", n=len(body), max=grading_upload.MAX_ROWS)
    await send_file(c, workbook_bytes([sheet]), name, caption)


async def _download(c: Ctx, file_id: str) -> bytes:
    out = io.BytesIO()
    assert c.event.bot is not None  # a dispatched update carries its bot
    await c.event.bot.download(file_id, destination=out)
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
        old, new = (names.get(g, g) for g in (change.old_grade, change.new_grade))
        lines.append(
            tr("regulator.browse.change", row=change.row, name=change.name, old=old, new=new)
        )
    lines += _more(len(upload.changes))
    if upload.refused:
        lines.append(_("regulator.browse.refused_head"))
    for refused in upload.refused[:SHOWN]:
        value, reason = refused.value or "—", tr(refused.reason)
        lines.append(tr("regulator.browse.refused", row=refused.row, value=value, reason=reason))
    lines += _more(len(upload.refused))
    return "\n".join(lines)


def _more(count: int) -> list[str]:
    return [tr("regulator.browse.more", n=count - SHOWN)] if count > SHOWN else []


@on_message(StateFilter(RegulatorGrading.upload, RegulatorGrading.confirm), F.document)
async def upload_sent(c: Ctx) -> None:
    """The workbook sent back: read it, show what it would change, wait for the confirm."""
    message, state, document = c.message, c.state, c.message.document
    assert document is not None  # the router's filter
    try:
        if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
            raise ValidationError("error.grading_not_xlsx")
        upload = await grading_upload.read_grading_upload(
            c.uow, c.actor, await _download(c, document.file_id)
        )
    except ValidationError as exc:
        await ask(message, error_text(exc), _("regulator.browse.ask_upload"))
        return
    buttons = [button(_("regulator.back"), BACK)]
    if upload.changes:
        await state.update_data({UPLOAD_KEY: document.file_id})
        await state.set_state(RegulatorGrading.confirm)
        apply = tr("regulator.browse.apply", n=len(upload.changes))
        buttons.insert(0, button(apply, GradeListCb(act="ok")))
    else:
        await state.set_state(None)
    await message.answer(_preview(upload), reply_markup=markup(buttons, [cancel_button()]))


@on_message(RegulatorGrading.upload, NOT_MENU)
async def upload_expected(c: Ctx) -> None:
    """Text, a photo … where the workbook is due."""
    await ask(c.message, _("regulator.browse.ask_upload"))


async def _ask_upload(c: Ctx, cb: GradeListCb) -> Reply:
    await c.state.set_state(RegulatorGrading.upload)
    return _("regulator.browse.ask_upload"), cancel_only()


async def _apply(c: Ctx, cb: GradeListCb) -> Reply | None:
    file_id = (await c.state.get_data()).get(UPLOAD_KEY)
    if await c.state.get_state() != RegulatorGrading.confirm.state or not file_id:
        return await stale(c)  # applied already, or a button of an old preview
    # read again: the grades now in the database are the "before" that the audit records
    upload = await grading_upload.read_grading_upload(
        c.uow, c.actor, await _download(c, str(file_id))
    )
    applied = await grading_upload.apply_grading_upload(c.uow, c.actor, upload)
    await c.state.set_state(None)
    await c.state.update_data({UPLOAD_KEY: None})
    text = tr("regulator.browse.applied", n=applied, refused=len(upload.refused))
    return text, markup([button(_("regulator.back"), BACK)])


STEPS: dict[str, Screen[GradeListCb]] = {
    "l": _list,
    "f": _picker,
    **dict.fromkeys(FILTER_NAMES, _set_filter),
    "x": _export,
    "u": _ask_upload,
    "ok": _apply,
}


@screen(GradeListCb)
async def browse(c: Ctx, cb: GradeListCb) -> Reply | None:
    step = STEPS.get(cb.act)
    return await step(c, cb) if step else await stale(c)
