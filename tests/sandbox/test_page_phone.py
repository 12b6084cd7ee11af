"""The chat page on a phone-sized screen in Debian's Chromium, as a newcomer to the demo sees it:
the chat gets the screen, times are Beijing time, <pre> tables line up with Chinese in them, and
emoji the machine cannot draw are left out instead of shown as boxes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, F, Router
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from sandbox import Persona, RunningSandbox, SandboxState
from tests.sandbox.conftest import polling
from tests.sandbox.test_page_browser import ARTIFACTS, CHROMIUM, HAVE_CHROMIUM, LAUNCH_ARGS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PERSONAS = [  # as many as the demo has, with labels as long as the demo's
    Persona("王建国", "太原 · 项目工长 · 山西五建集团", 601),
    Persona("赵志刚", "晋建 · 项目工长 · 晋建集团", 602),
    Persona("李红", "临汾 · 劳务调度 · 临汾劳务公司", 603),
    Persona("张伟", "太原 · 劳务调度 · 并州劳务", 604),
    Persona("刘敏", "晋中 · 住建监管", 605),
    Persona("陈静", "太原 · 住建监管", 606),
    Persona("张建军", "山西省 · 住建监管", 607),
]
TABLE = "工种      人数  均价\n钢筋工      12  7800\nabcdef      34  6500\n木工         5   300"
LAST = "最后一条 · the last message"
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")


def phone_router() -> Router:
    router = Router(name="phone")

    @router.message(F.text == "/start")
    async def start(message: Message) -> None:
        menu = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📤 发布缺工"), KeyboardButton(text="👷 设为赋闲")]],
            resize_keyboard=True,
        )
        await message.answer("菜单", reply_markup=menu)
        for n in range(1, 13):  # more than a phone screen holds
            await message.answer(f"第 {n} 条消息\n内容 {n}")
        buttons = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="✅ 确认发布", callback_data="ok")],
                [InlineKeyboardButton(text="🔴 取消", callback_data="no")],
            ]
        )
        await message.answer(
            f"📊 <b>晋中 日报</b>\n<pre>{TABLE}</pre>\n{LAST}",
            parse_mode="HTML",
            reply_markup=buttons,
        )

    return router


async def launch(env: dict[str, str] | None = None) -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS, env=env
        )
        yield browser
        await browser.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async for browser in launch():
        yield browser


@pytest.fixture
async def browser_without_emoji_font(tmp_path: Path) -> AsyncIterator[Any]:
    """Chromium on a machine with DejaVu only: fontconfig told to look in one folder."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        "<dir>/usr/share/fonts/truetype/dejavu</dir>"
        f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>"
    )
    import os

    async for browser in launch({**os.environ, "FONTCONFIG_FILE": str(config)}):
        yield browser


async def open_chat(sandbox: RunningSandbox, browser: Any, **context: Any) -> tuple[Any, Any]:
    page = await (await browser.new_context(**context)).new_page()
    page.set_default_timeout(15_000)
    await page.goto(sandbox.url)
    await page.locator(f'#personas .person[data-user-id="{PERSONAS[0].user_id}"]').click()
    chat = page.locator(f'.chat[data-user-id="{PERSONAS[0].user_id}"][data-ready="1"]')
    await chat.wait_for()
    await chat.locator(".composer-input").fill("/start")
    await chat.locator(".composer-input").press("Enter")
    await chat.locator(".msg.bot .text", has_text=LAST).wait_for()
    await page.wait_for_timeout(300)  # the scroll to the bottom runs in the next frame
    return page, chat


def box_of(page: Any) -> Callable[[str], Any]:
    async def box(selector: str) -> dict[str, float]:
        found = await page.locator(selector).last.bounding_box()
        assert found is not None, f"{selector} is not shown"
        return dict(found)

    return box


PRE_LINE_WIDTHS = """(pre) => {
  const node = pre.firstChild;
  const widths = [];
  let start = 0;
  for (const line of node.textContent.split('\\n')) {
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, start + line.length);
    widths.push(range.getBoundingClientRect().width);
    start += line.length + 1;
  }
  return widths;
}"""


async def test_on_a_phone_the_chat_gets_the_screen_in_beijing_time(
    sandbox: RunningSandbox, bot: Bot, state: SandboxState, browser: Any
) -> None:
    for persona in PERSONAS:
        state.add_persona(persona)
    async with polling(bot, phone_router()):
        # a browser in New York: the page must still show the bot's Beijing clock
        page, chat = await open_chat(
            sandbox, browser, viewport=PHONE, timezone_id="America/New_York"
        )
        box = box_of(page)
        sidebar = await box("#sidebar")
        composer = await box(".chat .composer-input")
        last = await box(".chat .msg.bot:last-child .bubble")
        messages = await box(".chat .messages")
        shown_time = await chat.locator(".msg.bot:last-child .meta").inner_text()
        pre_widths = await chat.locator(".msg.bot pre").evaluate(PRE_LINE_WIDTHS)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path="/tmp/i10d-phone.png")
        await page.screenshot(path=str(ARTIFACTS / "sandbox-phone.png"))

        # "全部 · All" opens every persona and the new-user form; picking one closes it again
        await page.locator("#drawer-toggle").click()
        await page.locator(".new-user input").wait_for(state="visible")
        await page.screenshot(path="/tmp/i10d-phone-drawer.png")
        drawer_personas = await page.locator("#personas .person:visible").count()
        await page.locator(f'#personas .person[data-user-id="{PERSONAS[2].user_id}"]').click()
        await page.locator(".new-user input").wait_for(state="hidden")
        second = page.locator(f'.chat[data-user-id="{PERSONAS[2].user_id}"]')
        await second.wait_for()
        await page.wait_for_timeout(600)  # the smooth scroll to the new chat
        second_box = await second.bounding_box()
        await page.close()

    height, width = PHONE["height"], PHONE["width"]
    assert sidebar["height"] < 0.25 * height, f"the persona list takes {sidebar['height']} px"
    assert composer["y"] >= 0, composer
    assert composer["y"] + composer["height"] <= height, composer
    assert composer["width"] > 0.5 * width, composer  # the chat is not squeezed
    # the last message is on screen, inside the message list, above the input
    assert messages["y"] <= last["y"], (last,)
    assert last["y"] + last["height"] <= composer["y"], (last,)
    assert last["x"] >= 0, last
    assert last["x"] + last["width"] <= width, last

    sent = datetime.fromtimestamp(state.history(PERSONAS[0].user_id)[-1]["date"], tz=UTC)
    beijing = sent.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    assert shown_time == beijing, (shown_time, beijing)

    # East Asian width: every line of the table is 20 columns, so every line is as wide
    assert len(pre_widths) == 4, pre_widths
    assert max(pre_widths) - min(pre_widths) < 1.0, pre_widths

    assert drawer_personas == len(PERSONAS)
    assert second_box is not None
    assert abs(second_box["x"]) < 2


async def test_without_an_emoji_font_buttons_show_no_boxes(
    sandbox: RunningSandbox, bot: Bot, state: SandboxState, browser_without_emoji_font: Any
) -> None:
    state.add_persona(PERSONAS[0])
    async with polling(bot, phone_router()):
        page, chat = await open_chat(sandbox, browser_without_emoji_font, viewport=PHONE)
        inline = await chat.locator(".inline-btn").all_inner_texts()
        reply = await chat.locator(".reply-btn").all_inner_texts()
        text = await chat.locator(".msg.bot:last-child .text").inner_text()
        await page.screenshot(path="/tmp/i10d-phone-no-emoji.png")
        await page.close()

    assert inline == ["确认发布", "取消"]
    assert reply == ["发布缺工", "设为赋闲"]
    assert text.startswith("晋中 日报"), text


@pytest.mark.skipif(not EMOJI_FONT.exists(), reason="needs fonts-noto-color-emoji")
async def test_with_an_emoji_font_the_buttons_keep_their_emoji(
    sandbox: RunningSandbox, bot: Bot, state: SandboxState, browser: Any
) -> None:
    state.add_persona(PERSONAS[0])
    async with polling(bot, phone_router()):
        page, chat = await open_chat(sandbox, browser, viewport=PHONE)
        inline = await chat.locator(".inline-btn").all_inner_texts()
        text = await chat.locator(".msg.bot:last-child .text").inner_text()
        await page.close()

    assert inline == ["✅ 确认发布", "🔴 取消"]
    assert text.startswith("📊 晋中 日报"), text
