"""/healthz, /readyz, and JSON logs that carry the update id but no secret or personal data."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from core.bootstrap import build_services
from core.db.engine import create_engine
from core.db.uow import Services
from tests.webhooks.conftest import (
    WEBHOOK_SECRET,
    Web,
    World,
    bearer,
    open_web,
    tg_update,
    web_settings_of,
)
from webhooks.logging import ContextFilter, JsonFormatter, Redactor, quiet_noisy_loggers


async def test_healthz_answers_while_the_process_is_up(web: Web) -> None:
    response = await web.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_checks_the_database_and_skips_redis_when_not_configured(web: Web) -> None:
    response = await web.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "skipped"}}


async def test_readyz_pings_redis_when_configured(services: Services, test_settings: Any) -> None:
    settings = web_settings_of(test_settings, redis_url="redis://127.0.0.1:6379/15")
    async for web in open_web(services, settings):
        response = await web.client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_is_503_when_a_dependency_is_down(
    services: Services, test_settings: Any
) -> None:
    settings = web_settings_of(test_settings, redis_url="redis://127.0.0.1:1/0")
    async for web in open_web(services, settings):
        response = await web.client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "checks": {"database": "ok", "redis": "error"},
        }
        # and a database nobody listens for
        engine = create_engine(url="postgresql+asyncpg://postgres@127.0.0.1:1/none")
        _, broken = build_services(settings, engine=engine)
        web.app.state.services = broken
        down = await web.client.get("/readyz")
        web.app.state.services = services
        await engine.dispose()
        assert down.status_code == 503
        assert down.json()["checks"]["database"] == "error"


async def test_concurrent_deliveries_of_one_update_have_one_effect(web: Web) -> None:
    responses = await asyncio.gather(*(web.post_update(tg_update(77)) for _ in range(5)))
    await web.settle()

    assert [r.status_code for r in responses] == [200] * 5
    assert len(web.calls("sendMessage")) == 1


async def test_logs_carry_the_update_id_and_never_secrets_keys_phones_or_id_numbers(
    web: Web, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    phone = "13987654321"
    id_number = "11010519491231002X"
    key = world.keys["ent_a"]
    quiet_noisy_loggers()  # what configure_logging does in `jingong serve`
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(ContextFilter())  # as on the handler configure_logging installs

    await web.post_update(tg_update(501, text=f"我的身份证 {id_number} 电话 {phone}"))
    contact = tg_update(502)
    contact["message"].pop("text")
    contact["message"]["contact"] = {"phone_number": phone, "first_name": "王", "user_id": 9001}
    await web.post_update(contact)
    await web.post_update(tg_update(503), secret="wrong-" + WEBHOOK_SECRET)
    await web.client.get("/api/v1/postings?kind=shortage", headers=bearer(key))
    await web.client.get("/api/v1/postings?kind=shortage", headers=bearer(key + "x"))
    await web.client.put(
        "/api/v1/workers:bulk",
        headers=bearer(key),
        json={"rows": [{"id_number": id_number, "name": "王", "phone": phone}]},
    )
    await web.settle()

    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    text = "\n".join([caplog.text, *lines])
    for secret in (WEBHOOK_SECRET, key, key.split("_", 2)[2], phone, id_number):
        assert secret not in text
    parsed = [json.loads(line) for line in lines]
    assert {p.get("update_id") for p in parsed} >= {501, 502}
    access = [p for p in parsed if p["logger"] == "webhooks.access"]
    assert {(p["method"], p["path"], p["status"]) for p in access} >= {
        ("POST", "/telegram/webhook", 200),
        ("POST", "/telegram/webhook", 401),
        ("GET", "/api/v1/postings", 200),
        ("GET", "/api/v1/postings", 401),
    }
    assert any("api_key_id" in p for p in access)


def test_the_redactor_masks_what_slips_into_a_message() -> None:
    redact = Redactor(secrets=["Sup3r-Secret"])
    text = (
        "token Sup3r-Secret key jg_0123abcd_AbC-dEf_123 id 11010519491231002X "
        "phones 13912345678, +86 139-1234-5678 and 8613912345678; order 20260304123456"
    )
    assert redact(text) == (
        "token *** key jg_0123abcd_*** id 110105********002X "
        "phones 139****5678, 139****5678 and 139****5678; order 20260304123456"
    )
