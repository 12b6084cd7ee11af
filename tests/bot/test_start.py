"""Onboarding through /start <token>, the phone step, and what strangers can (not) see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.types import Chat, Message, Update
from sqlalchemy import func, select

from bot.i18n import t
from core.db.models import Account, AuditLog
from core.db.uow import Services
from core.domain.enums import Role
from core.ports import FixedClock
from tests.bot.conftest import FOREMAN_TG, GUEST_TG, Company, account_of, new_invite, onboard
from tests.bot.harness import (
    BotDriver,
    answers,
    last_reply_markup,
    last_text,
    messages,
    reply_keyboard_rows,
    reply_keyboard_texts,
    texts,
    tg_user,
)

FOREMAN_MENU = {
    "zh": [
        ["📝 发布缺工", "📋 我的发布"],
        ["🔍 用工搜索", "🤝 我的交易"],
        ["⭐ 工人评价", "⚙️ 设置"],
    ],
    "en": [
        ["📝 Post shortage", "📋 My postings"],
        ["🔍 Search", "🤝 Deals"],
        ["⭐ Rate workers", "⚙️ Settings"],
    ],
}


async def accounts_count(services: Services) -> int:
    async with services.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Account)) or 0)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_invite_link_binds_the_account_and_asks_for_the_phone(
    driver: BotDriver, services: Services, company: Company, lang: str
) -> None:
    invite = await new_invite(
        services, name="张伟", enterprise_id=company.enterprise_id, project_ids=company.project_ids
    )
    user = tg_user(FOREMAN_TG, language_code=lang)

    sent = await driver.command(user, "start", invite.token)

    assert last_text(sent) == t("start.welcome", lang, name="张伟")
    phone_button, cancel = last_reply_markup(sent).keyboard
    assert phone_button[0].request_contact is True
    assert phone_button[0].text == t("start.share_phone", lang)
    assert cancel[0].text == t("common.cancel", lang)
    account = await account_of(services, FOREMAN_TG)
    assert account is not None
    assert (account.role, account.enterprise_id, account.locale) == (
        Role.FOREMAN,
        company.enterprise_id,
        lang,
    )
    assert account.project_ids == frozenset(company.project_ids)
    assert await driver.state(user) == "Onboarding:phone"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_only_the_users_own_contact_is_taken_then_the_menu_shows(
    driver: BotDriver, services: Services, company: Company, lang: str
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    user = tg_user(FOREMAN_TG, language_code=lang)
    await driver.send(user, f"/start {invite.token}")

    foreign = await driver.share_contact(user, "13800000000", owner_id=FOREMAN_TG + 1)
    assert last_text(foreign) == t("start.phone_not_own", lang)
    assert reply_keyboard_rows(last_reply_markup(foreign))[0] == [t("start.share_phone", lang)]
    assert (await account_of(services, FOREMAN_TG)).phone is None  # type: ignore[union-attr]

    own = await driver.share_contact(user, "+86 139 1234 5678", owner_id=FOREMAN_TG)
    assert last_text(own) == t("start.phone_saved", lang)
    assert reply_keyboard_rows(last_reply_markup(own)) == FOREMAN_MENU[lang]
    assert (await account_of(services, FOREMAN_TG)).phone == "13912345678"  # type: ignore[union-attr]
    assert await driver.state(user) is None


async def test_a_contact_without_a_user_id_is_not_the_senders_own(
    driver: BotDriver, services: Services, company: Company
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    user = tg_user(FOREMAN_TG)
    await driver.send(user, f"/start {invite.token}")
    sent = await driver.share_contact(user, "13800000000", owner_id=None)
    assert last_text(sent) == t("start.phone_not_own", "zh")


async def test_a_foreign_mobile_number_is_refused_and_the_step_stays(
    driver: BotDriver, services: Services, company: Company
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    user = tg_user(FOREMAN_TG)
    await driver.send(user, f"/start {invite.token}")
    sent = await driver.share_contact(user, "+1 202 555 0100", owner_id=FOREMAN_TG)
    assert last_text(sent) == t("error.phone", "zh")
    assert await driver.state(user) == "Onboarding:phone"


async def test_typing_or_a_sticker_at_the_phone_step_asks_for_the_contact_again(
    driver: BotDriver, services: Services, company: Company
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    user = tg_user(FOREMAN_TG)
    await driver.send(user, f"/start {invite.token}")
    for sent in (await driver.send(user, "13912345678"), await driver.send_sticker(user)):
        assert last_text(sent) == t("start.phone_ask", "zh")
    assert (await account_of(services, FOREMAN_TG)).phone is None  # type: ignore[union-attr]


@pytest.mark.parametrize("how", ["/cancel", "❌ 取消"])
async def test_cancel_at_the_phone_step_goes_to_the_menu(
    driver: BotDriver, services: Services, company: Company, how: str
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    user = tg_user(FOREMAN_TG)
    await driver.send(user, f"/start {invite.token}")
    sent = await driver.send(user, how)
    assert last_text(sent) == t("common.cancelled", "zh")
    assert reply_keyboard_rows(last_reply_markup(sent)) == FOREMAN_MENU["zh"]
    assert await driver.state(user) is None


async def test_start_without_a_token_only_explains_how_to_get_access(
    driver: BotDriver, services: Services, company: Company
) -> None:
    before = await accounts_count(services)
    sent = await driver.send(tg_user(GUEST_TG), "/start")
    assert texts(sent) == [t("start.no_access", "zh")]
    # the one button a guest gets: 申请入驻 (bot/dialogs/join.py)
    assert reply_keyboard_rows(last_reply_markup(sent)) == [["🏢 申请入驻"]]
    assert await accounts_count(services) == before


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_expired_invite_reveals_nothing(
    driver: BotDriver, services: Services, company: Company, clock: FixedClock, lang: str
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    clock.advance(hours=services.settings.invite_ttl_hours, seconds=1)
    sent = await driver.send(tg_user(GUEST_TG, language_code=lang), f"/start {invite.token}")
    assert texts(sent) == [t("error.invite_invalid", lang)]
    assert last_reply_markup(sent) is None
    assert await account_of(services, GUEST_TG) is None


async def test_a_used_invite_does_not_let_a_second_person_in(
    driver: BotDriver, services: Services, company: Company
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    await driver.send(tg_user(FOREMAN_TG), f"/start {invite.token}")
    sent = await driver.send(tg_user(GUEST_TG), f"/start {invite.token}")
    assert texts(sent) == [t("error.invite_invalid", "zh")]
    assert await account_of(services, GUEST_TG) is None


@pytest.mark.parametrize("token", ["not-a-real-token-at-all", "x" * 65, "<script>"])
async def test_a_made_up_token_is_just_an_invalid_invite(
    driver: BotDriver, services: Services, token: str
) -> None:
    sent = await driver.send(tg_user(GUEST_TG), f"/start {token}")
    assert texts(sent) == [t("error.invite_invalid", "zh")]


async def test_a_bound_user_opening_another_invite_is_told_so(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await onboard(driver, services, company, FOREMAN_TG)
    second = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[1:]
    )
    sent = await driver.send(tg_user(FOREMAN_TG), f"/start {second.token}")
    assert texts(sent) == [t("error.already_bound", "zh")]
    account = await account_of(services, FOREMAN_TG)
    assert account is not None
    assert account.project_ids == frozenset(company.project_ids[:1])


async def test_start_for_a_known_user_greets_and_shows_the_menu(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await onboard(driver, services, company, FOREMAN_TG)
    sent = await driver.send(tg_user(FOREMAN_TG), "/start")
    assert last_text(sent) == t("start.welcome_back", "zh", name="张伟")
    assert reply_keyboard_rows(last_reply_markup(sent)) == FOREMAN_MENU["zh"]


@pytest.mark.parametrize(
    "text",
    ["📝 发布缺工", "⚙️ Settings", "➕ 邀请工长", "📊 调度汇总", "/menu", "/settings", "hello"],
)
async def test_a_stranger_pressing_menu_buttons_gets_no_access_and_no_data(
    driver: BotDriver, services: Services, company: Company, text: str
) -> None:
    sent = await driver.send(tg_user(GUEST_TG), text)
    assert [s.method for s in sent] == ["sendMessage"]
    assert texts(sent) == [t("access.denied", "zh")]
    # no menu of anyone's: the one thing a stranger can do is apply
    assert reply_keyboard_texts(last_reply_markup(sent)) == [t("join.apply_button", "zh")]
    assert await driver.state(tg_user(GUEST_TG)) is None


@pytest.mark.parametrize("data", ["set:notify:0", "invp:1", "set:digest:0900", "cancel", "zzz"])
async def test_forged_callbacks_from_a_stranger_change_nothing(
    driver: BotDriver, services: Services, company: Company, data: str
) -> None:
    sent = await driver.tap(tg_user(GUEST_TG), data)
    assert [s.method for s in sent] == ["answerCallbackQuery"]
    assert answers(sent)[0]["text"] == t("access.denied_short", "zh")
    assert answers(sent)[0]["show_alert"] is True
    assert await driver.state(tg_user(GUEST_TG)) is None


async def test_a_stranger_may_read_help_and_pick_a_language(
    driver: BotDriver, services: Services
) -> None:
    guest = tg_user(GUEST_TG)
    assert texts(await driver.send(guest, "/help")) == [t("help.guest", "zh")]
    await driver.send(guest, "/language")
    sent = await driver.tap(guest, "lang:en")
    assert t("language.changed", "en") in texts(sent)
    # the choice holds for the next messages, without an account
    assert texts(await driver.send(guest, "/start")) == [t("start.no_access", "en")]


async def test_blocking_the_bot_deactivates_and_unblocking_reactivates(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await onboard(driver, services, company, FOREMAN_TG)
    user = tg_user(FOREMAN_TG)

    await driver.member_status(user, blocked=True)
    account = await account_of(services, FOREMAN_TG)
    assert account is not None
    assert account.active is False
    # deactivated: the menu is closed, /help shows the guest text
    assert texts(await driver.send(user, "⚙️ 设置")) == [t("access.denied", "zh")]
    assert texts(await driver.send(user, "/help")) == [t("help.guest", "zh")]

    await driver.member_status(user, blocked=False)
    account = await account_of(services, FOREMAN_TG)
    assert account is not None
    assert account.active is True
    assert last_text(await driver.send(user, "/menu")) == t("menu.title", "zh")


async def test_the_same_update_fed_twice_has_one_effect(
    driver: BotDriver, services: Services, company: Company
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    update = driver.message(tg_user(FOREMAN_TG), text=f"/start {invite.token}")

    first = await driver.feed(update)
    again = await driver.feed(update)  # Telegram re-sent it: same update_id

    assert texts(first) == [t("start.welcome", "zh", name="张伟")]
    assert again == []  # not even an "invite already used" reply
    async with services.uow() as uow:
        binds = await uow.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "account.bind")
        )
    assert binds == 1


async def test_group_chats_get_silence(driver: BotDriver, services: Services) -> None:
    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=-100123, type="supergroup"),
        from_user=tg_user(GUEST_TG),
        text="/start",
    )
    sent = await driver.feed(Update(update_id=driver.next_update_id(), message=message))
    assert messages(sent) == []
