"""Updates per second through the webhook: our bot (`jingong serve`) next to a bare aiogram echo
bot behind the same kind of route, on loopback, with the Bot API replaced by a local stub.

    .venv/bin/python -m bench.webhook_throughput                 # 10,000 users, ~15 min
    .venv/bin/python -m bench.webhook_throughput --users 2000    # a quicker look
    .venv/bin/python -m bench.webhook_throughput --users 200 --servers ours \
        --db sqlite postgresql --redis --processes 1 2             # production-like, side by side

With several --db / --processes values our server runs once per combination, each on a fresh
database (PostgreSQL: a throw-away database on JINGONG_BENCH_PG, dropped after), in one run so
the numbers share the machine's load. --redis gives our server Redis (FSM storage, isolation)
on db JINGONG_BENCH_REDIS_DB (11) on PostgreSQL runs (SQLite runs stay the single-box setup
they are compared with), flushed before each server and after the run.

Processes (2 cores on the reference machine: one for the server, one for everything else):
- the server under test, a subprocess, one at a time, same uvicorn options for all (uvloop,
  httptools, no access log):
  - ours: `jingong serve --workers 1`, the production factory webhooks.app:create_app_from_env
    with the real dispatcher, SQL FSM storage, the outbox sender and the scheduler, on a SQLite
    file in a temp dir, JSON logs at INFO to a file;
  - echo: `--serve-echo`, a bare aiogram echo bot behind a minimal FastAPI route (the same
    secret check, JSON parsing, `Update.model_validate`, `dp.feed_update` in a background
    task, 200 `{}`), no database at all;
  - echo-route: `--serve-echo-route`, the same echo dispatcher behind OUR route, i.e.
    webhooks.app.create_app with the durable store of every update before answering, the
    JSON access log and the row marked done after: the issue's "echo bot behind the same
    route". The difference between the two echoes is what the route's durability costs;
- this process: the load generator (aiohttp client, N concurrent virtual users) and the stub
  Bot API (aiohttp server, answers every method at once, sendMessage / editMessageText with a
  valid Message). The stub is how a virtual user sees the bot's reply, so it is also how
  processing is measured end to end: the webhook answers 200 as soon as the update is stored,
  before any handler runs.

Measurements, for each server:
1. burst: B distinct users each send one update (menu taps 🔍, 📝 and 📋)
   as fast as N connections allow. "accept" = B / time until the last HTTP 200; "end to end"
   = B / time until the stub has seen every reply.
2. flows (the honest number): U distinct users each walk one complete flow, each step sent
   only after the bot's reply to the previous one arrived (reading the keyboard of that reply
   for the next callback data, as the Telegram client would):
     🔍 用工搜索 → first results page (🔍 查看结果) → next page (下一页 ▶) →
     📝 发布缺工 → 抹灰工 → 三级 → 4 人 → the first price button → the profile contact → Confirm
   = 10 updates (2 menu taps, 2 search pages, 6 posting steps). Updates/s end to end, p50/p95
   of the HTTP answer and of the reply, and (ours) the worker's RSS (/proc/<pid>/status VmRSS)
   when 25 %, 50 % and 100 % of the users have finished, then after the flows settled.
   The echo bots walk the same ten updates with fixed callback data (they show no keyboards).
Ratio = ours / echo and ours / echo-route, end to end, flows. Targets: ratio >= 0.5 on
SQLite; RSS < 250 MB, flat.
After the run the SQLite file is checked: one shortage per finished user, no update left
unprocessed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message, Update
from aiohttp import web
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BOT_ID = 6_000_000_001
USER_BASE = 900_000_000  # Telegram ids of the bench foremen
REPLY_TIMEOUT = 60.0  # s a virtual user waits for the bot's reply
MILESTONES = (0.25, 0.5, 1.0)
RSS_TARGET_MB = 250.0
# the echo behind our route stores its updates in the same database: ids apart from ours
ECHO_ROUTE_FIRST_UPDATE_ID = 1_000_000_000
RATIO_TARGET = 0.5
SERVERS = ("echo", "echo-route", "ours")

SEARCH_TEXT = "🔍 用工搜索"
POST_TEXT = "📝 发布缺工"
MY_POSTINGS_TEXT = "📋 我的发布"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞")


# --- the flow a virtual user walks ------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One update: a text, or a tap on the button whose callback data starts with `prefix`
    (and ends with `suffix`) on the bot's last reply; `fixed` when the bot shows none (echo)."""

    text: str | None = None
    prefix: str = ""
    suffix: str = ""
    part: str = ""  # … and contains this
    fixed: str = ""


FLOW: tuple[Step, ...] = (
    # the dialogs (aiogram-dialog): "<intent id>\x1d<widget id>[:<item>]"
    Step(text=SEARCH_TEXT),
    Step(part="\x1dgo", fixed="i\x1dgo"),
    Step(part="\x1dsr_x", fixed="i\x1dsr_x"),
    Step(text=POST_TEXT),
    Step(part="\x1dtrade:plasterer", fixed="i\x1dtrade:plasterer"),
    Step(part="\x1dgrade:3", fixed="i\x1dgrade:3"),
    Step(part="\x1dn:4", fixed="i\x1dn:4"),
    Step(part="\x1dprice:", fixed="i\x1dprice:5000"),
    Step(part="\x1dme", fixed="i\x1dme"),
    Step(part="\x1dconfirm", fixed="i\x1dconfirm"),
)
BURST_MIX: tuple[Step, ...] = (
    Step(text=SEARCH_TEXT),
    Step(text=POST_TEXT),
    Step(text=MY_POSTINGS_TEXT),
)


def pct(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


# --- seeding (ours) ---------------------------------------------------------------------------


async def seed(database_url: str, data_dir: Path, secret_key: str, count: int) -> int:
    """Migrate, seed the small demo market, add `count` bound foremen (one project each).
    Returns the number of open idle postings (what a foreman's search pages through)."""
    from sqlalchemy import func, insert, select

    from core.bootstrap import build_services
    from core.cli.common import upgrade_database
    from core.config import Settings
    from core.db.models import Account, AccountProject, IdlePosting, Project
    from core.seed import seed_demo

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key,  # type: ignore[arg-type]
    )
    engine, services = build_services(settings)
    try:
        await upgrade_database(engine, services)
        await seed_demo(services, scale="small")
        async with services.uow() as uow:
            projects = (
                await uow.session.execute(
                    select(Project.id, Project.enterprise_id)
                    .where(Project.status == "active")
                    .order_by(Project.id)
                )
            ).all()
            first_id = int(await uow.session.scalar(select(func.max(Account.id))) or 0) + 1
            now = uow.now()
            accounts, links = [], []
            for n in range(count):
                project_id, enterprise_id = projects[n % len(projects)]
                name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]
                accounts.append(
                    {
                        "id": first_id + n,
                        "telegram_user_id": USER_BASE + n,
                        "chat_id": USER_BASE + n,
                        "display_name": name,
                        "locale": "zh",
                        "role": "foreman",
                        "enterprise_id": enterprise_id,
                        "phone": f"139{n:08d}",
                        "created_at": now,
                    }
                )
                links.append({"account_id": first_id + n, "project_id": project_id})
            for start in range(0, count, 2000):
                await uow.session.execute(insert(Account), accounts[start : start + 2000])
                await uow.session.execute(insert(AccountProject), links[start : start + 2000])
            await uow.commit()
        async with services.uow() as uow:
            return int(
                await uow.session.scalar(
                    select(func.count())
                    .select_from(IdlePosting)
                    .where(IdlePosting.status == "open")
                )
                or 0
            )
    finally:
        await engine.dispose()


async def check_database(database_url: str, flow_users: range) -> dict[str, int]:
    """After the run: shortages posted by the flow users, updates never processed."""
    from sqlalchemy import func, select

    from core.db.engine import create_engine
    from core.db.models import Account, ProcessedUpdate, ShortagePosting

    engine = create_engine(url=database_url)
    try:
        async with engine.connect() as conn:
            posted = await conn.scalar(
                select(func.count(func.distinct(ShortagePosting.posted_by_account_id)))
                .select_from(ShortagePosting)
                .join(Account, Account.id == ShortagePosting.posted_by_account_id)
                .where(
                    Account.telegram_user_id.between(
                        USER_BASE + flow_users.start, USER_BASE + flow_users.stop - 1
                    )
                )
            )
            ours = ProcessedUpdate.update_id < ECHO_ROUTE_FIRST_UPDATE_ID
            pending = await conn.scalar(
                select(func.count())
                .select_from(ProcessedUpdate)
                .where(ours, ProcessedUpdate.raw.is_not(None))
            )
            total = await conn.scalar(
                select(func.count()).select_from(ProcessedUpdate).where(ours)
            )
        return {
            "posted": int(posted or 0),
            "unprocessed": int(pending or 0),
            "updates": total or 0,
        }
    finally:
        await engine.dispose()


# --- the stub Bot API (in this process) -------------------------------------------------------


class StubBotApi:
    """Answers every Bot API call at once. sendMessage / editMessageText to a chat wake the
    virtual user waiting on that chat with the reply's keyboard."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.waiters: dict[int, asyncio.Future[dict[str, Any] | None]] = {}
        self.calls: dict[str, int] = {}
        self.visible = 0  # sendMessage + editMessageText, any chat
        self.unexpected = 0  # visible replies nobody waited for
        self._message_ids = itertools.count(1_000)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def expect(self, chat_id: int) -> asyncio.Future[dict[str, Any] | None]:
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self.waiters[chat_id] = future
        return future

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401}, status=401)
        method = request.match_info["method"]
        self.calls[method] = self.calls.get(method, 0) + 1
        if request.content_type == "application/json":
            params: Any = await request.json()
        else:
            params = await request.post()
        if method == "getMe":
            me = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "晋工调度",
                "username": "jg_bench_bot",
            }
            return web.json_response({"ok": True, "result": me})
        if method not in ("sendMessage", "editMessageText") or not params.get("chat_id"):
            return web.json_response({"ok": True, "result": True})
        chat_id = int(params["chat_id"])
        self.visible += 1
        markup = params.get("reply_markup")
        waiter = self.waiters.pop(chat_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(json.loads(markup) if isinstance(markup, str) else markup)
        else:
            self.unexpected += 1
        message = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "晋工调度"},
            "text": str(params.get("text") or ""),
        }
        return web.json_response({"ok": True, "result": message})


# --- the server processes ---------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    kind: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    stop_signal: int = signal.SIGTERM

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _tree(self) -> list[int]:
        """The server's pid and its descendants (uvicorn's workers with --workers N)."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    parents[int(entry.name)] = int(fields[1])
        tree = [self.proc.pid]
        for pid in tree:
            tree.extend(child for child, parent in parents.items() if parent == pid)
        return tree

    def rss_mb(self) -> float:
        """Summed over the server's processes."""
        total = 0.0
        for pid in self._tree():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        return total

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's live processes (and their reaped children)."""
        total = 0
        for pid in self._tree():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    async def wait_ready(self, timeout: float = 120.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.kind} server exited:\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(self.url + "/healthz") as response:
                        if response.status in (200, 404):  # echo has no /healthz
                            return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.kind} server not up:\n{self.tail()}")
                await asyncio.sleep(0.2)

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_server(
    kind: str,
    env: dict[str, str],
    workdir: Path,
    *,
    profile: Path | None = None,
    processes: int = 1,
    py_spy: Path | None = None,
) -> Server:
    port = _free_port()
    if kind == "ours":
        script = Path(sys.executable).parent / "jingong"
        command = [str(script), "serve", "--workers", str(processes), "--port", str(port)]
        if profile is not None:  # cProfile around the same CLI; stats written on SIGTERM
            code = (  # uvicorn re-raises SIGTERM after its shutdown: exit, don't die
                "import cProfile, signal, sys; from webhooks.main import main; "
                "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
                f"sys.argv = ['jingong', 'serve', '--workers', '1', '--port', '{port}']; "
                f"cProfile.run('main()', {str(profile)!r})"
            )
            command = [sys.executable, "-c", code]
        if py_spy is not None:  # sampled from outside (launched: attaching needs ptrace rights)
            spy = Path(sys.executable).parent / "py-spy"
            record = [str(spy), "record", "--nonblocking", "-r", "200", "-f", "raw"]
            command = [*record, "--subprocesses", "-o", str(py_spy), "--", *command]
        cwd = workdir  # away from the repository's .env
    else:
        flag = "--serve-echo-route" if kind == "echo-route" else "--serve-echo"
        command = [sys.executable, "-m", "bench.webhook_throughput", flag, str(port)]
        cwd = workdir  # away from the repository's .env, like ours
        env = {**env, "PYTHONPATH": str(ROOT)}
    log_path = workdir / f"{kind}-{env['BENCH_LABEL']}.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    server = Server(kind=kind, proc=proc, port=port, log_path=log_path)
    if py_spy is not None:
        server.stop_signal = signal.SIGINT  # py-spy writes its samples and ends the server
    return server


# --- the echo bot (its own process: --serve-echo PORT) ----------------------------------------


def echo_dispatcher() -> Dispatcher:
    """A bare aiogram echo bot: echoes a text, answers and edits on a callback."""
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    @dp.callback_query()
    async def echo_tap(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(query.data or "…")

    return dp


def create_echo_route_app() -> FastAPI:
    """The echo bot behind OUR webhook route: webhooks.app.create_app with everything it
    does per update (secret check, body limit, JSON access log, the durable store of the raw
    update before answering, background processing, the row marked done after), only the
    dispatcher is the echo one (no sender, no scheduler: the echo queues nothing)."""
    from core.config import get_settings
    from webhooks.app import create_app
    from webhooks.logging import configure_logging

    get_settings.cache_clear()
    settings = get_settings()
    configure_logging("INFO", secrets=[settings.webhook_secret.get_secret_value()])
    return create_app(settings, dispatcher=echo_dispatcher(), freeze_startup_objects=True)


def create_echo_app() -> FastAPI:
    """A bare aiogram echo bot behind a minimal FastAPI route (secret, parse, feed); its
    start-up objects frozen out of the GC like ours."""
    secret = os.environ["WEBHOOK_SECRET"].encode()
    tasks: set[asyncio.Task[Any]] = set()
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"])),
    )
    dp = echo_dispatcher()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        gc.collect()  # what our app does after its start-up: a fair baseline
        gc.freeze()
        yield
        await asyncio.gather(*tasks, return_exceptions=True)
        await bot.session.close()

    app = FastAPI(lifespan=lifespan)

    async def webhook(request: Request) -> JSONResponse:
        presented = request.headers.get(SECRET_HEADER)
        if presented is None or not secrets.compare_digest(presented.encode(), secret):
            return JSONResponse({"error": "error.webhook_secret"}, status_code=401)
        try:
            data = json.loads(await request.body())
            update = Update.model_validate(data, context={"bot": bot})
        except ValueError:
            return JSONResponse({"error": "error.bad_update"}, status_code=400)
        task = asyncio.create_task(dp.feed_update(bot, update))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({})

    app.add_api_route(WEBHOOK_PATH, webhook, methods=["POST"])
    return app


def serve_echo(port: int, factory: str = "create_echo_app") -> None:
    import uvicorn

    # the options `jingong serve` passes to uvicorn
    uvicorn.run(
        f"bench.webhook_throughput:{factory}",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=1,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=True,
        timeout_graceful_shutdown=30,
    )


# --- the load generator -----------------------------------------------------------------------


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "工长", "language_code": "zh"}


@dataclass
class Stats:
    http_ms: list[float] = field(default_factory=list)
    reply_ms: list[float] = field(default_factory=list)
    updates: int = 0
    errors: list[str] = field(default_factory=list)
    finished_users: int = 0
    seconds: float = 0.0
    accept_seconds: float = 0.0
    server_cpu: float = 0.0
    rss: list[tuple[str, float]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


class Load:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        stub: StubBotApi,
        secret: str,
        first_update_id: int = 1,
    ):
        self.http = http
        self.url = url + WEBHOOK_PATH
        self.stub = stub
        self.headers = {SECRET_HEADER: secret, "Content-Type": "application/json"}
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1)

    def message(self, user_id: int, text: str) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": next(self._message_ids),
                "date": _now(),
                "chat": {"id": user_id, "type": "private", "first_name": "工长"},
                "from": _user(user_id),
                "text": text,
            },
        }

    def callback(self, user_id: int, data: str, message_id: int) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(secrets.randbits(62)),
                "from": _user(user_id),
                "chat_instance": str(user_id),
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": _now(),
                    "chat": {"id": user_id, "type": "private", "first_name": "工长"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "晋工调度"},
                    "text": "…",
                },
            },
        }

    async def post(self, update: dict[str, Any], stats: Stats) -> None:
        started = time.perf_counter()
        async with self.http.post(self.url, data=json.dumps(update), headers=self.headers) as r:
            await r.read()
            if r.status != 200:
                stats.errors.append(f"HTTP {r.status}")
        stats.http_ms.append((time.perf_counter() - started) * 1000)

    def update_for(
        self, user_id: int, step: Step, markup: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if step.text is not None:
            return self.message(user_id, step.text)
        rows = (markup or {}).get("inline_keyboard") or []
        found = [
            b["callback_data"]
            for row in rows
            for b in row
            if b.get("callback_data", "").startswith(step.prefix)
            and b["callback_data"].endswith(step.suffix)
            and step.part in b["callback_data"]
        ]
        if found:
            data = found[0]
        elif markup is None and step.fixed:  # the echo bot shows no keyboards
            data = step.fixed
        else:
            return None
        return self.callback(user_id, data, message_id=1)

    async def flow(self, user_id: int, steps: Sequence[Step], stats: Stats) -> bool:
        markup: dict[str, Any] | None = None
        for index, step in enumerate(steps):
            update = self.update_for(user_id, step, markup)
            if update is None:
                stats.errors.append(f"step {index}: no button {step.prefix!r}")
                return False
            reply = self.stub.expect(user_id)
            started = time.perf_counter()
            await self.post(update, stats)
            try:
                markup = await asyncio.wait_for(reply, REPLY_TIMEOUT)
            except TimeoutError:
                self.stub.waiters.pop(user_id, None)
                stats.errors.append(f"step {index}: no reply in {REPLY_TIMEOUT:.0f} s")
                return False
            stats.reply_ms.append((time.perf_counter() - started) * 1000)
            stats.updates += 1
        return True

    async def flows(
        self,
        users: Sequence[int],
        concurrency: int,
        server: Server,
        on_milestone: Callable[[int, int], Awaitable[None]] | None = None,
    ) -> Stats:
        stats = Stats()
        queue = iter(users)
        marks = sorted({max(1, round(len(users) * m)) for m in MILESTONES})
        cpu0, started = server.cpu_seconds(), time.perf_counter()

        async def virtual_user() -> None:
            for user_id in queue:
                if await self.flow(user_id, FLOW, stats):
                    stats.finished_users += 1
                    if marks and stats.finished_users >= marks[0]:
                        marks.pop(0)
                        if on_milestone is not None:
                            await on_milestone(stats.finished_users, stats.updates)

        await asyncio.gather(*(virtual_user() for _ in range(concurrency)))
        stats.seconds = time.perf_counter() - started
        stats.server_cpu = server.cpu_seconds() - cpu0
        return stats

    async def burst(self, users: Sequence[int], concurrency: int, server: Server) -> Stats:
        """One update per user, sent as fast as `concurrency` connections allow."""
        stats = Stats()
        if not users:  # --burst 0: RSS after the flows alone
            return stats
        updates = [
            self.update_for(user_id, BURST_MIX[n % len(BURST_MIX)], None)
            for n, user_id in enumerate(users)
        ]
        replies = {user_id: self.stub.expect(user_id) for user_id in users}
        pending = iter(updates)
        cpu0, started = server.cpu_seconds(), time.perf_counter()

        async def connection() -> None:
            for update in pending:
                assert update is not None
                await self.post(update, stats)

        await asyncio.gather(*(connection() for _ in range(concurrency)))
        stats.accept_seconds = time.perf_counter() - started
        _done, late = await asyncio.wait(replies.values(), timeout=REPLY_TIMEOUT * 2)
        stats.seconds = time.perf_counter() - started
        stats.server_cpu = server.cpu_seconds() - cpu0
        for future in late:
            future.cancel()
        stats.updates = len(users) - len(late)
        if late:
            stats.errors.append(f"{len(late)} burst updates got no reply")
        return stats


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    burst: Stats
    flows: Stats
    rss_start: float = 0.0
    rss_end: float = 0.0


async def measure(
    kind: str,
    env: dict[str, str],
    workdir: Path,
    stub: StubBotApi,
    *,
    flow_users: Sequence[int],
    warm_users: Sequence[int],
    burst_users: Sequence[int],
    concurrency: int,
    profile: Path | None = None,
    processes: int = 1,
    py_spy: Path | None = None,
) -> Result:
    server = start_server(
        kind,
        env,
        workdir,
        profile=profile if kind == "ours" else None,
        processes=processes,
        py_spy=py_spy if kind == "ours" else None,
    )
    try:
        await server.wait_ready()
        print(f"[{kind}] server pid {server.proc.pid} on {server.url}", flush=True)
        connector = aiohttp.TCPConnector(limit=concurrency * 2, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as http:
            first = ECHO_ROUTE_FIRST_UPDATE_ID if kind == "echo-route" else 1
            load = Load(http, server.url, stub, env["WEBHOOK_SECRET"], first)
            print(f"[{kind}] warm-up: {len(warm_users)} flows", flush=True)
            await load.flows(warm_users, min(concurrency, len(warm_users)), server)
            rss_start = server.rss_mb()
            print(f"[{kind}] burst: {len(burst_users)} updates", flush=True)
            burst = await load.burst(burst_users, concurrency, server)
            await asyncio.sleep(1.0)  # let the burst's stragglers finish
            print(f"[{kind}] flows: {len(flow_users)} users x {len(FLOW)} updates", flush=True)
            rss: list[tuple[str, float]] = []
            mark = [time.perf_counter(), 0]  # does the rate hold as the data grows?

            async def sample(done: int, updates: int) -> None:
                now = time.perf_counter()
                rate = (updates - mark[1]) / (now - mark[0])
                mark[:] = [now, updates]
                rss.append((f"{done:,} users", server.rss_mb()))
                print(
                    f"[{kind}]   {done:,} users done, RSS {rss[-1][1]:.1f} MB, "
                    f"{rate:.1f} updates/s since the last mark",
                    flush=True,
                )

            flows = await load.flows(flow_users, concurrency, server, on_milestone=sample)
            await asyncio.sleep(2.0)
            rss.append(("settled", server.rss_mb()))
            flows.rss = rss
        if server.proc.poll() is not None:
            raise RuntimeError(f"{kind} server died:\n{server.tail()}")
        return Result(kind, burst, flows, rss_start=rss_start, rss_end=rss[-1][1])
    finally:
        server.stop()


def report(
    results: dict[str, Result], checks: dict[str, dict[str, int]], args: argparse.Namespace
) -> None:
    print()
    print(
        f"webhook throughput: {args.users:,} users x {len(FLOW)} updates (flows), burst of "
        f"{args.burst:,}, {args.concurrency} concurrent connections, stub Bot API; "
        "CPU ms/upd = the server processes' user+system CPU per update"
    )
    width = max(6, *(len(kind) for kind in results))
    header = f"{'':{width}} {'mode':6} {'updates/s':>10} {'accept/s':>9} {'HTTP p50':>9} "
    header += f"{'HTTP p95':>9} {'reply p50':>10} {'reply p95':>10} {'srv CPU':>8} "
    header += f"{'CPU ms/upd':>10} {'RSS MB':>7} errors"
    print(header)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"(machine: {os.cpu_count()} CPUs, load average {load} at the end)")
    for kind, result in results.items():
        for mode, stats in (("burst", result.burst), ("flows", result.flows)):
            if not stats.updates:
                continue
            accept = stats.updates / stats.accept_seconds if stats.accept_seconds else 0.0
            reply = (
                f"{pct(stats.reply_ms, 0.5):8.1f}ms {pct(stats.reply_ms, 0.95):8.1f}ms"
                if stats.reply_ms
                else f"{'-':>10} {'-':>10}"
            )
            print(
                f"{kind:{width}} {mode:6} {stats.rate:10.1f} "
                f"{(f'{accept:9.1f}' if accept else '        -')} "
                f"{pct(stats.http_ms, 0.5):7.1f}ms {pct(stats.http_ms, 0.95):7.1f}ms {reply} "
                f"{stats.server_cpu / stats.seconds * 100 if stats.seconds else 0:7.0f}% "
                f"{stats.server_cpu * 1000 / stats.updates:10.2f} "
                f"{max((mb for _n, mb in stats.rss), default=result.rss_end):7.1f} "
                f"{len(stats.errors)}{' (' + stats.errors[0] + ')' if stats.errors else ''}"
            )
    ours = next((result for kind, result in results.items() if kind.startswith("ours")), None)
    for baseline in ("echo", "echo-route"):
        echo = results.get(baseline)
        if not (ours and echo and echo.flows.rate):
            continue
        ratio = ours.flows.rate / echo.flows.rate
        verdict = "ok" if ratio >= RATIO_TARGET else "BELOW TARGET"
        print(
            f"ratio ours/{baseline}, flows end to end: {ratio:.2f} "
            f"(target >= {RATIO_TARGET}) {verdict}"
        )
        if echo.burst.rate:
            print(
                f"ratio ours/{baseline}, burst end to end: {ours.burst.rate / echo.burst.rate:.2f}"
            )
    if ours:
        samples = [("after warm-up", ours.rss_start), *ours.flows.rss]
        print("RSS of our worker: " + ", ".join(f"{name} {mb:.1f} MB" for name, mb in samples))
        peak = max(mb for _name, mb in samples)
        growth = ours.flows.rss[-1][1] - ours.flows.rss[0][1]
        verdict = "ok" if peak < RSS_TARGET_MB else "ABOVE TARGET"
        print(
            f"RSS peak {peak:.1f} MB (target < {RSS_TARGET_MB:.0f} MB) {verdict}; growth from "
            f"{ours.flows.rss[0][0]} to settled: {growth:+.1f} MB"
        )
    for label, check in checks.items():
        print(
            f"database {label}: {check['posted']:,} of {args.users:,} flow users posted their "
            f"shortage; {check['unprocessed']} of {check['updates']:,} stored updates unprocessed"
        )
    print(f"stub Bot API calls: {dict(sorted(stub_calls.items()))}")


stub_calls: dict[str, int] = {}

PG_ADMIN_DSN = os.environ.get("JINGONG_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_DB = int(os.environ.get("JINGONG_BENCH_REDIS_DB", "11"))  # not a db the tests use


async def fresh_database(db: str, workdir: Path, label: str, throwaway: list[str]) -> str:
    """A new empty database for one server: a SQLite file, or a throw-away PostgreSQL
    database (remembered in `throwaway`, dropped at the end)."""
    slug = "".join(ch if ch.isalnum() else "_" for ch in label)
    if db == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / f'bench_{slug}.db'}"
    import asyncpg

    name = f"jingong_bench_{slug}_{secrets.token_hex(4)}".lower()
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    throwaway.append(name)
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def drop_postgres_database(name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def flush_redis(url: str) -> None:
    """Empties our bench's Redis db (only that one: FLUSHDB, never FLUSHALL)."""
    if not url:
        return
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def run(args: argparse.Namespace) -> int:
    # SIGTERM cancels the run like Ctrl-C does, so the `finally` blocks stop the servers
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    workdir = Path(tempfile.mkdtemp(prefix="jingong-bench-webhook-"))
    users = args.users
    flow_users = range(0, users)
    warm_users = range(users, users + args.warmup)
    burst_users = range(users + args.warmup, users + args.warmup + args.burst)
    total = users + args.warmup + args.burst
    secret_key = "bench-" + secrets.token_hex(16)
    token = f"{BOT_ID}:BENCH-{secrets.token_hex(8)}"
    webhook_secret = "Bench_" + secrets.token_urlsafe(24)
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}" if args.redis else ""
    throwaway: list[str] = []
    stub = StubBotApi(token)
    api = await stub.start()
    try:
        results: dict[str, Result] = {}
        checks: dict[str, dict[str, int]] = {}
        runs: list[tuple[str, str | None, int]] = [
            (kind, None, 1) for kind in args.servers if kind != "ours"
        ]
        if "ours" in args.servers:
            runs += [("ours", db, n) for db in args.db for n in args.processes]
        for kind, db, processes in runs:
            label = kind
            server_redis = redis_url if db == "postgresql" else ""  # SQLite: as today
            if kind == "ours":
                redis = "+redis" if server_redis else ""
                label = f"ours {'pg' if db == 'postgresql' else 'sqlite'}{redis} x{processes}"
            database_url = await fresh_database(db or "sqlite", workdir, label, throwaway)
            await flush_redis(redis_url)
            started = time.perf_counter()
            idle = await seed(database_url, workdir / "data", secret_key, total)
            print(
                f"[{label}] seeded {total:,} foremen and the small demo market ({idle} open "
                f"idle postings) in {time.perf_counter() - started:.1f} s; workdir {workdir}",
                flush=True,
            )
            env = {
                **os.environ,
                "DATA_DIR": str(workdir / "data"),
                "DATABASE_URL": database_url,
                "REDIS_URL": server_redis,
                "SECRET_KEY": secret_key,
                "BOT_TOKEN": token,
                "TELEGRAM_API_BASE": api,
                "WEBHOOK_SECRET": webhook_secret,
                "WEBHOOK_BASE_URL": "",
                "WEBHOOK_PATH": WEBHOOK_PATH,
                "BENCH_LABEL": label.replace(" ", "_").replace("+", "_"),
            }
            ids = {
                name: [USER_BASE + n for n in block]
                for name, block in (
                    ("flow", flow_users if kind == "ours" else range(args.echo_users)),
                    ("warm", warm_users),
                    ("burst", burst_users),
                )
            }
            results[label] = await measure(
                kind,
                env,
                workdir,
                stub,
                flow_users=ids["flow"],
                warm_users=ids["warm"],
                burst_users=ids["burst"],
                concurrency=args.concurrency,
                profile=args.profile,
                processes=processes,
                py_spy=args.py_spy.with_name(f"{args.py_spy.stem}-{env['BENCH_LABEL']}.txt")
                if args.py_spy
                else None,
            )
            if kind == "ours":
                checks[label] = await check_database(database_url, flow_users)
        stub_calls.update(stub.calls)
        report(results, checks, args)
        return 0
    finally:
        await stub.stop()
        await flush_redis(redis_url)
        for name in throwaway:
            await drop_postgres_database(name)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--users", type=int, default=10_000, help="flow users for our bot")
    parser.add_argument("--echo-users", type=int, default=2_000, help="flow users for echo")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up flows")
    parser.add_argument("--burst", type=int, default=3_000, help="burst updates")
    parser.add_argument("--concurrency", type=int, default=64, help="connections / users")
    parser.add_argument(
        "--servers",
        nargs="+",
        default=list(SERVERS),
        choices=SERVERS,
        help="echo: bare FastAPI route; echo-route: the echo dispatcher behind our route",
    )
    parser.add_argument(
        "--db",
        nargs="+",
        choices=("sqlite", "postgresql"),
        default=["sqlite"],
        help="databases for our server, each fresh (PostgreSQL: a throw-away database)",
    )
    parser.add_argument(
        "--redis",
        action="store_true",
        help=f"PostgreSQL runs on Redis db {REDIS_DB} (FSM, isolation)",
    )
    parser.add_argument(
        "--processes", nargs="+", type=int, default=[1], help="`jingong serve --workers` values"
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        help="sample our server with py-spy (raw stacks to FILE-<label>.txt); CPU then "
        "includes py-spy's own",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, db)")
    parser.add_argument(
        "--profile", type=Path, help="run our server under cProfile, stats to this file"
    )
    parser.add_argument("--serve-echo", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-echo-route", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_echo:
        serve_echo(args.serve_echo)
        return 0
    if args.serve_echo_route:
        serve_echo(args.serve_echo_route, "create_echo_route_app")
        return 0
    try:
        import uvloop

        return uvloop.run(run(args))
    except ImportError:
        return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
