"""The bureau hears of an escalated posting, and hears nothing once it has closed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.i18n import t
from bot.keyboards.regulator import EscViewCb
from bot.renderers import outbox_renderers
from core.db.models import OutboxMessage
from core.db.uow import Services
from core.domain.enums import Role
from core.services.outbox import OutboxItem
from core.services.postings import cancel_shortage, escalate_shortage
from tests.bot.harness import inline_buttons
from tests.factories import actor_of, make_account, make_enterprise, make_project, make_shortage


def _item(row: OutboxMessage) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        account_id=row.account_id,
        kind=row.kind,
        payload=row.payload,
        attempts=0,
        created_at=datetime(2026, 3, 4, 2, 0, tzinfo=UTC),
        chat_id=9001,
        locale="zh",
        active=True,
    )


async def test_an_escalated_shortage_reaches_the_bureau_with_a_button_to_its_matches(
    services: Services,
) -> None:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西五建集团有限公司", county_code="140105")
        project = await make_project(uow, ent, name="小店区保障房项目")
        foreman = await make_account(uow, role=Role.FOREMAN, enterprise=ent, projects=[project])
        bureau = await make_account(
            uow, role=Role.REGULATOR, region_code="140100", name="太原市住建局"
        )
        other_city = await make_account(
            uow, role=Role.REGULATOR, region_code="140700", name="晋中"
        )
        shortage = await make_shortage(uow, project, contact_phone="13912345678")
        await uow.commit()
        actor = actor_of(foreman, [project.id])
    async with services.uow() as uow:
        await escalate_shortage(uow, actor, shortage.id)
    async with services.uow() as uow:
        rows = (
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "escalation")
            )
        ).all()
        recipients = [r.account_id for r in rows]
        item = _item(rows[0])
    assert recipients == [bureau.id]  # not 晋中's bureau

    async with services.uow() as uow:
        [message] = await outbox_renderers().render(
            item, uow, lambda key, /, **p: t(key, "zh", **p)
        )
    assert "提交政府协调" in message.text
    assert "山西五建集团有限公司" in message.text
    assert "13912345678" not in message.text
    assert "139****5678" in message.text
    assert inline_buttons(message.reply_markup) == [
        ("查看并推荐匹配", EscViewCb(kind="s", id=shortage.id).pack())
    ]
    assert other_city.id != bureau.id

    async with services.uow() as uow:
        await cancel_shortage(uow, actor, shortage.id)
    async with services.uow() as uow:
        assert (
            await outbox_renderers().render(item, uow, lambda key, /, **p: t(key, "zh", **p)) == []
        )
