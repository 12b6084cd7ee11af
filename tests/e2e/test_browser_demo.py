"""The demo in a real Chromium: the 太原 foreman posts a shortage by clicking through the page.

Debian's /usr/bin/chromium through Playwright (never `playwright install`: browser downloads
fail on these machines). Screenshots of each step go to artifacts/ (gitignored); the finished
chat also goes to docs/demo-foreman.png, the README's picture, when that is missing or
JINGONG_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo.app import RunningDemo
from core.services.postings import list_posting_projects

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
ARTIFACTS = ROOT / "artifacts"
README_SHOT = ROOT / "docs" / "demo-foreman.png"
# a committed file: rewritten only on request (or when missing), so test runs leave git clean
UPDATE_README_SHOT = os.environ.get("JINGONG_UPDATE_SCREENSHOTS") == "1"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# whether Chinese really renders: four different, inked glyphs in the page's own font
FONT_PROBE = """async () => {
  await document.fonts.load('48px "Noto Sans SC"', '缺工钢筋');
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const ctx = canvas.getContext('2d');
  const glyph = (ch) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = '48px "Noto Sans SC"';
    ctx.fillText(ch, 4, 52);
    return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(',');
  };
  const shapes = ['缺', '工', '钢', '筋'].map(glyph);
  return {
    distinct: new Set(shapes).size,
    inked: shapes.every((s) => s.split(',').some((v) => v !== '0')),
  };
}"""


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield browser
        await browser.close()


async def test_the_taiyuan_foreman_posts_a_shortage_by_clicking_in_the_page(
    demo: RunningDemo, browser: Any
) -> None:
    foreman = demo.persona("foreman")
    async with demo.services.uow() as uow:
        (project,) = await list_posting_projects(uow, demo.persona("foreman").actor())
    ARTIFACTS.mkdir(exist_ok=True)
    shots = iter(range(1, 100))

    async def shoot(name: str) -> None:
        await page.screenshot(path=str(ARTIFACTS / f"demo-{next(shots):02d}-{name}.png"))

    # phone-sized chat beside the persona list, as a newcomer sees it
    page = await browser.new_page(viewport={"width": 720, "height": 900})
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(demo.url)
    await page.click(f'#personas .person[data-user-id="{foreman.user_id}"]')
    chat = page.locator(f'.chat[data-user-id="{foreman.user_id}"][data-ready="1"]')
    await chat.wait_for()
    await chat.locator(".msg.bot .text", has_text=foreman.name).wait_for()  # the greeting
    await shoot("menu")

    await chat.locator(".reply-btn", has_text="发布缺工").click()
    flow = chat.locator(".msg.bot").last
    await flow.locator(".inline-btn", has_text="钢筋工").click()
    await flow.locator(".inline-btn", has_text="三级").click()
    await shoot("grade")
    await flow.locator(".inline-btn", has_text="3").first.click()
    await flow.locator(".inline-btn", has_text="指导价").click()
    await shoot("price")
    await flow.locator(".inline-btn", has_text="使用此联系人").click()
    await flow.locator(".text", has_text="请核对").wait_for()
    await shoot("summary")
    await flow.locator(".inline-btn", has_text="确认发布").click()
    posted = chat.locator(".msg.bot .text", has_text="已发布缺工")
    await posted.wait_for()
    await chat.locator(".toast", has_text="已发布").wait_for()
    await chat.locator(".toast").wait_for(state="hidden")
    await shoot("posted")

    font = await page.evaluate(FONT_PROBE)
    posted_text = await posted.inner_text()
    await shoot("readme")
    if UPDATE_README_SHOT or not README_SHOT.exists():
        README_SHOT.parent.mkdir(exist_ok=True)
        await page.screenshot(path=str(README_SHOT))
    await page.close()

    assert "钢筋工" in posted_text, posted_text
    assert "3人" in posted_text, posted_text
    assert font["distinct"] == 4, f"Chinese renders as tofu: {font}"
    assert font["inked"], f"Chinese renders as tofu: {font}"
    assert errors == []
    async with demo.services.uow() as uow:
        from core.services.search import PostingQuery, search_postings

        page_of = await search_postings(
            uow,
            demo.persona("foreman").actor(),
            PostingQuery(kind="shortage", project_id=project.id, trade_code="rebar"),
        )
    assert any(card.headcount == 3 and card.grade_level == 3 for card in page_of.items)
