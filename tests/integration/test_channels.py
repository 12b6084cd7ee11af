"""Delivery channels end to end: fake WeCom / DingTalk robots (sandbox.robots) over httpx's
ASGI transport, aiosmtpd as the mail server, the real digest scheduler and channel sender."""

from __future__ import annotations

import asyncio
import base64
import email
import email.header
import hashlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import time, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.channels.kinds import TEST
from core.channels.sender import ChannelSender, ChannelSenderConfig, SmtpSettings
from core.channels.service import add_channel, list_channels, queue_test
from core.channels.targets import ChannelKind
from core.db.models import ChannelMessage, DeliveryChannel, OutboxMessage
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.ports import FixedClock
from core.services.digest_schedule import enqueue_due_digests
from sandbox.robots import RobotState, create_robot_app
from tests.factories import make_enterprise
from tests.integration.test_digest_schedule import MONDAY, add_regulator, morning, sh

WECOM_KEY = "693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "ff6cd723bdb4455fe18f0ba30dbeff007f5a1c2d"
DING_SECRET = "SEC4f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f6"
MAILBOX = "ju.zhang@taiyuan-jsj.example.cn"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Smtp:
    port: int
    box: Mailbox
    controller: Controller | None = None

    def up(self) -> None:
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp(_free_port(), Mailbox())
    server.up()
    yield server
    server.down()


@pytest.fixture
def robots() -> RobotState:
    state = RobotState()
    state.add_wecom(WECOM_KEY)
    state.add_dingtalk(DING_TOKEN, DING_SECRET)
    return state


@pytest.fixture
async def http(robots: RobotState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_robot_app(robots))
    async with httpx.AsyncClient(transport=transport, timeout=5) as client:
        yield client


def make_sender(
    services: Services, http: httpx.AsyncClient, smtp: Smtp, **config: Any
) -> ChannelSender:
    return ChannelSender(
        services,
        http=http,
        smtp=SmtpSettings.from_url(f"smtp://127.0.0.1:{smtp.port}"),
        config=ChannelSenderConfig(**config),
    )


async def regulator_with_channels(services: Services) -> tuple[int, dict[str, int]]:
    account = await add_regulator(services, 9101, "140100", time(7, 0))
    ids = {}
    async with services.uow() as uow:
        wecom = await add_channel(
            uow,
            Actor.system(),
            account_id=account,
            kind=ChannelKind.WECOM,
            value=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
        )
        ids["wecom"] = wecom.id
    async with services.uow() as uow:
        ding = await add_channel(
            uow,
            Actor.system(),
            account_id=account,
            kind=ChannelKind.DINGTALK,
            value=f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}",
            secret=DING_SECRET,
        )
        ids["dingtalk"] = ding.id
    async with services.uow() as uow:
        mail = await add_channel(
            uow, Actor.system(), account_id=account, kind=ChannelKind.EMAIL, value=MAILBOX
        )
        ids["email"] = mail.id
    return account, ids


async def channel_rows(services: Services) -> list[Any]:
    table = ChannelMessage.__table__
    async with services.uow() as uow:
        return list((await uow.session.execute(select(table).order_by(table.c.id))).all())


async def test_channels_are_stored_encrypted_and_listed_masked(services: Services) -> None:
    account, _ids = await regulator_with_channels(services)
    async with services.uow() as uow:
        stored = [
            (row.target_cipher, row.secret_cipher)
            for row in (await uow.session.scalars(select(DeliveryChannel))).all()
        ]
        views = await list_channels(uow, Actor.system(), account)
    for target, secret in stored:
        for plain in (WECOM_KEY, DING_TOKEN, MAILBOX, DING_SECRET):
            assert plain.encode() not in target + (secret or b"")
    labels = [view.label for view in views]
    assert labels == [
        "企业微信 key=693a…5aaa",
        "钉钉 token=ff6c…1c2d (加签)",
        "j***@taiyuan-jsj.example.cn",
    ]
    assert all(WECOM_KEY not in label and DING_TOKEN not in label for label in labels)


async def test_the_digest_reaches_every_channel_once_across_two_schedulers_and_a_restart(
    services: Services,
    clock: FixedClock,
    robots: RobotState,
    http: httpx.AsyncClient,
    smtp: Smtp,
) -> None:
    await morning(services)
    account, _ = await regulator_with_channels(services)
    clock.at = sh(7, 5)

    async def scheduler() -> list[int]:
        async with services.uow() as uow:  # each its own session, as two processes would
            return [d.account_id for d in await enqueue_due_digests(uow, clock.now())]

    first, second = await asyncio.gather(scheduler(), scheduler())
    assert sorted(first + second).count(account) == 1
    rows = [row for row in await channel_rows(services) if row.account_id == account]
    assert sorted(row.kind for row in rows) == ["digest"] * 3

    await make_sender(services, http, smtp).drain()
    # a restart: the schedulers tick again, a new sender drains again
    clock.advance(minutes=30)
    assert account not in await scheduler()
    await make_sender(services, http, smtp).drain()

    wecom = robots.received[f"wecom:{WECOM_KEY}"]
    kinds = [body["msgtype"] for body in wecom]
    assert kinds[-2:] == ["image", "file"]
    assert set(kinds[:-2]) == {"markdown"}
    text = "\n".join(body["markdown"]["content"] for body in wecom[:-2])
    assert "**📊 太原市 用工调度日报**" in text
    assert "&lt;" not in text
    assert all(len(body["markdown"]["content"].encode()) <= 4096 for body in wecom[:-2])
    image = wecom[-2]["image"]
    assert hashlib.md5(base64.b64decode(image["base64"])).hexdigest() == image["md5"]
    filename, data = robots.media[wecom[-1]["file"]["media_id"]]
    assert filename.endswith("太原市_2026-03-04.xlsx")
    assert data[:2] == b"PK"

    ding = robots.received[f"dingtalk:{DING_TOKEN}"]
    assert len(ding) == 1
    assert ding[0]["msgtype"] == "markdown"
    assert "太原市" in ding[0]["markdown"]["title"]
    assert "钉钉机器人不支持上传文件" in ding[0]["markdown"]["text"]

    assert len(smtp.box.messages) == 1
    mail = smtp.box.messages[0]
    assert mail["To"] == MAILBOX
    types = [part.get_content_type() for part in mail.walk()]
    assert "text/html" in types
    assert "image/png" in types
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in types
    html_part = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    image_part = next(p for p in mail.walk() if p.get_content_type() == "image/png")
    cid = image_part["Content-ID"].strip("<>")
    assert f"cid:{cid}" in html_part.get_payload(decode=True).decode()

    assert {row.status for row in await channel_rows(services)} == {"sent"}


async def test_an_escalation_is_copied_to_the_channels_with_the_telegram_notice(
    services: Services, robots: RobotState, http: httpx.AsyncClient, smtp: Smtp
) -> None:
    account, ids = await regulator_with_channels(services)
    async with services.uow() as uow:
        await uow.notify(
            account_id=account,
            kind="escalation",
            payload={"posting_kind": "shortage", "posting_id": 999},
            dedup_key=f"escalation:shortage:999:{account}",
        )
        # the same escalation again (a double click): nothing new anywhere
        await uow.notify(
            account_id=account,
            kind="escalation",
            payload={"posting_kind": "shortage", "posting_id": 999},
            dedup_key=f"escalation:shortage:999:{account}",
        )
        await uow.commit()
    rows = await channel_rows(services)
    assert sorted(row.channel_id for row in rows) == sorted(ids.values())
    await make_sender(services, http, smtp).drain()
    body = robots.received[f"wecom:{WECOM_KEY}"][0]["markdown"]["content"]
    assert body.startswith("**🧭 企业提请协调：缺工**")


async def test_an_invalid_wecom_key_breaks_the_channel_and_tells_the_account_once(
    services: Services, robots: RobotState, http: httpx.AsyncClient, smtp: Smtp
) -> None:
    account, ids = await regulator_with_channels(services)
    robots.wecom_keys.clear()  # the group removed the robot
    for _ in range(2):
        async with services.uow() as uow:
            await queue_test(uow, Actor.system(), ids["wecom"])
    stats = await make_sender(services, http, smtp).drain()
    assert stats.broken == 1
    async with services.uow() as uow:
        channel = await uow.session.get(DeliveryChannel, ids["wecom"])
        assert channel is not None
        assert channel.status == "broken"
        notices = (
            await uow.session.execute(
                select(OutboxMessage.account_id, OutboxMessage.payload).where(
                    OutboxMessage.kind == "text"
                )
            )
        ).all()
    assert [(n.account_id, n.payload["key"]) for n in notices] == [
        (account, "channels.broken_notice")
    ]
    assert notices[0].payload["params"]["label"] == "企业微信 key=693a…5aaa"
    # later notifications skip the broken channel; the others still get theirs
    async with services.uow() as uow:
        await uow.notify(
            account_id=account,
            kind="escalation",
            payload={"posting_kind": "shortage", "posting_id": 5},
        )
        await uow.commit()
    pending = [r for r in await channel_rows(services) if r.status == "pending"]
    assert sorted(r.channel_id for r in pending) == sorted([ids["dingtalk"], ids["email"]])


async def test_a_bad_dingtalk_signature_breaks_the_channel(
    services: Services, robots: RobotState, http: httpx.AsyncClient, smtp: Smtp
) -> None:
    _, ids = await regulator_with_channels(services)
    robots.dingtalk[DING_TOKEN] = "SECsomeothersecretthanours0000"
    async with services.uow() as uow:
        await queue_test(uow, Actor.system(), ids["dingtalk"])
    await make_sender(services, http, smtp).drain()
    async with services.uow() as uow:
        status = await uow.session.scalar(
            select(DeliveryChannel.status).where(DeliveryChannel.id == ids["dingtalk"])
        )
    assert status == "broken"


async def test_a_robot_at_its_rate_limit_keeps_the_rest_pending_and_sends_them_later(
    services: Services,
    clock: FixedClock,
    robots: RobotState,
    http: httpx.AsyncClient,
    smtp: Smtp,
) -> None:
    _, ids = await regulator_with_channels(services)
    for _ in range(23):
        async with services.uow() as uow:
            await queue_test(uow, Actor.system(), ids["dingtalk"])
    # a sender that does not pace itself meets DingTalk's 20/min answer 410100
    sender = make_sender(services, http, smtp, robot_per_minute=1000)
    stats = await sender.drain()
    assert stats.sent == 20
    assert stats.deferred == 3
    assert stats.dead == 0
    rows = await channel_rows(services)
    assert [r.status for r in rows].count("pending") == 3
    assert all(r.attempts == 0 for r in rows)
    # ten minutes later (DingTalk blocks that long) they go out, nothing twice
    robots._sent_at.clear()
    clock.advance(minutes=11)
    await sender.drain()
    assert len(robots.received[f"dingtalk:{DING_TOKEN}"]) == 23
    assert {r.status for r in await channel_rows(services)} == {"sent"}


async def test_the_sender_paces_itself_at_twenty_a_minute_per_robot(
    services: Services, robots: RobotState, http: httpx.AsyncClient, smtp: Smtp
) -> None:
    _, ids = await regulator_with_channels(services)
    for _ in range(21):
        async with services.uow() as uow:
            await queue_test(uow, Actor.system(), ids["wecom"])
    sender = make_sender(services, http, smtp)
    with pytest.raises(TimeoutError):
        await sender.drain(timeout=1.5)
    # 20 went at once, the 21st waits for the robot's minute instead of meeting errcode 45009
    assert len(robots.received[f"wecom:{WECOM_KEY}"]) == 20


async def test_smtp_down_for_a_while_then_back_loses_nothing_and_doubles_nothing(
    services: Services,
    clock: FixedClock,
    robots: RobotState,
    http: httpx.AsyncClient,
    smtp: Smtp,
) -> None:
    _, ids = await regulator_with_channels(services)
    smtp.down()
    async with services.uow() as uow:
        await queue_test(uow, Actor.system(), ids["email"])
    sender = make_sender(services, http, smtp, timeout=2.0)
    for minutes in (0, 1, 2):  # three tries while the server is away
        clock.advance(minutes=minutes * 5)
        await sender.drain()
    (row,) = await channel_rows(services)
    assert row.status == "pending"
    assert row.attempts >= 2
    assert row.last_error.startswith("SMTP unreachable")
    smtp.up()
    await sender.drain()  # not due yet: backoff
    assert smtp.box.messages == []
    clock.advance(hours=1)
    await sender.drain()
    await sender.drain()
    assert len(smtp.box.messages) == 1
    assert "测试消息" in str(smtp.box.messages[0]["Subject"]) or smtp.box.messages[0]["Subject"]
    assert [r.status for r in await channel_rows(services)] == ["sent"]


async def test_robot_outages_are_retried_with_backoff_and_then_delivered(
    services: Services,
    clock: FixedClock,
    robots: RobotState,
    http: httpx.AsyncClient,
    smtp: Smtp,
) -> None:
    _, ids = await regulator_with_channels(services)
    async with services.uow() as uow:
        await queue_test(uow, Actor.system(), ids["wecom"])
    robots.fail_next = 2
    sender = make_sender(services, http, smtp)
    await sender.drain()
    (row,) = await channel_rows(services)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 502")
    assert row.not_before.replace(tzinfo=None) >= (clock.now() + timedelta(seconds=29)).replace(
        tzinfo=None
    )
    clock.advance(seconds=31)
    await sender.drain()
    clock.advance(seconds=61)
    await sender.drain()
    assert len(robots.received[f"wecom:{WECOM_KEY}"]) == 1
    assert [r.status for r in await channel_rows(services)] == ["sent"]


async def test_no_key_token_secret_or_address_is_ever_logged(
    services: Services,
    clock: FixedClock,
    robots: RobotState,
    http: httpx.AsyncClient,
    smtp: Smtp,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await morning(services)
    _account, ids = await regulator_with_channels(services)
    clock.at = sh(7, 5)
    async with services.uow() as uow:
        await enqueue_due_digests(uow, clock.now())
    robots.fail_next = 1
    await make_sender(services, http, smtp).drain()
    robots.wecom_keys.clear()
    async with services.uow() as uow:
        await queue_test(uow, Actor.system(), ids["wecom"])
    clock.advance(hours=1)
    await make_sender(services, http, smtp).drain()
    # everything this process logged (the test's SMTP server, "mail.log", is not ours)
    logged = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("mail.")
    )
    assert "HTTP Request" in logged  # httpx did log its requests…
    for secret in (WECOM_KEY, DING_TOKEN, DING_SECRET, MAILBOX):
        assert secret not in logged  # …but without the credentials
    for row in await channel_rows(services):
        assert WECOM_KEY not in (row.last_error or "")


async def test_a_test_message_is_queued_only_for_the_owner(services: Services) -> None:
    account, ids = await regulator_with_channels(services)
    other = await add_regulator(services, 9102, "140100", time(7, 0))
    from core.domain.enums import Role
    from core.domain.errors import NotFound

    stranger = Actor(account_id=other, role=Role.REGULATOR, region_code="140100")
    async with services.uow() as uow:
        with pytest.raises(NotFound):
            await queue_test(uow, stranger, ids["wecom"])
    owner = Actor(account_id=account, role=Role.REGULATOR, region_code="140100")
    async with services.uow() as uow:
        await queue_test(uow, owner, ids["wecom"])
    assert [row.kind for row in await channel_rows(services)] == [TEST]


async def test_a_failed_part_is_retried_alone_so_the_group_sees_nothing_twice(
    services: Services,
    clock: FixedClock,
    robots: RobotState,
    http: httpx.AsyncClient,
    smtp: Smtp,
) -> None:
    await morning(services)
    await regulator_with_channels(services)
    clock.at = sh(7, 5)
    async with services.uow() as uow:
        await enqueue_due_digests(uow, clock.now())
    robots.fail_msgtype = "image"  # the chart meets a 502 after the text went out
    sender = make_sender(services, http, smtp)
    await sender.drain()
    wecom = robots.received[f"wecom:{WECOM_KEY}"]
    texts = len(wecom)
    assert texts >= 1
    assert {body["msgtype"] for body in wecom} == {"markdown"}
    clock.advance(minutes=1)
    await sender.drain()
    assert [body["msgtype"] for body in wecom] == ["markdown"] * texts + ["image", "file"]


async def test_a_labour_company_gets_its_weekly_digest_on_its_channels(
    services: Services,
    clock: FixedClock,
    robots: RobotState,
    http: httpx.AsyncClient,
    smtp: Smtp,
) -> None:
    async with services.uow() as uow:
        enterprise = await make_enterprise(uow, name="晋中劳务有限公司", type="labor_service")
        await uow.commit()
        enterprise_id = enterprise.id
    dispatcher = await add_regulator(
        services, 9201, None, time(8, 0), role=Role.DISPATCHER, enterprise_id=enterprise_id
    )
    async with services.uow() as uow:
        await add_channel(
            uow, Actor.system(), account_id=dispatcher, kind=ChannelKind.EMAIL, value=MAILBOX
        )
    clock.at = sh(8, 5, day=MONDAY)
    async with services.uow() as uow:
        assert [d.account_id for d in await enqueue_due_digests(uow, clock.now())] == [dispatcher]
    await make_sender(services, http, smtp).drain()
    (mail,) = smtp.box.messages
    assert "晋中劳务有限公司" in str(
        email.header.make_header(email.header.decode_header(mail["Subject"]))
    )


async def test_two_senders_at_once_deliver_each_channel_copy_once(
    services: Services,
    clock: FixedClock,
    robots: RobotState,
    http: httpx.AsyncClient,
    smtp: Smtp,
) -> None:
    await morning(services)
    await regulator_with_channels(services)
    clock.at = sh(7, 5)
    async with services.uow() as uow:
        await enqueue_due_digests(uow, clock.now())
    # two processes' senders wake together over the same rows
    await asyncio.gather(
        make_sender(services, http, smtp).drain(), make_sender(services, http, smtp).drain()
    )
    wecom = [body["msgtype"] for body in robots.received[f"wecom:{WECOM_KEY}"]]
    assert wecom.count("image") == 1
    assert wecom.count("file") == 1
    assert len(robots.received[f"dingtalk:{DING_TOKEN}"]) == 1
    assert len(smtp.box.messages) == 1


async def test_rows_a_dead_sender_had_claimed_go_out_once_after_its_claim_expires(
    services: Services,
    clock: FixedClock,
    robots: RobotState,
    http: httpx.AsyncClient,
    smtp: Smtp,
) -> None:
    from core.channels import queue

    _, ids = await regulator_with_channels(services)
    async with services.uow() as uow:
        await queue_test(uow, Actor.system(), ids["dingtalk"])
    async with services.uow() as uow:  # a sender claims the row, then its process dies
        (claimed,) = await queue.claim_due(
            uow, now=clock.now(), limit=10, claim_for=timedelta(minutes=10)
        )
    sender = make_sender(services, http, smtp)
    assert (await sender.drain()).sent == 0  # still claimed: nobody else takes it
    clock.advance(minutes=11)
    assert (await sender.drain()).sent == 1
    assert len(robots.received[f"dingtalk:{DING_TOKEN}"]) == 1
    assert [r.status for r in await channel_rows(services)] == ["sent"]
    assert claimed.url.endswith(DING_TOKEN)
    assert claimed.secret == DING_SECRET


async def test_without_smtp_url_the_mail_waits_instead_of_failing(
    services: Services, http: httpx.AsyncClient
) -> None:
    _, ids = await regulator_with_channels(services)
    async with services.uow() as uow:
        await queue_test(uow, Actor.system(), ids["email"])
    sender = ChannelSender(services, http=http)  # the settings have no SMTP_URL
    stats = await sender.drain()
    (row,) = await channel_rows(services)
    assert stats.deferred == 1
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, "SMTP_URL is not set")
