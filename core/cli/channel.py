"""`jingong channel add|list|remove|test`: WeCom / DingTalk group robots and e-mail addresses
that receive an account's digests and alerts besides Telegram."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.cli.common import CliError, load_settings, open_services, positive_int


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "channel",
        help="delivery channels: WeCom / DingTalk group robots, e-mail",
        description="Where an account also receives its digests and alerts: a WeCom group "
        "robot, a DingTalk custom robot or an e-mail address. URLs and secrets are stored "
        "encrypted and listed masked.",
    )
    actions = parser.add_subparsers(dest="channel_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a channel to an account")
    add.add_argument("--account", type=positive_int, required=True, metavar="ID")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--wecom", metavar="URL", help="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
    )
    target.add_argument(
        "--dingtalk", metavar="URL", help="https://oapi.dingtalk.com/robot/send?access_token=…"
    )
    target.add_argument("--email", metavar="ADDR", help="an e-mail address")
    add.add_argument("--secret", metavar="S", help="DingTalk signing secret (加签), SEC…")
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list channels (masked)")
    listing.add_argument("--account", type=positive_int, metavar="ID")
    listing.set_defaults(handler=run_list)

    remove = actions.add_parser("remove", help="remove a channel and its queue")
    remove.add_argument("id", type=positive_int, metavar="ID")
    remove.set_defaults(handler=run_remove)

    test = actions.add_parser("test", help="send a test message now and report the answer")
    test.add_argument("id", type=positive_int, metavar="ID")
    test.set_defaults(handler=run_test)


def run_add(args: argparse.Namespace) -> int:
    from core.channels.service import add_channel
    from core.channels.targets import ChannelKind
    from core.domain.actor import Actor

    if args.secret is not None and args.dingtalk is None:
        raise CliError("--secret is only for DingTalk robots (--dingtalk URL)", 2)
    kind, value = (
        (ChannelKind.WECOM, args.wecom)
        if args.wecom is not None
        else (ChannelKind.DINGTALK, args.dingtalk)
        if args.dingtalk is not None
        else (ChannelKind.EMAIL, args.email)
    )
    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await add_channel(
                uow,
                Actor.system(),
                account_id=args.account,
                kind=kind,
                value=value,
                secret=args.secret,
            )

    view = asyncio.run(go())
    print(f"channel {view.id}: {view.kind.value} {view.label} for account {view.account_id}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from core.channels.service import list_channels
    from core.domain.actor import Actor

    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await list_channels(uow, Actor.system(), args.account)

    views = asyncio.run(go())
    if not views:
        print("no channels")
        return 0
    print(f"{'id':>4}  {'account':>7}  {'kind':<8}  {'status':<7}  label")
    for view in views:
        print(
            f"{view.id:>4}  {view.account_id:>7}  {view.kind.value:<8}  {view.status:<7}  "
            f"{view.label}"
        )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from core.channels.service import remove_channel
    from core.domain.actor import Actor

    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await remove_channel(uow, Actor.system(), args.id)

    view = asyncio.run(go())
    print(f"removed channel {view.id} ({view.kind.value} {view.label})")
    return 0


def run_test(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from core.channels.sender import ChannelSender, ChannelSenderConfig
    from core.channels.service import queue_test
    from core.db.models import ChannelMessage, DeliveryChannel
    from core.domain.actor import Actor

    settings = load_settings()

    async def go() -> tuple[str, str | None, str]:
        async with open_services(settings) as (_engine, services):
            async with services.uow() as uow:
                row_id, _ = await queue_test(uow, Actor.system(), args.id)
            # one attempt now; a failure stays queued for the running sender to retry
            sender = ChannelSender(services, config=ChannelSenderConfig(timeout=10.0))
            try:
                await sender.drain(timeout=60.0, only_ids=[row_id])
            finally:
                await sender.aclose()
            async with services.uow() as uow:
                status, error = (
                    await uow.session.execute(
                        select(ChannelMessage.status, ChannelMessage.last_error).where(
                            ChannelMessage.id == row_id
                        )
                    )
                ).one()
                label = await uow.session.scalar(
                    select(DeliveryChannel.label).where(DeliveryChannel.id == args.id)
                )
            return status, error, label or ""

    status, error, label = asyncio.run(go())
    if status == "sent":
        print(f"test message delivered to {label}")
        return 0
    raise CliError(f"test message to {label} not delivered ({status}): {error or 'no answer'}")
