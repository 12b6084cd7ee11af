"""Regulator tables fit a 390 px phone: every <pre> line at most 24 display columns (汉字 count
2, measured with unicodedata.east_asian_width), otherwise the screen shows a list instead."""

from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import update

from bot.i18n import t
from bot.keyboards.regulator import GuideCb, StatCb, SumCb
from core.db.models import Account, Project
from core.db.uow import Services
from tests.bot.harness import BotDriver, last_text, tg_user
from tests.factories import make_shortage
from tests.integration.regulator_world import (
    PROVINCE_REGULATOR_TG,
    TAIYUAN_REGULATOR_TG,
    XIAODIAN_REGULATOR_TG,
    RegWorld,
    build_reg_world,
)

TAIYUAN = tg_user(TAIYUAN_REGULATOR_TG)
PHONE = 24


def width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def pre_lines(text: str) -> list[str]:
    return [
        line
        for block in re.findall(r"<pre>(.*?)</pre>", text, re.S)
        for line in block.splitlines()
    ]


@pytest.fixture
async def world(services: Services) -> RegWorld:
    world = await build_reg_world(services)
    async with services.uow() as uow:  # every grade short in 太原: the widest statistics
        project = await uow.session.get(Project, 1)
        assert project is not None
        for grade in range(1, 6):
            await make_shortage(uow, project, trade_code="formwork", min_grade=grade, headcount=12)
        await uow.commit()
    return world


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_every_regulator_table_line_fits_a_phone(
    driver: BotDriver, services: Services, world: RegWorld, locale: str
) -> None:
    async with services.uow() as uow:
        await uow.session.execute(update(Account).values(locale=locale))
        await uow.commit()
    screens: list[str] = []
    for tg in (TAIYUAN_REGULATOR_TG, XIAODIAN_REGULATOR_TG, PROVINCE_REGULATOR_TG):
        user = tg_user(tg)
        for key in ("menu.summary", "menu.statistics", "menu.guide_prices"):
            screens.append(last_text(await driver.send(user, t(key, locale))))
    for data in (SumCb(code="140105"), StatCb(code="140105"), GuideCb(act="v", city="140100")):
        screens.append(last_text(await driver.tap(TAIYUAN, data.pack())))
    lines = [line for text in screens for line in pre_lines(text)]
    assert lines, "no table at all"
    too_wide = [line for line in lines if width(line) > PHONE]
    assert too_wide == []


async def test_a_table_wider_than_a_phone_becomes_a_list(
    driver: BotDriver, world: RegWorld
) -> None:
    text = last_text(await driver.send(TAIYUAN, t("menu.statistics", "zh")))
    # five grades plus the total do not fit 24 columns: one line per trade
    assert "<pre>" not in text
    assert (
        "<b>模板工</b>：1级 12/0 · 2级 12/0 · 3级 12/0 · 4级 12/0 · 5级 12/0 · 合计 60/0" in text
    )
    assert "<b>钢筋工</b>：1级 0/2 · 2级 5/0 · 合计 5/2" in text
