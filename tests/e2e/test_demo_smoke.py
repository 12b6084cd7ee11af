"""`jingong demo` starts, serves the page with its personas, and stops cleanly and quickly."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.demo.app import start_demo
from bot.demo.world import PERSONA_SPECS
from core.domain.enums import Role
from sandbox.client import SandboxClient

ROOT = Path(__file__).resolve().parents[2]
STOP_BOUND = 60.0  # seconds; stop does not wait for chart renders or long polls
MAIN = "import sys; from webhooks.main import main; sys.exit(main())"


async def test_the_demo_serves_the_page_and_its_personas_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    demo = await start_demo(tmp_path / "demo", port=0)
    try:
        async with httpx.AsyncClient(base_url=demo.url, trust_env=False) as http:
            page = await http.get("/")
            personas = (await http.get("/sandbox/api/personas")).json()
            info = (await http.get("/sandbox/api/info")).json()
    finally:
        # the event that matters is that stop() returns with everything ended; the bound is
        # generous for a loaded machine (it takes ~1-3 s, see STOP_BOUND)
        await asyncio.wait_for(demo.stop(), STOP_BOUND)

    assert page.status_code == 200
    assert "晋工调度" in page.text
    assert [p["user_id"] for p in personas] == [s.user_id for s in PERSONA_SPECS]
    labels = [p["role"] for p in personas]
    assert labels[0].startswith("太原 · 项目工长")
    assert any(label.startswith("临汾 · 劳务调度") for label in labels)
    assert any(label.startswith("晋中 · 住建监管") for label in labels)
    assert info["bot"]["is_bot"] is True
    assert demo.world.seeded_now is True
    # nothing left running in this loop, and the page is gone
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    async with httpx.AsyncClient(trust_env=False) as http:
        try:
            await http.get(demo.url, timeout=1)
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the sandbox still answers after stop()")


async def test_a_second_run_reuses_the_database_and_the_bot_still_answers(
    tmp_path: Path,
) -> None:
    from core.services.accounts import get_account_by_telegram

    first = await start_demo(tmp_path / "demo", port=0, scheduler=False)
    await first.stop()
    second = await start_demo(tmp_path / "demo", port=0, scheduler=False)
    try:
        # each persona is an ordinary bound account: right role, a phone, no onboarding left
        async with second.services.uow() as uow:
            accounts = [await get_account_by_telegram(uow, p.user_id) for p in second.personas]
        # regression: the emulator numbered updates from 1 again and the bot dropped them as
        # repeats of the first run's (update ids are deduplicated in the database)
        async with SandboxClient(second.url) as client:
            greeted = [
                [m.text for m in await client.user(p.user_id).history() if m.from_bot]
                for p in second.personas
            ]
    finally:
        await second.stop()

    assert second.world.seeded_now is False
    assert [(p.key, p.account_id) for p in second.personas] == [
        (p.key, p.account_id) for p in first.personas
    ]
    for persona, account, answers in zip(second.personas, accounts, greeted, strict=True):
        assert any(persona.name in text for text in answers), (persona.key, answers)
        assert account is not None
        assert account.active
        assert account.phone
        assert account.chat_id == persona.user_id
        assert account.role is persona.role
        if account.role is Role.FOREMAN:
            assert account.project_ids


def test_the_command_stops_on_sigint_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "BOT_TOKEN": "", "DATABASE_URL": "sqlite+aiosqlite:////nonexistent/x.db"}
    process = subprocess.Popen(
        [sys.executable, "-c", MAIN, "demo", "--port", "0", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    for line in process.stdout:  # until it says it is up
        lines.append(line)
        if "Ctrl-C" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=STOP_BOUND)  # until the process has exited
    output = "".join(lines) + out

    assert process.returncode == 0, err
    assert "http://127.0.0.1:" in output
    assert "张建军" in output
    assert "stopped in" in output
    assert "Traceback" not in err, err
    assert "Error" not in err, err


async def test_stopping_while_the_bot_answers_finishes_those_updates_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    demo = await start_demo(tmp_path / "demo", port=0, scheduler=False, greet=False)
    state = demo.sandbox.state
    try:
        for persona in demo.personas:
            state.user_send_text(persona.user_id, "/start")
        deadline = time.monotonic() + 30
        while not any(  # the bot took the updates and is answering them
            m.from_bot for p in demo.personas for m in state.chats[p.user_id].messages.values()
        ):
            assert time.monotonic() < deadline, "the bot never answered /start"
            await asyncio.sleep(0.01)
    finally:
        with caplog.at_level(logging.ERROR):
            await asyncio.wait_for(demo.stop(), STOP_BOUND)

    # regression: the FSM storage and its per-user locks were closed under the handlers still
    # answering, and every one of them failed with a KeyError
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    answered = [
        any(m.from_bot for m in state.chats[p.user_id].messages.values()) for p in demo.personas
    ]
    assert all(answered), answered
