"""The web app over the `services` fixture (SQLite and PostgreSQL), driven in-process by
httpx.AsyncClient + ASGITransport, with a Bot whose session records Bot API calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bot.factory import create_bot, create_dispatcher
from core.config import Settings
from core.db.models import Deal, GuidePrice
from core.db.uow import Services
from core.domain.actor import Actor
from core.services.apikeys import create_api_key, revoke_api_key
from tests.bot.harness import RecordingSession
from tests.factories import make_enterprise, make_project, make_shortage
from webhooks.app import create_app

WEBHOOK_SECRET = "Test_Webhook-Secret_0123456789"
WEBHOOK_PATH = "/telegram/webhook"


def web_settings_of(base: Settings, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "webhook_secret": SecretStr(WEBHOOK_SECRET),
        "api_rate_per_second": 1000.0,
        "api_rate_burst": 1000,
    }
    values.update(changes)
    return base.model_copy(update=values)


@dataclass
class Web:
    app: FastAPI
    client: httpx.AsyncClient
    session: RecordingSession
    services: Services

    async def post_update(
        self, payload: Any, *, secret: str | None = WEBHOOK_SECRET, raw: bytes | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        if raw is not None:
            return await self.client.post(WEBHOOK_PATH, content=raw, headers=headers)
        return await self.client.post(WEBHOOK_PATH, json=payload, headers=headers)

    async def settle(self) -> None:
        """Wait until the updates taken in so far are processed."""
        await self.app.state.intake.wait_idle()

    def calls(self, method: str | None = None) -> list[Any]:
        return [s for s in self.session.requests if method is None or s.method == method]


async def open_web(
    services: Services, settings: Settings, **app_kwargs: Any
) -> AsyncIterator[Web]:
    session = RecordingSession()
    bot = create_bot(settings, session=session)
    dp = create_dispatcher(settings, services=services)
    app = create_app(settings, services=services, bot=bot, dispatcher=dp, **app_kwargs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Web(app=app, client=client, session=session, services=services)


@pytest.fixture
def web_settings(test_settings: Settings) -> Settings:
    return web_settings_of(test_settings)


@pytest.fixture
async def web(services: Services, web_settings: Settings) -> AsyncIterator[Web]:
    async for opened in open_web(services, web_settings):
        yield opened


# --- a small market with keys of every kind -------------------------------------------------


@dataclass
class World:
    ent_a: int  # 太原 小店区 (140105)
    ent_b: int  # 晋中 榆次区 (140702)
    project_a: str  # code of a project of A
    project_b: str  # code of a project of B
    market_a: int  # A's market shortage posting, 太原
    internal_b: int  # B's internal-ring shortage, 晋中: only B (and regulators there) see it
    market_b: int  # B's market shortage, 晋中
    keys: dict[str, str] = field(default_factory=dict)  # name → plaintext


KEY_NAMES = ("ent_a", "ent_b", "reg_1401", "reg_1407", "reg_14", "revoked")


async def _key(services: Services, label: str, **scope: Any) -> str:
    async with services.uow() as uow:
        _view, plaintext = await create_api_key(uow, Actor.system(), label=label, **scope)
    return plaintext


@pytest.fixture
async def world(services: Services) -> World:
    async with services.uow() as uow:
        a = await make_enterprise(uow, name="太原建工劳务", county_code="140105")
        b = await make_enterprise(uow, name="晋中建设集团", county_code="140702")
        pa = await make_project(uow, a, name="太原南站")
        pb = await make_project(uow, b, name="榆次新城")
        market_a = await make_shortage(uow, pa, contact_phone="13912345678")
        internal_b = await make_shortage(uow, pb, ring="internal", contact_phone="13700001111")
        market_b = await make_shortage(
            uow, pb, trade_code="rebar", created_at=uow.now() - timedelta(hours=1)
        )
        uow.session.add(
            GuidePrice(
                city_code="140100",
                trade_code="plasterer",
                grade_level=2,
                price_fen=400000,
                effective_date=date(2026, 1, 1),
                created_at=uow.now(),
            )
        )
        accepted = uow.now() - timedelta(hours=2)
        for posting, receiving, supplier in ((market_a, a, b), (market_b, b, a)):
            uow.session.add(
                Deal(
                    shortage_id=posting.id,
                    shortage_enterprise_id=receiving.id,
                    idle_enterprise_id=supplier.id,
                    trade_code=posting.trade_code,
                    county_code=posting.county_code,
                    city_code=posting.city_code,
                    headcount=2,
                    price_fen=520000,
                    start_date=date(2026, 3, 5),
                    status="accepted",
                    proposer_side="shortage",
                    created_at=accepted,
                    updated_at=accepted,
                    expires_at=accepted + timedelta(days=2),
                    accepted_at=accepted,
                )
            )
        await uow.commit()
        ids = (a.id, b.id, pa.code, pb.code, market_a.id, internal_b.id, market_b.id)
    w = World(*ids)
    w.keys["ent_a"] = await _key(services, "A", enterprise_id=w.ent_a)
    w.keys["ent_b"] = await _key(services, "B", enterprise_id=w.ent_b)
    w.keys["reg_1401"] = await _key(services, "太原住建局", region_code="1401")
    w.keys["reg_1407"] = await _key(services, "晋中住建局", region_code="1407")
    w.keys["reg_14"] = await _key(services, "省住建厅", region_code="14")
    w.keys["revoked"] = await _key(services, "old", enterprise_id=w.ent_a)
    async with services.uow() as uow:
        await revoke_api_key(uow, Actor.system(), w.keys["revoked"].split("_")[1])
    return w


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# the Shanxi day of the `clock` fixture (2026-03-04) and the update factory


TODAY = date(2026, 3, 4)


def tg_update(update_id: int, user_id: int = 9001, text: str = "/start", **extra: Any) -> dict:
    """A private text message update as Telegram sends it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(datetime(2026, 3, 4, 2, 0, tzinfo=UTC).timestamp()),
            "chat": {"id": user_id, "type": "private", "first_name": "王工"},
            "from": {"id": user_id, "is_bot": False, "first_name": "王工", "language_code": "zh"},
            "text": text,
            **extra,
        },
    }


Factory = Callable[..., dict]
