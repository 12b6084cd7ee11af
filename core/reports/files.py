"""A region's digest written to files (`jingong digest preview`): the text, the chart and the
workbook exactly as the regulators get them. Data comes from core.services.digests; this
package only renders it."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.timeutil import SHANGHAI, local_date
from core.reports.chart import render_digest_chart
from core.reports.text import CHUNK_SEPARATOR, render_digest_text
from core.reports.xlsx import digest_workbook
from core.services.digests import Digest, build_digest


async def preview_digest(
    services: Services,
    region_code: str,
    day: date | None,
    out_dir: Path,
    *,
    locale: str = "zh",
) -> list[Path]:
    """Build a region's digest as the system and write digest.txt, chart.png and digest.xlsx."""
    async with services.uow() as uow:
        when = day or local_date(uow.now(), SHANGHAI)
        digest = await build_digest(uow, Actor.system(), region_code, when)
    # rendering and file writes are blocking: keep them off the event loop
    return await asyncio.to_thread(write_digest_files, digest, out_dir, locale)


def write_digest_files(digest: Digest, out_dir: Path, locale: str = "zh") -> list[Path]:
    """Render a digest into digest.txt (all chunks), chart.png and digest.xlsx in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text_path = out_dir / "digest.txt"
    chart_path = out_dir / "chart.png"
    xlsx_path = out_dir / "digest.xlsx"
    text_path.write_text(CHUNK_SEPARATOR.join(render_digest_text(digest, locale)) + "\n", "utf-8")
    chart_path.write_bytes(render_digest_chart(digest, locale))
    xlsx_path.write_bytes(digest_workbook(digest, locale))
    written = [text_path, chart_path, xlsx_path]
    if digest.arrears.open_count:
        from core.reports.chart import render_arrears_chart

        arrears_path = out_dir / "arrears.png"
        arrears_path.write_bytes(render_arrears_chart(digest, locale))
        written.append(arrears_path)
    return written
