"""需求待批 in the bot: the dispatcher's card, rejection with a typed reason (told to the
foreman), a replayed card, a stranger's forged tap, /cancel in the reason step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.handlers.company_settings import ApprovalSettingCb
from bot.i18n import t
from bot.renderers.posting_approval import RequestCb
from core.db.models import Enterprise, ShortagePosting, ShortageRequest
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.services.posting_approval import post_or_request, set_postings_need_approval
from core.services.postings import PostShortageCommand
from tests.bot.harness import (
    BotDriver,
    answers,
    callback_for,
    inline_texts,
    last_reply_markup,
    last_text,
    texts,
    tg_user,
)
from tests.bot.test_join import deliver
from tests.factories import actor_of, make_account, make_enterprise, make_project

FOREMAN = tg_user(6401, name="张工")
DISPATCHER = tg_user(6402, name="李调度")
STRANGER = tg_user(6403, name="外人")


@dataclass(frozen=True)
class Filed:
    request_id: int


@pytest.fixture
async def filed(services: Services) -> Filed:
    """A foreman's shortage waiting for its company's dispatcher."""
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西建工集团", type="general_contractor")
        project = await make_project(uow, ent, name="太原南站项目")
        foreman = await make_account(
            uow, enterprise=ent, projects=[project], telegram_user_id=FOREMAN.id, name="张工"
        )
        await make_account(
            uow, role=Role.DISPATCHER, enterprise=ent, telegram_user_id=DISPATCHER.id
        )
        other = await make_enterprise(uow, name="别家劳务")
        await make_account(
            uow, role=Role.DISPATCHER, enterprise=other, telegram_user_id=STRANGER.id
        )
        await uow.commit()
        ent_id, actor = ent.id, actor_of(foreman, [project.id])
        command = PostShortageCommand(
            project_id=project.id,
            trade_code="plasterer",
            min_grade=3,
            headcount=5,
            price="6000",
            contact_name="张工",
            contact_phone="13912345678",
        )
    async with services.uow() as uow:
        await set_postings_need_approval(uow, Actor.system(), ent_id, True)
    async with services.uow() as uow:
        outcome = await post_or_request(uow, actor, command)
    assert outcome.request is not None
    return Filed(outcome.request.id)


async def count(services: Services, model: Any) -> int:
    async with services.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_rejection_is_typed_and_the_foreman_is_told_why(
    driver: BotDriver, services: Services, filed: Filed
) -> None:
    card = (await deliver(driver, services))[DISPATCHER.id][-1]
    assert inline_texts(card.reply_markup) == ["✅ 批准", "❌ 驳回", "✏️ 改人数或价格"]
    assert "抹灰工" in (card.text or "")
    sent = await driver.tap(DISPATCHER, callback_for(card.reply_markup, "驳回"))
    assert t("approval.ask_reason", "zh") in last_text(sent)
    sent = await driver.send(DISPATCHER, "理" * 201)  # too long: said, asked again
    assert t("approval.ask_reason", "zh") in last_text(sent)
    sent = await driver.send(DISPATCHER, "本月预算已满")
    assert t("approval.card_rejected", "zh", reason="本月预算已满") in last_text(sent)
    # the card's approve button afterwards: decided, said clearly, nothing published
    late = await driver.tap(DISPATCHER, callback_for(card.reply_markup, "批准"))
    assert answers(late)[0]["text"] == t("error.request_rejected", "zh", id=filed.request_id)
    assert await count(services, ShortagePosting) == 0

    told = (await deliver(driver, services))[FOREMAN.id][-1]
    lines = (told.text or "").splitlines()
    assert (
        lines[:2]
        == t("approval.rejected", "zh", id=filed.request_id, reason="本月预算已满").splitlines()
    )


async def test_one_tap_approval_publishes_and_a_replay_is_refused(
    driver: BotDriver, services: Services, filed: Filed
) -> None:
    card = (await deliver(driver, services))[DISPATCHER.id][-1]
    approve = callback_for(card.reply_markup, "批准")
    sent = await driver.tap(DISPATCHER, approve)
    assert await count(services, ShortagePosting) == 1
    assert "✅" in last_text(sent)
    again = await driver.tap(DISPATCHER, approve)
    assert answers(again)[0]["text"] == t("error.request_approved", "zh", id=filed.request_id)
    assert await count(services, ShortagePosting) == 1


async def test_a_stranger_and_the_foreman_cannot_decide_by_forged_taps(
    driver: BotDriver, services: Services, filed: Filed
) -> None:
    for act in ("ok", "no", "chg"):
        data = RequestCb(act=act, req_id=filed.request_id).pack()
        sent = await driver.tap(STRANGER, data)
        assert answers(sent)[0]["text"] == t("error.forbidden", "zh")
        sent = await driver.tap(FOREMAN, data)  # not a dispatcher: the tap is not taken
        assert answers(sent)[0]["text"] == t("common.stale", "zh")
    async with services.uow() as uow:
        row = await uow.session.get(ShortageRequest, filed.request_id)
        assert row is not None
        assert row.status == "pending"


async def test_cancel_in_the_reason_step_decides_nothing(
    driver: BotDriver, services: Services, filed: Filed
) -> None:
    card = (await deliver(driver, services))[DISPATCHER.id][-1]
    await driver.tap(DISPATCHER, callback_for(card.reply_markup, "驳回"))
    sent = await driver.send(DISPATCHER, "/cancel")
    assert t("common.cancelled", "zh") in last_text(sent)
    assert await driver.state(DISPATCHER) is None
    async with services.uow() as uow:
        row = await uow.session.get(ShortageRequest, filed.request_id)
        assert row is not None
        assert row.status == "pending"


async def test_the_admin_turns_the_setting_from_the_bot_and_others_may_not(
    driver: BotDriver, services: Services
) -> None:
    admin, plain = tg_user(6501), tg_user(6502)
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西晋工劳务")
        boss = await make_account(
            uow, role=Role.DISPATCHER, enterprise=ent, telegram_user_id=admin.id
        )
        boss.is_admin = True
        await make_account(uow, role=Role.DISPATCHER, enterprise=ent, telegram_user_id=plain.id)
        await uow.commit()
        ent_id = ent.id
    sent = await driver.send(plain, "/approval")
    assert texts(sent) == [t("error.admin_only", "zh")]
    forged = await driver.tap(plain, ApprovalSettingCb(on=True).pack())
    assert answers(forged)[0]["text"] == t("error.admin_only", "zh")

    sent = await driver.send(admin, "/approval")
    assert last_text(sent).startswith(t("approval.setting_off", "zh"))
    sent = await driver.tap(admin, callback_for(last_reply_markup(sent), "开启"))
    assert last_text(sent).startswith(t("approval.setting_on", "zh"))
    async with services.uow() as uow:
        company = await uow.session.get(Enterprise, ent_id)
        assert company is not None
        assert company.postings_need_approval


async def test_a_pasted_shortage_waits_for_approval_too(
    driver: BotDriver, services: Services, filed: Filed
) -> None:
    sent = await driver.send(
        FOREMAN, "急招钢筋工5人，中级，太原南站项目，8000/月，联系张工13912345678"
    )
    sent = await driver.tap(FOREMAN, callback_for(last_reply_markup(sent), "发布"))
    assert last_text(sent).startswith("📨")
    assert await count(services, ShortagePosting) == 0
    assert await count(services, ShortageRequest) == 2  # the fixture's and this one
