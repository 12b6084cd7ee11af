"""Forged and stale button taps (issue 15, defect 8): the client controls callback data, so an
id no button of ours carries, or a tap on a message that is gone, is the tap's fault, not a
crash. The user is told the button is no longer valid; the log gets one WARNING line without
a traceback (and without the data), never an ERROR."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import TelegramMethod

from bot.i18n import t
from core.db.uow import Services
from core.domain.enums import Role
from tests.bot.conftest import DISPATCHER_TG, Company
from tests.bot.harness import BotDriver, RecordingSession, answers, tg_user
from tests.factories import make_account

REGULATOR = 6001
BEYOND_ANY_COLUMN = "9" * 23  # past PostgreSQL's INTEGER and SQLite's 64-bit INTEGER alike

FORGED = [
    (DISPATCHER_TG, f"wkc:{BEYOND_ANY_COLUMN}:a:"),  # a worker card
    (DISPATCHER_TG, f"rtd:{BEYOND_ANY_COLUMN}"),  # rate a deal
    (DISPATCHER_TG, f"pp:{BEYOND_ANY_COLUMN}:{BEYOND_ANY_COLUMN}"),  # propose a deal
    (DISPATCHER_TG, f"ri:{BEYOND_ANY_COLUMN}:2026-03-20"),  # declare released workers again
    (REGULATOR, f"rgg:{BEYOND_ANY_COLUMN}:{BEYOND_ANY_COLUMN}:{BEYOND_ANY_COLUMN}"),
    (DISPATCHER_TG, "wkc:not-a-number"),  # no handler takes it: the fallback
]


@pytest.fixture
async def regulator(services: Services) -> int:
    async with services.uow() as uow:
        await make_account(
            uow, role=Role.REGULATOR, region_code="140100", telegram_user_id=REGULATOR
        )
        await uow.commit()
    return REGULATOR


@pytest.mark.parametrize(("user_id", "data"), FORGED, ids=[d[:20] for _u, d in FORGED])
async def test_a_forged_button_is_a_warning_and_an_answer_not_a_crash(
    driver: BotDriver,
    company: Company,
    regulator: int,
    caplog: pytest.LogCaptureFixture,
    user_id: int,
    data: str,
) -> None:
    caplog.set_level(logging.WARNING)
    sent = await driver.tap(tg_user(user_id), data)  # an ERROR log line fails the feed

    assert [a.get("text") for a in answers(sent)] == [t("common.stale", "zh")]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in warnings] == ["WARNING"]
    assert warnings[0].exc_info is None
    assert data not in warnings[0].getMessage()


async def test_an_id_past_postgresqls_integer_is_answered_without_a_traceback(
    driver: BotDriver, company: Company, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite stores it (and finds nothing: "not found"); PostgreSQL refuses it (stale)."""
    caplog.set_level(logging.WARNING)
    sent = await driver.tap(tg_user(DISPATCHER_TG), "pp:2147483648:1")

    assert len(answers(sent)) == 1
    stale_or_gone = (t("common.stale", "zh"), t("error.posting_not_found", "zh"))
    assert answers(sent)[0].get("text") in stale_or_gone
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in caplog.records)


class MessageGone(RecordingSession):
    """Telegram's answer when the message a tap came from was deleted meanwhile."""

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        if method.__api_method__ in ("editMessageText", "sendMessage"):
            raise TelegramBadRequest(method, "Bad Request: message to edit not found")
        return await super().make_request(bot, method, timeout)


async def test_a_tap_on_a_message_that_is_gone_is_a_warning_without_traceback(
    services: Services, company: Company, caplog: pytest.LogCaptureFixture
) -> None:
    driver = BotDriver(services, session=MessageGone())
    caplog.set_level(logging.WARNING)
    try:
        await driver.tap(tg_user(DISPATCHER_TG), "prj:0")
    finally:
        await driver.close()

    records = [r for r in caplog.records if r.name == "bot.errors"]
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)]
    assert "TelegramBadRequest" in records[0].getMessage()
