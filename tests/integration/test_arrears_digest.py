"""The regulators' digest shows 欠薪预警: a text section, a workbook sheet, a chart by county."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from core.db.uow import Services
from core.ports import FixedClock
from core.reports.chart import render_arrears_chart
from core.reports.text import render_digest_text
from core.reports.xlsx import digest_workbook
from core.services.digests import build_digest
from core.services.dispatch import on_site_by_project
from core.services.wages import answer_payer, queue_wage_prompts
from tests.integration.deal_world import build_world
from tests.integration.test_dispatch_life import accepted, at, wage_period


async def test_an_open_alert_appears_in_the_digest_text_sheet_and_chart(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    clock.at = at(date(2026, 4, 5), 9, 0)
    async with services.uow() as uow:
        await queue_wage_prompts(uow, clock.now())
    period = await wage_period(services, deal_id)
    async with services.uow() as uow:
        await answer_payer(uow, w.foreman, period.id, "partial", amount="10000")

    async with services.uow() as uow:
        digest = await build_digest(uow, w.taiyuan_regulator, "140100", date(2026, 4, 6))
        quiet = await build_digest(uow, w.jinzhong_regulator, "140700", date(2026, 4, 6))
        on_site = await on_site_by_project(uow, w.taiyuan_regulator, "140100")
    section = digest.arrears
    owed = (period.due_fen - 1_000_000) / 100
    assert (section.open_count, section.opened_yesterday) == (1, 1)
    assert [(c.region.name_zh, float(c.owed)) for c in section.by_county] == [("小店区", owed)]
    assert quiet.arrears.open_count == 0

    text = "\n".join(render_digest_text(digest, "zh"))
    assert "📉 欠薪预警" in text
    assert "部分支付" in text
    assert "山西五建集团" in text
    english = "\n".join(render_digest_text(digest, "en"))
    assert "Wage arrears" in english
    assert "paid in part" in english

    book = load_workbook(io.BytesIO(digest_workbook(digest, "zh")))
    sheet = book["欠薪预警"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "预警编号"
    assert rows[0][8] == "原因"
    assert len(rows) == 2
    assert float(rows[1][7]) == owed
    png = render_arrears_chart(digest, "zh")
    assert png.startswith(b"\x89PNG")
    assert len(png) > 5000

    # on site per project: the three dispatched plasterers, since 7 March
    assert [(r.project_name, r.on_site) for r in on_site] == [("小店区保障房项目", 3)]
