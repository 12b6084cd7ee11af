"""Issue 11's whole path from an empty database (migrations and reference data only, no demo
seed), through the real dispatcher and the `jingong` command line:

a labor company applies in the bot → the county regulator approves → its admin invites a
dispatcher (🏢 公司管理) → a contractor, its project and team are added by CLI, its dispatcher
and foreman invited by CLI, 需求待批 turned on by CLI → the foreman posts a shortage → the
contractor's dispatcher approves it → the labor company's workers are imported and declared
idle → the foreman gets the match → 📞 交换电话 by consent → a deal is accepted → the workers
are in the project's team.

The deal itself is driven through core.services.deals (the deal buttons are being rewritten as
a dialog); every other step is a bot update or a CLI call."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import t
from core.db.models import AuditLog, ShortagePosting, Team, Worker
from core.db.uow import Services
from core.domain.enums import Role
from core.services import deals, imports, postings
from tests.bot.conftest import account_of
from tests.bot.harness import BotDriver, callback_for, last_text, tg_user
from tests.bot.test_join import COUNTY_REG, NAME, deliver, fill_in, tap
from tests.factories import make_account, make_id_number, make_uscc
from webhooks.main import main

LABOR_ADMIN = tg_user(6101, name="李明")  # the applicant of test_join.fill_in
LABOR_DISPATCHER = tg_user(7102, name="王调度")
CONTRACTOR_DISPATCHER = tg_user(7201, name="赵调度")
FOREMAN = tg_user(7202, name="张工")
ADMIN_BUTTON = "🏢 公司管理"


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """`jingong ARGV…` on the test's database; its stdout (a thread: main runs its own loop)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out.strip()


def token_of(printed: str) -> str:
    return printed.split("token:")[1].split()[0]


@pytest.fixture
def cli_env(
    services: Services, engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI reads the same database as the bot under test."""
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-for-pii-0123456789")
    monkeypatch.setenv("DEFAULT_LOCALE", "zh")


async def test_from_an_empty_database_to_workers_in_the_contractors_team(
    driver: BotDriver,
    services: Services,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the county's bureau (regulators are set up by the province, not in this path)
    async with services.uow() as uow:
        await make_account(
            uow, role=Role.REGULATOR, region_code="140105", telegram_user_id=COUNTY_REG.id,
            name=COUNTY_REG.first_name,
        )  # fmt: skip
        await uow.commit()

    # 1. the labor company applies, the county approves
    await tap(driver, LABOR_ADMIN, await fill_in(driver, LABOR_ADMIN), "提交申请")
    card = (await deliver(driver, services))[COUNTY_REG.id][-1]
    await driver.tap(COUNTY_REG, callback_for(card.reply_markup, "批准"))
    assert (await deliver(driver, services))[LABOR_ADMIN.id][-1].text == t(
        "join.approved", "zh", name=NAME
    )

    # 2. its admin invites a dispatcher from 🏢 公司管理, who joins with the code
    sent = await driver.send(LABOR_ADMIN, ADMIN_BUTTON)
    sent = await tap(driver, LABOR_ADMIN, sent, "邀请调度员")
    sent = await driver.send(LABOR_ADMIN, "王调度")
    code = last_text(sent).split("<code>")[1].split("</code>")[0]
    await driver.send(LABOR_DISPATCHER, f"/start {code}")
    await driver.share_contact(LABOR_DISPATCHER, "13700001111", owner_id=LABOR_DISPATCHER.id)
    labor_dispatcher = await account_of(services, LABOR_DISPATCHER.id)
    assert labor_dispatcher is not None
    assert labor_dispatcher.role is Role.DISPATCHER

    # 3. the contractor, its project and team by CLI; its dispatcher and foreman invited
    contractor_id = await cli(
        capsys, "enterprise", "add", "--name", "山西五建集团有限公司",
        "--uscc", make_uscc("140105", 21), "--kind", "general", "--region", "140105",
    )  # fmt: skip
    project_id = await cli(
        capsys, "project", "add", "--enterprise", contractor_id, "--name", "小店区保障房项目",
        "--region", "140105",
    )  # fmt: skip
    printed = await cli(
        capsys, "team", "add", "--project", project_id, "--name", "抹灰一班",
        "--trade", "plasterer",
    )  # fmt: skip
    team_id = int(printed)
    await cli(capsys, "enterprise", "approval", contractor_id, "on")
    printed = await cli(
        capsys, "invite", "--role", "dispatcher", "--name", "赵调度",
        "--enterprise", contractor_id,
    )  # fmt: skip
    await driver.command(CONTRACTOR_DISPATCHER, "start", token_of(printed))
    await driver.share_contact(
        CONTRACTOR_DISPATCHER, "13600002222", owner_id=CONTRACTOR_DISPATCHER.id
    )
    printed = await cli(
        capsys, "invite", "--role", "foreman", "--name", "张工", "--enterprise", contractor_id,
        "--project", project_id,
    )  # fmt: skip
    await driver.command(FOREMAN, "start", token_of(printed))
    await driver.share_contact(FOREMAN, "13912345678", owner_id=FOREMAN.id)
    foreman = await account_of(services, FOREMAN.id)
    assert foreman is not None
    assert foreman.role is Role.FOREMAN

    # 4. the foreman posts a shortage; it waits for the contractor's dispatcher, who approves
    sent = await driver.send(FOREMAN, t("menu.post_shortage", "zh"))
    for button in ("抹灰工", "三级", "4", "¥4,000"):
        sent = await tap(driver, FOREMAN, sent, button)
    sent = await tap(driver, FOREMAN, sent, t("shortage.use_contact", "zh"))
    sent = await tap(driver, FOREMAN, sent, t("shortage.confirm", "zh"))
    assert last_text(sent).startswith("📨")
    request_card = (await deliver(driver, services))[CONTRACTOR_DISPATCHER.id][-1]
    await driver.tap(CONTRACTOR_DISPATCHER, callback_for(request_card.reply_markup, "批准"))
    async with services.uow() as uow:
        shortage = (await uow.session.scalars(select(ShortagePosting))).one()
        shortage_id, shortage_phone = shortage.id, shortage.contact_phone
    await deliver(driver, services)  # the foreman is told it is published

    # 5. the labor company's workers (import service) are declared idle: the foreman's match
    actor = labor_dispatcher.actor()
    async with services.uow() as uow:
        rows = [
            {"id_number": make_id_number("140105", seq=n), "name": name, "trade": "抹灰工",
             "grade": "3", "phone": f"1370000000{n}"}
            for n, name in enumerate(("刘一", "陈二", "张三", "李四"), 1)
        ]  # fmt: skip
        report = await imports.import_workers(uow, actor, rows)
        assert list(report.rejected) == []
    async with services.uow() as uow:
        worker_ids = list(await uow.session.scalars(select(Worker.id).order_by(Worker.id)))
    async with services.uow() as uow:
        idle = await postings.declare_idle(
            uow,
            actor,
            postings.DeclareIdleCommand(
                county_code="140105", trade_code="plasterer", grade_level=3,
                worker_ids=worker_ids, price="4000", contact_name="王调度",
                contact_phone="13700001111",
            ),
        )  # fmt: skip
    received = await deliver(driver, services)
    match = received[FOREMAN.id][-1]
    assert "13700001111" not in (match.text or "")  # masked until consent

    # 6. 📞 交换电话 from the match; the labor side agrees; both see the full phones
    sent = await driver.tap(FOREMAN, callback_for(match.reply_markup, "交换电话"))
    ask = (await deliver(driver, services))[LABOR_DISPATCHER.id][-1]
    assert "山西五建集团有限公司" in (ask.text or "")
    sent = await driver.tap(LABOR_DISPATCHER, callback_for(ask.reply_markup, "同意"))
    assert shortage_phone in last_text(sent)
    told = (await deliver(driver, services))[FOREMAN.id][-1]
    assert "13700001111" in (told.text or "")
    async with services.uow() as uow:
        reads = list(
            await uow.session.scalars(
                select(AuditLog.actor_account_id).where(AuditLog.action == "contact.read")
            )
        )
    assert sorted(reads) == sorted([foreman.id, labor_dispatcher.id])

    # 7. the deal (core services: the deal buttons are being rewritten) is accepted
    async with services.uow() as uow:
        start = uow.now().date() + timedelta(days=1)
        offer = await deals.propose_deal(
            uow,
            foreman.actor(),
            deals.ProposeDeal(
                shortage_id=shortage_id, idle_posting_id=idle.id, start_date=start,
                price="4000", headcount=4,
            ),
        )  # fmt: skip
    async with services.uow() as uow:
        await deals.accept_deal(uow, actor, offer.id)

    # 8. the four workers are on the contractor's project, in its 抹灰一班 (the CLI's team)
    async with services.uow() as uow:
        placed = (await uow.session.scalars(select(Worker).order_by(Worker.id))).all()
        assert [(w.name, w.team_id, w.status) for w in placed] == [
            (name, team_id, "busy") for name in ("刘一", "陈二", "张三", "李四")
        ]
        team = await uow.session.get(Team, team_id)
        assert team is not None
        assert (team.project_id, team.name) == (int(project_id), "抹灰一班")
        assert len((await uow.session.scalars(select(Team))).all()) == 1  # no second team
