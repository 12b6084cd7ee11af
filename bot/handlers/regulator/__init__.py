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

from bot.filters import HasRole
from bot.handlers.regulator import (
    arrears,
    escalations,
    export,
    grading,
    grading_browse,
    guide,
    lists,
    summary,
)
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
from core.domain.enums import Role


def create_router() -> Router:
    router = Router(name=__name__)
    allowed = HasRole(Role.REGULATOR, Role.ADMIN)
    router.message.filter(allowed)
    router.callback_query.filter(allowed)

    menu = router.message.register
    menu(summary.summary_menu, MenuText(SUMMARY))
    menu(summary.stats_menu, MenuText(STATISTICS))
    menu(lists.shortages_menu, MenuText(SHORTAGES))
    menu(lists.deals_menu, MenuText(DEAL_RECORDS))
    menu(lists.ratings_menu, MenuText(RATINGS))
    menu(guide.guide_menu, MenuText(GUIDE_PRICES))
    menu(grading.grading_menu, MenuText(GRADING))
    menu(escalations.escalations_menu, MenuText(ESCALATIONS))
    menu(arrears.arrears_command, Command("arrears"))
    menu(arrears.arrears_menu, MenuText(ARREARS))
    menu(arrears.onsite_command, or_f(Command("onsite"), MenuText(ON_SITE)))
    router.callback_query.register(arrears.arrears_tapped, arrears.ArrearsCb.filter())

    # typed steps; a menu button's text is not an answer, it opens that screen instead
    not_menu = ~MenuText(*ALL_MENU_KEYS)
    menu(guide.price_typed, RegulatorGuide.price, F.text, not_menu)
    menu(guide.price_expected, RegulatorGuide.price, not_menu)
    menu(grading.query_typed, RegulatorGrading.query, F.text, not_menu)
    menu(grading.query_expected, RegulatorGrading.query, not_menu)
    menu(grading_browse.upload_sent, RegulatorGrading.upload, F.document)
    menu(grading_browse.upload_sent, RegulatorGrading.confirm, F.document)
    menu(grading_browse.upload_expected, RegulatorGrading.upload, not_menu)
    deal_steps = (RegulatorDeals.dates, RegulatorDeals.headcount, RegulatorDeals.price)
    menu(lists.deal_filter_typed, StateFilter(*deal_steps), F.text, not_menu)
    menu(lists.deal_filter_expected, StateFilter(*deal_steps), not_menu)

    tap = router.callback_query.register
    tap(summary.summary_tap, SumCb.filter())
    tap(summary.top_tap, TopCb.filter())
    tap(summary.stats_tap, StatCb.filter())
    tap(summary.silent_tap, SilentCb.filter())
    tap(lists.shortages_tap, ShortCb.filter())
    tap(lists.deals_tap, DealCb.filter())
    tap(lists.deals_pick, DealPickCb.filter())
    tap(lists.ratings_tap, RateCb.filter())
    tap(guide.guide_tap, GuideCb.filter())
    tap(grading.grade_tap, GradeCb.filter())
    tap(grading_browse.browse_tap, GradeListCb.filter())
    tap(escalations.escalations_tap, EscCb.filter())
    tap(escalations.posting_tap, EscViewCb.filter())
    tap(escalations.broker_tap, BrokerCb.filter())
    tap(export.export_tap, ExportCb.filter())
    return router
