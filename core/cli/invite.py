"""`jingong invite`: a one-time deep link that binds a Telegram user to a role."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.cli.common import load_settings, open_services, positive_int, region_arg


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "invite",
        help="create an invite link for a foreman, dispatcher, regulator or admin",
        description="Create a one-time invite. The person opens the printed t.me link (or "
        "sends /start TOKEN to the bot) and is bound to the role and scope given here. "
        "Foremen need --enterprise and --project, dispatchers --enterprise, regulators "
        "--region.",
    )
    parser.add_argument(
        "--role",
        required=True,
        choices=("foreman", "dispatcher", "regulator", "admin"),
        help="what the invited person may do",
    )
    parser.add_argument("--name", required=True, help="display name of the invited person")
    parser.add_argument(
        "--enterprise", type=positive_int, metavar="ID", help="enterprise id (foreman, dispatcher)"
    )
    parser.add_argument(
        "--project",
        type=positive_int,
        nargs="+",
        action="extend",
        default=[],
        metavar="ID",
        help="project id(s) a foreman posts for; repeat or list several",
    )
    parser.add_argument(
        "--region",
        type=region_arg,
        metavar="CODE",
        help="region a regulator oversees: 14, a city (1401) or a county (140105)",
    )
    parser.set_defaults(handler=run_invite)


def run_invite(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.domain.enums import Role
    from core.services.accounts import create_invite

    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await create_invite(
                uow,
                Actor.system(),
                role=Role(args.role),
                display_name=args.name,
                enterprise_id=args.enterprise,
                project_ids=list(args.project),
                region_code=args.region,
            )

    invite = asyncio.run(go())
    print(f"token:   {invite.token}")
    print(f"link:    https://t.me/{settings.bot_username}?start={invite.token}")
    print(f"expires: {invite.expires_at.isoformat(timespec='minutes')}")
    return 0
