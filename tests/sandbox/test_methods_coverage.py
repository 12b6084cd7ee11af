"""Every Bot API method the bot's code calls must exist in the emulator.

The scan reads the source (no imports, so half-written modules don't break it): calls on a Bot
(`bot.send_message`), aiogram's shortcuts on updates (`message.answer`, `callback.answer`,
`callback.message.edit_text`), method objects (`SendMessage(...)`) and helpers that call the API
(`ChatActionSender`, `bot.download`). Shortcut → method pairs come from aiogram's own return
annotations, so a new aiogram shortcut is understood without editing this file.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections import defaultdict
from functools import cache
from pathlib import Path

import aiogram.methods
import aiogram.types
from aiogram import Bot
from aiogram.types import TelegramObject

from sandbox.botapi import SUPPORTED_METHODS

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "webhooks")
SKIPPED_DIRS = {"tests", "sandbox", "core", ".venv", "node_modules", "__pycache__", "bench"}
# helpers that call the API without a method name of their own
EXTRA_CALLS = {
    "download": "getFile",
    "ChatActionSender": "sendChatAction",
    "ChatActionMiddleware": "sendChatAction",
    "start_polling": "getUpdates",
    "run_polling": "getUpdates",
    "send_copy": "sendMessage",
}
# names too common outside aiogram to count unless the receiver looks like a bot
GENERIC = {"close", "download", "delete", "forward", "answer", "reply", "pin", "unpin", "do"}
RECEIVER_HINTS = (
    ("callback", "CallbackQuery"),
    ("call", "CallbackQuery"),
    ("query", "CallbackQuery"),
    ("cb", "CallbackQuery"),
    ("message", "Message"),
    ("msg", "Message"),
)


@cache
def api_method_classes() -> dict[str, str]:
    """aiogram method class name → Bot API method name."""
    result = {}
    for name, cls in vars(aiogram.methods).items():
        api = getattr(cls, "__api_method__", None) if isinstance(cls, type) else None
        if isinstance(api, str):
            result[name] = api
    return result


@cache
def bot_methods() -> dict[str, str]:
    """`Bot` method name (send_message) → Bot API method name (sendMessage)."""
    result = {}
    for api in api_method_classes().values():
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", api).lower()
        if hasattr(Bot, snake):
            result[snake] = api
    return result


@cache
def shortcuts() -> dict[str, dict[str, str]]:
    """shortcut → {aiogram type → Bot API method}, e.g. answer: {Message: sendMessage, ...}."""
    classes = api_method_classes()
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for type_name, cls in vars(aiogram.types).items():
        if not (isinstance(cls, type) and issubclass(cls, TelegramObject)):
            continue
        for attr in dir(cls):
            if attr.startswith("_"):
                continue
            returns = getattr(getattr(cls, attr, None), "__annotations__", {}).get("return")
            name = returns if isinstance(returns, str) else getattr(returns, "__name__", None)
            if name in classes:
                result[attr][type_name] = classes[name]
    return dict(result)


def _annotation_types(node: ast.expr | None) -> set[str]:
    """Type names mentioned in an annotation: `Message | None` → {"Message"}."""
    if node is None:
        return set()
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            names.update(re.findall(r"[A-Za-z_]\w*", sub.value))
    return names


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.used: dict[str, set[str]] = defaultdict(set)  # api method → where
        self.where = ""
        self.scopes: list[dict[str, set[str]]] = [{}]

    def _types_of(self, receiver: ast.expr) -> set[str]:
        if isinstance(receiver, ast.Name):
            for scope in reversed(self.scopes):
                if receiver.id in scope:
                    return scope[receiver.id]
        if isinstance(receiver, ast.Attribute) and receiver.attr == "message":
            return {"Message"}  # callback.message, event.message
        text = ast.unparse(receiver).lower().rsplit(".", 1)[-1]
        for hint, type_name in RECEIVER_HINTS:
            if hint in text:
                return {type_name}
        return set()

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        self.scopes.append({a.arg: _annotation_types(a.annotation) for a in args})
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.scopes[-1][node.target.id] = _annotation_types(node.annotation)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in EXTRA_CALLS and node.id[0].isupper():
            self.used[EXTRA_CALLS[node.id]].add(self.where)
        if node.id in api_method_classes():
            self.used[api_method_classes()[node.id]].add(self.where)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            self._attribute_call(func.attr, func.value)
        self.generic_visit(node)

    def _attribute_call(self, name: str, receiver: ast.expr) -> None:
        receiver_text = ast.unparse(receiver).lower()
        looks_like_bot = "bot" in receiver_text
        if name in GENERIC and not looks_like_bot and not self._types_of(receiver):
            return
        api: str | None = None
        if name in shortcuts() and not (looks_like_bot and name in bot_methods()):
            candidates = shortcuts()[name]
            known = self._types_of(receiver) & candidates.keys()
            if known:
                api = candidates[sorted(known)[0]]
            elif len(set(candidates.values())) == 1:
                api = next(iter(candidates.values()))
            else:
                api = candidates.get("Message")  # most ambiguous shortcuts live on messages
        elif name in bot_methods():
            api = bot_methods()[name]
        elif name in EXTRA_CALLS:
            api = EXTRA_CALLS[name]
        if api is not None:
            self.used[api].add(self.where)


def scan_source(source: str, where: str = "<string>") -> dict[str, set[str]]:
    scanner = _Scanner()
    scanner.where = where
    scanner.visit(ast.parse(source))
    return dict(scanner.used)


def project_files() -> list[Path]:
    files = [p for top in SCANNED if (ROOT / top).is_dir() for p in (ROOT / top).rglob("*.py")]
    # other packages that talk to Telegram (a scheduler, a CLI) count too
    for path in ROOT.glob("*/**/*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIPPED_DIRS or any(p.startswith(".") for p in parts) or path in files:
            continue
        if "aiogram" in path.read_text(encoding="utf-8", errors="replace"):
            files.append(path)
    return sorted(files)


def used_methods() -> dict[str, set[str]]:
    used: dict[str, set[str]] = defaultdict(set)
    for path in project_files():
        where = str(path.relative_to(ROOT))
        try:
            found = scan_source(path.read_text(encoding="utf-8"), where)
        except SyntaxError as error:  # someone is mid-edit; the other tests will catch it
            warnings.warn(f"skipped {where}: {error}", stacklevel=1)
            continue
        for api, places in found.items():
            used[api] |= places
    return dict(used)


def test_the_scanner_maps_aiogram_calls_to_bot_api_methods() -> None:
    source = """
from aiogram import Bot
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message
from aiogram.utils.chat_action import ChatActionSender

async def on_text(message: Message, bot: Bot) -> None:
    await message.answer("hi")
    await message.answer_photo(photo)
    await message.reply_document(doc)
    await bot.send_message(1, "x")
    await bot.download(file_id)
    async with ChatActionSender.typing(bot=bot, chat_id=1):
        pass
    await bot(SendMessage(chat_id=1, text="x"))

async def on_button(callback: CallbackQuery) -> None:
    await callback.answer("ok")
    await callback.message.edit_text("y")
    await callback.message.edit_reply_markup(reply_markup=None)
    await callback.message.delete()

async def unrelated(engine, session) -> None:
    await engine.dispose()
    await session.close()
    items.delete()
"""
    used = scan_source(source)

    assert set(used) == {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "getFile",
        "sendChatAction",
        "answerCallbackQuery",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
    }


def test_the_emulator_implements_every_method_the_bot_uses() -> None:
    used = used_methods()

    missing = {api: sorted(places) for api, places in used.items() if api not in SUPPORTED_METHODS}

    assert not missing, f"the sandbox emulator lacks Bot API methods the bot calls: {missing}"


def test_the_emulator_covers_what_any_aiogram_bot_needs_to_start() -> None:
    assert {"getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo"} <= (
        SUPPORTED_METHODS
    )
