"""`jingong summary --region CODE`: the regulator's dispatch summary as a text table."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.cli.common import date_arg, load_settings, open_services, region_arg


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "summary",
        help="print the dispatch summary of a region",
        description="Print the dispatch summary (用工调度汇总) of a region: open shortage and "
        "idle headcount per direct sub-region (province → cities, city → counties), per "
        "trade × grade, the postings new on the day and the deals accepted on it compared "
        "with the guide price, and the reporting rate (上报率) of live projects per sub-region.",
    )
    parser.add_argument(
        "--region",
        required=True,
        type=region_arg,
        metavar="CODE",
        help="14 (province), 1401 or 140100 (a city), 140105 (a county)",
    )
    parser.add_argument(
        "--date",
        type=date_arg,
        metavar="YYYY-MM-DD",
        help="the Asia/Shanghai day for the 'new' and 'deals' lines. Default: today",
    )
    parser.add_argument(
        "--locale",
        choices=("zh", "en"),
        help="language of the table. Default: the DEFAULT_LOCALE setting",
    )
    parser.set_defaults(handler=run_summary)


def run_summary(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.reporting_coverage import region_coverage
    from core.services.summaries import regional_summary, render_summary_table

    settings = load_settings()
    locale = args.locale or settings.default_locale

    async def go() -> str:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            actor = Actor.system()
            summary = await regional_summary(uow, actor, args.region, day=args.date)
            coverage = await region_coverage(uow, actor, args.region)
            return render_summary_table(summary, locale, coverage)

    print(asyncio.run(go()))
    return 0
