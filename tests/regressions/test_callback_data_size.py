"""Regression: the deal records' paging button (DealCb) carried core's 36-character keyset
cursor and reached Telegram's 64-byte limit with a 14-character trade code and a 9-digit deal
id; one more character (a longer trade code: trades are reference data, the column holds 30)
and building the page failed. The cursor now travels compact (base 36)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.callbacks_deals import DealActCb
from bot.keyboards.regulator import (
    PREV,
    DealCb,
    DealPickCb,
    EscCb,
    ExportCb,
    GuideCb,
    RateCb,
    ShortCb,
)
from bot.keyboards.workers import WorkersCb, WorkerSetCb
from core.db.models import Deal
from core.db.uow import Services
from core.domain.errors import ValidationError
from core.services.paging import (
    compact_cursor,
    decode_ts_cursor,
    encode_id_cursor,
    encode_ts_cursor,
    expand_cursor,
)
from tests.bot.harness import BotDriver, callback_for, last_reply_markup, last_text, tg_user
from tests.integration.regulator_world import (
    TAIYUAN_REGULATOR_TG,
    RegWorld,
    build_reg_world,
    shanghai,
)

MAX_ID = 2**31 - 1  # Integer primary keys
TRADE_MAX = "t" * 30  # trade.code is String(30)
LATE = datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
TAIYUAN = tg_user(TAIYUAN_REGULATOR_TG)


def size(data: str) -> int:
    return len(data.encode())


def test_compact_cursors_round_trip_and_old_buttons_still_work() -> None:
    full = encode_ts_cursor(LATE, MAX_ID)
    short = compact_cursor(full)
    assert len(short) <= 18
    assert decode_ts_cursor(expand_cursor(short)) == (LATE, MAX_ID)
    assert expand_cursor(full) == full  # a button sent before the change
    for forged in ("zz.", ".1", "a!.b", "é.1", "z" * 40 + ".1"):
        with pytest.raises(ValidationError):
            expand_cursor(forged)


def test_every_paging_and_filter_button_fits_64_bytes_at_realistic_maxima() -> None:
    ts = encode_ts_cursor(LATE, MAX_ID)
    offset = encode_id_cursor(100_000)
    worst = [
        DealCb(area="140105", span="w", trade=TRADE_MAX, cursor=PREV + compact_cursor(ts)),
        DealPickCb(area="140105", span="w", trade=TRADE_MAX, what="t"),
        ExportCb(table="d", code="140105", a="w", b=TRADE_MAX),
        GuideCb(act="ok", city="140100", trade=TRADE_MAX, grade=5),
        EscCb(kind="s", code="140105", cursor=ts, back=1),
        ShortCb(code="140105", group="p", cursor=offset),
        RateCb(code="140105", cursor=offset),
        WorkersCb(st="a", tr=TRADE_MAX, at=MAX_ID, d="p"),
        WorkerSetCb(worker_id=MAX_ID, to="b", st="a", tr=TRADE_MAX),
        DealActCb(a="a", id=MAX_ID, v=MAX_ID),
    ]
    assert {type(cb).__name__: size(cb.pack()) for cb in worst if size(cb.pack()) > 64} == {}


@pytest.fixture
async def driver(services: Services) -> AsyncIterator[BotDriver]:
    drv = BotDriver(services)
    yield drv
    await drv.close()


async def test_a_regulator_pages_deal_records_with_large_deal_ids_and_a_long_trade_code(
    driver: BotDriver, services: Services
) -> None:
    world: RegWorld = await build_reg_world(services)
    async with services.uow() as uow:
        for n in range(12):  # one a day from 02-12 to 02-23, ids near the Integer maximum
            at = shanghai(date(2026, 2, 12 + n), 9)
            uow.session.add(
                Deal(
                    id=MAX_ID - 20 + n, shortage_id=world.s2, idle_posting_id=None,
                    shortage_enterprise_id=world.wujian_id,
                    idle_enterprise_id=world.xiaodian_build_id, trade_code="crane_operator",
                    county_code="140106", city_code="140100", headcount=1, price_fen=800_000,
                    start_date=at.date(), status="accepted", proposer_side="shortage",
                    awaiting_side=None, created_at=at, updated_at=at, expires_at=at,
                    accepted_at=at,
                )
            )  # fmt: skip
        await uow.commit()

    def days(text: str) -> list[str]:
        return [ln[:5] for ln in text.splitlines() if re.match(r"\d\d-\d\d ", ln)]

    first = await driver.tap(
        TAIYUAN, DealCb(area="140100", span="m", trade="crane_operator").pack()
    )
    assert "共 12 笔" in last_text(first)
    assert days(last_text(first)) == [f"02-{d}" for d in range(23, 13, -1)]
    following = callback_for(last_reply_markup(first), "下一页")
    assert size(following) <= 64
    second = await driver.tap(TAIYUAN, following)
    assert days(last_text(second)) == ["02-13", "02-12"]
    back = await driver.tap(TAIYUAN, callback_for(last_reply_markup(second), "上一页"))
    assert days(last_text(back)) == days(last_text(first))
