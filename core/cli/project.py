"""`jingong project add|list|close` and `jingong team add|list`: a company's projects and
teams (班组) from the command line, by the same services as the company admin's 🏢 公司管理."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.cli.common import load_settings, open_services, positive_int


def add_parser(subparsers: Any) -> None:
    _project_parser(subparsers)
    _team_parser(subparsers)


def _project_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "project",
        help="add, list and close a company's projects",
        description="A company's projects: planned dates are YYYY-MM-DD and the end lies "
        "after the start; a closed project takes no new postings.",
    )
    commands = parser.add_subparsers(dest="project_command", metavar="ACTION", required=True)

    add = commands.add_parser("add", help="add a project; prints its id", description="Add one.")
    add.add_argument("--enterprise", required=True, type=positive_int, metavar="ID")
    add.add_argument("--name", required=True, help="project name, 2–120 characters")
    add.add_argument(
        "--region", required=True, metavar="COUNTY_CODE", help="Shanxi county code, e.g. 140105"
    )
    add.add_argument("--address", default="", help="site address (optional)")
    add.add_argument("--start", default="", metavar="DATE", help="planned start (optional)")
    add.add_argument("--end", default="", metavar="DATE", help="planned end (optional)")
    add.add_argument(
        "--realname-code", default="", metavar="CODE", help="the real-name platform's code"
    )
    add.set_defaults(handler=run_project_add)

    listing = commands.add_parser(
        "list", help="a company's projects", description="id, county, status, name."
    )
    listing.add_argument("--enterprise", required=True, type=positive_int, metavar="ID")
    listing.add_argument("--closed", action="store_true", help="the closed ones instead")
    listing.set_defaults(handler=run_project_list)

    close = commands.add_parser(
        "close",
        help="close a project",
        description="Close a project: no new postings, its teams' workers leave the site today.",
    )
    close.add_argument("id", type=positive_int, metavar="ID")
    close.set_defaults(handler=run_project_close)


def _team_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "team", help="add and list a project's teams (班组)", description="A project's teams."
    )
    commands = parser.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    add = commands.add_parser("add", help="add a team; prints its id", description="Add one.")
    add.add_argument("--project", required=True, type=positive_int, metavar="ID")
    add.add_argument("--name", required=True, help="team name, 2–60 characters")
    add.add_argument(
        "--trade",
        default=None,
        metavar="CODE",
        help="the team's trade (e.g. plasterer): workers of it dispatched by a deal join it",
    )
    add.set_defaults(handler=run_team_add)
    listing = commands.add_parser(
        "list", help="a project's teams", description="id, members, name."
    )
    listing.add_argument("--project", required=True, type=positive_int, metavar="ID")
    listing.set_defaults(handler=run_team_list)


def _run(work: Any) -> Any:
    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await work(uow)

    return asyncio.run(go())


def run_project_add(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.company_projects import ProjectDraft, create_project

    draft = ProjectDraft(
        name=args.name,
        county_code=args.region,
        address=args.address,
        planned_start=args.start,
        planned_end=args.end,
        realname_code=args.realname_code,
    )
    view = _run(
        lambda uow: create_project(uow, Actor.system(), draft, enterprise_id=args.enterprise)
    )
    print(view.id)
    return 0


def run_project_list(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.company_projects import list_projects

    async def every_page(uow: Any) -> list[Any]:
        found: list[Any] = []
        page, pages = 0, 1
        while page < pages:
            listed = await list_projects(
                uow, Actor.system(), page=page, closed=args.closed, enterprise_id=args.enterprise
            )
            found += listed.items
            page, pages = page + 1, listed.pages
        return found

    for view in _run(every_page):
        print(f"{view.id}\t{view.county_code}\t{view.status.value}\t{view.name}")
    return 0


def run_project_close(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.company_projects import close_project

    view = _run(lambda uow: close_project(uow, Actor.system(), args.id))
    print(f"project {view.id} closed: {view.name}")
    return 0


def run_team_add(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.teams import create_team

    view = _run(lambda uow: create_team(uow, Actor.system(), args.project, args.name, args.trade))
    print(view.id)
    return 0


def run_team_list(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.teams import list_teams

    for view in _run(lambda uow: list_teams(uow, Actor.system(), args.project)):
        print(f"{view.id}\t{view.members}\t{view.name}")
    return 0
