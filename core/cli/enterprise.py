"""`jingong enterprise add|list|show|suspend|approval`: the company registry from the command
line."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.cli.common import load_settings, open_services, positive_int, region_arg

KIND_HELP = "general = 施工总承包, specialty = 专业分包, labor = 劳务企业"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "enterprise",
        help="register, list, show and suspend companies",
        description="The company registry. A company is identified by its 统一社会信用代码 "
        "(USCC, 18 characters, checked digit included); a USCC registered outside Shanxi "
        "marks the company as from another province.",
    )
    commands = parser.add_subparsers(dest="enterprise_command", metavar="ACTION", required=True)

    add = commands.add_parser(
        "add",
        help="register a company; prints its id",
        description="Register a company and print its id. " + KIND_HELP + ".",
    )
    add.add_argument("--name", required=True, help="company name, 2–100 characters")
    add.add_argument("--uscc", required=True, metavar="CODE", help="统一社会信用代码")
    add.add_argument(
        "--kind", required=True, choices=("general", "specialty", "labor"), help=KIND_HELP
    )
    add.add_argument(
        "--region", required=True, metavar="COUNTY_CODE", help="Shanxi county code, e.g. 140105"
    )
    add.add_argument("--address", default="", help="registered address (optional)")
    add.set_defaults(handler=run_add)

    listing = commands.add_parser(
        "list", help="companies, optionally of one region", description="List companies."
    )
    listing.add_argument(
        "--region", type=region_arg, metavar="CODE", help="14, a city (1401) or a county"
    )
    listing.set_defaults(handler=run_list)

    show = commands.add_parser("show", help="one company's details", description="Show one.")
    show.add_argument("id", type=positive_int, metavar="ID")
    show.set_defaults(handler=run_show)

    suspend = commands.add_parser(
        "suspend",
        help="stop a company's people from posting",
        description="Suspend a company: its foremen and dispatchers can no longer post; "
        "they are shown the reason.",
    )
    suspend.add_argument("id", type=positive_int, metavar="ID")
    suspend.add_argument("--reason", required=True, help="shown to the company's people")
    suspend.set_defaults(handler=run_suspend)

    approval = commands.add_parser(
        "approval",
        help="需求待批: foremen's shortages wait for a dispatcher (on) or post at once (off)",
        description="需求待批: when on, a foreman's new shortage goes to the company's "
        "dispatchers first and is published only when one of them approves it.",
    )
    approval.add_argument("id", type=positive_int, metavar="ID")
    approval.add_argument("setting", choices=("on", "off"))
    approval.set_defaults(handler=run_approval)

    rings = commands.add_parser(
        "rings",
        help="the dispatch rings: default ring of new postings, hours before internal opens",
        description="Where the company's new postings go unless the poster picks the other "
        "ring (market = 公开, internal = 本公司内部), and how many hours (1-720) an internal "
        "posting waits for an internal match before it opens to the market by itself.",
    )
    rings.add_argument("id", type=positive_int, metavar="ID")
    rings.add_argument("--default", choices=("market", "internal"), dest="default_ring")
    rings.add_argument("--open-after", dest="open_after", metavar="HOURS")
    rings.set_defaults(handler=run_rings)


def _run(work: Any) -> Any:
    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            result = await work(uow)
            await uow.commit()
            return result

    return asyncio.run(go())


def _line(view: Any) -> str:
    mark = " [外省]" if view.out_of_province else ""
    status = "" if view.status == "active" else f" ({view.status})"
    fields = (str(view.id), view.uscc or "-", view.kind, view.county_code, view.name)
    return "\t".join(fields) + mark + status


def run_add(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.enterprises import RegisterEnterpriseCommand, register_enterprise

    command = RegisterEnterpriseCommand(
        name=args.name,
        uscc=args.uscc,
        kind=args.kind,
        county_code=args.region,
        address=args.address,
    )
    view = _run(lambda uow: register_enterprise(uow, Actor.system(), command))
    print(view.id)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.enterprises import list_enterprises

    views = _run(lambda uow: list_enterprises(uow, Actor.system(), args.region))
    for view in views:
        print(_line(view))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.enterprises import get_enterprise

    view = _run(lambda uow: get_enterprise(uow, Actor.system(), args.id))
    print(f"id:       {view.id}")
    print(f"name:     {view.name}")
    print(f"uscc:     {view.uscc or '-'}")
    print(f"kind:     {view.kind}")
    print(f"county:   {view.county_code}")
    print(f"address:  {view.address or '-'}")
    print(f"province: {'other' if view.out_of_province else 'Shanxi'}")
    print(f"status:   {view.status.value}")
    if view.suspended_reason:
        print(f"reason:   {view.suspended_reason}")
    return 0


def run_suspend(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.enterprises import suspend_enterprise

    view = _run(lambda uow: suspend_enterprise(uow, Actor.system(), args.id, args.reason))
    print(f"enterprise {view.id} suspended: {view.suspended_reason}")
    return 0


def run_approval(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.posting_approval import set_postings_need_approval

    on = args.setting == "on"
    _run(lambda uow: set_postings_need_approval(uow, Actor.system(), args.id, on))
    print(f"enterprise {args.id}: foremen's postings need approval: {args.setting}")
    return 0


def run_rings(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.rings import set_ring_settings

    view = _run(
        lambda uow: set_ring_settings(
            uow,
            Actor.system(),
            args.id,
            default_ring=args.default_ring,
            internal_open_hours=args.open_after,
        )
    )
    print(
        f"enterprise {args.id}: new postings go to {view.default_ring}; internal ones open "
        f"after {view.internal_open_hours} h"
    )
    return 0
