"""The regulator's menu (the seed's government edition): 📊 汇总, 📈 统计, 📑 需求, 💰 成交,
⭐ 评价, 🏷 指导价, 🎖 评级, 🧭 协调, and after the deal 📉 欠薪预警 and 👷 在场人数 (also
/arrears and /onsite). One Router for regulators and admins.

Every screen is scoped to the account's region and below: region codes, posting and worker ids
in callback data are passed to core services that check the scope again, so a forged button
is refused by the core (the `errors` router answers it) and changes nothing.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter, or_f
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.filters import HasRole
from bot.handlers.regulator import (
    arrears,
    deal_filters,
    escalations,
    export,
    grading,
    grading_browse,
    guide,
    lists,
    summary,
)
from bot.handlers.regulator.common import Ctx, render, route
from bot.handlers.regulator.states import RegulatorDeals, RegulatorGrading, RegulatorGuide
from bot.keyboards.common import (
    ALL_MENU_KEYS,
    ARREARS,
    DEAL_RECORDS,
    ESCALATIONS,
    GRADING,
    GUIDE_PRICES,
    ON_SITE,
    RATINGS,
    SHORTAGES,
    STATISTICS,
    SUMMARY,
    MenuText,
)
from bot.keyboards.regulator import (
    BrokerCb,
    DealCb,
    DealPickCb,
    EscCb,
    EscViewCb,
    ExportCb,
    GradeCb,
    GradeListCb,
    GuideCb,
    RateCb,
    ShortCb,
    SilentCb,
    StatCb,
    SumCb,
    TopCb,
)
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.services.accounts import AccountView


async def deals_menu(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    """💰 成交 starts over: this week, every trade, no typed filters."""
    await state.set_state(None)
    await deal_filters.forget(state)
    ctx = Ctx(message, uow, account, state)
    await render(ctx, lists.deals_screen, DealCb(area=ctx.home))


def create_router() -> Router:
    router = Router(name=__name__)
    allowed = HasRole(Role.REGULATOR, Role.ADMIN)
    router.message.filter(allowed)
    router.callback_query.filter(allowed)

    route(router, SumCb, summary.summary, MenuText(SUMMARY), lambda c: SumCb(code=c.home))
    route(router, StatCb, summary.stats, MenuText(STATISTICS), lambda c: StatCb(code=c.home))
    route(router, TopCb, summary.top)
    route(router, SilentCb, summary.silent)
    route(router, ShortCb, lists.shortages, MenuText(SHORTAGES), lambda c: ShortCb(code=c.home))
    route(router, RateCb, lists.ratings_screen, MenuText(RATINGS), lambda c: RateCb(code=c.home))
    route(router, DealCb, lists.deals_screen)
    route(router, DealPickCb, lists.deals_pick)
    route(router, GuideCb, guide.guide, MenuText(GUIDE_PRICES), guide.start)
    route(router, GradeCb, grading.grade)
    route(router, GradeListCb, grading_browse.browse)
    home_escalations = lambda c: EscCb(kind="s", code=c.home)  # noqa: E731
    route(router, EscCb, escalations.escalated, MenuText(ESCALATIONS), home_escalations)
    route(router, EscViewCb, escalations.posting)
    route(router, BrokerCb, escalations.broker)
    route(router, ExportCb, export.export)
    route(
        router,
        arrears.ArrearsCb,
        arrears.arrears,
        MenuText(ARREARS),
        lambda c: arrears.ArrearsCb(),
    )

    menu = router.message.register
    menu(deals_menu, MenuText(DEAL_RECORDS))
    menu(grading.grading_menu, MenuText(GRADING))
    menu(arrears.arrears_command, Command("arrears"))
    menu(arrears.onsite, or_f(Command("onsite"), MenuText(ON_SITE)))

    # typed steps; a menu button's text is not an answer, it opens that screen instead
    not_menu = ~MenuText(*ALL_MENU_KEYS)
    menu(guide.price_typed, RegulatorGuide.price, F.text, not_menu)
    menu(guide.price_expected, RegulatorGuide.price, not_menu)
    menu(grading.query_typed, RegulatorGrading.query, F.text, not_menu)
    menu(grading.query_expected, RegulatorGrading.query, not_menu)
    menu(grading_browse.upload_sent, RegulatorGrading.upload, F.document)
    menu(grading_browse.upload_sent, RegulatorGrading.confirm, F.document)
    menu(grading_browse.upload_expected, RegulatorGrading.upload, not_menu)
    deal_steps = StateFilter(RegulatorDeals.dates, RegulatorDeals.headcount, RegulatorDeals.price)
    menu(lists.deal_filter_typed, deal_steps, F.text, not_menu)
    menu(lists.deal_filter_expected, deal_steps, not_menu)
    return router
