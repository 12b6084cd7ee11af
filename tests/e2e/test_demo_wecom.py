"""`jingong demo`: the Taiyuan regulator's digest also reaches its WeCom group (a fake robot in
the sandbox), and the page at /wecom/ shows that copy."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from bot.demo.app import DEMO_WECOM_PERSONA, DIGEST_ACTION, describe, start_demo


async def test_the_digest_of_the_demo_regulator_shows_in_its_wecom_group(tmp_path: Path) -> None:
    demo = await start_demo(tmp_path / "demo", port=0, scheduler=False, greet=False)
    try:
        persona = demo.persona(DEMO_WECOM_PERSONA)
        async with httpx.AsyncClient(base_url=demo.url, trust_env=False) as http:
            before = (await http.get("/wecom/")).text
            await demo.sandbox.state.run_action(persona.user_id, DIGEST_ACTION)
            deadline = time.monotonic() + 60
            page = before
            while time.monotonic() < deadline:
                page = (await http.get("/wecom/")).text
                if "📎" in page:  # the workbook is the last part
                    break
                await asyncio.sleep(0.5)
            index = (await http.get("/")).text
        printed = describe(demo)
    finally:
        await demo.stop()
    assert "暂无消息" in before
    assert "<b>📊 太原市 用工调度日报</b>" in page
    assert '<img alt="chart" src="data:image/png;base64,' in page
    assert "📎 晋工调度_太原市_" in page
    assert ".xlsx" in page
    assert 'href="/wecom/"' in index
    assert f"{demo.url}/wecom/" in printed
