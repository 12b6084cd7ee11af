"""Two real `jingong serve` processes on loopback, sharing this machine's PostgreSQL and Redis,
talking to the sandbox Bot API emulator (run in a thread of this process).

One cluster per test module: a throw-away PostgreSQL database migrated by `jingong db upgrade`,
FSM keys in Redis DB 14 under a bot id made for this run (aiogram's keys start with
`fsm:<bot id>:`, so parallel runs never meet), a foreman pair and a regulator seeded through
tests/factories.py. Everything is torn down in the fixture's `finally`, bounded in time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
import redis

from core.config import Settings
from sandbox import FloodLimit, SandboxState, run_sandbox
from sandbox.server import RunningSandbox
from sandbox.state import CallbackQueryRecord
from tests.conftest import PG_ADMIN_DSN

T = TypeVar("T")

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 14
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
START_TIMEOUT = 90.0  # both processes to /readyz 200 (imports, migrations done before)
STOP_TIMEOUT = 40.0  # SIGTERM → exit (the app waits ≤ 25 s for updates in flight)
STEP_TIMEOUT = 30.0  # one bot reply

FOREMAN_TG = 810_001  # walks the shortage flow across both processes
RACER_TG = 810_002  # gets the same update sent to both processes
REGULATOR_TG = 810_003  # 太原's bureau: a daily digest due at 00:00 local, so due now
PROJECT_NAME = "太原南站项目"
FOREMAN_NAME, FOREMAN_PHONE = "张伟", "13912345678"
POST_SHORTAGE = "📝 发布缺工"
REGION = "140100"


# --- reachability --------------------------------------------------------------------------


def _unreachable() -> str | None:
    """Why this machine cannot run the scale-out tests, or None if it can."""
    for name, port in (("PostgreSQL", 5432), ("Redis", REDIS_PORT)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError as exc:
            return f"{name} is unreachable on 127.0.0.1:{port} ({exc}); `.ci/run` starts it"
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis on 127.0.0.1:{REDIS_PORT} does not answer PING ({exc})"
    return None


# --- running coroutines from sync fixtures ----------------------------------------------------


def run_async(coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
    """Run a coroutine to the end in a loop of its own (a fixture may sit inside a loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout)


# --- the emulator in a thread -----------------------------------------------------------------


class SandboxThread:
    """The sandbox Bot API on its own event loop and thread, so the tests' loops (one per test)
    and blocking fixture code never stall it. Read or change its state only through `call`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="sandbox", daemon=True)
        self._running: RunningSandbox | None = None

    def start(self) -> str:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(run_sandbox(self.state), self.loop)
        self._running = future.result(30)
        return self._running.url

    def call(self, fn: Callable[[SandboxState], T], timeout: float = 10.0) -> T:
        """Run `fn(state)` on the sandbox's loop (the state is not thread-safe) and return."""

        async def run() -> T:
            return fn(self.state)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def stop(self) -> None:
        if self._running is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._running.stop(), self.loop).result(15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(15)
        if not self._thread.is_alive():
            self.loop.close()


# --- the serve processes ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def jingong_command() -> list[str]:
    """The installed `jingong` script of this interpreter's environment."""
    script = Path(sys.executable).parent / "jingong"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from webhooks.main import main; sys.exit(main())"]


@dataclass
class ServeProcess:
    name: str
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_serve(name: str, env: dict[str, str], workdir: Path) -> ServeProcess:
    port = _free_port()
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [*jingong_command(), "serve", "--workers", "1", "--port", str(port)],
            cwd=workdir,  # away from the repository's .env
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return ServeProcess(name=name, port=port, log_path=log_path, proc=proc)


def wait_ready(processes: list[ServeProcess], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    pending = list(processes)
    with httpx.Client(timeout=3.0) as client:
        while pending:
            for process in list(pending):
                if process.proc.poll() is not None:
                    raise RuntimeError(f"{process.name} exited early:\n{process.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{process.url}/readyz").status_code == 200:
                        pending.remove(process)
            if pending and time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n{p.tail()}" for p in pending)
                raise RuntimeError(f"not ready after {timeout:.0f} s:\n{logs}")
            time.sleep(0.2)


# --- the cluster ------------------------------------------------------------------------------


@dataclass
class Cluster:
    settings: Settings  # what the processes read from their environment
    sandbox: SandboxThread
    processes: list[ServeProcess]
    webhook_secret: str
    project_id: int = 0
    regulator_account_id: int = 0
    _update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_000))
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(50_000))

    @property
    def bot_id(self) -> int:
        return int(self.settings.bot_token.get_secret_value().split(":", 1)[0])

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (pid {p.pid})\n{p.tail()}" for p in self.processes)

    def next_update_id(self) -> int:
        return next(self._update_ids)

    # --- Telegram's JSON, built by hand ---------------------------------------------------

    def user_json(self, user_id: int) -> dict[str, Any]:
        user = self.sandbox.call(lambda s: s.user(user_id).to_api())
        return user

    def message_update(self, user_id: int, text: str) -> dict[str, Any]:
        """A private text message as Telegram delivers it (kept in the emulator's chat too)."""

        def add(state: SandboxState) -> dict[str, Any]:
            chat = state.chats[user_id]
            return state.new_message(chat, chat.user.to_api(), text=text).to_api()

        return {"update_id": self.next_update_id(), "message": self.sandbox.call(add)}

    def callback_update(self, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A tap on an inline button of a bot message; the emulator learns the query id, as
        Telegram would, so answerCallbackQuery succeeds once."""
        query_id = str(secrets.randbits(62))

        def register(state: SandboxState) -> dict[str, Any]:
            state.callback_queries[query_id] = CallbackQueryRecord(
                id=query_id,
                user_id=user_id,
                message_id=message["message_id"],
                data=data,
                created=time.monotonic(),
            )
            return state.user(user_id).to_api()

        sender = self.sandbox.call(register)
        return {
            "update_id": self.next_update_id(),
            "callback_query": {
                "id": query_id,
                "from": sender,
                "message": message,
                "chat_instance": str(user_id * 7919),
                "data": data,
            },
        }

    # --- what the emulator saw ------------------------------------------------------------

    def bot_messages(self, user_id: int) -> list[dict[str, Any]]:
        """The bot's messages in this chat (current text and keyboard), oldest first."""

        def read(state: SandboxState) -> list[dict[str, Any]]:
            chat = state.chats[user_id]
            return [m.to_api() for m in chat.messages.values() if m.from_bot and not m.deleted]

        return self.sandbox.call(read)

    def callback_answered(self, query_id: str) -> bool:
        return self.sandbox.call(lambda s: s.callback_queries[query_id].answered)


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row if "callback_data" in b]


async def wait_for_button(
    cluster: Cluster,
    user_id: int,
    *,
    prefix: str = "",
    part: str = "",
    text: str | None = None,
    timeout: float = STEP_TIMEOUT,  # noqa: ASYNC109
) -> tuple[dict[str, Any], str]:
    """The newest bot message with an inline button whose callback data starts with `prefix`
    and contains `part` (and whose text is `text`): (the message as Telegram would send it,
    the button's data)."""
    deadline = time.monotonic() + timeout
    while True:
        for message in reversed(cluster.bot_messages(user_id)):
            for label, data in buttons(message):
                if data.startswith(prefix) and part in data and (text is None or label == text):
                    return message, data
        if time.monotonic() > deadline:
            shown = [(m.get("text", "")[:60], buttons(m)) for m in cluster.bot_messages(user_id)]
            raise AssertionError(
                f"no button {prefix!r} {part!r} {text or ''} after {timeout:.0f} s; "
                f"the chat shows {shown}\n{cluster.logs()}"
            )
        await asyncio.sleep(0.05)


async def post_update(
    client: httpx.AsyncClient, process: ServeProcess, update: dict[str, Any], secret: str
) -> httpx.Response:
    return await client.post(
        process.url + WEBHOOK_PATH, json=update, headers={SECRET_HEADER: secret}
    )


# --- seeding ----------------------------------------------------------------------------------


async def _seed(settings: Settings) -> tuple[int, int]:
    from core.bootstrap import build_services
    from core.domain.enums import Role
    from tests.factories import make_account, make_enterprise, make_project

    engine, services = build_services(settings)
    try:
        async with services.uow() as uow:
            enterprise = await make_enterprise(uow, name="山西五建集团", county_code="140105")
            project = await make_project(uow, enterprise, name=PROJECT_NAME)
            for tg_id, name, phone in (
                (FOREMAN_TG, FOREMAN_NAME, FOREMAN_PHONE),
                (RACER_TG, "李强", "13912340002"),
            ):
                await make_account(
                    uow,
                    role=Role.FOREMAN,
                    enterprise=enterprise,
                    projects=[project],
                    telegram_user_id=tg_id,
                    name=name,
                    phone=phone,
                )
            regulator = await make_account(
                uow,
                role=Role.REGULATOR,
                region_code=REGION,
                telegram_user_id=REGULATOR_TG,
                name="太原市住建局",
                phone=None,
            )
            regulator.digest_time = dtime(0, 0)  # due from local midnight on: due now
            await uow.commit()
            return project.id, regulator.id
    finally:
        await engine.dispose()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _drop_redis_keys(bot_id: int) -> None:
    with contextlib.suppress(redis.RedisError):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=5)
        keys = list(client.scan_iter(match=f"fsm:{bot_id}:*", count=500))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = _unreachable()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("scaleout")
    db_name = f"jingong_scaleout_{uuid.uuid4().hex[:10]}"
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    bot_id = 7_000_000_000 + secrets.randbelow(10**9)  # this run's FSM keys in Redis
    token = f"{bot_id}:SCALEOUT-{secrets.token_hex(8)}"
    webhook_secret = f"Scaleout_{secrets.token_urlsafe(24)}"
    secret_key = f"scaleout-{secrets.token_hex(16)}"
    state = SandboxState(token, flood=FloodLimit(per_chat_per_second=None, global_per_second=None))
    for tg_id, name in ((FOREMAN_TG, "张伟"), (RACER_TG, "李强"), (REGULATOR_TG, "住建局")):
        state.create_user(name, user_id=tg_id, started=True)  # they have written to the bot
    sandbox = SandboxThread(state)
    processes: list[ServeProcess] = []
    created = False
    try:
        run_async(_admin(f'CREATE DATABASE "{db_name}"'))
        created = True
        api_base = sandbox.start()
        env = {
            **os.environ,
            "DATA_DIR": str(workdir / "data"),
            "DATABASE_URL": f"{base}/{db_name}",
            "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
            "SECRET_KEY": secret_key,
            "BOT_TOKEN": token,
            "TELEGRAM_API_BASE": api_base,
            "WEBHOOK_SECRET": webhook_secret,
            "WEBHOOK_BASE_URL": "",  # updates are POSTed by the tests: no setWebhook
            "WEBHOOK_PATH": WEBHOOK_PATH,
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        upgrade = subprocess.run(
            [*jingong_command(), "db", "upgrade"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=workdir / "data",
            database_url=env["DATABASE_URL"],
            redis_url=env["REDIS_URL"],
            secret_key=secret_key,  # type: ignore[arg-type]
            bot_token=token,  # type: ignore[arg-type]
            telegram_api_base=api_base,
            webhook_secret=webhook_secret,  # type: ignore[arg-type]
        )
        project_id, regulator_id = run_async(_seed(settings))
        processes = [start_serve(name, env, workdir) for name in ("serve-a", "serve-b")]
        wait_ready(processes)
        yield Cluster(
            settings=settings,
            sandbox=sandbox,
            processes=processes,
            webhook_secret=webhook_secret,
            project_id=project_id,
            regulator_account_id=regulator_id,
        )
    finally:
        for process in processes:
            process.stop()
        sandbox.stop()
        _drop_redis_keys(bot_id)
        if created:
            run_async(_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


def now_utc() -> datetime:
    return datetime.now(UTC)
