"""Two `jingong serve` processes behind one bot: shared FSM (Redis), shared data (PostgreSQL),
one effect per update, one scheduler run per job. See tests/scaleout/conftest.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from sqlalchemy import func, select

from core.bootstrap import build_services
from core.db.models import (
    DigestDelivery,
    FsmRecord,
    Lease,
    OutboxMessage,
    ProcessedUpdate,
    ShortagePosting,
)
from core.db.uow import Services
from tests.scaleout.conftest import (
    FOREMAN_NAME,
    FOREMAN_PHONE,
    FOREMAN_TG,
    POST_SHORTAGE,
    RACER_TG,
    REGULATOR_TG,
    WEBHOOK_PATH,
    Cluster,
    ServeProcess,
    buttons,
    post_update,
    wait_for_button,
)

pytestmark = pytest.mark.scaleout

SETTLE_TIMEOUT = 30.0


@pytest.fixture
async def db(cluster: Cluster) -> AsyncIterator[Services]:
    """The cluster's PostgreSQL database, seen from the test (this test's event loop)."""
    engine, services = build_services(cluster.settings)
    yield services
    await engine.dispose()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


async def processed(services: Services, update_ids: list[int]) -> list[ProcessedUpdate]:
    async with services.uow() as uow:
        rows = list(
            (
                await uow.session.scalars(
                    select(ProcessedUpdate).where(ProcessedUpdate.update_id.in_(update_ids))
                )
            ).all()
        )
        uow.session.expunge_all()
        return rows


async def wait_processed(cluster: Cluster, services: Services, update_ids: list[int]) -> None:
    """Until every update was claimed by a process (the claim clears `raw`, before the
    handler runs: wait for a handler's effect separately)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        rows = await processed(services, update_ids)
        if len(rows) == len(update_ids) and all(r.raw is None for r in rows):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"updates not processed: {rows}\n{cluster.logs()}")
        await asyncio.sleep(0.1)


async def wait_done(cluster: Cluster, services: Services, update_ids: list[int]) -> None:
    """Until the handlers of these updates have finished (their rows are `done`)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        rows = await processed(services, update_ids)
        if len(rows) == len(update_ids) and all(r.status == "done" for r in rows):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"updates not done: {rows}\n{cluster.logs()}")
        await asyncio.sleep(0.1)


def log_lines(process: ServeProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in process.log().splitlines() if line.startswith("{")]


def webhook_posts(process: ServeProcess) -> int:
    return sum(
        1
        for line in log_lines(process)
        if line.get("path") == WEBHOOK_PATH and line.get("method") == "POST"
    )


def dialog_state(cluster: Cluster, user_id: int) -> str | None:
    """The state of the user's open dialog as the processes stored it in Redis (aiogram-dialog:
    a stack of intent ids, each intent's context under a key of its own)."""
    builder = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    def key(destiny: str) -> str:
        storage_key = StorageKey(
            bot_id=cluster.bot_id, chat_id=user_id, user_id=user_id, destiny=destiny
        )
        return builder.build(storage_key, "data")

    client = redis.Redis.from_url(cluster.settings.redis_url, socket_timeout=5)
    try:
        stack = client.get(key("aiogd:stack:"))
        intents = json.loads(stack)["intents"] if stack else []
        if not intents:
            return None
        context = client.get(key(f"aiogd:context:{intents[-1]}"))
    finally:
        client.close()
    return str(json.loads(context)["state"]) if context else None


async def ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {}


# --- one user's dialog, alternating between the processes -----------------------------------


async def test_a_shortage_flow_alternating_between_the_processes_posts_one_correct_shortage(
    cluster: Cluster, db: Services, client: httpx.AsyncClient
) -> None:
    a, b = cluster.processes
    secret = cluster.webhook_secret
    sent: list[int] = []
    queries: list[str] = []
    posts_before = [webhook_posts(p) for p in (a, b)]

    async def post(process: ServeProcess, update: dict[str, Any]) -> None:
        sent.append(update["update_id"])
        if "callback_query" in update:
            queries.append(update["callback_query"]["id"])
        await ok(await post_update(client, process, update, secret))

    async def tap(process: ServeProcess, part: str, text: str | None = None) -> None:
        """Press the button the bot shows now (read back from the emulator)."""
        message, data = await wait_for_button(cluster, FOREMAN_TG, part=part, text=text)
        await post(process, cluster.callback_update(FOREMAN_TG, message, data))

    # A: the menu button → one project, so straight to the trades
    await post(a, cluster.message_update(FOREMAN_TG, POST_SHORTAGE))
    await tap(b, "\x1dtrade:", "抹灰工")  # B: the trade
    await tap(a, "\x1dgrade:", "三级 高级工")  # A: the minimum grade
    await tap(b, "\x1dn:", "4")  # B: the headcount
    await wait_for_button(cluster, FOREMAN_TG, part="\x1dptype")  # the price step is shown
    await post(a, cluster.message_update(FOREMAN_TG, "5,500"))  # A: a typed price
    await tap(b, "\x1dme")  # B: the profile's name and phone as the contact
    await wait_for_button(cluster, FOREMAN_TG, part="\x1dconfirm")  # the summary
    # the dialog lives in Redis (shared by both), not in a process or the SQL FSM table
    assert dialog_state(cluster, FOREMAN_TG) == "PostShortage:summary"
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(FsmRecord)) == 0
    await tap(a, "\x1dconfirm")  # A: confirm
    await wait_processed(cluster, db, sent)
    # the reply to Confirm is sent after the posting was committed
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not cluster.bot_messages(FOREMAN_TG)[-1].get("text", "").startswith("✅"):
        assert time.monotonic() < deadline, cluster.bot_messages(FOREMAN_TG)[-1]
        await asyncio.sleep(0.05)

    async with db.uow() as uow:
        rows = list((await uow.session.scalars(select(ShortagePosting))).all())
        assert len(rows) == 1, rows
        [row] = rows
        assert (row.project_id, row.trade_code, row.min_grade) == (
            cluster.project_id,
            "plasterer",
            3,
        )
        assert (row.headcount, row.price_fen, row.status) == (4, 550_000, "open")
        assert (row.contact_name, row.contact_phone) == (FOREMAN_NAME, FOREMAN_PHONE)
        posting_id = row.id
    # every tap was answered once (the emulator refuses a second answer), the last one "posted"
    assert all(cluster.callback_answered(q) for q in queries)
    last = cluster.bot_messages(FOREMAN_TG)[-1]
    assert last["text"].startswith(f"✅ 已发布缺工 #{posting_id}：抹灰工 三级及以上 4人"), last
    # both processes took their turns: A four updates, B three (their access logs)
    posts = [webhook_posts(p) - before for p, before in zip((a, b), posts_before, strict=True)]
    assert posts == [4, 3]


# --- the same update at both processes ------------------------------------------------------


async def test_the_same_update_posted_to_both_processes_at_once_has_one_effect(
    cluster: Cluster, db: Services, client: httpx.AsyncClient
) -> None:
    a, b = cluster.processes
    secret = cluster.webhook_secret
    rounds = 3
    update_ids = []
    for n in range(1, rounds + 1):
        update = cluster.message_update(RACER_TG, POST_SHORTAGE)
        update_ids.append(update["update_id"])
        answers = await asyncio.gather(
            post_update(client, a, update, secret), post_update(client, b, update, secret)
        )
        for response in answers:
            await ok(response)  # the loser answers 200 too: Telegram must not re-send
        # both answered, so neither process takes the update in again; once its row is done,
        # the one handler that got past the claim has sent its reply: no waiting for a
        # wrong second reply by the clock
        await wait_done(cluster, db, [update["update_id"]])
        # each round: exactly one new bot message with the trades
        replies = cluster.bot_messages(RACER_TG)
        assert len(replies) == n, [m.get("text") for m in replies]
        assert any("\x1dtrade:" in data for _t, data in buttons(replies[-1]))

    rows = await processed(db, update_ids)
    assert sorted(r.update_id for r in rows) == update_ids
    assert all(r.status == "done" and r.raw is None for r in rows)


# --- the scheduler in both processes --------------------------------------------------------


async def test_both_processes_run_the_scheduler_and_a_due_digest_goes_out_once(
    cluster: Cluster, db: Services
) -> None:
    regulator = cluster.regulator_account_id

    async def outbox_rows() -> list[OutboxMessage]:
        async with db.uow() as uow:
            rows = list(
                (
                    await uow.session.scalars(
                        select(OutboxMessage).where(OutboxMessage.account_id == regulator)
                    )
                ).all()
            )
            uow.session.expunge_all()
            return rows

    # the digest was due when the processes started (00:00 local digest time): both ran the
    # digest tick at start-up; wait until its parts have all been sent
    deadline = time.monotonic() + 90
    while True:
        rows = await outbox_rows()
        if rows and all(r.status == "sent" for r in rows):
            break
        if time.monotonic() > deadline:
            states = [(r.kind, r.status, r.last_error) for r in rows]
            raise AssertionError(f"digest not delivered: {states}\n{cluster.logs()}")
        await asyncio.sleep(0.2)

    async with db.uow() as uow:
        deliveries = (
            await uow.session.execute(
                select(DigestDelivery.kind, DigestDelivery.day).where(
                    DigestDelivery.account_id == regulator
                )
            )
        ).all()
        assert len(deliveries) == 1, deliveries
        assert deliveries[0].kind == "daily", deliveries
        leases = (await uow.session.execute(select(Lease.name, Lease.holder))).all()

    kinds = Counter(r.kind for r in rows)
    assert kinds["digest_chart"] == 1, kinds
    assert kinds["digest_xlsx"] == 1, kinds
    assert kinds["digest_text"] >= 1, kinds
    assert len({r.dedup_key for r in rows}) == len(rows)  # one set of parts, no duplicate

    # the regulator's chat got each part exactly once
    messages = cluster.bot_messages(REGULATOR_TG)
    texts = [m for m in messages if "text" in m]
    photos = [m for m in messages if "photo" in m]
    documents = [m for m in messages if "document" in m]
    assert (len(texts), len(photos), len(documents)) == (kinds["digest_text"], 1, 1), [
        m.get("text", "")[:40] for m in messages
    ]

    # one leader: the lease is held by one of the two processes, and only one ever led
    [(_name, holder)] = [lease for lease in leases if lease.name == "scheduler"]
    pids = {str(p.pid) for p in cluster.processes}
    assert holder.split(":")[1] in pids, (holder, pids)
    leaders = [
        p.name
        for p in cluster.processes
        if any(
            line.get("msg", "").startswith("lease scheduler:")
            and line["msg"].endswith("is the leader")
            for line in log_lines(p)
        )
    ]
    assert len(leaders) == 1, cluster.logs()
