"""🔍 Search through the bot (a dialog): filters as buttons, keyset pages that survive new
postings with page x/y, the card with a masked phone, the workers' gender and credit grade,
stale, forged and old taps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.callbacks_deals import ProposeCb
from bot.i18n import t
from core.db.models import Enterprise, Trade
from core.db.uow import Services
from core.domain.enums import Role
from core.ports import FixedClock
from tests.bot.harness import (
    BotDriver,
    Sent,
    answers,
    callback_for,
    inline_buttons,
    inline_texts,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.factories import (
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_worker,
)

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


async def tap(
    driver: BotDriver, sent: list[Sent], text_part: str, user: Any = FOREMAN
) -> list[Sent]:
    """Tap the button of the bot's last message whose text contains `text_part`."""
    return await driver.tap(user, callback_for(last_reply_markup(sent), text_part))


async def pick(driver: BotDriver, sent: list[Sent], button: str, value: str) -> list[Sent]:
    """Open a filter's choices and pick a value; back on the filter screen."""
    return await tap(driver, await tap(driver, sent, button), value)


def results(sent: list[Sent]) -> list[str]:
    """The result buttons' labels (plain text), top to bottom."""
    return [
        label for label in inline_texts(last_reply_markup(sent)) if label[:1].isdigit()
        and ". " in label
    ]  # fmt: skip


async def ids_on_page(driver: BotDriver, services: Services, sent: list[Sent]) -> list[int]:
    """Open every result of the page in turn (back to the page after each): their ids."""
    found = []
    for label in results(sent):
        card = await tap(driver, sent, label)
        found.append(int(last_text(card).split("#", 1)[1].split("<", 1)[0]))
        sent = await tap(driver, card, t("search.btn_back_results", "zh"))
    return found


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

    cities = await tap(driver, screen, t("search.btn_region", "zh"))
    assert "太原市" in inline_texts(last_reply_markup(cities))
    counties = await tap(driver, cities, "太原市")
    assert inline_texts(last_reply_markup(counties))[0] == "太原市全部"
    shown = await tap(driver, counties, "太原市全部")
    shown = await pick(driver, shown, t("search.btn_trade", "zh"), "抹灰工")
    shown = await pick(driver, shown, t("search.btn_price", "zh"), "¥4,000–6,000")
    assert "📍 地区：太原市" in last_text(shown)
    assert "¥4,000–6,000" in last_text(shown)

    found = await tap(driver, shown, t("search.btn_go", "zh"))
    assert await ids_on_page(driver, services, found) == [own, wanted]
    assert "晋阳劳务有限公司" in last_text(found)
    assert "¥5,000/月" in last_text(found)

    shown = await tap(driver, found, t("search.btn_filters", "zh"))
    cities = await tap(driver, shown, t("search.btn_region", "zh"))
    shown = await tap(driver, cities, t("search.any_region", "zh"))
    shown = await pick(driver, shown, t("search.btn_price", "zh"), "≤ ¥4,000")
    found = await tap(driver, shown, t("search.btn_go", "zh"))
    assert await ids_on_page(driver, services, found) == [cheap]
    assert "晋中市 榆次区" in last_text(found)

    shown = await tap(driver, found, t("search.btn_filters", "zh"))
    shown = await pick(driver, shown, t("search.btn_price", "zh"), t("search.any_price", "zh"))
    shown = await pick(driver, shown, t("search.btn_ring", "zh"), t("search.ring_internal", "zh"))
    found = await tap(driver, shown, t("search.btn_go", "zh"))
    assert await ids_on_page(driver, services, found) == [own]  # never another's internal


async def test_pages_neither_repeat_nor_skip_when_a_posting_arrives_between_taps(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    ids = [
        await post_idle(services, clock, f"劳务{n:02d}", minutes_ago=100 - n) for n in range(12)
    ]
    names = {posting: f"劳务{n:02d}" for n, posting in enumerate(ids)}
    newest_first = [names[i] for i in ids[::-1]]

    def on_page(sent: list[Sent]) -> list[str]:
        return [label.rsplit(" · ", 1)[1] for label in results(sent)]

    screen = await driver.send(FOREMAN, t("menu.search", "zh"))
    page1 = await tap(driver, screen, t("search.btn_go", "zh"))
    assert on_page(page1) == newest_first[:5]
    assert t("list.prev", "zh") not in inline_texts(last_reply_markup(page1))
    assert "1/3" in inline_texts(last_reply_markup(page1))

    page2 = await tap(driver, page1, t("list.next", "zh"))
    assert on_page(page2) == newest_first[5:10]
    assert "2/3" in inline_texts(last_reply_markup(page2))
    await post_idle(services, clock, "新来劳务")  # lands on top, between taps

    page3 = await tap(driver, page2, t("list.next", "zh"))
    assert on_page(page3) == newest_first[10:]
    assert t("list.next", "zh") not in inline_texts(last_reply_markup(page3))
    assert "3/3" in inline_texts(last_reply_markup(page3))

    back2 = await tap(driver, page3, t("list.prev", "zh"))
    assert on_page(back2) == newest_first[5:10]
    back1 = await tap(driver, back2, t("list.prev", "zh"))
    assert on_page(back1) == newest_first[:5]
    top = await tap(driver, back1, t("list.prev", "zh"))
    assert on_page(top) == ["新来劳务", *newest_first[:4]]
    assert "1/3" in inline_texts(last_reply_markup(top))


async def test_a_card_masks_the_phone_and_offers_to_propose_and_go_back(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    posting = await post_idle(services, clock, "晋阳<劳务>&Co", minutes_ago=90)
    screen = await driver.send(FOREMAN, t("menu.search", "zh"))
    found = await tap(driver, screen, t("search.btn_go", "zh"))
    assert "晋阳&lt;劳务&gt;&amp;Co" in last_text(found)  # HTML: shown as typed
    assert results(found)[0].endswith(" · 晋阳<劳务>&…")  # button labels are plain, names cut

    card = await tap(driver, found, results(found)[0])

    text = last_text(card)
    assert f"#{posting}" in text
    assert "📞 李明 137****1111" in text
    assert "13700001111" not in text
    assert "🏢 晋阳&lt;劳务&gt;&amp;Co" in text
    assert "👥 可对接 3 人（共 3 人）" in text
    assert t("search.age_hours", "zh", n=1) in text
    buttons = inline_buttons(last_reply_markup(card))
    # 🤝 is answered by the deals feature: its data goes out as it is
    assert buttons[0] == (
        t("search.btn_propose", "zh"),
        ProposeCb(shortage_id=0, idle_id=posting).pack(),
    )
    again = await tap(driver, card, t("search.btn_back_results", "zh"))
    assert results(again) == results(found)

    # 🤝 starts the deal below the card, which stays (and its dialog with it)
    proposed = await driver.tap(FOREMAN, buttons[0][1] or "")
    assert [s.method for s in proposed if s.method.endswith("Message")] == ["sendMessage"]
    assert await driver.state(FOREMAN) == "Search:results"


async def test_a_dispatcher_searches_shortages_in_english_and_can_switch_to_idle_workers(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    await post_idle(services, clock, "榆次劳务", county="140702")
    screen = await driver.send(DISPATCHER, t("menu.search", "en"))
    assert "🔍 Search: Shortages" in last_text(screen)
    assert t("search.btn_gender", "en") not in inline_texts(last_reply_markup(screen))
    none = await tap(driver, screen, t("search.btn_go", "en"), DISPATCHER)
    assert t("search.nothing_found", "en") in last_text(none)

    screen = await tap(driver, none, t("search.btn_filters", "en"), DISPATCHER)
    switched = await tap(driver, screen, "Search idle workers instead", DISPATCHER)
    assert "🔍 Search: Idle workers" in last_text(switched)
    found = await tap(driver, switched, t("search.btn_go", "en"), DISPATCHER)
    assert len(results(found)) == 1
    assert "Jinzhong Yuci District" in last_text(found)
    assert "¥5,000/month" in last_text(found)


async def test_idle_workers_are_narrowed_by_the_workers_gender_and_credit_grade(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    async with services.uow() as uow:
        labour = await make_enterprise(uow, name="女工劳务")
        other = await make_enterprise(uow, name="男工劳务")
        woman, man = await make_worker(uow, labour), await make_worker(uow, other)
        woman.gender, woman.credit_grade = "F", "A"
        man.gender, man.credit_grade = "M", "C"
        await make_idle_posting(uow, labour, [woman])
        await make_idle_posting(uow, other, [man])
        await uow.commit()

    screen = await driver.send(FOREMAN, t("menu.search", "zh"))
    shown = await pick(driver, screen, t("search.btn_gender", "zh"), t("search.gender_f", "zh"))
    assert t("search.filter_gender", "zh", value=t("search.gender_f", "zh")) in last_text(shown)
    found = await tap(driver, shown, t("search.btn_go", "zh"))
    assert [r.rsplit(" · ", 1)[1] for r in results(found)] == ["女工劳务"]

    shown = await tap(driver, found, t("search.btn_filters", "zh"))
    shown = await pick(driver, shown, t("search.btn_gender", "zh"), t("search.any_gender", "zh"))
    shown = await pick(driver, shown, t("search.btn_credit", "zh"), "B 级及以上")
    found = await tap(driver, shown, t("search.btn_go", "zh"))
    assert [r.rsplit(" · ", 1)[1] for r in results(found)] == ["女工劳务"]


async def test_a_trade_code_as_long_as_the_column_allows_fits_its_button(
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
    screen = await driver.send(FOREMAN, t("menu.search", "zh"))
    trades = await tap(driver, screen, t("search.btn_trade", "zh"))
    button = callback_for(last_reply_markup(trades), "钢筋混凝土模板工")
    assert len(button.encode()) <= 64
    shown = await driver.tap(FOREMAN, button)
    page1 = await tap(driver, shown, t("search.btn_go", "zh"))
    page2 = await tap(driver, page1, t("list.next", "zh"))
    assert (len(results(page1)), len(results(page2))) == (5, 2)


async def test_forged_or_stale_search_buttons_are_answered_and_change_nothing(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    hidden = await post_idle(services, clock, "别家公司", ring="internal")
    screen = await driver.send(FOREMAN, t("menu.search", "zh"))
    trades = await tap(driver, screen, t("search.btn_trade", "zh"))
    before = await driver.data(FOREMAN)
    for forged in ("v:astronaut", "w:x"):
        sent = await driver.dialog_tap(FOREMAN, forged)
        assert answers(sent)[-1]["text"] == t("common.stale", "zh"), forged
    assert await driver.data(FOREMAN) == before

    await tap(driver, trades, t("search.btn_back", "zh"))
    await driver.dialog_tap(FOREMAN, "region")
    for forged in ("rg:149999", "rg:140105"):  # no such region; a county before its city
        sent = await driver.dialog_tap(FOREMAN, forged)
        assert answers(sent)[-1]["text"] == t("common.stale", "zh"), forged
    await driver.dialog_tap(FOREMAN, "back")
    sent = await driver.dialog_tap(FOREMAN, "to_shortage")  # only dispatchers switch
    assert answers(sent)[-1]["text"] == t("common.stale", "zh")

    await driver.dialog_tap(FOREMAN, "go")
    sent = await driver.dialog_tap(FOREMAN, "sr_x")  # one page: there is no next
    assert answers(sent)[-1]["text"] == t("common.stale", "zh")
    # another company's internal posting looks exactly like a missing one
    sent = await driver.dialog_tap(FOREMAN, f"sr:{hidden}")
    assert answers(sent)[-1]["text"] == t("error.posting_not_found", "zh")
    assert await driver.state(FOREMAN) == "Search:results"


async def test_an_old_results_page_after_cancel_is_answered_as_stale(
    driver: BotDriver, services: Services, clock: FixedClock, people: People
) -> None:
    for n in range(6):
        await post_idle(services, clock, f"劳务{n}", minutes_ago=10 - n)
    screen = await driver.send(FOREMAN, t("menu.search", "zh"))
    found = await tap(driver, screen, t("search.btn_go", "zh"))
    cancelled = await tap(driver, found, t("common.cancel", "zh"))
    assert answers(cancelled)[-1]["text"] == t("common.cancelled", "zh")
    sent = await tap(driver, found, t("list.next", "zh"))
    assert answers(sent)[-1]["text"] == t("common.stale", "zh")
    assert t("dialog.stale_menu", "zh") in last_text(sent)
