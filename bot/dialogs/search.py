"""🔍 Search (用工搜索): foremen browse idle postings, dispatchers shortages (or idle postings).

The filter screen shows every filter with its value: region (all of Shanxi, a city, or one of
its counties), trade, grade, price range, ring and, for idle workers, the workers' gender and
credit grade. Results are a paged list of core.services.search's keyset pages (stable however
postings come and go between taps); a result opens its card (phone masked) with 🤝, which the
deals feature answers. Filters and the page live in dialog data; rules stay in core."""

from __future__ import annotations

from typing import Any

from aiogram import F, html
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, StartMode
from aiogram_dialog.widgets.kbd import Button, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs.widgets import (
    PASSTHROUGH,
    PagedList,
    Passthrough,
    RegionFilter,
    Tr,
    account_of,
    back_to,
    choice,
    grade_items,
    step,
    toast,
    uow_of,
    with_cancel,
)
from bot.i18n import N_, Safe, tr
from bot.render.postings import locale
from bot.renderers.contact_exchange import request_button
from bot.renderers.match import (
    is_live,
    place_name,
    posting_card_text,
    price_text,
    propose_callback,
    trade_name,
)
from core.domain.credit import WORKER_GRADES
from core.domain.enums import Role
from core.domain.money import format_money
from core.domain.rules import may_propose_on
from core.services import postings, regions
from core.services.accounts import AccountView
from core.services.paging import Direction, Page
from core.services.search import (
    PostingCard,
    PostingQuery,
    count_postings,
    get_posting_card,
    search_postings,
)

LABEL_LEN = 8  # the trade and price lead: a phone cuts the end of a long button
# price range presets (CNY per month): code → (min, max)
PRICE_PRESETS: dict[str, tuple[int | None, int | None]] = {
    "1": (None, 4000),
    "2": (4000, 6000),
    "3": (6000, None),
}
PRICE_LABELS = {"1": "≤ ¥4,000", "2": "¥4,000–6,000", "3": "≥ ¥6,000"}
RINGS = {"m": "market", "e": "escalated", "i": "internal"}
RING_KEYS = {
    "m": N_("search.ring_market"),
    "e": N_("search.ring_escalated"),
    "i": N_("search.ring_internal"),
}
GENDER_KEYS = {"M": N_("search.gender_m"), "F": N_("search.gender_f")}
# a filter's button, its line on the filter screen, its prompt and its "any" text
FIELDS = {
    "trade": (N_("search.btn_trade"), N_("search.filter_trade"), N_("search.pick_trade"),
              N_("search.any_trade")),
    "grade": (N_("search.btn_grade"), N_("search.filter_grade"), N_("search.pick_grade"),
              N_("search.any_grade")),
    "price": (N_("search.btn_price"), N_("search.filter_price"), N_("search.pick_price"),
              N_("search.any_price")),
    "ring": (N_("search.btn_ring"), N_("search.filter_ring"), N_("search.pick_ring"),
             N_("search.any_ring")),
    "gender": (N_("search.btn_gender"), N_("search.filter_gender"), N_("search.pick_gender"),
               N_("search.any_gender")),
    "credit": (N_("search.btn_credit"), N_("search.filter_credit"), N_("search.pick_credit"),
               N_("search.any_credit")),
}  # fmt: skip
WORKER_FIELDS = ("gender", "credit")  # idle postings only: shortages name no workers


class Search(StatesGroup):
    filters = State()
    region = State()
    choice = State()  # the values of one filter (dialog data "field")
    results = State()
    card = State()


S = Search


def _filters(manager: DialogManager) -> dict[str, Any]:
    found = manager.dialog_data.setdefault("f", {})
    assert isinstance(found, dict)
    return found


def _kind(manager: DialogManager) -> str:
    return "shortage" if _filters(manager).get("kind") == "shortage" else "idle"


def _query(manager: DialogManager, cursor: str | None, direction: Direction, size: int) -> Any:
    f = _filters(manager)
    low, high = PRICE_PRESETS.get(str(f.get("price") or ""), (None, None))
    return PostingQuery(
        kind="shortage" if _kind(manager) == "shortage" else "idle",
        region_code=f.get("region") or None,
        trade_code=f.get("trade") or None,
        grade_level=int(f["grade"]) if f.get("grade") else None,
        price_min=str(low) if low is not None else None,
        price_max=str(high) if high is not None else None,
        ring=RINGS.get(str(f.get("ring") or "")) or None,
        worker_gender=f.get("gender") or None,
        worker_credit_grade=f.get("credit") or None,
        cursor=cursor,
        direction=direction,
        limit=size,
    )


# --- the values a filter offers ------------------------------------------------------------


async def _choices(manager: DialogManager, field: str) -> list[tuple[str, str]]:
    """(value, label) of every value a filter's buttons offer."""
    uow, loc = uow_of(manager), locale()
    if field == "trade":
        return [(t.code, t.name(loc)) for t in await postings.list_trades(uow)]
    if field == "grade":
        grades = grade_items(await postings.list_grades(uow), with_any=False)
        return [(str(level), label) for level, label in grades]
    if field == "price":
        return list(PRICE_LABELS.items())
    if field == "ring":
        rings = ["m", "e"] + (["i"] if account_of(manager).enterprise_id is not None else [])
        return [(r, _(RING_KEYS[r])) for r in rings]
    if field == "gender" and _kind(manager) == "idle":
        return [(g, _(key)) for g, key in GENDER_KEYS.items()]
    if field == "credit" and _kind(manager) == "idle":
        return [(g, tr("search.credit_at_least", grade=g)) for g in WORKER_GRADES]
    return []


async def _described(manager: DialogManager) -> dict[str, str]:
    """Readable values of the filters that are set (HTML), by field."""
    f, uow, loc = _filters(manager), uow_of(manager), locale()
    shown: dict[str, str] = {}
    if f.get("region"):
        found = await regions.get_region(uow, str(f["region"]))
        region = html.quote(found.name(loc))
        if found.parent_code and found.parent_code != regions.PROVINCE_CODE:
            city = await regions.get_region(uow, found.parent_code)
            region = f"{html.quote(city.name(loc))} {region}"
        shown["region"] = region
    for field in FIELDS:
        value = str(f.get(field) or "")
        if not value or (field in WORKER_FIELDS and _kind(manager) != "idle"):
            continue
        label = dict(await _choices(manager, field)).get(value, value)
        if field == "grade" and _kind(manager) == "shortage":
            shown[field] = tr("search.grade_min", grade=label)
        else:
            shown[field] = html.quote(label)
    return shown


def _kind_text(manager: DialogManager) -> str:
    return _("search.kind_shortage") if _kind(manager) == "shortage" else _("search.kind_idle")


# --- the filter screen -----------------------------------------------------------------------


async def filters_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    shown = await _described(dialog_manager)
    idle = _kind(dialog_manager) == "idle"
    lines = [
        tr("search.filters_title", kind=_kind_text(dialog_manager)),
        tr("search.filter_region", value=Safe(shown.get("region") or _("search.any_region"))),
    ]
    for field, (_button, line, _prompt, any_key) in FIELDS.items():
        if field in WORKER_FIELDS and not idle:
            continue
        lines.append(tr(line, value=Safe(shown.get(field) or _(any_key))))
    lines += ["", _("search.filters_hint")]
    dispatcher = account_of(dialog_manager).role is Role.DISPATCHER
    return {
        "filters": Safe("\n".join(lines)),
        "to_idle": dispatcher and not idle,
        "to_shortage": dispatcher and idle,
        "idle": idle,
    }


async def switch_kind(callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
    if account_of(manager).role is not Role.DISPATCHER:  # only they see the button
        await toast(callback, _("common.stale"))
        return
    f = _filters(manager)
    f["kind"] = "idle" if button.widget_id == "to_idle" else "shortage"
    for field in WORKER_FIELDS:
        f.pop(field, None)
    RESULTS.reset(manager)


async def open_field(_callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
    manager.dialog_data["field"] = button.widget_id
    await manager.switch_to(S.choice)


async def _set(manager: DialogManager, field: str, value: str) -> None:
    _filters(manager)[field] = value
    RESULTS.reset(manager)
    await manager.switch_to(S.filters)


async def region_saved(manager: DialogManager, code: str) -> None:
    await _set(manager, "region", code)


REGION = RegionFilter("rg", region_saved)


async def choice_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    field = str(dialog_manager.dialog_data.get("field"))
    _button, _line, prompt, any_key = FIELDS.get(field, FIELDS["trade"])
    return {
        "prompt": _(prompt),
        "any": _(any_key),
        "choices": await _choices(dialog_manager, field),
        "wide": field in ("price", "ring", "credit"),
    }


async def value_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str
) -> None:
    field = str(manager.dialog_data.get("field"))
    if value not in dict(await _choices(manager, field)):  # no button offers it
        await toast(callback, _("common.stale"))
        return
    await _set(manager, field, value)


async def any_chosen(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    field = str(manager.dialog_data.get("field"))
    if field not in FIELDS:
        await toast(callback, _("common.stale"))
        return
    await _set(manager, field, "")


# --- results and the card --------------------------------------------------------------------


async def _load(
    manager: DialogManager, cursor: str | None, direction: Direction, size: int
) -> Page[PostingCard]:
    actor = account_of(manager).actor()
    return await search_postings(uow_of(manager), actor, _query(manager, cursor, direction, size))


async def _count(manager: DialogManager) -> int:
    actor = account_of(manager).actor()
    return await count_postings(uow_of(manager), actor, _query(manager, None, "next", 5))


def _label(n: int, card: PostingCard) -> str:
    name = card.enterprise_name
    if len(name) > LABEL_LEN:
        name = name[: LABEL_LEN - 1] + "…"
    return f"{n}. {trade_name(card, locale())} · {format_money(card.price)} · {name}"


async def _open_card(_callback: CallbackQuery, manager: DialogManager, posting_id: int) -> None:
    manager.dialog_data["card"] = posting_id
    await manager.switch_to(S.card)


RESULTS = PagedList("sr", load=_load, count=_count, label=_label, on_pick=_open_card)


async def results_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    page = await RESULTS.page(dialog_manager)
    loc = locale()
    grades = {g.level: g.name(loc) for g in await postings.list_grades(uow_of(dialog_manager))}
    shown = await _described(dialog_manager)
    # the kind, then only the filters that narrow something
    summary = " · ".join([html.quote(_kind_text(dialog_manager)), *shown.values()])
    lines = [tr("search.results_title", filters=Safe(summary))]
    if not page.items:
        lines.append(_("search.nothing_found"))
    for n, card in enumerate(page.items, 1):
        lines.append(
            tr(
                "search.result_line",
                n=n,
                name=card.enterprise_name,
                place=place_name(card, loc),
                trade=trade_name(card, loc),
                grade=grades.get(card.grade_level, str(card.grade_level)),
                open=card.open_headcount,
                price=Safe(price_text(tr, card.price)),
            )
        )
    return {"results": Safe("\n".join(lines)), **RESULTS.data(dialog_manager, page)}


async def card_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, account = uow_of(dialog_manager), account_of(dialog_manager)
    kind = _kind(dialog_manager)
    posting_id = int(dialog_manager.dialog_data["card"])
    card = await get_posting_card(uow, account.actor(), kind, posting_id)
    now, loc = uow.now(), locale()
    grades = {g.level: g.name(loc) for g in await postings.list_grades(uow)}
    propose = []
    if is_live(card, now) and may_propose_on(account.role, card.kind):
        # an idle posting is asked for by a project, a shortage offered workers by a company
        propose = [[propose_button(card)]]
    theirs = card.enterprise_id != account.enterprise_id
    if is_live(card, now) and account.role in (Role.FOREMAN, Role.DISPATCHER) and theirs:
        # 📞 交换电话 with the viewer's own open posting of the other kind (picked in core)
        shortage_id, idle_id = (card.id, 0) if card.kind == "shortage" else (0, card.id)
        propose.append([request_button(tr, shortage_id, idle_id)])
    return {"card": Safe(posting_card_text(card, tr, loc, grades, now)), "propose": propose}


def propose_button(card: PostingCard) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("search.btn_propose"), callback_data=propose_callback(card))


# --- windows -----------------------------------------------------------------------------------


def _field_button(field: str, when: Any = None) -> Button:
    return Button(Tr(FIELDS[field][0]), id=field, on_click=open_field, when=when)


def dialog() -> Dialog:
    to_filters = back_to(N_("search.btn_back"), S.filters)
    return Dialog(
        step(
            S.filters,
            filters_getter,
            Format("{filters}"),
            Button(Tr("search.btn_switch_to_idle"), id="to_idle", on_click=switch_kind,
                   when="to_idle"),
            Button(Tr("search.btn_switch_to_shortage"), id="to_shortage", on_click=switch_kind,
                   when="to_shortage"),
            Row(SwitchTo(Tr("search.btn_region"), id="region", state=S.region),
                _field_button("trade")),
            Row(_field_button("grade"), _field_button("price")),
            Row(_field_button("ring"), _field_button("gender", when="idle"),
                _field_button("credit", when="idle")),
            SwitchTo(Tr("search.btn_go"), id="go", state=S.results),
            with_cancel(),
        ),
        step(S.region, REGION.getter, Format("{region_prompt}"), REGION.keyboard(), to_filters),
        step(
            S.choice,
            choice_getter,
            Format("{prompt}"),
            Button(Format("{any}"), id="any", on_click=any_chosen),
            choice("v", "choices", value_chosen, width=3, when=~F["wide"]),
            choice("w", "choices", value_chosen, width=1, when="wide"),
            to_filters,
        ),
        step(
            S.results,
            results_getter,
            Format("{results}"),
            RESULTS.keyboard(),
            back_to(N_("search.btn_filters"), S.filters, "filters"),
        ),
        step(
            S.card,
            card_getter,
            Format("{card}"),
            Passthrough("propose"),
            back_to(N_("search.btn_back_results"), S.results, "back_results"),
            markup_factory=PASSTHROUGH,
        ),
        on_start=_on_start,
    )  # fmt: skip


# --- entry -------------------------------------------------------------------------------------


async def start(message: Message, dialog_manager: DialogManager, account: AccountView) -> None:
    # foremen look for idle workers; labour companies for shortages to fill
    kind = "shortage" if account.role is Role.DISPATCHER else "idle"
    await dialog_manager.start(S.filters, mode=StartMode.RESET_STACK, data={"kind": kind})


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    kind = start_data.get("kind") if isinstance(start_data, dict) else None
    manager.dialog_data["f"] = {"kind": kind or "idle"}
