"""Delivery channels: how long one region's regulators wait for their WeCom, DingTalk and
e-mail copies of the digest.

    .venv/bin/python -m bench.channels [--regulators 12]

Seeds the small demo market into a fresh SQLite file, gives `--regulators` regulators of 太原市
each a WeCom robot, a signed DingTalk robot and a mailbox, queues today's digest for them
(core.services.digest_schedule.send_now: the Telegram rows and one row per channel, in one
transaction each) and delivers every channel row with the production ChannelSender against
the fake robots of sandbox.robots (in process, httpx's ASGI transport: no network latency)
and aiosmtpd on 127.0.0.1. Prints the queueing time, the rendering of one channel copy (text,
chart, workbook), the delivery time and what each robot received.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import tempfile
import time
from datetime import time as clock_time
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

from core.bootstrap import build_services
from core.channels.render import digest_content
from core.channels.sender import ChannelSender, SmtpSettings
from core.channels.service import add_channel
from core.channels.targets import ChannelKind
from core.config import Settings
from core.db.engine import create_engine
from core.db.models import Account, Base
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.timeutil import local_date
from core.seed import seed_demo
from core.services import digest_schedule
from sandbox.robots import RobotState, create_robot_app


class _Mailbox:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.count += 1
        return "250 OK"


async def run(regulators: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-channels-"))
    try:
        engine = create_engine(url=f"sqlite+aiosqlite:///{(folder / 'b.db').as_posix()}")
        settings = Settings(
            data_dir=folder,
            secret_key="bench-secret-key-0123456789abcdef",  # type: ignore[arg-type]
            bot_token="42:BENCH",  # type: ignore[arg-type]
        )
        _, services = build_services(settings, engine=engine)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await seed_demo(services, scale="small")

        robots = RobotState(per_minute=10_000)  # measure our pace, not the fake's limit
        for n in range(regulators):
            async with services.uow() as uow:
                account = Account(
                    display_name=f"太原市住建局 {n}",
                    role=Role.REGULATOR.value,
                    region_code="140100",
                    chat_id=8_000_000 + n,
                    telegram_user_id=8_000_000 + n,
                    digest_time=clock_time(8, 0),
                    created_at=uow.now(),
                )
                uow.session.add(account)
                await uow.commit()
                account_id = account.id
            for kind, value, secret in (
                (ChannelKind.WECOM, robots.add_wecom(f"bench-wecom-key-{n:04d}"), None),
                (
                    ChannelKind.DINGTALK,
                    robots.add_dingtalk(f"benchdingtoken{n:06d}", f"SECbench{n:020d}"),
                    f"SECbench{n:020d}",
                ),
                (ChannelKind.EMAIL, f"bureau{n}@jsj.example.cn", None),
            ):
                async with services.uow() as uow:
                    await add_channel(
                        uow,
                        Actor.system(),
                        account_id=account_id,
                        kind=kind,
                        value=value,
                        secret=secret,
                    )

        async with services.uow() as uow:
            day = local_date(uow.now())
            started = time.perf_counter()
            await digest_schedule.send_now(uow, "140100", day=day)
            queued = time.perf_counter() - started
        digest_schedule.forget_digests()  # the sender rebuilds it, as another process would
        async with services.uow() as uow:
            started = time.perf_counter()
            content = await digest_content(
                uow, {"region_code": "140100", "day": day.isoformat()}, "zh"
            )
            rendered = time.perf_counter() - started

        box = _Mailbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()
        transport = httpx.ASGITransport(app=create_robot_app(robots))
        async with httpx.AsyncClient(transport=transport) as http:
            sender = ChannelSender(
                services, http=http, smtp=SmtpSettings.from_url(f"smtp://127.0.0.1:{port}")
            )
            started = time.perf_counter()
            stats = await sender.drain(timeout=600)
            delivered = time.perf_counter() - started
        controller.stop()
        await engine.dispose()

        wecom = [len(v) for k, v in robots.received.items() if k.startswith("wecom:")]
        ding = [len(v) for k, v in robots.received.items() if k.startswith("dingtalk:")]
        print(f"regulators with 3 channels each: {regulators}")
        print(f"queue the digest (Telegram rows + {3 * regulators} channel rows): {queued:.2f} s")
        print(
            f"render one channel copy (text {sum(len(x) for x in content.lines)} chars, chart "
            f"{len(content.chart_png or b'') // 1024} KB, workbook "
            f"{len(content.attachment[1]) // 1024 if content.attachment else 0} KB): "
            f"{rendered:.2f} s"
        )
        print(f"deliver all {3 * regulators} copies: {delivered:.2f} s ({stats})")
        print(
            f"WeCom messages per robot: {sorted(set(wecom))}; DingTalk: {sorted(set(ding))}; "
            f"e-mails: {box.count}"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regulators", type=int, default=12)
    asyncio.run(run(parser.parse_args().regulators))


if __name__ == "__main__":
    main()
