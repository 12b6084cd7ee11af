"""🏢 公司管理 through the real dispatcher: the admin's menu, a project added step by step with
wrong answers re-asked, edit and close, teams and a worker moved in, the worker's card with
masked data, 退场, invites that a dispatcher redeems, forged ids and /cancel."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from aiogram.types import User
from sqlalchemy import select

from bot.i18n import t
from core.db.models import Account, Enterprise, Invite, Project, Team, TeamStay, Worker
from core.db.uow import Services
from core.domain.enums import Role
from tests.bot.conftest import DISPATCHER_TG, Company
from tests.bot.harness import (
    BotDriver,
    Sent,
    answers,
    callback_for,
    inline_texts,
    last_reply_markup,
    last_text,
    reply_keyboard_texts,
    tg_user,
)
from tests.factories import make_account, make_team, make_worker

ADMIN_BUTTON = "🏢 公司管理"
PLAIN_TG = 5010
INVITEE_TG = 5011


@dataclass(frozen=True)
class AdminWorld:
    admin: User
    plain: User
    team_id: int
    worker_id: int
    id_number_tail: str
    other_team_id: int


@pytest.fixture
async def world(services: Services, company: Company) -> AdminWorld:
    async with services.uow() as uow:
        account = await uow.session.get(Account, company.dispatcher_id)
        ent = await uow.session.get(Enterprise, company.enterprise_id)
        project = await uow.session.get(Project, company.project_ids[0])
        other_project = await uow.session.get(Project, company.other_project_id)
        assert account is not None
        assert ent is not None
        assert project is not None
        assert other_project is not None
        account.is_admin = True
        team = await make_team(uow, project)
        other_team = await make_team(uow, other_project)
        worker = await make_worker(uow, ent, name="王海东", phone="13800138000")
        await make_account(
            uow, role=Role.DISPATCHER, enterprise=ent, telegram_user_id=PLAIN_TG, name="陈调度"
        )
        await uow.commit()
        return AdminWorld(
            admin=tg_user(DISPATCHER_TG),
            plain=tg_user(PLAIN_TG),
            team_id=team.id,
            worker_id=worker.id,
            id_number_tail=worker.id_masked[-4:],
            other_team_id=other_team.id,
        )


async def tap(driver: BotDriver, user: User, sent: list[Sent], text_part: str) -> list[Sent]:
    """Press the button of the last message shown, on that message."""
    shown = [s for s in sent if s.method in ("sendMessage", "editMessageText")][-1]
    message_id = shown.params.get("message_id") or 1
    data = callback_for(last_reply_markup(sent), text_part)
    return await driver.tap(user, data, message_id=message_id)


async def open_admin(driver: BotDriver, user: User) -> list[Sent]:
    return await driver.send(user, ADMIN_BUTTON)


def menu_of(sent: list[Sent]) -> list[str]:
    return reply_keyboard_texts(last_reply_markup(sent))


# --- who sees it ----------------------------------------------------------------------------


async def test_only_the_admin_has_the_company_admin_button(
    driver: BotDriver, world: AdminWorld
) -> None:
    assert ADMIN_BUTTON in menu_of(await driver.send(world.admin, "/start"))
    assert ADMIN_BUTTON not in menu_of(await driver.send(world.plain, "/start"))
    sent = await open_admin(driver, world.plain)  # typed by hand
    assert last_text(sent) == t("error.not_company_admin", "zh")
    assert await driver.state(world.plain) is None


async def test_the_admin_button_stays_after_cancel(driver: BotDriver, world: AdminWorld) -> None:
    await open_admin(driver, world.admin)
    sent = await driver.send(world.admin, "/cancel")
    assert ADMIN_BUTTON in menu_of(sent)
    assert await driver.state(world.admin) is None


# --- a new project --------------------------------------------------------------------------


async def test_a_project_is_added_step_by_step_and_wrong_answers_are_asked_again(
    driver: BotDriver, services: Services, world: AdminWorld
) -> None:
    sent = await open_admin(driver, world.admin)
    sent = await tap(driver, world.admin, sent, "新建项目")
    assert last_text(sent) == t("admin.ask.name", "zh")

    sent = await driver.send(world.admin, "A")
    assert t("error.project_name_short", "zh", min=2) in last_text(sent)
    assert t("admin.ask.name", "zh") in last_text(sent)  # asked again

    sent = await driver.send(world.admin, "晋阳湖公寓二期")
    sent = await tap(driver, world.admin, sent, "太原市")
    sent = await tap(driver, world.admin, sent, "小店区")
    assert last_text(sent) == t("admin.ask.address", "zh")
    sent = await tap(driver, world.admin, sent, "跳过")
    sent = await driver.send(world.admin, "2026/12/1")
    assert last_text(sent) == t("admin.ask.end", "zh")

    sent = await driver.send(world.admin, "2026-11-30")
    assert t("error.planned_end_before_start", "zh", start="2026-12-01", end="2026-11-30") in (
        last_text(sent)
    )
    sent = await driver.send(world.admin, "明年")
    assert t("error.planned_date_format", "zh") in last_text(sent)
    sent = await driver.send(world.admin, "2027年六月三十日")  # the one day reader of every flow
    sent = await driver.send(world.admin, "SX-0001")
    summary = last_text(sent)
    assert "晋阳湖公寓二期" in summary
    assert "小店区" in summary
    assert "2027-06-30" in summary

    sent = await tap(driver, world.admin, sent, "创建项目")
    assert t("admin.created", "zh", name="晋阳湖公寓二期") in last_text(sent)
    async with services.uow() as uow:
        row = await uow.session.scalar(select(Project).where(Project.name == "晋阳湖公寓二期"))
        assert row is not None
        assert (row.county_code, str(row.planned_start), str(row.planned_end)) == (
            "140105",
            "2026-12-01",
            "2027-06-30",
        )
        assert (row.realname_code, row.address, row.status) == ("SX-0001", "", "active")


async def test_cancel_in_the_middle_of_a_new_project_writes_nothing(
    driver: BotDriver, services: Services, world: AdminWorld
) -> None:
    sent = await open_admin(driver, world.admin)
    sent = await tap(driver, world.admin, sent, "新建项目")
    await driver.send(world.admin, "半途而废的项目")
    sent = await driver.send(world.admin, "/cancel")
    assert last_text(sent) == t("common.cancelled", "zh")
    assert await driver.state(world.admin) is None
    async with services.uow() as uow:
        assert await uow.session.scalar(select(Project).where(Project.name.like("半途%"))) is None


# --- edit and close -------------------------------------------------------------------------


async def open_project(driver: BotDriver, user: User, name: str) -> list[Sent]:
    sent = await open_admin(driver, user)
    sent = await tap(driver, user, sent, "项目与班组")
    return await tap(driver, user, sent, name)


async def test_an_edit_keeps_the_dates_in_order_and_saves_a_good_answer(
    driver: BotDriver, services: Services, world: AdminWorld, company: Company
) -> None:
    sent = await open_project(driver, world.admin, "太原南站项目")
    sent = await tap(driver, world.admin, sent, "修改")
    sent = await tap(driver, world.admin, sent, "计划竣工")
    sent = await driver.send(world.admin, "2026-13-01")
    assert t("error.planned_date_format", "zh") in last_text(sent)
    sent = await driver.send(world.admin, "2027-01-31")
    assert t("admin.saved", "zh", name="太原南站项目") in last_text(sent)
    assert "2027-01-31" in last_text(sent)
    sent = await tap(driver, world.admin, sent, "修改")
    sent = await tap(driver, world.admin, sent, "计划开工")
    sent = await driver.send(world.admin, "2027-02-01")
    assert "须晚于计划开工日期" in last_text(sent)
    async with services.uow() as uow:
        row = await uow.session.get(Project, company.project_ids[0])
        assert row is not None
        assert (row.planned_start, str(row.planned_end)) == (None, "2027-01-31")


async def test_closing_a_project_asks_first_then_takes_no_more_changes(
    driver: BotDriver, services: Services, world: AdminWorld, company: Company
) -> None:
    sent = await open_project(driver, world.admin, "太原南站项目")
    sent = await tap(driver, world.admin, sent, "结束项目")
    assert t("admin.close_confirm", "zh") in last_text(sent)
    sent = await tap(driver, world.admin, sent, "确定结束")
    assert t("admin.closed", "zh", name="太原南站项目") in last_text(sent)
    assert "已结束" in last_text(sent)
    assert not any("修改" in b for b in inline_texts(last_reply_markup(sent)))
    async with services.uow() as uow:
        row = await uow.session.get(Project, company.project_ids[0])
        assert row is not None
        assert row.status == "completed"


# --- teams and workers ----------------------------------------------------------------------


async def test_a_team_is_created_a_worker_added_shown_masked_moved_and_sent_off_site(
    driver: BotDriver, services: Services, world: AdminWorld
) -> None:
    sent = await open_project(driver, world.admin, "太原南站项目")
    sent = await tap(driver, world.admin, sent, "班组")
    sent = await tap(driver, world.admin, sent, "新建班组")
    sent = await driver.send(world.admin, " ")
    assert t("admin.ask.team_name", "zh") in last_text(sent)
    sent = await driver.send(world.admin, "钢筋一班")
    assert t("admin.team_created", "zh", name="钢筋一班") in last_text(sent)

    sent = await tap(driver, world.admin, sent, "加入工人")
    sent = await tap(driver, world.admin, sent, "王海东")
    assert t("admin.moved", "zh", name="王海东", team="钢筋一班") in last_text(sent)
    sent = await tap(driver, world.admin, sent, "返回")
    sent = await tap(driver, world.admin, sent, "王海东")
    card = last_text(sent)
    assert "138****8000" in card
    assert "13800138000" not in card
    assert f"********{world.id_number_tail}" in card
    assert "信用等级：A" in card
    assert "🟢 在场：太原南站项目 · 钢筋一班（2026-03-04 进场）" in card

    sent = await tap(driver, world.admin, sent, "调到其他班组")
    sent = await tap(driver, world.admin, sent, "plasterer班组")
    assert t("admin.moved", "zh", name="王海东", team="plasterer班组") in last_text(sent)
    sent = await tap(driver, world.admin, sent, "退场")
    assert t("admin.left_site", "zh", name="王海东") in last_text(sent)
    assert "⚪" in last_text(sent)
    async with services.uow() as uow:
        worker = await uow.session.get(Worker, world.worker_id)
        assert worker is not None
        assert worker.team_id is None
        stays = (await uow.session.scalars(select(TeamStay).order_by(TeamStay.id))).all()
        assert [s.left_on is not None for s in stays] == [True, True]


async def test_a_forged_id_of_another_company_is_refused_and_changes_nothing(
    driver: BotDriver, services: Services, world: AdminWorld, company: Company
) -> None:
    sent = await open_project(driver, world.admin, "太原南站项目")
    sent = await tap(driver, world.admin, sent, "班组")
    sent = await driver.dialog_tap(world.admin, f"item:{world.other_team_id}")
    assert answers(sent)[-1]["text"] == t("error.team_not_found", "zh")
    sent = await open_admin(driver, world.admin)
    sent = await tap(driver, world.admin, sent, "项目与班组")
    sent = await driver.dialog_tap(world.admin, f"item:{company.other_project_id}")
    assert answers(sent)[-1]["text"] == t("error.project_not_found", "zh")
    async with services.uow() as uow:
        team = await uow.session.get(Team, world.other_team_id)
        assert team is not None
        assert team.name == "plasterer班组"


# --- invites --------------------------------------------------------------------------------


async def test_an_invited_dispatcher_joins_the_company_with_the_code(
    driver: BotDriver, services: Services, world: AdminWorld, company: Company
) -> None:
    sent = await open_admin(driver, world.admin)
    sent = await tap(driver, world.admin, sent, "邀请调度员")
    assert last_text(sent) == t("admin.ask.invite_name", "zh")
    sent = await driver.send(world.admin, "1")
    assert t("error.bad_name", "zh") in last_text(sent)
    sent = await driver.send(world.admin, "王调度")
    shown = last_text(sent)
    assert "王调度" in shown
    assert "https://t.me/" in shown
    async with services.uow() as uow:
        invite = await uow.session.scalar(select(Invite))
        assert invite is not None
        assert (invite.role, invite.enterprise_id) == ("dispatcher", company.enterprise_id)
    code = shown.split("<code>")[1].split("</code>")[0]
    invitee = tg_user(INVITEE_TG)
    await driver.send(invitee, f"/start {code}")
    async with services.uow() as uow:
        joined = await uow.session.scalar(
            select(Account).where(Account.telegram_user_id == INVITEE_TG)
        )
        assert joined is not None
        assert (joined.role, joined.enterprise_id, joined.is_admin) == (
            "dispatcher",
            company.enterprise_id,
            False,
        )
    sent = await driver.send(tg_user(INVITEE_TG + 1), f"/start {code}")  # used once only
    assert last_text(sent) == t("error.invite_invalid", "zh")


async def test_a_foreman_is_invited_for_one_of_the_companys_projects(
    driver: BotDriver, services: Services, world: AdminWorld, company: Company
) -> None:
    sent = await open_admin(driver, world.admin)
    sent = await tap(driver, world.admin, sent, "邀请工长")
    assert set(inline_texts(last_reply_markup(sent))) >= {"太原南站项目", "晋阳湖公寓"}
    sent = await tap(driver, world.admin, sent, "晋阳湖公寓")
    sent = await driver.send(world.admin, "张工长")
    assert "张工长" in last_text(sent)
    async with services.uow() as uow:
        invite = await uow.session.scalar(select(Invite))
        assert invite is not None
        assert (invite.role, invite.project_ids) == ("foreman", [company.project_ids[1]])


async def test_a_long_team_is_shown_six_names_a_page(
    driver: BotDriver, services: Services, world: AdminWorld, company: Company
) -> None:
    async with services.uow() as uow:
        ent = await uow.session.get(Enterprise, company.enterprise_id)
        team = await uow.session.get(Team, world.team_id)
        assert ent is not None
        assert team is not None
        for n in range(7):
            await make_worker(uow, ent, name=f"工人{n}号", team=team)
        await uow.commit()
    sent = await open_project(driver, world.admin, "太原南站项目")
    sent = await tap(driver, world.admin, sent, "班组")
    sent = await tap(driver, world.admin, sent, "plasterer班组")
    names = [b for b in inline_texts(last_reply_markup(sent)) if b.startswith("👷")]
    assert len(names) == 6
    assert "1/2" in inline_texts(last_reply_markup(sent))
    sent = await tap(driver, world.admin, sent, "▶")
    names = [b for b in inline_texts(last_reply_markup(sent)) if b.startswith("👷")]
    assert names == ["👷 工人6号 · 抹灰工"]


async def test_an_old_button_after_cancel_says_it_expired(
    driver: BotDriver, world: AdminWorld
) -> None:
    sent = await open_admin(driver, world.admin)
    old = callback_for(last_reply_markup(sent), "新建项目")
    await driver.send(world.admin, "/cancel")
    sent = await driver.tap(world.admin, old)
    assert answers(sent)[0]["text"] == t("common.stale", "zh")
    assert await driver.state(world.admin) is None
