"""`jingong apikey create|revoke|list`: keys of the data API (/api/v1), shown once."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.cli.common import CliError, load_settings, open_services, positive_int, region_arg


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "apikey",
        help="issue, revoke or list data API keys",
        description="Keys for the data API (/api/v1). An enterprise key imports and reads for "
        "its enterprise; a regulator key reads its region and everything below it.",
    )
    actions = parser.add_subparsers(dest="apikey_action", metavar="ACTION", required=True)

    create = actions.add_parser(
        "create",
        help="issue a key (printed once; only its hash is stored)",
        description="Issue a key. The key is printed once and cannot be shown again.",
    )
    create.add_argument("--label", required=True, help="who or what uses the key")
    scope = create.add_mutually_exclusive_group(required=True)
    scope.add_argument(
        "--enterprise", type=positive_int, metavar="ID", help="enterprise id (enterprise key)"
    )
    scope.add_argument(
        "--region",
        type=region_arg,
        metavar="CODE",
        help="region of a regulator key: 14, a city (1401) or a county (140105)",
    )
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        choices=("realname_export",),
        help="an extra right: realname_export (full ID numbers in /api/v1/dispatches; "
        "a province key only, --region 14). Repeatable",
    )
    create.set_defaults(handler=run_create)

    revoke = actions.add_parser(
        "revoke", help="revoke a key by its prefix", description="Revoke a key for good."
    )
    revoke.add_argument("prefix", metavar="PREFIX", help="the 8 characters after jg_")
    revoke.set_defaults(handler=run_revoke)

    listing = actions.add_parser("list", help="list keys (prefix, scope, state)")
    listing.set_defaults(handler=run_list)


def run_create(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.apikeys import create_api_key

    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await create_api_key(
                uow,
                Actor.system(),
                label=args.label,
                enterprise_id=args.enterprise,
                region_code=args.region,
                scopes=frozenset(args.scope),
            )

    view, plaintext = asyncio.run(go())
    scope = (
        f"enterprise {view.enterprise_id}"
        if view.enterprise_id is not None
        else f"region {view.region_code}"
    )
    print(f"key:     {plaintext}")
    print(f"prefix:  {view.prefix}")
    print(f"scope:   {scope}" + (f" + {' '.join(sorted(view.scopes))}" if view.scopes else ""))
    print("Store the key now: it is not shown again (only its hash is kept).")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.apikeys import revoke_api_key

    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await revoke_api_key(uow, Actor.system(), args.prefix)

    view = asyncio.run(go())
    if view.active:  # pragma: no cover - revoke always deactivates
        raise CliError(f"key {view.prefix} is still active")
    print(f"revoked: {view.prefix} ({view.label})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from core.domain.actor import Actor
    from core.services.apikeys import list_api_keys

    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await list_api_keys(uow, Actor.system())

    for view in asyncio.run(go()):
        scope = (
            f"enterprise={view.enterprise_id}"
            if view.enterprise_id is not None
            else f"region={view.region_code}"
        )
        state = "active" if view.active else "revoked"
        print(f"{view.prefix}  {state:8}  {scope:18}  {view.label}")
    return 0
