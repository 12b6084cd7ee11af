"""The dispatch rings in the bot: 📝 for a contractor's dispatcher (not a labor company's),
the 🏠 本公司内部 / 🌐 公开 toggle on the summary, 🌐 公开到市场 on the card (and its old
button), and the poster's notice when the sweep opened an internal posting."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from aiogram.types import User
from sqlalchemy import select

from bot.handlers.company_settings import RingSettingCb
from bot.i18n import t
from core.db.models import (
    Account,
    Enterprise,
    IdlePosting,
    OutboxMessage,
    Project,
    ShortagePosting,
)
from core.db.uow import Services
from core.domain.enums import EnterpriseType, Role
from core.ports import FixedClock
from core.services.rings import open_due_internal
from tests.bot.conftest import DISPATCHER_TG, Company
from tests.bot.harness import (
    BotDriver,
    Sent,
    callback_for,
    inline_buttons,
    inline_texts,
    last_reply_markup,
    last_text,
    reply_keyboard_texts,
    tg_user,
)
from tests.bot.test_idle import make_crew, to_contact
from tests.bot.test_join import deliver
from tests.factories import make_account, make_enterprise, make_shortage

POST = t("menu.post_shortage", "zh")
LABOR_TG = 7_300_001
STRANGER_TG = 7_300_002


@dataclass(frozen=True)
class Rings:
    dispatcher: User  # the contractor's
    labor: User  # a labor company's dispatcher
    stranger_id: int  # the labor company's account (a market side)


@pytest.fixture
async def rings(services: Services, company: Company) -> Rings:
    """The company is a general contractor that wants its foremen's postings approved (a
    dispatcher's own posting never waits); a labor company has a dispatcher too."""
    async with services.uow() as uow:
        own = await uow.session.get(Enterprise, company.enterprise_id)
        assert own is not None
        own.type = EnterpriseType.GENERAL_CONTRACTOR.value
        own.postings_need_approval = True
        labor = await make_enterprise(uow, name="鑫源劳务")
        account = await make_account(
            uow, role=Role.DISPATCHER, enterprise=labor, telegram_user_id=LABOR_TG, name="王调度"
        )
        await uow.commit()
    return Rings(tg_user(DISPATCHER_TG), tg_user(LABOR_TG), account.id)


async def tap(driver: BotDriver, user: User, sent: list[Sent], text_part: str) -> list[Sent]:
    return await driver.tap(user, callback_for(last_reply_markup(sent), text_part))


async def shortages(services: Services) -> list[tuple[int, str, int | None]]:
    async with services.uow() as uow:
        rows = (await uow.session.scalars(select(ShortagePosting))).all()
        return [(s.id, s.ring, s.posted_by_account_id) for s in rows]


async def internal_shortage(services: Services, project_id: int, **overrides: object) -> int:
    async with services.uow() as uow:
        project = await uow.session.get(Project, project_id)
        assert project is not None
        posting = await make_shortage(uow, project, ring="internal", **overrides)
        await uow.commit()
        return posting.id


async def test_a_contractors_dispatcher_posts_from_the_menu_inside_the_company(
    driver: BotDriver, services: Services, company: Company, rings: Rings
) -> None:
    menu = await driver.send(rings.dispatcher, "/menu")
    assert POST in reply_keyboard_texts(last_reply_markup(menu))

    sent = await driver.send(rings.dispatcher, POST)
    assert last_text(sent) == t("shortage.pick_project", "zh")  # two projects: pick one
    sent = await tap(driver, rings.dispatcher, sent, company.project_names[1])
    sent = await tap(driver, rings.dispatcher, sent, "抹灰工")
    sent = await tap(driver, rings.dispatcher, sent, "三级")
    sent = await tap(driver, rings.dispatcher, sent, "4")
    sent = await driver.send(rings.dispatcher, "5500")
    sent = await tap(driver, rings.dispatcher, sent, t("shortage.other_contact", "zh"))
    sent = await driver.send(rings.dispatcher, "李调度 13800138000")
    assert t("rings.line_market", "zh") in last_text(sent)  # 公开 unless the company says so
    sent = await tap(driver, rings.dispatcher, sent, t("rings.to_internal", "zh"))
    assert t("rings.line_internal", "zh") in last_text(sent)
    assert t("rings.to_market", "zh") in inline_texts(last_reply_markup(sent))
    assert await shortages(services) == []  # nothing written before Confirm

    sent = await tap(driver, rings.dispatcher, sent, t("shortage.confirm", "zh"))
    [(posting_id, ring, poster)] = await shortages(services)
    assert (ring, poster) == ("internal", company.dispatcher_id)  # published, no 需求待批
    assert last_text(sent).startswith(f"✅ 已发布缺工 #{posting_id}")


async def test_a_labor_companys_dispatcher_has_no_post_shortage_button(
    driver: BotDriver, rings: Rings
) -> None:
    menu = await driver.send(rings.labor, "/menu")
    keys = reply_keyboard_texts(last_reply_markup(menu))
    assert POST not in keys
    assert t("menu.declare_idle", "zh") in keys


async def test_the_company_default_ring_is_preselected_in_the_shortage_toggle(
    driver: BotDriver, services: Services, company: Company, rings: Rings
) -> None:
    async with services.uow() as uow:
        own = await uow.session.get(Enterprise, company.enterprise_id)
        assert own is not None
        own.default_ring = "internal"
        await uow.commit()
    sent = await driver.send(rings.dispatcher, POST)
    sent = await tap(driver, rings.dispatcher, sent, company.project_names[0])
    sent = await tap(driver, rings.dispatcher, sent, "抹灰工")
    sent = await tap(driver, rings.dispatcher, sent, "三级")
    sent = await tap(driver, rings.dispatcher, sent, "4")
    sent = await driver.send(rings.dispatcher, "5500")
    sent = await tap(driver, rings.dispatcher, sent, t("shortage.other_contact", "zh"))
    sent = await driver.send(rings.dispatcher, "李调度 13800138000")
    assert t("rings.line_internal", "zh") in last_text(sent)
    await tap(driver, rings.dispatcher, sent, t("shortage.confirm", "zh"))
    assert [ring for _id, ring, _by in await shortages(services)] == ["internal"]


async def test_one_tap_opens_an_internal_posting_and_its_old_button_changes_nothing(
    driver: BotDriver, services: Services, company: Company, rings: Rings
) -> None:
    posting_id = await internal_shortage(services, company.project_ids[0])
    sent = await driver.send(rings.dispatcher, t("menu.my_postings", "zh"))
    card = await driver.tap(
        rings.dispatcher,
        next(d or "" for text, d in inline_buttons(last_reply_markup(sent))
             if text.startswith(f"#{posting_id} ")),
    )  # fmt: skip
    assert t("posting.ring.internal", "zh") in last_text(card)
    open_button = callback_for(last_reply_markup(card), t("rings.open_market", "zh"))

    opened = await driver.tap(rings.dispatcher, open_button)
    assert [ring for _id, ring, _by in await shortages(services)] == ["market"]
    assert t("rings.opened_ok", "zh") in str([s.params for s in opened])
    assert t("posting.ring.market", "zh") in last_text(opened)
    assert t("rings.open_market", "zh") not in inline_texts(last_reply_markup(opened))

    again = await driver.tap(rings.dispatcher, open_button)  # the old button
    assert [ring for _id, ring, _by in await shortages(services)] == ["market"]
    [answer] = [s for s in again if s.method == "answerCallbackQuery"]
    assert answer.params["text"] == t("error.already_public", "zh")
    async with services.uow() as uow:
        edits = await uow.session.scalar(
            select(ShortagePosting.version).where(ShortagePosting.id == posting_id)
        )
    assert edits == 2  # opened once


async def test_the_poster_is_told_when_the_sweep_opened_the_posting(
    driver: BotDriver, services: Services, company: Company, rings: Rings, clock: FixedClock
) -> None:
    posting_id = await internal_shortage(
        services, company.project_ids[0], posted_by_account_id=company.dispatcher_id
    )
    clock.advance(hours=24)
    async with services.uow() as uow:
        [opened] = await open_due_internal(uow, clock.now())
    assert opened.posting_id == posting_id
    received = await deliver(driver, services)
    [notice] = received[DISPATCHER_TG]
    assert notice.text == t("rings.opened_shortage", "zh", id=posting_id, hours=24)
    async with services.uow() as uow:
        kinds = (await uow.session.scalars(select(OutboxMessage.kind))).all()
    assert list(kinds).count("posting_opened") == 1


async def company_rings(services: Services, enterprise_id: int) -> tuple[str, int]:
    async with services.uow() as uow:
        own = await uow.session.get(Enterprise, enterprise_id)
        assert own is not None
        return own.default_ring, own.internal_open_hours


async def test_the_company_admin_sets_the_default_ring_and_the_hours_with_buttons(
    driver: BotDriver, services: Services, company: Company, rings: Rings
) -> None:
    refused = await driver.send(rings.dispatcher, "/rings")  # not the admin yet
    assert last_text(refused) == t("error.admin_only", "zh")
    async with services.uow() as uow:
        boss = await uow.session.get(Account, company.dispatcher_id)
        assert boss is not None
        boss.is_admin = True
        await uow.commit()

    sent = await driver.send(rings.dispatcher, "/rings")
    assert "默认：🌐 公开" in last_text(sent)
    assert "24 小时" in last_text(sent)
    assert "✅ 24小时" in inline_texts(last_reply_markup(sent))
    sent = await tap(driver, rings.dispatcher, sent, t("rings.set_internal", "zh"))
    sent = await tap(driver, rings.dispatcher, sent, "48小时")
    assert await company_rings(services, company.enterprise_id) == ("internal", 48)
    assert "✅ 48小时" in inline_texts(last_reply_markup(sent))

    forged = await driver.tap(rings.dispatcher, RingSettingCb(hours=9999).pack())
    assert t("error.open_hours", "zh", max=720) in str([s.params for s in forged])
    forged = await driver.tap(rings.dispatcher, RingSettingCb(ring="escalated").pack())
    assert await company_rings(services, company.enterprise_id) == ("internal", 48)
    stranger = await driver.tap(rings.labor, RingSettingCb(ring="market").pack())
    assert t("error.admin_only", "zh") in str([s.params for s in stranger])
    assert await company_rings(services, company.enterprise_id) == ("internal", 48)


async def test_a_dispatcher_declares_idle_workers_inside_the_company(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    sent = await to_contact(driver, crew)
    sent = await driver.send(tg_user(DISPATCHER_TG), "李明 13800138000")
    assert t("rings.line_market", "zh") in last_text(sent)
    sent = await tap(driver, tg_user(DISPATCHER_TG), sent, t("rings.to_internal", "zh"))
    assert t("rings.line_internal", "zh") in last_text(sent)
    await tap(driver, tg_user(DISPATCHER_TG), sent, t("idle.confirm", "zh"))
    async with services.uow() as uow:
        rings_ = (await uow.session.scalars(select(IdlePosting.ring))).all()
    assert list(rings_) == ["internal"]
