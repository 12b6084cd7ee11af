"""Daily digests at province scale: build every regulator's digest, then deliver them all.

    .venv/bin/python -m bench.digests                 # seed bench/out/digests.db, measure
    .venv/bin/python -m bench.digests --reuse         # measure on what an earlier run seeded
    .venv/bin/python -m bench.digests --reuse --prerendered   # the delivery path alone
    .venv/bin/python -m bench.digests --reuse --latency-ms 40 --regions 30

1. Seeds `core.seed.seed_demo(scale="province")` into a SQLite file (kept with --reuse).
2. Builds the digest of every regulator-level region (the province, 11 cities, every county:
   129), each in its own unit of work as the scheduler would, and prints p50 / p95 / max per
   digest and the total. Target: all of them in < 10 s on SQLite. Rendering (text, chart,
   workbook) is timed separately.
3. Gives each region a fake regulator with a chat, queues that day's digest for all of them
   (core.services.digest_schedule.send_now: text chunks + chart + workbook rows) and
   delivers everything through the production OutboxSender with the scheduler's settings
   (bot.scheduler.sender_config: 30 messages/s overall, 1/s per chat; charts and workbooks
   rendered in a pool of one process per CPU) against a stub Bot API on 127.0.0.1 (aiohttp,
   in a process of its own, answers sendMessage / sendPhoto / sendDocument with valid JSON
   after an optional latency). Prints the delivery time next to the bound set by 30 msg/s
   (messages / 30 s) and their ratio. Target: within 1.2x of the bound. The stub's record
   shows the limits were kept: the most calls in any 1 s, the shortest gap between two calls
   to one chat (as received, so transport jitter shows). With --prerendered the charts and
   workbooks come from step 2 instead of being rendered at send time, which separates the
   delivery path from matplotlib's CPU. BENCH_TIMELINE=1 prints calls per second.

The digest date is today in Shanxi, or the morning after the newest posting if the data is
older, so a database seeded days ago still has a full "yesterday".
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.bootstrap import build_services
from core.config import Settings
from core.db.engine import create_engine
from core.db.models import (
    Account,
    Base,
    DigestDelivery,
    Enterprise,
    OutboxMessage,
    Region,
    ShortagePosting,
)
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import RegionLevel, Role
from core.domain.timeutil import as_utc, local_date
from core.seed import seed_demo
from core.services.digests import Digest, build_digest

OUT = Path(__file__).resolve().parent / "out"
BENCH_CHAT_BASE = 880_000_000  # fake Telegram ids of the bench regulators
GLOBAL_RATE = 30.0


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else 0.0


def line(name: str, samples: list[float]) -> str:
    return (
        f"{name:<34} {len(samples):>5} {statistics.median(samples):>8.1f} "
        f"{pct(samples, 0.95):>8.1f} {max(samples):>8.1f} {sum(samples) / 1000:>9.2f}"
    )


# --- the database ---------------------------------------------------------------------------


def _sqlite_file(path: Path, *, fresh: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


async def prepare(path: Path, reuse: bool) -> tuple[AsyncEngine, Services]:
    _sqlite_file(path, fresh=not reuse)
    engine = create_engine(url=f"sqlite+aiosqlite:///{path.as_posix()}")
    settings = Settings(
        data_dir=path.parent,
        secret_key="bench-secret-key-0123456789abcdef",  # type: ignore[arg-type]
        bot_token="42:BENCH",  # type: ignore[arg-type]
    )
    _, services = build_services(settings, engine=engine)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with services.uow() as uow:
        seeded = await uow.session.scalar(select(func.count()).select_from(Enterprise))
    if not seeded:
        started = time.perf_counter()
        report = await seed_demo(services, scale="province")
        print(
            f"seeded {report.open_shortages} open shortages, {report.open_idle_postings} idle "
            f"postings, {report.workers} workers, {report.deals} deals in "
            f"{time.perf_counter() - started:.0f} s into {path}",
            file=sys.stderr,
        )
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()
    return engine, services


async def regulator_regions(services: Services) -> list[tuple[str, str]]:
    """(code, name) of the province, its cities and their counties."""
    async with services.uow() as uow:
        rows = (await uow.session.execute(select(Region.code, Region.level, Region.name_zh))).all()
    order = [RegionLevel.PROVINCE.value, RegionLevel.CITY.value, RegionLevel.COUNTY.value]
    ranked = sorted(rows, key=lambda r: (order.index(r[1]), r[0]))
    return [(code, name) for code, _level, name in ranked]


async def digest_day(services: Services) -> date:
    """Today in Shanxi, or the morning after the newest posting if the data is older."""
    async with services.uow() as uow:
        newest = await uow.session.scalar(select(func.max(ShortagePosting.created_at)))
        today = local_date(uow.now())
    if newest is None:
        raise SystemExit("no postings: seed first")
    return min(today, local_date(as_utc(newest)) + timedelta(days=1))


# --- building -------------------------------------------------------------------------------


async def build_all(
    services: Services, codes: list[str], day: date
) -> tuple[list[float], dict[str, Digest]]:
    times: list[float] = []
    digests: dict[str, Digest] = {}
    for code in codes:
        started = time.perf_counter()
        async with services.uow() as uow:
            digests[code] = await build_digest(uow, Actor.system(), code, day)
        times.append((time.perf_counter() - started) * 1000)
    return times, digests


Rendered = dict[tuple[str, str], Any]  # (region, what) → text chunks / PNG / xlsx bytes


def render_all(digests: dict[str, Digest]) -> tuple[dict[str, list[float]], Rendered]:
    from core.reports.chart import cjk_font_family, render_digest_chart
    from core.reports.text import render_digest_text
    from core.reports.xlsx import digest_workbook

    cjk_font_family()  # registering the font is a once-per-process cost
    times: dict[str, list[float]] = defaultdict(list)
    rendered: Rendered = {}
    for code, digest in digests.items():
        for name, fn in (
            ("render text", render_digest_text),
            ("render chart (PNG)", render_digest_chart),
            ("render workbook (xlsx)", digest_workbook),
        ):
            started = time.perf_counter()
            rendered[(code, name)] = fn(digest, "zh")
            times[name].append((time.perf_counter() - started) * 1000)
    return times, rendered


def use_prerendered(rendered: Rendered) -> None:
    """--prerendered: the renderers hand out the bytes rendered above instead of rendering,
    to time the delivery path (sender, database, HTTP) without matplotlib's CPU."""
    import bot.renderers.digest as digest_renderers
    from core.reports.chart import render_digest_chart

    async def canned(fn: Any, digest: Digest, locale: str) -> bytes:
        what = "render chart (PNG)" if fn is render_digest_chart else "render workbook (xlsx)"
        return bytes(rendered[(digest.region.code, what)])

    digest_renderers._render = canned


# --- a stub Bot API -------------------------------------------------------------------------


@dataclass
class StubBotApi:
    """Answers sendMessage / sendPhoto / sendDocument like Telegram and records when each call
    came in; GET /_calls hands the record over. Runs in a process of its own (StubProcess):
    a real Bot API does not share our CPU."""

    latency: float = 0.0
    calls: list[tuple[float, str, int]] = field(default_factory=list)  # (t, method, chat)
    _next_id: int = 0

    async def serve(self) -> tuple[web.AppRunner, str]:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/_calls", self._calls)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner, f"http://127.0.0.1:{port}"

    async def _calls(self, request: web.Request) -> web.Response:
        return web.json_response(self.calls)

    async def _handle(self, request: web.Request) -> web.Response:
        received = time.monotonic()  # before reading the body: uploads take a while
        method = request.match_info["method"]
        form = await request.post()
        chat_id = int(str(form.get("chat_id", "0")))
        if self.latency:
            await asyncio.sleep(self.latency)
        self._next_id += 1
        self.calls.append((received, method, chat_id))
        message: dict[str, Any] = {
            "message_id": self._next_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
        }
        if method == "sendMessage":
            message["text"] = str(form.get("text", ""))
        elif method == "sendPhoto":
            photo = {"file_id": f"p{self._next_id}", "file_unique_id": "p", "width": 1000}
            message["photo"] = [{**photo, "height": 700}]
        elif method == "sendDocument":
            message["document"] = {"file_id": f"d{self._next_id}", "file_unique_id": "d"}
        else:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                status=404,
            )
        return web.json_response({"ok": True, "result": message})


def _run_stub(urls: Any, latency: float) -> None:
    """Child process: serve until terminated."""

    async def main() -> None:
        runner, url = await StubBotApi(latency=latency).serve()
        urls.put(url)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())


class StubProcess:
    def __init__(self, latency: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._urls = ctx.Queue()
        self._process = ctx.Process(target=_run_stub, args=(self._urls, latency), daemon=True)
        self.url = ""

    def start(self) -> str:
        self._process.start()
        self.url = self._urls.get(timeout=60)
        return self.url

    async def calls(self) -> list[tuple[float, str, int]]:
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}/_calls") as resp:
            return [(float(t), str(m), int(c)) for t, m, c in await resp.json()]

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(10)


def min_chat_gap(calls: list[tuple[float, str, int]]) -> float:
    """The shortest time between two calls to the same chat, as the stub saw them."""
    by_chat: dict[int, list[float]] = defaultdict(list)
    for t, _, chat in calls:
        by_chat[chat].append(t)
    gaps = [b - a for ts in by_chat.values() for a, b in pairwise(sorted(ts))]
    return min(gaps, default=float("inf"))


def max_in_window(calls: list[tuple[float, str, int]], window: float = 1.0) -> int:
    """Most calls inside any `window` seconds."""
    times = sorted(t for t, _, _ in calls)
    return max((bisect_left(times, t + window - 1e-6) - i for i, t in enumerate(times)), default=0)


# --- delivering -----------------------------------------------------------------------------


async def bench_accounts(services: Services, codes: list[str]) -> dict[str, int]:
    """A regulator with a chat per region (made once), with nothing queued or recorded."""
    chats = {code: BENCH_CHAT_BASE + i for i, code in enumerate(codes)}
    async with services.uow() as uow:
        existing = dict(
            (
                await uow.session.execute(
                    select(Account.telegram_user_id, Account.id).where(
                        Account.telegram_user_id.in_(list(chats.values()))
                    )
                )
            ).all()
        )
        for code, chat in chats.items():
            if chat not in existing:
                account = Account(
                    telegram_user_id=chat,
                    chat_id=chat,
                    display_name=f"基准监管 {code}",
                    locale="zh",
                    role=Role.REGULATOR.value,
                    region_code=code,
                    created_at=uow.now(),
                )
                uow.session.add(account)
                await uow.session.flush()
                existing[chat] = account.id
        ids = [existing[chat] for chat in chats.values()]
        await uow.session.execute(delete(OutboxMessage).where(OutboxMessage.account_id.in_(ids)))
        await uow.session.execute(delete(DigestDelivery).where(DigestDelivery.account_id.in_(ids)))
        await uow.session.execute(update(Account).where(Account.id.in_(ids)).values(active=True))
        await uow.commit()
    return {code: existing[chat] for code, chat in chats.items()}


async def deliver_all(
    services: Services,
    codes: list[str],
    day: date,
    *,
    latency: float,
    concurrency: int | None,
    batch_size: int | None,
    cold: bool,
    pool: bool,
) -> None:
    from bot.renderers.digest import clear_cache, start_render_pool, stop_render_pool
    from bot.scheduler import sender_config
    from bot.sender import OutboxSender
    from core.reports.chart import cjk_font_family
    from core.services.digest_schedule import send_now
    from core.services.outbox import pending_count

    await bench_accounts(services, codes)
    async with services.uow() as uow:
        other = await pending_count(uow)
    if other:
        print(f"note: {other} other outbox rows were already due and go out too", file=sys.stderr)

    started = time.perf_counter()
    queued = 0
    for code in codes:
        async with services.uow() as uow:
            queued += sum(item.parts for item in await send_now(uow, code, day=day))
    enqueue_s = time.perf_counter() - started
    print(f"queued {queued} messages for {len(codes)} regulators in {enqueue_s:.2f} s")

    stub = StubProcess(latency)
    url = await asyncio.to_thread(stub.start)
    session = AiohttpSession(api=TelegramAPIServer.from_base(url))
    bot = Bot(token="42:BENCH", session=session)
    config = sender_config()  # what `jingong scheduler` runs with
    if concurrency is not None:
        config = replace(config, concurrency=concurrency)
    if batch_size is not None:
        config = replace(config, batch_size=batch_size)
    sender = OutboxSender(bot, services, config=config)
    cjk_font_family()  # once per process, not per digest
    if pool:
        await start_render_pool()  # as `jingong scheduler` does
    if cold:
        clear_cache()  # as if another process had queued them: the renderers rebuild
    load_before = os.getloadavg()[0]
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        stats = await sender.drain(timeout=3600)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        calls = await stub.calls()
    finally:
        await bot.session.close()
        stub.stop()
        await stop_render_pool()

    if os.environ.get("BENCH_TIMELINE"):
        t0 = min(t for t, *_ in calls)
        per_second: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for t, method, _ in calls:
            per_second[int(t - t0)][method] += 1
        for second, methods in sorted(per_second.items()):
            print(second, dict(methods), file=sys.stderr)
    sent = len(calls)
    bound = sent / GLOBAL_RATE
    kinds: dict[str, int] = defaultdict(int)
    for _, method, _ in calls:
        kinds[method] += 1
    first = min(t for t, *_ in calls)
    last = max(t for t, *_ in calls)
    chats = {c for _, _, c in calls}
    print(
        f"delivered {sent} messages ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})"
        f" to {len(chats)} chats; sender stats: sent={stats.sent} retried={stats.retried} "
        f"dead={stats.dead} blocked={stats.blocked}"
    )
    print(
        f"delivery time {elapsed:.2f} s (first to last call {last - first:.2f} s); bound at "
        f"{GLOBAL_RATE:.0f} msg/s: {bound:.2f} s; ratio {elapsed / bound:.2f} (target ≤ 1.2)"
    )
    print(
        f"limits kept: max {max_in_window(calls)} calls in any 1 s overall; shortest gap "
        f"between two calls to one chat {min_chat_gap(calls):.3f} s (as received)"
    )
    print(
        f"sender concurrency {config.concurrency}, batch {config.batch_size}, render "
        f"{'pool of ' + str(os.cpu_count()) + ' processes' if pool else 'thread'}; main process "
        f"CPU {cpu:.1f} s; {os.cpu_count()} cores, load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
        f"{f'; stub latency {latency * 1000:.0f} ms' if latency else ''}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--db-file", type=Path, default=OUT / "digests.db")
    parser.add_argument("--regions", type=int, default=0, help="only the first N regions")
    parser.add_argument("--no-delivery", action="store_true", help="only build and render")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="SenderConfig.batch_size (default: its own)"
    )
    parser.add_argument(
        "--prerendered",
        action="store_true",
        help="send charts and workbooks rendered beforehand: the delivery path alone",
    )
    parser.add_argument(
        "--no-pool", action="store_true", help="render charts in a thread, not in processes"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="renderers rebuild every digest (as when another process queued them)",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="stub Bot API answer delay (ms)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=None, help="SenderConfig.concurrency (default: its own)"
    )
    args = parser.parse_args()

    engine, services = await prepare(args.db_file, args.reuse)
    try:
        regions = await regulator_regions(services)
        if args.regions:
            regions = regions[: args.regions]
        codes = [code for code, _ in regions]
        day = await digest_day(services)
        print(
            f"{len(codes)} regulator regions, digest of {day} (reporting on {day - timedelta(1)})"
        )

        await build_all(services, codes[:3], day)  # warm-up: connections, statement caches
        started = time.perf_counter()
        build_ms, digests = await build_all(services, codes, day)
        total = time.perf_counter() - started
        renders, rendered = render_all(digests)
        print(f"{'step':<34} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8} {'total s':>9}")
        print(line("build digest", build_ms))
        for name, samples in renders.items():
            print(line(name, samples))
        slowest = max(zip(build_ms, codes, strict=True))
        print(
            f"all {len(codes)} digests built in {total:.2f} s (target < 10 s); slowest "
            f"{slowest[1]} {slowest[0]:.0f} ms"
        )
        if not args.no_delivery:
            if args.prerendered:
                use_prerendered(rendered)
            await deliver_all(
                services,
                codes,
                day,
                latency=args.latency_ms / 1000,
                concurrency=args.concurrency,
                batch_size=args.batch_size,
                cold=args.cold,
                pool=not args.no_pool,
            )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
