"""🔍 Search through the bot: filters as buttons, keyset pages that survive new postings, the
card with a masked phone, the callback-data budget, stale and forged taps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select

from bot.callbacks_deals import ProposeCb, SearchCb, ViewPostingCb
from bot.i18n import t
from core.db.models import Enterprise, Trade
from core.db.uow import Services
from core.domain.enums import Role
from core.ports import FixedClock
from tests.bot.harness import (
    BotDriver,
    answers,
    callback_for,
    inline_buttons,
    inline_texts,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.factories import make_account, make_enterprise, make_idle_posting, make_project

FOREMAN_TG = 6101
DISPATCHER_TG = 6102
FOREMAN = tg_user(FOREMAN_TG)
DISPATCHER = tg_user(DISPATCHER_TG, language_code="en")


@dataclass(frozen=True)
class People:
    own_enterprise_id: int


@pytest.fixture
async def people(services: Services) -> People:
    """A foreman of 山西五建集团 (小店区, 太原) and a dispatcher of 晋阳劳务 (English)."""
    async with services.uow() as uow:
        builder = await make_enterprise(uow, name="山西五建集团", type="general_contractor")
        project = await make_project(uow, builder, name="太原南站项目")
        labour = await make_enterprise(uow, name="晋阳劳务有限公司", county_code="140106")
        await make_account(
            uow,
            role=Role.FOREMAN,
            enterprise=builder,
            projects=[project],
            telegram_user_id=FOREMAN_TG,
        )
        await make_account(
            uow,
            role=Role.DISPATCHER,
            enterprise=labour,
            telegram_user_id=DISPATCHER_TG,
            locale="en",
        )
        await uow.commit()
        return People(builder.id)


async def post_idle(
    services: Services, clock: FixedClock, name: str, *, minutes_ago: int = 0, **values: Any
) -> int:
    """An idle posting of the enterprise `name` (made if new), posted `minutes_ago`."""
    async with services.uow() as uow:
        ent = await uow.session.scalar(select(Enterprise).where(Enterprise.name == name))
        if ent is None:
            ent = await make_enterprise(uow, name=name, county_code=values.pop("county", "140106"))
        else:
            values.pop("county", None)
        at = clock.now() - timedelta(minutes=minutes_ago)
        values.setdefault("headcount", 3)
        posting = await make_idle_posting(uow, ent, [], created_at=at, updated_at=at, **values)
        await uow.commit()
        return posting.id


def sf(a: str, f: str = "", v: str = "") -> str:
    return SearchCb(a=a, f=f, v=v).pack()


def result_ids(markup: InlineKeyboardMarkup) -> list[int]:
    """The posting ids a results page lists, top to bottom."""
    return [
        ViewPostingCb.unpack(data).id
        for _text, data in inline_buttons(markup)
        if data and data.startswith("vp:")
    ]


async def test_a_foreman_narrows_idle_postings_by_city_trade_and_price(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    wanted = await post_idle(services, clock, "晋阳劳务有限公司", price_fen=500_000)
    await post_idle(services, clock, "晋阳劳务有限公司", trade_code="welder", price_fen=500_000)
    cheap = await post_idle(services, clock, "榆次劳务", county="140702", price_fen=380_000)
    await post_idle(services, clock, "晋阳劳务有限公司", price_fen=700_000)
    await post_idle(services, clock, "别家公司", ring="internal")  # another company's own
    own = await post_idle(services, clock, "山西五建集团", ring="internal")

    screen = await driver.send(FOREMAN, t("menu.search", "zh"))
    assert t("search.filters_title", "zh", kind=t("search.kind_idle", "zh")) in last_text(screen)
    assert t("search.btn_switch_to_idle", "zh") not in inline_texts(last_reply_markup(screen))

    cities = await driver.tap(FOREMAN, sf("open", "r"))
    assert "太原市" in inline_texts(last_reply_markup(cities))
    counties = await driver.tap(FOREMAN, sf("city", v="140100"))
    assert inline_texts(last_reply_markup(counties))[0] == "太原市全部"
    await driver.tap(FOREMAN, sf("set", "r", "140100"))
    await driver.tap(FOREMAN, sf("set", "t", "plasterer"))
    shown = await driver.tap(FOREMAN, sf("set", "p", "2"))  # ¥4,000–6,000
    assert "📍 地区：太原市" in last_text(shown)
    assert "¥4,000–6,000" in last_text(shown)

    results = await driver.tap(FOREMAN, sf("go"))
    assert result_ids(last_reply_markup(results)) == [own, wanted]
    assert "晋阳劳务有限公司" in last_text(results)
    assert "¥5,000/月" in last_text(results)

    await driver.tap(FOREMAN, sf("set", "r", ""))
    await driver.tap(FOREMAN, sf("set", "p", "1"))  # ≤ ¥4,000, all Shanxi
    results = await driver.tap(FOREMAN, sf("go"))
    assert result_ids(last_reply_markup(results)) == [cheap]
    assert "晋中市 榆次区" in last_text(results)

    await driver.tap(FOREMAN, sf("set", "p", ""))
    await driver.tap(FOREMAN, sf("set", "rg", "i"))
    results = await driver.tap(FOREMAN, sf("go"))
    assert result_ids(last_reply_markup(results)) == [own]  # never another company's internal


async def test_pages_neither_repeat_nor_skip_when_a_posting_arrives_between_taps(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    ids = [
        await post_idle(services, clock, "晋阳劳务有限公司", minutes_ago=100 - n)
        for n in range(12)
    ]
    newest_first = ids[::-1]
    await driver.send(FOREMAN, t("menu.search", "zh"))

    page1 = last_reply_markup(await driver.tap(FOREMAN, sf("go")))
    assert result_ids(page1) == newest_first[:5]
    assert t("search.btn_prev", "zh") not in inline_texts(page1)

    page2 = last_reply_markup(await driver.tap(FOREMAN, callback_for(page1, "下一页")))
    assert result_ids(page2) == newest_first[5:10]
    newcomer = await post_idle(services, clock, "新来劳务")  # lands on top, between taps

    page3 = last_reply_markup(await driver.tap(FOREMAN, callback_for(page2, "下一页")))
    assert result_ids(page3) == newest_first[10:]
    assert t("search.btn_next", "zh") not in inline_texts(page3)

    back2 = last_reply_markup(await driver.tap(FOREMAN, callback_for(page3, "上一页")))
    assert result_ids(back2) == newest_first[5:10]
    back1 = last_reply_markup(await driver.tap(FOREMAN, callback_for(back2, "上一页")))
    assert result_ids(back1) == newest_first[:5]
    top = last_reply_markup(await driver.tap(FOREMAN, callback_for(back1, "上一页")))
    assert result_ids(top) == [newcomer, *newest_first[:4]]


async def test_a_card_masks_the_phone_and_offers_to_propose_and_go_back(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    posting = await post_idle(services, clock, "晋阳<劳务>&Co", minutes_ago=90)
    await driver.send(FOREMAN, t("menu.search", "zh"))
    results = await driver.tap(FOREMAN, sf("go"))
    page = last_reply_markup(results)
    assert "晋阳&lt;劳务&gt;&amp;Co" in last_text(results)  # HTML: shown as typed
    assert inline_texts(page)[0].startswith("1. 晋阳<劳务>&Co")  # button labels are plain

    card = await driver.tap(FOREMAN, ViewPostingCb(kind="i", id=posting).pack())

    text = last_text(card)
    assert "📞 李明 137****1111" in text
    assert "13700001111" not in text
    assert "🏢 晋阳&lt;劳务&gt;&amp;Co" in text
    assert "👥 可对接 3 人（共 3 人）" in text
    assert t("search.age_hours", "zh", n=1) in text
    buttons = inline_buttons(last_reply_markup(card))
    assert buttons[0] == (
        t("search.btn_propose", "zh"),
        ProposeCb(shortage_id=0, idle_id=posting).pack(),
    )
    back = buttons[1][1]
    assert back is not None
    again = await driver.tap(FOREMAN, back)
    assert result_ids(last_reply_markup(again)) == result_ids(page)


async def test_a_dispatcher_searches_shortages_in_english_and_can_switch_to_idle_workers(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    idle = await post_idle(services, clock, "榆次劳务", county="140702")
    screen = await driver.send(DISPATCHER, t("menu.search", "en"))
    assert "🔍 Search: Shortages" in last_text(screen)
    none = await driver.tap(DISPATCHER, sf("go"))
    assert t("search.nothing_found", "en") in last_text(none)

    switched = await driver.tap(
        DISPATCHER, callback_for(last_reply_markup(screen), "Search idle workers instead")
    )
    assert "🔍 Search: Idle workers" in last_text(switched)
    results = await driver.tap(DISPATCHER, sf("go"))
    assert result_ids(last_reply_markup(results)) == [idle]
    assert "Jinzhong Yuci District" in last_text(results)
    assert "¥5,000/month" in last_text(results)


async def test_filters_too_long_for_callback_data_travel_as_a_token(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    long_code = "reinforced_concrete_formworker"  # 30 characters: the column's limit
    async with services.uow() as uow:
        uow.session.add(Trade(code=long_code, name_zh="钢筋混凝土模板工", name_en="RC formwork"))
        await uow.commit()
    for n in range(7):
        await post_idle(
            services, clock, "晋阳劳务有限公司", minutes_ago=50 - n, trade_code=long_code
        )
    await driver.send(FOREMAN, t("menu.search", "zh"))
    await driver.tap(FOREMAN, sf("set", "r", "140106"))
    await driver.tap(FOREMAN, sf("set", "t", long_code))
    await driver.tap(FOREMAN, sf("set", "g", "2"))
    await driver.tap(FOREMAN, sf("set", "p", "2"))
    await driver.tap(FOREMAN, sf("set", "rg", "m"))

    page1 = last_reply_markup(await driver.tap(FOREMAN, sf("go")))
    following = callback_for(page1, "下一页")
    assert following.startswith("sq:@")
    assert len(following.encode()) <= 64

    page2 = last_reply_markup(await driver.tap(FOREMAN, following))
    assert len(result_ids(page1)) == 5
    assert len(result_ids(page2)) == 2


async def test_forged_or_stale_search_buttons_are_answered_and_change_nothing(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    hidden = await post_idle(services, clock, "别家公司", ring="internal")
    await driver.send(FOREMAN, t("menu.search", "zh"))
    before = await driver.data(FOREMAN)

    for data in (
        sf("set", "g", "x"),
        sf("set", "g", "9"),
        sf("set", "r", "149999"),
        sf("set", "t", "astronaut"),
        sf("set", "k", "s"),  # only dispatchers switch to shortages
        sf("open", "zz"),
        sf("zz"),
        "sq:bad.filters:0:0:",
        "sq:@nosuchtoken:0:0:",
        ViewPostingCb(kind="x", id=hidden).pack(),
        "vp:i:notanumber",
    ):
        sent = await driver.tap(FOREMAN, data)
        assert answers(sent)[-1]["text"] == t("common.stale", "zh"), data

    # another company's internal posting looks exactly like a missing one
    sent = await driver.tap(FOREMAN, ViewPostingCb(kind="i", id=hidden).pack())
    assert answers(sent)[-1]["text"] == t("error.posting_not_found", "zh")
    assert await driver.data(FOREMAN) == before
