"""⭐ Rate workers: the prompt the scheduler queues, and the dialog the foreman goes through."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from bot.i18n import t
from bot.keyboards.ratings import RateDealCb, RateSkipCb, RateStarCb
from bot.renderers import outbox_renderers
from core.db.models import Account, Rating, Worker
from core.db.uow import Services
from core.services.deals import ProposeDeal, accept_deal, propose_deal
from core.services.outbox import OutboxItem
from tests.bot.harness import (
    BotDriver,
    answers,
    inline_buttons,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.integration.deal_world import World, build_world

FOREMAN = tg_user(6001, name="张伟")


async def accepted_deal(services: Services) -> tuple[World, int]:
    """Two 二级 plasterers (王海东, 李文光) dispatched today to 张伟's project; 张伟 is bound."""
    w = await build_world(services, workers=2, headcount=2)
    async with services.uow() as uow:
        offer = await propose_deal(
            uow,
            w.foreman,
            ProposeDeal(
                shortage_id=w.shortage_id,
                idle_posting_id=w.idle_posting_id,
                headcount=2,
                price="5500",
                start_date=w.today,
            ),
        )
    async with services.uow() as uow:
        await accept_deal(uow, w.supplier_dispatcher, offer.id)
    async with services.uow() as uow:
        await uow.session.execute(
            update(Account)
            .where(Account.id == w.foreman.account_id)
            .values(telegram_user_id=FOREMAN.id, chat_id=FOREMAN.id)
        )
        await uow.commit()
    return w, offer.id


async def ratings_in_db(services: Services) -> list[tuple[int, int, str | None]]:
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(Rating.worker_id, Rating.stars, Rating.comment).order_by(Rating.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_the_prompt_names_the_deal_and_opens_the_dialog(services: Services) -> None:
    w, deal_id = await accepted_deal(services)
    assert "rating_prompt" in outbox_renderers().kinds()
    item = OutboxItem(
        id=1,
        account_id=w.foreman.account_id or 0,
        kind="rating_prompt",
        payload={"deal_id": deal_id},
        attempts=0,
        created_at=datetime(2026, 3, 11, 1, 0, tzinfo=UTC),
        chat_id=FOREMAN.id,
        locale="en",
        active=True,
    )
    async with services.uow() as uow:
        [message] = await outbox_renderers().render(
            item, uow, lambda key, /, **p: t(key, "en", **p)
        )
    assert message.text == t(
        "rating.prompt",
        "en",
        count=2,
        id=deal_id,
        project="小店区保障房项目",
        trade="Plasterer",
        start=w.today.isoformat(),
    )
    assert inline_buttons(message.reply_markup) == [
        ("⭐ Rate now", RateDealCb(deal_id=deal_id).pack())
    ]


async def test_the_foreman_rates_both_workers_with_a_comment_and_a_skip(
    driver: BotDriver, services: Services
) -> None:
    w, deal_id = await accepted_deal(services)
    first, second = w.worker_ids

    sent = await driver.send(FOREMAN, "⭐ 工人评价")
    assert last_text(sent).startswith(t("rating.deals_title", "zh"))
    assert f"#{deal_id} 小店区保障房项目 · 抹灰工" in last_text(sent)
    assert inline_buttons(last_reply_markup(sent)) == [
        (f"#{deal_id} 抹灰工 (2)", RateDealCb(deal_id=deal_id).pack())
    ]

    sent = await driver.tap(FOREMAN, RateDealCb(deal_id=deal_id).pack())
    assert "<b>王海东</b>" in last_text(sent)
    assert "1/2" in last_text(sent)
    stars = inline_buttons(last_reply_markup(sent))
    assert [text for text, _data in stars] == ["★1", "★2", "★3", "★4", "★5", "❌ 取消"]

    sent = await driver.tap(FOREMAN, RateStarCb(deal_id=deal_id, worker_id=first, stars=4).pack())
    assert last_text(sent) == t(
        "rating.ask_comment", "zh", name="王海东", stars="★★★★☆", n=4, max=200
    )
    assert last_text(await driver.send(FOREMAN, "好" * 201)) == t(
        "error.text_too_long", "zh", field="comment", max=200
    )
    assert last_text(await driver.send_sticker(FOREMAN)) == t(
        "rating.comment_again", "zh", max=200
    )
    sent = await driver.send(FOREMAN, "干活认真 <准时>")
    saved = t("rating.saved", "zh", name="王海东", stars="★★★★☆", average="4.00", count=1)
    assert last_text(sent).startswith(saved + "\n\n")
    next_worker = last_text(sent).removeprefix(saved + "\n\n")
    assert "<b>李文光</b>" in next_worker
    assert "2/2" in next_worker

    await driver.tap(FOREMAN, RateStarCb(deal_id=deal_id, worker_id=second, stars=5).pack())
    sent = await driver.tap(FOREMAN, RateSkipCb(deal_id=deal_id, worker_id=second).pack())
    saved = t("rating.saved", "zh", name="李文光", stars="★★★★★", average="5.00", count=1)
    assert last_text(sent) == "\n".join(
        [
            saved,
            "",
            t("rating.deal_done", "zh", id=deal_id, count=2),
            t("rating.distribution", "zh", unsatisfied=0, fair=0, satisfied=1, very_satisfied=1),
            t("rating.deal_average", "zh", average="4.50"),
        ]
    )
    assert await driver.state(FOREMAN) is None

    assert await ratings_in_db(services) == [(first, 4, "干活认真 <准时>"), (second, 5, None)]
    async with services.uow() as uow:
        totals = dict(
            (wid, (s, c))
            for wid, s, c in await uow.session.execute(
                select(Worker.id, Worker.rating_sum, Worker.rating_count).where(
                    Worker.id.in_(w.worker_ids)
                )
            )
        )
    assert totals == {first: (4, 1), second: (5, 1)}
    # nothing is left to rate
    assert last_text(await driver.send(FOREMAN, "⭐ 工人评价")) == t("rating.nothing", "zh")


async def test_stars_outside_one_to_five_and_a_second_rating_are_refused(
    driver: BotDriver, services: Services
) -> None:
    w, deal_id = await accepted_deal(services)
    first, second = w.worker_ids
    for stars in (0, 6, -1):
        sent = await driver.tap(
            FOREMAN, RateStarCb(deal_id=deal_id, worker_id=first, stars=stars).pack()
        )
        assert answers(sent)[0]["text"] == t("error.stars_range", "zh", min=1, max=5)
    assert await driver.state(FOREMAN) is None

    await driver.tap(FOREMAN, RateStarCb(deal_id=deal_id, worker_id=first, stars=3).pack())
    await driver.tap(FOREMAN, RateSkipCb(deal_id=deal_id, worker_id=first).pack())
    # the old prompt's buttons again: once per deal and worker
    sent = await driver.tap(FOREMAN, RateStarCb(deal_id=deal_id, worker_id=first, stars=5).pack())
    assert answers(sent)[0]["text"] == t("error.already_rated", "zh")
    sent = await driver.tap(FOREMAN, RateSkipCb(deal_id=deal_id, worker_id=first).pack())
    assert answers(sent)[0]["text"] == t("common.stale", "zh")
    # a worker of no deal of ours, and a deal of somebody else
    sent = await driver.tap(FOREMAN, RateStarCb(deal_id=deal_id, worker_id=999, stars=5).pack())
    assert answers(sent)[0]["text"] == t("error.worker_not_in_deal", "zh")
    assert await ratings_in_db(services) == [(first, 3, None)]
    assert second not in {wid for wid, _s, _c in await ratings_in_db(services)}


async def test_an_outsider_foreman_cannot_rate_the_deal(
    driver: BotDriver, services: Services
) -> None:
    w, deal_id = await accepted_deal(services)
    outsider = tg_user(6002, name="王五")
    async with services.uow() as uow:
        await uow.session.execute(
            update(Account)
            .where(Account.id == w.outsider.account_id)
            .values(telegram_user_id=outsider.id, chat_id=outsider.id)
        )
        await uow.commit()
    assert last_text(await driver.send(outsider, "⭐ 工人评价")) == t("rating.nothing", "zh")
    sent = await driver.tap(outsider, RateDealCb(deal_id=deal_id).pack())
    assert answers(sent)[0]["text"] == t("error.forbidden", "zh")
    sent = await driver.tap(
        outsider, RateStarCb(deal_id=deal_id, worker_id=w.worker_ids[0], stars=1).pack()
    )
    assert answers(sent)[0]["text"] == t("error.forbidden", "zh")
    assert await ratings_in_db(services) == []
