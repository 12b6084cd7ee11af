"""Texts and keyboards of a dispatch's life, shared by the outbox renderers and the handlers.
Every function takes a translate function `t(key, **params)` so both can use it."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks_dispatch import ArrivalCb, DispatchCb, WageCb
from core.domain.dispatch import Arrival, LaborAnswer, PayerAnswer
from core.domain.money import format_money
from core.services.dispatch import DispatchView
from core.services.wages import ArrearsView, WagePeriodView

T = Callable[..., str]
BUTTON_NAME = 12  # characters of a worker's name on a button
RELEASE_BUTTONS = 10  # workers with their own 🚪 button on the dispatch card

MARK = {Arrival.PENDING: "⏳", Arrival.ARRIVED: "✅", Arrival.NO_SHOW: "❌"}


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def arrival_text(view: DispatchView, t: T, *, reminder: bool = False) -> str:
    lines = [
        t(
            "dispatch.arrival_reminder" if reminder else "dispatch.arrival_title",
            id=view.deal_id,
            project=view.project_name,
            company=view.labor_enterprise_name,
            day=view.start_date.isoformat(),
        )
    ]
    for a in view.assignments:
        if a.due_on > view.report_date:
            continue
        lines.append(f"{MARK[a.arrival]} {t('dispatch.worker_line', name=a.worker_name)}")
    if not view.pending:
        lines.append(t("dispatch.arrival_done"))
    return "\n".join(lines)


def arrival_keyboard(view: DispatchView, t: T) -> InlineKeyboardMarkup | None:
    due = [a for a in view.pending if a.due_on <= view.report_date]
    if not due:
        return None
    rows = [
        [
            _button(
                f"✅ {a.worker_name[:BUTTON_NAME]}",
                ArrivalCb(a="y", d=view.deal_id, s=a.id).pack(),
            ),
            _button(
                f"❌ {t('dispatch.no_show_button')}",
                ArrivalCb(a="n", d=view.deal_id, s=a.id).pack(),
            ),
        ]
        for a in due
    ]
    rows.append([_button(t("dispatch.all_arrived"), ArrivalCb(a="all", d=view.deal_id).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def dispatch_card(view: DispatchView, t: T, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    trade = view.trade_name_zh if locale.startswith("zh") else view.trade_name_en
    end = view.end_date.isoformat() if view.end_date else t("dispatch.until_released")
    lines = [
        t(
            "dispatch.card",
            id=view.deal_id,
            project=view.project_name,
            trade=trade,
            company=view.labor_enterprise_name,
            start=view.start_date.isoformat(),
            end=end,
            on_site=view.on_site,
            days=view.person_days,
        )
    ]
    for a in view.assignments:
        state = t("dispatch.released_on", day=a.released_on.isoformat()) if a.released_on else ""
        lines.append(f"{MARK[a.arrival]} {t('dispatch.worker_line', name=a.worker_name)} {state}")
    rows = [
        [
            _button(t("dispatch.release_today"), DispatchCb(a="rel", d=view.deal_id).pack()),
        ],
        [
            _button(t("dispatch.extend_1"), DispatchCb(a="ext", d=view.deal_id, m=1).pack()),
            _button(t("dispatch.extend_3"), DispatchCb(a="ext", d=view.deal_id, m=3).pack()),
            _button(t("dispatch.extend_open"), DispatchCb(a="ext", d=view.deal_id, m=0).pack()),
        ],
        [_button(t("dispatch.type_last_day"), DispatchCb(a="day", d=view.deal_id).pack())],
    ]
    # one worker leaving early: a button per worker on site, when more than one is
    on_site = [
        a
        for a in view.assignments
        if a.arrival is not Arrival.NO_SHOW
        and a.released_on is None
        and a.due_on <= view.report_date
    ]
    if len(on_site) > 1:
        rows[1:1] = [
            [
                _button(
                    t("dispatch.release_one", name=a.worker_name[:BUTTON_NAME]),
                    DispatchCb(a="rel", d=view.deal_id, s=a.id).pack(),
                )
                for a in on_site[i : i + 2]
            ]
            for i in range(0, min(len(on_site), RELEASE_BUTTONS), 2)
        ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _month(view: WagePeriodView) -> str:
    return view.month.strftime("%Y-%m")


def wage_text(view: WagePeriodView, side: str, t: T) -> str:
    if side == "shortage":
        text = t(
            "wage.ask_payer",
            month=_month(view),
            company=view.labor_enterprise_name,
            days=view.person_days,
            price=format_money(view.price, symbol=False),
            due=format_money(view.due, symbol=False),
        )
    else:
        text = t(
            "wage.ask_labor",
            month=_month(view),
            company=view.receiving_enterprise_name,
            days=view.person_days,
            due=format_money(view.due, symbol=False),
        )
    return text + "\n" + wage_status(view, t)


def wage_status(view: WagePeriodView, t: T) -> str:
    parts = []
    if view.payer_answer is PayerAnswer.PAID:
        parts.append(t("wage.status_paid"))
    elif view.payer_answer is PayerAnswer.PARTIAL and view.paid is not None:
        parts.append(t("wage.status_partial", amount=format_money(view.paid, symbol=False)))
    elif view.payer_answer is PayerAnswer.UNPAID:
        parts.append(t("wage.status_unpaid"))
    if view.labor_answer is LaborAnswer.RECEIVED:
        parts.append(t("wage.status_received"))
    elif view.labor_answer is LaborAnswer.PARTIAL and view.received is not None:
        parts.append(
            t("wage.status_received_part", amount=format_money(view.received, symbol=False))
        )
    elif view.labor_answer is LaborAnswer.NONE:
        parts.append(t("wage.status_received_none"))
    if view.workers_paid is not None:
        parts.append(
            t("wage.status_workers_paid" if view.workers_paid else "wage.status_workers_unpaid")
        )
    if view.alert_status is not None and view.alert_status.value == "open":
        parts.append(t("wage.status_alert"))
    return " · ".join(parts) if parts else t("wage.status_none")


def wage_keyboard(view: WagePeriodView, side: str, t: T) -> InlineKeyboardMarkup:
    p = view.id
    if side == "shortage":
        rows = [
            [
                _button(t("wage.paid"), WageCb(a="paid", p=p).pack()),
                _button(t("wage.partial"), WageCb(a="part", p=p).pack()),
                _button(t("wage.unpaid"), WageCb(a="unpaid", p=p).pack()),
            ]
        ]
    else:
        rows = [
            [
                _button(t("wage.received"), WageCb(a="rcv", p=p).pack()),
                _button(t("wage.partial"), WageCb(a="rpart", p=p).pack()),
                _button(t("wage.received_none"), WageCb(a="none", p=p).pack()),
            ],
            [
                _button(t("wage.workers_paid"), WageCb(a="wp1", p=p).pack()),
                _button(t("wage.workers_unpaid"), WageCb(a="wp0", p=p).pack()),
            ],
        ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def arrears_text(a: ArrearsView, t: T) -> str:
    return t(
        "arrears.alert",
        id=a.id,
        deal=a.deal_id,
        month=a.month.strftime("%Y-%m"),
        project=a.project_name,
        payer=a.receiving_enterprise_name,
        labor=a.labor_enterprise_name,
        days=a.person_days,
        due=format_money(a.due, symbol=False),
        paid=format_money(a.paid, symbol=False),
        owed=format_money(a.owed, symbol=False),
        reason=t(f"arrears.reason.{a.reason.value}"),
        payer_contact=a.receiving_contact,
        payer_phone=a.receiving_phone or "—",
        labor_contact=a.labor_contact,
        labor_phone=a.labor_phone or "—",
    )
