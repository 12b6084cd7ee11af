"""What every dialog (aiogram-dialog) does the same way, shown on the shortage dialog: stale
taps, late taps, a failed step, finished prompts losing their buttons, the number of taps."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import User
from sqlalchemy import select

from bot.i18n import t
from core.db.models import Enterprise, Project, ShortagePosting
from core.db.uow import Services
from core.domain.enums import Role
from core.domain.errors import DomainError
from core.services import posting_approval
from tests.bot.conftest import FOREMAN_TG, Company
from tests.bot.harness import (
    BOT_ID,
    DIALOG_SEP,
    BotDriver,
    Sent,
    answers,
    callback_for,
    inline_buttons,
    last_reply_markup,
    last_text,
    reply_keyboard_texts,
    tg_user,
)
from tests.factories import make_account

POST = "📝 发布缺工"


@pytest.fixture
async def foreman(services: Services, company: Company) -> User:
    async with services.uow() as uow:
        own = await uow.session.get(Enterprise, company.enterprise_id)
        project = await uow.session.get(Project, company.project_ids[0])
        assert own is not None
        assert project is not None
        await make_account(
            uow,
            role=Role.FOREMAN,
            enterprise=own,
            projects=[project],
            telegram_user_id=FOREMAN_TG,
            name="张伟",
            phone="13912345678",
        )
        await uow.commit()
    return tg_user(FOREMAN_TG)


async def tap(driver: BotDriver, user: User, sent: list[Sent], text_part: str) -> list[Sent]:
    """Press the button of the last message shown, on that message."""
    shown = [s for s in sent if s.method in ("sendMessage", "editMessageText")][-1]
    message_id = shown.params.get("message_id") or 1
    data = callback_for(last_reply_markup(sent), text_part)
    return await driver.tap(user, data, message_id=message_id)


async def shortage_count(services: Services) -> int:
    async with services.uow() as uow:
        return len((await uow.session.scalars(select(ShortagePosting))).all())


def offers_menu(sent: list[Sent]) -> bool:
    return any(
        s.method == "sendMessage" and POST in reply_keyboard_texts(s.reply_markup)
        for s in sent
        if s.reply_markup is not None and not hasattr(s.reply_markup, "inline_keyboard")
    )


async def test_a_shortage_is_posted_in_seven_taps_all_by_buttons(
    driver: BotDriver, services: Services, foreman: User
) -> None:
    taps = 1
    sent = await driver.send(foreman, POST)  # the menu button
    for button in ("抹灰工", "三级", "4", "¥4,000", t("shortage.use_contact", "zh")):
        sent = await tap(driver, foreman, sent, button)
        taps += 1
    sent = await tap(driver, foreman, sent, t("shortage.confirm", "zh"))
    taps += 1
    assert taps <= 7
    assert last_text(sent).startswith("✅ 已发布缺工 #")
    assert await shortage_count(services) == 1


async def test_a_tap_on_a_finished_dialog_says_the_button_expired_and_offers_the_menu(
    driver: BotDriver, services: Services, foreman: User
) -> None:
    sent = await driver.send(foreman, POST)
    trade = callback_for(last_reply_markup(sent), "抹灰工")
    await driver.send(foreman, "/cancel")

    sent = await driver.tap(foreman, trade)
    assert answers(sent) == [
        {
            "callback_query_id": answers(sent)[0]["callback_query_id"],
            "text": t("common.stale", "zh"),
        }
    ]
    assert [s.method for s in sent if s.method == "editMessageReplyMarkup"]  # buttons go
    assert last_text(sent) == t("dialog.stale_menu", "zh")
    assert offers_menu(sent)
    assert await driver.state(foreman) is None


async def test_an_unknown_dialog_id_is_answered_as_expired_not_as_an_error(
    driver: BotDriver, foreman: User
) -> None:
    sent = await driver.tap(foreman, f"nosuchintent{DIALOG_SEP}trade:mason")
    assert answers(sent)[0]["text"] == t("common.stale", "zh")
    assert offers_menu(sent)


async def test_a_dialog_of_a_renamed_state_group_is_cleared_and_the_menu_works_again(
    driver: BotDriver, services: Services, foreman: User
) -> None:
    # a dialog saved by an older release whose state group no longer exists
    def key(destiny: str) -> StorageKey:
        return StorageKey(bot_id=BOT_ID, chat_id=FOREMAN_TG, user_id=FOREMAN_TG, destiny=destiny)

    await driver.dp.storage.set_data(
        key("aiogd:stack:"), {"_id": "", "intents": ["old1"], "last_message_id": 77}
    )
    await driver.dp.storage.set_data(
        key("aiogd:context:old1"),
        {
            "_intent_id": "old1",
            "_stack_id": "",
            "state": "OldShortage:trade",
            "start_data": None,
            "dialog_data": {},
            "widget_data": {},
        },
    )
    sent = await driver.tap(foreman, f"old1{DIALOG_SEP}trade:mason")
    assert answers(sent)[0]["text"] == t("common.stale", "zh")
    assert offers_menu(sent)
    assert await driver.intent_id(foreman) is None

    sent = await driver.send(foreman, POST)
    assert last_text(sent).startswith("📝")
    assert await driver.state(foreman) == "PostShortage:trade"


async def test_a_late_tap_whose_answer_telegram_refuses_still_moves_the_dialog_on(
    driver: BotDriver, services: Services, foreman: User
) -> None:
    # regression: the answer failed first ("query is too old"), the step stayed half done
    sent = await driver.send(foreman, POST)
    driver.session.refuse_callback_answers = True
    sent = await tap(driver, foreman, sent, "抹灰工")
    assert [s.method for s in sent].count("answerCallbackQuery") == 1  # tried, refused
    assert last_text(sent) == t("shortage.pick_grade", "zh", trade="抹灰工")
    assert await driver.state(foreman) == "PostShortage:grade"
    sent = await tap(driver, foreman, sent, "三级")
    assert await driver.state(foreman) == "PostShortage:headcount"
    assert "抹灰工 · 三级" in last_text(sent)
    # a step that answers with a toast of its own goes on too
    sent = await tap(driver, foreman, sent, t("common.cancel", "zh"))
    assert last_text(sent) == t("common.cancelled", "zh")
    assert offers_menu(sent)
    assert await driver.state(foreman) is None


async def test_a_step_that_fails_leaves_the_dialog_where_it_was(
    driver: BotDriver, services: Services, foreman: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = await driver.send(foreman, POST)
    for button in ("抹灰工", "三级", "4", "¥4,000", t("shortage.use_contact", "zh")):
        sent = await tap(driver, foreman, sent, button)
    summary = sent

    async def refuse(*_args: object, **_kwargs: object) -> None:
        raise DomainError("error.forbidden")

    # the dialog posts through the 需求待批 rule (core/services/posting_approval.py)
    monkeypatch.setattr(posting_approval, "post_or_request", refuse)
    failed = await tap(driver, foreman, summary, t("shortage.confirm", "zh"))
    assert answers(failed)[-1]["text"] == t("error.forbidden", "zh")
    assert await driver.state(foreman) == "PostShortage:summary"
    assert (await driver.data(foreman))["sh_count"] == 4

    monkeypatch.undo()
    sent = await tap(driver, foreman, summary, t("shortage.confirm", "zh"))
    assert last_text(sent).startswith("✅ 已发布缺工 #")
    assert await shortage_count(services) == 1


async def test_a_prompt_answered_by_typing_loses_its_buttons(
    driver: BotDriver, foreman: User
) -> None:
    sent = await driver.send(foreman, POST)
    for button in ("抹灰工", "三级", "4"):
        sent = await tap(driver, foreman, sent, button)
    price_prompt = [s for s in sent if s.method == "editMessageText"][-1].params["message_id"]
    assert any("¥" in text for text, _data in inline_buttons(last_reply_markup(sent)))

    sent = await driver.send(foreman, "5,500")
    dropped = [
        s
        for s in sent
        if s.method == "editMessageReplyMarkup" and s.params["message_id"] == price_prompt
    ]
    assert dropped
    assert dropped[0].params.get("reply_markup") is None
    assert last_text(sent) == t("shortage.ask_contact", "zh", name="张伟", phone="13912345678")
