"""Regression: a callback alert (answerCallbackQuery: plain text, no parse mode) showed user
data HTML-escaped, e.g. a worker named "王<b>&东" as "王&lt;b&gt;&amp;东"."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import html

from bot.i18n import t
from bot.render.errors import CALLBACK_ALERT_LIMIT, alert_text
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role, WorkerStatus
from core.services.workers import set_worker_status
from tests.bot.harness import BotDriver, answers, last_text, tg_user
from tests.factories import make_account, make_enterprise, make_worker

DISPATCHER_TG = 5101
DISPATCHER = tg_user(DISPATCHER_TG, name="李调度")
ODD_NAME = "王<b>&东"


@pytest.fixture
async def driver(services: Services) -> AsyncIterator[BotDriver]:
    drv = BotDriver(services)
    yield drv
    await drv.close()


def test_alert_text_turns_message_html_back_into_the_text_as_typed() -> None:
    assert alert_text(f"<b>已被占用</b>：{html.quote(ODD_NAME)}") == f"已被占用：{ODD_NAME}"
    long = html.quote("&" * 300)  # 300 characters typed, 1500 as HTML
    assert alert_text(long) == "&" * (CALLBACK_ALERT_LIMIT - 1) + "…"


async def test_a_callback_alert_shows_a_worker_name_with_html_characters_as_typed(
    driver: BotDriver, services: Services
) -> None:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="晋阳劳务")
        account = await make_account(
            uow,
            role=Role.DISPATCHER,
            enterprise=ent,
            telegram_user_id=DISPATCHER_TG,
            name="李调度",
        )
        worker = await make_worker(uow, ent, name=ODD_NAME, grade_level=2)
        await uow.commit()
        enterprise_id, account_id, worker_id = ent.id, account.id, worker.id

    await driver.send(DISPATCHER, "📤 赋闲提报")
    for widget in ("region:140105", "trade:plasterer", "grade:3", f"idle_workers:{worker_id}"):
        await driver.dialog_tap(DISPATCHER, widget)
    await driver.dialog_tap(DISPATCHER, "pick_done")
    await driver.send(DISPATCHER, "4500")
    await driver.dialog_tap(DISPATCHER, "me")
    # the worker goes on duty before the dispatcher confirms
    dispatcher = Actor(account_id, Role.DISPATCHER, enterprise_id=enterprise_id)
    async with services.uow() as uow:
        await set_worker_status(uow, dispatcher, worker_id, WorkerStatus.BUSY)

    sent = await driver.dialog_tap(DISPATCHER, "confirm")

    (alert,) = answers(sent)
    assert alert["show_alert"] is True
    error_html = t("error.worker_not_idle", "zh", name=ODD_NAME)
    assert ODD_NAME in alert["text"]
    assert "&amp;" not in alert["text"]
    assert alert["text"] == html_to_plain(error_html)
    # the message itself is HTML: there the name stays escaped
    assert html.quote(ODD_NAME) in last_text(sent)


def html_to_plain(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
