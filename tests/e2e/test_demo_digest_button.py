"""The regulators' "send today's digest now" button after the demo's scheduler has already sent
today's digest at start-up (the demo started after 08:00 Beijing time): the button still shows
a digest, marked as a preview, and the once-per-day delivery record is left as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.demo.app import DIGEST_ACTION, start_demo
from core.db.models import DigestDelivery
from core.ports import FixedClock
from sandbox.client import SandboxClient
from tests.e2e.conftest import FAST_SENDER, NO_FLOOD

# 09:00 in Shanghai: past the regulators' 08:00, so the first scheduler tick sends today's digest
AFTER_DIGEST_TIME = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)
TODAY = date(2026, 3, 4)


async def test_the_digest_button_resends_a_marked_preview_once_today_s_digest_went_out(
    tmp_path: Path,
) -> None:
    demo = await start_demo(
        tmp_path / "demo",
        port=0,
        clock=FixedClock(AFTER_DIGEST_TIME),
        sender_config=FAST_SENDER,
        flood=NO_FLOOD,
        polling_timeout=2,
        greet=False,
    )
    try:
        persona = demo.persona("regulator_jinzhong")
        async with SandboxClient(demo.url, timeout=60.0) as client:
            regulator = client.user(persona.user_id)
            scheduled = await regulator.wait_for_message(lambda m: "用工调度日报" in m.text)
            await regulator.wait_for_message(lambda m: (m.document_name or "").endswith(".xlsx"))
            note = await regulator.run_action(DIGEST_ACTION)
            preview = await regulator.wait_for_message(lambda m: "用工调度日报" in m.text)
            chart = await regulator.wait_for_message(lambda m: m.has_photo)
            sheet = await regulator.wait_for_message(
                lambda m: (m.document_name or "").endswith(".xlsx")
            )
        async with demo.services.uow() as uow:
            deliveries = await uow.session.scalar(
                select(func.count())
                .select_from(DigestDelivery)
                .where(DigestDelivery.account_id == persona.account_id)
                .where(DigestDelivery.day == TODAY)
            )
    finally:
        await demo.stop()

    assert "预览" not in scheduled.text
    assert note is not None
    assert "预览" in note
    assert "preview" in note
    assert preview.text.startswith("🔁 预览"), preview.text
    assert "晋中" in preview.text
    assert chart.has_photo
    assert sheet.document_name
    assert deliveries == 1  # the preview is not a second delivery of today's digest
