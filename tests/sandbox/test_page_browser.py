"""The chat page in a real Chromium: a persona chats with an aiogram bot behind the emulator.

Uses Debian's /usr/bin/chromium through Playwright (never `playwright install`: browser downloads
fail on these machines). Screenshots land in artifacts/.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, F, Router
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from sandbox import Persona, RunningSandbox, SandboxState
from tests.sandbox.conftest import polling

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FOREMAN = Persona("王建国", "太原 · 项目工长", 501)
DISPATCHER = Persona("李红", "临汾 · 劳务调度", 502)


def chart_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    width, height = 240, 120
    rows = b"".join(
        b"\0" + b"".join(bytes([40 + x % 180, 120, 200 - y]) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))


def demo_router() -> Router:
    """Enough of a bot to use every part of the page."""
    router = Router(name="page-demo")

    @router.message(F.text == "/start")
    async def start(message: Message) -> None:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="分享手机号", request_contact=True)]],
            resize_keyboard=True,
        )
        await message.answer(
            "<b>欢迎使用晋工调度</b>\n请先分享手机号。", parse_mode="HTML", reply_markup=keyboard
        )

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None
        await message.answer(
            f"已绑定手机号 {message.contact.phone_number}", reply_markup=ReplyKeyboardRemove()
        )
        await message.answer_photo(BufferedInputFile(chart_png(), "chart.png"), caption="本周缺工")
        await message.answer_document(BufferedInputFile(b"PK\x03\x04", "日报.xlsx"))

    @router.message(F.text)
    async def shortage(message: Message) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="确认发布", callback_data="post:1")]]
        )
        await message.answer(f"缺工：{message.text}", reply_markup=keyboard)

    @router.callback_query(F.data == "post:1")
    async def posted(callback: CallbackQuery) -> None:
        await callback.answer("已发布")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text(f"{callback.message.text}（已发布）")

    return router


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


FONT_PROBE = """async () => {
  await document.fonts.load('48px "Noto Sans SC"', '晋工调度');
  const face = [...document.fonts].find((f) => f.family.replace(/"/g, '') === 'Noto Sans SC');
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const ctx = canvas.getContext('2d');
  const glyph = (ch) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = '48px "Noto Sans SC"';
    ctx.fillText(ch, 4, 52);
    return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(',');
  };
  const shapes = ['晋', '工', '调', '度'].map(glyph);
  return {
    status: face ? face.status : 'missing',
    check: document.fonts.check('16px "Noto Sans SC"', '晋工调度'),
    distinctGlyphs: new Set(shapes).size,
    inked: shapes.every((s) => s.split(',').some((v) => v !== '0')),
    titleFont: getComputedStyle(document.getElementById('brand-title')).fontFamily,
  };
}"""


async def test_a_foreman_chats_with_the_bot_in_the_browser(
    sandbox: RunningSandbox, bot: Bot, state: SandboxState, browser: Any
) -> None:
    state.add_persona(FOREMAN)
    state.add_persona(DISPATCHER)
    ARTIFACTS.mkdir(exist_ok=True)

    async with polling(bot, demo_router()):
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(sandbox.url)

        await page.click(f'#personas .person[data-user-id="{FOREMAN.user_id}"]')
        await page.click(f'#personas .person[data-user-id="{DISPATCHER.user_id}"]')
        chat = page.locator(f'.chat[data-user-id="{FOREMAN.user_id}"][data-ready="1"]')
        await chat.wait_for()
        await chat.locator(".composer-input").fill("/start")
        await chat.locator(".send-btn").click()
        await chat.locator(".msg.bot b", has_text="欢迎使用晋工调度").wait_for()

        await chat.locator(".reply-btn.contact", has_text="分享手机号").click()
        await chat.locator(".contact-phone").fill("13800138000")
        await chat.locator(".contact-send").click()
        await chat.locator(".msg.bot .text", has_text="已绑定手机号 13800138000").wait_for()
        await chat.locator(".msg.bot img.photo").wait_for()
        await chat.locator(".doc-name", has_text="日报.xlsx").wait_for()
        await chat.locator(".reply-keyboard").wait_for(state="hidden")

        await chat.locator(".composer-input").fill("钢筋工 3 人")
        await chat.locator(".composer-input").press("Enter")
        await chat.locator(".msg.me .text", has_text="钢筋工 3 人").wait_for()
        await chat.locator(".inline-btn", has_text="确认发布").click()
        await chat.locator(".toast", has_text="已发布").wait_for()
        await chat.locator(".msg.bot .text", has_text="缺工：钢筋工 3 人（已发布）").wait_for()

        photo_loaded = await chat.locator("img.photo").evaluate("(img) => img.naturalWidth")
        font = await page.evaluate(FONT_PROBE)
        await page.screenshot(path=str(ARTIFACTS / "sandbox-page.png"))
        await chat.screenshot(path=str(ARTIFACTS / "sandbox-foreman-chat.png"))
        await page.close()

    history = state.history(FOREMAN.user_id)
    assert history[-1]["text"] == "缺工：钢筋工 3 人（已发布）"
    assert "edit_date" in history[-1]
    assert photo_loaded == 240
    assert font["status"] == "loaded", font
    assert font["check"] is True, font
    assert font["distinctGlyphs"] == 4, f"Chinese renders as tofu: {font}"
    assert font["inked"], f"Chinese renders as tofu: {font}"
    assert "Noto Sans SC" in font["titleFont"]
    assert errors == []
