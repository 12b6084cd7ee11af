"""Menus per role, /help, /language, /settings, the dispatcher's invite dialog, /cancel at every
step, the fallback, and double taps."""

from __future__ import annotations

import asyncio
from datetime import time

import pytest
from sqlalchemy import func, select

from bot.i18n import t
from core.db.models import AuditLog, Invite
from core.db.uow import Services
from core.domain.enums import Role
from core.domain.errors import ValidationError
from core.services import accounts
from tests.bot.conftest import (
    DISPATCHER_TG,
    FOREMAN_TG,
    GUEST_TG,
    REGULATOR_TG,
    Company,
    account_of,
    new_invite,
    onboard,
)
from tests.bot.harness import (
    BotDriver,
    answers,
    callback_for,
    inline_buttons,
    inline_texts,
    last_reply_markup,
    last_text,
    reply_keyboard_rows,
    reply_keyboard_texts,
    texts,
    tg_user,
)
from tests.factories import make_account, make_enterprise

DISPATCHER = tg_user(DISPATCHER_TG)
FOREMAN = tg_user(FOREMAN_TG)
REGULATOR = tg_user(REGULATOR_TG)

MENUS = {
    Role.FOREMAN: [
        "📝 发布缺工",
        "📋 我的发布",
        "🔍 用工搜索",
        "🤝 我的交易",
        "⭐ 工人评价",
        "⚙️ 设置",
    ],
    Role.DISPATCHER: [
        "🏗 项目用工",
        "👷 工人管理",
        "📤 赋闲提报",
        "📋 我的发布",
        "🔍 用工搜索",
        "🤝 我的交易",
        "➕ 邀请工长",
        "⚙️ 设置",
    ],
    Role.REGULATOR: [
        "📊 调度汇总",
        "📈 调度统计",
        "📑 缺工信息",
        "💰 交易记录",
        "⭐ 用工评价",
        "🏷 用工指导价",
        "🎖 工人评级",
        "🧭 政府协调",
        "📉 欠薪预警",
        "👷 在场人数",
        "⚙️ 设置",
    ],
}


@pytest.fixture
async def regulator(services: Services) -> int:
    async with services.uow() as uow:
        account = await make_account(
            uow,
            role=Role.REGULATOR,
            region_code="140100",
            telegram_user_id=REGULATOR_TG,
            name="赵科长",
        )
        await uow.commit()
        return account.id


async def audit_count(services: Services, action: str) -> int:
    async with services.uow() as uow:
        count = await uow.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
        )
    return int(count or 0)


# --- menus and help -------------------------------------------------------------------------


async def test_each_role_gets_its_own_menu_with_two_buttons_per_row(
    driver: BotDriver, services: Services, company: Company, regulator: int
) -> None:
    await onboard(driver, services, company, FOREMAN_TG)
    for user, role in (
        (FOREMAN, Role.FOREMAN),
        (DISPATCHER, Role.DISPATCHER),
        (REGULATOR, Role.REGULATOR),
    ):
        markup = last_reply_markup(await driver.send(user, "/menu"))
        assert reply_keyboard_texts(markup) == MENUS[role]
        rows = reply_keyboard_rows(markup)
        assert all(len(row) == 2 for row in rows[:-1])
        assert len(rows[-1]) in (1, 2)
        assert markup.resize_keyboard is True


async def test_help_lists_the_commands_and_the_roles_buttons(
    driver: BotDriver, services: Services, company: Company
) -> None:
    text = last_text(await driver.send(DISPATCHER, "/help"))
    assert t("help.header", "zh", role=t("role.dispatcher", "zh")) in text
    assert "/cancel" in text
    assert "/language" in text
    assert "/settings" in text
    for button in MENUS[Role.DISPATCHER]:
        assert button in text
    assert "📊 调度汇总" not in text  # a regulator's button
    # each button says what it is for
    assert "• 📤 赋闲提报 – " + t("help.about.declare_idle", "zh") in text
    assert "• 🔍 用工搜索 – " + t("help.about.search", "zh") in text


async def test_every_menu_button_of_every_role_opens_its_feature(
    driver: BotDriver, services: Services, company: Company, regulator: int
) -> None:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="按钮测试公司")
        await make_account(
            uow,
            role=Role.FOREMAN,
            enterprise=ent,
            projects=[],
            telegram_user_id=FOREMAN_TG,
            name="王工长",
        )
        await uow.commit()
    hint = t("fallback.hint", "zh")
    for user, role in (
        (FOREMAN, Role.FOREMAN),
        (DISPATCHER, Role.DISPATCHER),
        (REGULATOR, Role.REGULATOR),
    ):
        for button in MENUS[role]:
            reply = last_text(await driver.send(user, button))
            assert reply, f"{role}: {button} got no reply"
            assert reply != hint, f"{role}: {button} is not handled"
            await driver.command(user, "cancel")
    # another role's button is just unknown text
    assert last_text(await driver.send(REGULATOR, "📤 赋闲提报")) == hint


async def test_menu_buttons_match_in_either_language(
    driver: BotDriver, services: Services, company: Company
) -> None:
    # a Chinese-speaking dispatcher with an English keyboard still left on the phone
    sent = await driver.send(DISPATCHER, "⚙️ Settings")
    assert last_text(sent).startswith(t("settings.title", "zh"))


# --- fallback -------------------------------------------------------------------------------


async def test_unknown_text_stickers_and_photos_get_a_hint_and_the_menu(
    driver: BotDriver, services: Services, company: Company
) -> None:
    for sent in (
        await driver.send(DISPATCHER, "你好"),
        await driver.send_sticker(DISPATCHER),
        await driver.send_photo(DISPATCHER),
    ):
        assert last_text(sent).startswith(t("fallback.hint", "zh"))
        assert reply_keyboard_texts(last_reply_markup(sent)) == MENUS[Role.DISPATCHER]
    # typed text that is not a post also gets a post to copy (paste-to-post)
    assert "急招钢筋工5人" in last_text(await driver.send(DISPATCHER, "你好"))


async def test_an_unknown_button_tap_is_answered_as_expired(
    driver: BotDriver, services: Services, company: Company
) -> None:
    sent = await driver.tap(DISPATCHER, "old:button:from:2019")
    assert [a["text"] for a in answers(sent)] == [t("common.stale", "zh")]
    assert texts(sent) == []


# --- /language ------------------------------------------------------------------------------


async def test_switching_language_changes_the_following_texts_and_is_stored(
    driver: BotDriver, services: Services, company: Company
) -> None:
    picker = await driver.send(DISPATCHER, "/language")
    assert inline_texts(last_reply_markup(picker)) == ["中文", "English"]

    sent = await driver.tap(DISPATCHER, callback_for(last_reply_markup(picker), "English"))

    assert answers(sent)[0]["text"] == t("language.changed", "en")
    assert last_text(sent) == t("language.changed", "en")
    english_menu = reply_keyboard_texts(last_reply_markup(sent))
    assert english_menu[0] == "🏗 Projects"
    assert english_menu[-1] == "⚙️ Settings"
    assert (await account_of(services, DISPATCHER_TG)).locale == "en"  # type: ignore[union-attr]
    # Telegram still says zh: the stored choice wins
    assert last_text(await driver.send(DISPATCHER, "/menu")) == t("menu.title", "en")
    assert last_text(await driver.send(DISPATCHER, "???")).startswith(t("fallback.hint", "en"))


async def test_a_language_code_we_do_not_speak_falls_back_to_chinese(
    driver: BotDriver, services: Services
) -> None:
    sent = await driver.send(tg_user(GUEST_TG, language_code="ru"), "/start")
    assert texts(sent) == [t("start.no_access", "zh")]
    sent = await driver.send(tg_user(GUEST_TG + 1, language_code="en-GB"), "/start")
    assert texts(sent) == [t("start.no_access", "en")]


# --- /settings ------------------------------------------------------------------------------


async def test_settings_changes_are_stored(
    driver: BotDriver, services: Services, company: Company
) -> None:
    markup = last_reply_markup(await driver.send(DISPATCHER, "/settings"))
    data = dict((text, cb) for text, cb in inline_buttons(markup))
    assert not any("⏰" in text for text in data)  # digest times are for regulators

    sent = await driver.tap(DISPATCHER, callback_for(markup, t("settings.notify_turn_off", "zh")))
    assert answers(sent)[0]["text"] == t("settings.saved", "zh")
    assert t("settings.notifications", "zh", value=t("settings.off", "zh")) in last_text(sent)
    markup = last_reply_markup(sent)
    await driver.tap(DISPATCHER, callback_for(markup, "22:00–07:00"))
    account = await account_of(services, DISPATCHER_TG)
    assert account is not None
    assert account.notifications_enabled is False
    assert (account.quiet_start, account.quiet_end) == (time(22, 0), time(7, 0))

    sent = await driver.tap(DISPATCHER, callback_for(markup, t("settings.quiet_off", "zh")))
    account = await account_of(services, DISPATCHER_TG)
    assert account is not None
    assert account.quiet_start is None
    assert account.quiet_end is None
    assert "✅ " + t("settings.quiet_off", "zh") in inline_texts(last_reply_markup(sent))


async def test_a_regulator_picks_the_digest_time(
    driver: BotDriver, services: Services, regulator: int
) -> None:
    markup = last_reply_markup(await driver.send(REGULATOR, "⚙️ 设置"))
    assert [text for text in inline_texts(markup) if "⏰" in text] == [
        "⏰ 06:00",
        "⏰ 07:00",
        "✅ ⏰ 08:00",
        "⏰ 09:00",
        "⏰ 10:00",
    ]
    await driver.tap(REGULATOR, callback_for(markup, "09:00"))
    account = await account_of(services, REGULATOR_TG)
    assert account is not None
    assert account.digest_time == time(9, 0)


async def test_forged_settings_values_change_nothing(
    driver: BotDriver, services: Services, company: Company
) -> None:
    for data in ("set:quiet:0000-2359", "set:digest:0900", "set:notify:maybe", "set:drop:tables"):
        sent = await driver.tap(DISPATCHER, data)
        assert len(answers(sent)) == 1
    # the dispatcher has no digest: refused with the forbidden message
    sent = await driver.tap(DISPATCHER, "set:digest:0900")
    assert answers(sent)[0]["text"] == t("error.forbidden", "zh")
    account = await account_of(services, DISPATCHER_TG)
    assert account is not None
    assert account.quiet_start is None
    assert account.digest_time == time(8, 0)


async def test_a_double_tap_on_a_settings_button_gives_one_change(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await asyncio.gather(
        driver.tap(DISPATCHER, "set:notify:0"), driver.tap(DISPATCHER, "set:notify:0")
    )
    account = await account_of(services, DISPATCHER_TG)
    assert account is not None
    assert account.notifications_enabled is False
    assert await audit_count(services, "account.notifications") == 1


async def test_change_phone_from_settings_reuses_the_phone_step(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await driver.send(DISPATCHER, "/settings")
    sent = await driver.tap(DISPATCHER, "set:phone:")
    assert last_text(sent) == t("start.phone_ask", "zh")
    await driver.share_contact(DISPATCHER, "13700001111", owner_id=DISPATCHER_TG)
    assert (await account_of(services, DISPATCHER_TG)).phone == "13700001111"  # type: ignore[union-attr]


# --- inviting a foreman ---------------------------------------------------------------------


async def test_a_dispatcher_invites_a_foreman_for_one_of_its_projects(
    driver: BotDriver, services: Services, company: Company
) -> None:
    sent = await driver.send(DISPATCHER, "➕ 邀请工长")
    assert last_text(sent) == t("invite.pick_project", "zh")
    markup = last_reply_markup(sent)
    assert inline_texts(markup) == [*sorted(company.project_names), t("common.cancel", "zh")]

    sent = await driver.tap(DISPATCHER, callback_for(markup, company.project_names[0]))
    assert last_text(sent) == t("invite.ask_name", "zh", project=company.project_names[0])
    assert reply_keyboard_texts(last_reply_markup(sent)) == [t("common.cancel", "zh")]

    sent = await driver.send(DISPATCHER, "刘<工长>")
    link = next(s for s in texts(sent) if "https://t.me/" in s)
    assert "刘&lt;工长&gt;" in link  # the name is shown as typed, not as HTML
    token = link.split("?start=")[1].split()[0]
    assert await driver.state(DISPATCHER) is None

    # the link works: the new foreman is scoped to exactly that project
    await driver.send(FOREMAN, f"/start {token}")
    foreman = await account_of(services, FOREMAN_TG)
    assert foreman is not None
    assert foreman.role is Role.FOREMAN
    assert foreman.project_ids == frozenset({company.project_ids[0]})
    assert foreman.display_name == "刘<工长>"


async def test_a_project_of_another_company_cannot_be_picked_by_forging_the_button(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await driver.send(DISPATCHER, "➕ 邀请工长")
    sent = await driver.tap(DISPATCHER, f"invp:{company.other_project_id}")
    assert answers(sent) == [
        {
            "callback_query_id": answers(sent)[0]["callback_query_id"],
            "text": t("error.invite_project_scope", "zh"),
            "show_alert": True,
        }
    ]
    assert await driver.state(DISPATCHER) == "InviteForeman:project"
    async with services.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Invite)) == 0


async def test_two_fast_taps_on_a_project_give_one_transition(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await driver.send(DISPATCHER, "➕ 邀请工长")
    data = f"invp:{company.project_ids[0]}"
    first, second = await asyncio.gather(
        driver.tap(DISPATCHER, data), driver.tap(DISPATCHER, data)
    )
    asked = [s for s in texts(first + second) if s.startswith("项目：")]
    assert len(asked) == 1
    stale = [a for a in answers(first + second) if a.get("text") == t("common.stale", "zh")]
    assert len(stale) == 1
    assert await driver.state(DISPATCHER) == "InviteForeman:name"


async def test_a_foreman_cannot_open_the_invite_dialog(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await onboard(driver, services, company, FOREMAN_TG)
    assert last_text(await driver.send(FOREMAN, "➕ 邀请工长")) == t("fallback.hint", "zh")
    sent = await driver.tap(FOREMAN, f"invp:{company.project_ids[0]}")
    assert [a["text"] for a in answers(sent)] == [t("common.stale", "zh")]
    assert await driver.state(FOREMAN) is None


@pytest.mark.parametrize("how", ["/cancel", "❌ 取消", "inline"])
@pytest.mark.parametrize("step", ["project", "name"])
async def test_cancel_at_every_invite_step_goes_back_to_the_menu(
    driver: BotDriver, services: Services, company: Company, how: str, step: str
) -> None:
    await driver.send(DISPATCHER, "➕ 邀请工长")
    if step == "name":
        await driver.tap(DISPATCHER, f"invp:{company.project_ids[0]}")
    sent = await (
        driver.tap(DISPATCHER, "cancel") if how == "inline" else driver.send(DISPATCHER, how)
    )
    assert t("common.cancelled", "zh") in texts(sent) + [a.get("text") for a in answers(sent)]
    assert reply_keyboard_texts(last_reply_markup(sent)) == MENUS[Role.DISPATCHER]
    assert await driver.state(DISPATCHER) is None
    assert await driver.data(DISPATCHER) == {}
    # a later name is not taken for an invite
    await driver.send(DISPATCHER, "王工长")
    async with services.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Invite)) == 0


async def test_the_name_step_refuses_a_bad_name_and_waits(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await driver.send(DISPATCHER, "➕ 邀请工长")
    await driver.tap(DISPATCHER, f"invp:{company.project_ids[0]}")
    assert last_text(await driver.send(DISPATCHER, "A")) == t("error.bad_name", "zh")
    assert last_text(await driver.send_sticker(DISPATCHER)) == t("invite.ask_name_again", "zh")
    assert await driver.state(DISPATCHER) == "InviteForeman:name"


async def test_a_dispatcher_without_active_projects_is_told_so(
    driver: BotDriver, services: Services
) -> None:
    async with services.uow() as uow:
        empty = await make_enterprise(uow)
        await make_account(
            uow, role=Role.DISPATCHER, enterprise=empty, telegram_user_id=DISPATCHER_TG
        )
        await uow.commit()
    assert last_text(await driver.send(DISPATCHER, "➕ 邀请工长")) == t("invite.no_projects", "zh")
    assert await driver.state(DISPATCHER) is None


async def test_set_locale_refuses_languages_we_do_not_have(
    services: Services, company: Company
) -> None:
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await accounts.set_locale(uow, company.dispatcher_id, "fr")
    assert err.value.key == "error.locale"


async def test_sharing_the_same_number_again_is_fine(
    driver: BotDriver, services: Services, company: Company
) -> None:
    # regression: a no-op service call left its read open, and on SQLite the FSM write that
    # followed waited for that same transaction until the busy timeout (30 s, then an error)
    await driver.tap(DISPATCHER, "set:phone:")
    account = await account_of(services, DISPATCHER_TG)
    assert account is not None
    assert account.phone is not None
    async with asyncio.timeout(5):
        sent = await driver.share_contact(DISPATCHER, account.phone, owner_id=DISPATCHER_TG)
    assert last_text(sent) == t("start.phone_saved", "zh")
    assert await driver.state(DISPATCHER) is None


async def test_several_users_at_once_do_not_wait_on_each_other(
    driver: BotDriver, services: Services, company: Company, regulator: int
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    async with asyncio.timeout(10):  # SQLite's busy timeout is 30 s: a lock cycle would show
        await asyncio.gather(
            driver.send(DISPATCHER, "➕ 邀请工长"),
            driver.send(FOREMAN, f"/start {invite.token}"),
            driver.tap(REGULATOR, "set:digest:0700"),
            driver.send(tg_user(GUEST_TG), "/language"),
            driver.tap(DISPATCHER, "set:notify:0"),
        )
    assert await driver.state(FOREMAN) == "Onboarding:phone"
    assert (await account_of(services, REGULATOR_TG)).digest_time == time(7)  # type: ignore[union-attr]
