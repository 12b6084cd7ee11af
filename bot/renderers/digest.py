"""Renderers of the digest outbox kinds (queued by core.services.digest_schedule).

- "digest_text": one HTML chunk rendered when the digest was queued (≤ 4096 characters).
- "digest_chart": the PNG chart, sent as a photo with a short caption.
- "digest_xlsx": the workbook, sent as a document named 晋工调度_<region>_<day>.xlsx.
- "weekly": one HTML chunk of a labour company's weekly digest.

The chart and workbook rows carry only {region_code, day, locale}: the bytes are rebuilt here
from the database at send time, which keeps binary blobs out of the outbox. A digest dated
`day` reports on the day before up to a fixed cut-off, so the rebuild shows the same figures
as the text queued earlier. In the scheduler process (tick and sender together) the digest
the tick just built is reused (digest_schedule.recent_digest), so it is not even rebuilt;
the chart and workbook of a recipient, and regulators of one region, share it as well.

An inactive recipient gets nothing: the sender checks `active` before rendering, and a 403
during a digest marks the account inactive and every remaining part `blocked`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from bot.notifier import OutgoingMessage, Renderers, Translate
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.reports.chart import cjk_font_family, render_arrears_chart, render_digest_chart
from core.reports.labels import html_label
from core.reports.xlsx import digest_workbook
from core.services.digest_schedule import (
    KIND_ARREARS_CHART,
    KIND_CHART,
    KIND_TEXT,
    KIND_WEEKLY,
    KIND_XLSX,
    forget_digests,
    recent_digest,
    remember_digest,
)
from core.services.digests import Digest, build_digest
from core.services.outbox import OutboxItem

RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers
BRAND = {"zh": "晋工调度", "en": "JinGong"}

# matplotlib's font cache and rcParams are process-global: one chart at a time per process
_chart_lock = threading.Lock()
# Charts (~0.1 s of CPU each) and workbooks can be rendered in worker processes, so a burst
# of digests at 08:00 uses every core and the event loop keeps sending at full rate; without
# a pool (tests, the CLI) they render in a thread of this process.
_pool: ProcessPoolExecutor | None = None


def _locale(item: OutboxItem) -> str:
    # the language the text parts were rendered in when queued, so all parts match
    return str(item.payload.get("locale") or item.locale or "zh")


async def _digest(item: OutboxItem, uow: UnitOfWork) -> Digest:
    region = str(item.payload["region_code"])
    day = date.fromisoformat(str(item.payload["day"]))
    # the tick of this process built it moments ago (the scheduler runs tick and sender)
    digest = recent_digest(region, day)
    if digest is not None:
        return digest
    # as the system: the recipient's scope was checked when the digest was queued
    digest = await build_digest(uow, Actor.system(), region, day)
    # end the read before the CPU work: on SQLite an open transaction holds the write lock
    await uow.rollback()
    remember_digest(digest)
    return digest


def clear_cache() -> None:
    forget_digests()


def _chart_png(digest: Digest, locale: str) -> bytes:
    with _chart_lock:
        return render_digest_chart(digest, locale)


def _arrears_png(digest: Digest, locale: str) -> bytes:
    with _chart_lock:  # matplotlib is not thread-safe
        return render_arrears_chart(digest, locale)


async def start_render_pool(workers: int | None = None) -> None:
    """Render charts and workbooks in `workers` processes (default: one per CPU), warmed up:
    matplotlib imported and the CJK font registered before the first digest needs them."""
    global _pool
    if _pool is not None:
        return
    count = workers or os.cpu_count() or 1
    # spawn, not fork: this process runs threads (asyncio.to_thread) whose locks a
    # forked child could inherit held
    _pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=cjk_font_family,
    )
    loop = asyncio.get_running_loop()
    await asyncio.gather(*(loop.run_in_executor(_pool, os.getpid) for _ in range(count)))


async def stop_render_pool() -> None:
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)


async def _render(fn: Callable[[Digest, str], bytes], digest: Digest, locale: str) -> bytes:
    if _pool is not None:
        return await asyncio.get_running_loop().run_in_executor(_pool, fn, digest, locale)
    # off the event loop at least, so other sends keep their pace
    if fn is render_arrears_chart:
        return await asyncio.to_thread(_arrears_png, digest, locale)
    return await asyncio.to_thread(_chart_png if fn is render_digest_chart else fn, digest, locale)


def digest_filename(digest: Digest, locale: str) -> str:
    """晋工调度_太原市_2026-03-04.xlsx (JinGong_Taiyuan_2026-03-04.xlsx in English)."""
    brand = BRAND.get(locale, BRAND["zh"])
    region = digest.region.name(locale).replace(" ", "_").replace("/", "_")
    return f"{brand}_{region}_{digest.day.isoformat()}.xlsx"


@RENDERERS.register(KIND_TEXT)
def render_digest_text_part(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    return OutgoingMessage(text=str(item.payload["html"]))


@RENDERERS.register(KIND_CHART)
async def render_digest_chart_part(
    item: OutboxItem, uow: UnitOfWork, t: Translate
) -> OutgoingMessage:
    locale = _locale(item)
    digest = await _digest(item, uow)
    png = await _render(render_digest_chart, digest, locale)
    caption = html_label(locale, "chart_title", region=digest.region.name(locale))
    return OutgoingMessage(text=caption, photo=png, filename="digest.png")


@RENDERERS.register(KIND_ARREARS_CHART)
async def render_arrears_chart_part(
    item: OutboxItem, uow: UnitOfWork, t: Translate
) -> OutgoingMessage:
    locale = _locale(item)
    digest = await _digest(item, uow)
    png = await _render(render_arrears_chart, digest, locale)
    caption = html_label(locale, "chart_arrears")
    return OutgoingMessage(text=caption, photo=png, filename="arrears.png")


@RENDERERS.register(KIND_XLSX)
async def render_digest_xlsx_part(
    item: OutboxItem, uow: UnitOfWork, t: Translate
) -> OutgoingMessage:
    locale = _locale(item)
    digest = await _digest(item, uow)
    data = await _render(digest_workbook, digest, locale)
    caption = html_label(locale, "title", region=digest.region.name(locale))
    caption += f" · {digest.day.isoformat()}"
    return OutgoingMessage(text=caption, document=data, filename=digest_filename(digest, locale))


@RENDERERS.register(KIND_WEEKLY)
def render_weekly_part(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    return OutgoingMessage(text=str(item.payload["html"]))
