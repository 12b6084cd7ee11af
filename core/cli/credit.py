"""`jingong credit show --enterprise ID` / `jingong credit recompute`: credit earned by
behaviour (formula: core/domain/credit.py, README "Credit")."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.cli.common import date_arg, load_settings, open_services, positive_int


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "credit",
        help="enterprise credit: show a score with its components, or recompute all",
        description="Credit earned by behaviour: fulfilment, no-shows, payment, ratings, "
        "open arrears.",
    )
    commands = parser.add_subparsers(dest="credit_command", metavar="ACTION", required=True)
    show = commands.add_parser(
        "show",
        help="an enterprise's score today and each component with its inputs",
        description="Print an enterprise's credit score as of today (or --day), each "
        "component with the counts it comes from, and the score the last daily run stored.",
    )
    show.add_argument("--enterprise", metavar="ID", type=positive_int, required=True)
    show.add_argument("--day", metavar="YYYY-MM-DD", type=date_arg, help="default: today")
    show.set_defaults(handler=run_show)
    again = commands.add_parser(
        "recompute",
        help="recompute every enterprise's score and worker's grade now (the daily job)",
        description="Recompute every enterprise's credit score and every worker's grade.",
    )
    again.set_defaults(handler=run_recompute)


def run_show(args: argparse.Namespace) -> int:
    from core.domain.timeutil import local_date
    from core.services.credit import explain_credit

    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await explain_credit(uow, args.enterprise, args.day or local_date(uow.now()))

    done = asyncio.run(go())
    c, i = done.credit, done.credit.inputs
    stored = f"{done.stored_score}" + (
        f" (daily run of {done.stored_on})" if done.stored_on else ""
    )
    print(f"{done.name} (#{done.enterprise_id}): credit {c.score} / 100, grade {c.grade}")
    print(f"  stored score          {stored}")
    print(f"  fulfilment  {c.fulfilment:>7} / 30   arrived {i.arrived} of {i.promised} promised")
    print(f"  payment     {c.payment:>7} / 25   {i.months_kept} of {i.months_owed} months kept")
    print(
        f"  ratings     {c.ratings:>7} / 25   {i.rating_count} rating(s), "
        f"{i.rating_sum} star(s) in all"
    )
    print(f"  arrears     {c.arrears:>7} / 20   {i.open_arrears} open 欠薪预警")
    print(f"  no-shows    {c.no_shows:>7}        {i.no_shows} no-show(s)")
    return 0


def run_recompute(args: argparse.Namespace) -> int:
    from core.domain.timeutil import local_date
    from core.services.credit import recompute_credit

    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await recompute_credit(uow, local_date(uow.now()))

    run = asyncio.run(go())
    print(
        f"credit recomputed: {run.enterprises} enterprises ({run.enterprises_changed} changed), "
        f"{run.workers} workers ({run.workers_changed} changed grade)"
    )
    return 0
