"""POST /telegram/webhook: the secret token, malformed bodies, exactly-once, crash recovery."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from core.db.models import ProcessedUpdate
from core.db.uow import Services
from core.ports import FixedClock
from tests.webhooks.conftest import Web, open_web, tg_update, web_settings_of
from webhooks import updates


async def stored(services: Services) -> dict[int, tuple[str, str | None]]:
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(ProcessedUpdate.update_id, ProcessedUpdate.status, ProcessedUpdate.raw)
        )
        return {update_id: (status, raw) for update_id, status, raw in rows}


async def test_a_request_without_the_secret_token_is_refused_before_anything_runs(
    web: Web,
) -> None:
    response = await web.post_update(tg_update(1), secret=None)
    await web.settle()

    assert response.status_code == 401
    assert response.json()["error"] == "error.webhook_secret"
    assert web.calls() == []
    assert await stored(web.services) == {}


async def test_a_wrong_secret_token_is_refused_even_with_a_broken_body(web: Web) -> None:
    wrong = await web.post_update(tg_update(1), secret="Test_Webhook-Secret_012345678X")
    broken = await web.post_update(None, secret="nope", raw=b"{not json")

    assert (wrong.status_code, broken.status_code) == (401, 401)
    assert web.calls() == []
    assert await stored(web.services) == {}


async def test_an_update_with_the_right_secret_is_answered_with_an_empty_object_and_handled(
    web: Web,
) -> None:
    response = await web.post_update(tg_update(10))
    await web.settle()

    assert response.status_code == 200
    assert response.json() == {}
    sent = web.calls("sendMessage")
    assert len(sent) == 1
    assert sent[0].params["chat_id"] == 9001
    assert "申请入驻" in sent[0].params["text"]  # /start's answer, not the error apology
    # processed: the row stays (re-sends are recognized) but the raw payload is gone
    assert await stored(web.services) == {10: ("done", None)}


async def test_the_same_update_sent_twice_has_one_effect(web: Web) -> None:
    first = await web.post_update(tg_update(11))
    second = await web.post_update(tg_update(11))
    await web.settle()
    third = await web.post_update(tg_update(11))
    await web.settle()

    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert [r.json() for r in (first, second, third)] == [{}, {}, {}]
    assert len(web.calls("sendMessage")) == 1


async def test_updates_arriving_together_are_each_handled_once_duplicates_included(
    web: Web,
) -> None:
    # they share one stored batch (group commit); 21 appears twice in the same batch
    ids = [20, 21, 22, 21, 23, 24, 25]
    responses = await asyncio.gather(*(web.post_update(tg_update(i)) for i in ids))
    await web.settle()

    assert [r.status_code for r in responses] == [200] * len(ids)
    assert len(web.calls("sendMessage")) == len(set(ids))
    assert await stored(web.services) == {i: ("done", None) for i in set(ids)}


async def test_malformed_bodies_get_400_never_500(web: Web) -> None:
    cases = {
        "not json": b"{update_id: 1",
        "not utf-8": b"\xff\xfe{}",
        "a list": b"[1, 2]",
        "a string": b'"update"',
        "no update_id": json.dumps({"message": {"text": "hi"}}).encode(),
        "wrong types": json.dumps({"update_id": "abc"}).encode(),
        "broken message": json.dumps({"update_id": 5, "message": {"chat": 3}}).encode(),
        "negative id": json.dumps({"update_id": -4}).encode(),
        "huge id": json.dumps({"update_id": 2**70}).encode(),
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    }
    for name, body in cases.items():
        response = await web.post_update(None, raw=body)
        assert response.status_code == 400, name
        assert response.json()["error"] == "error.bad_update", name
    await web.settle()
    assert web.calls() == []
    assert await stored(web.services) == {}


async def test_an_oversized_body_is_refused_with_413(web: Web) -> None:
    update = tg_update(12, text="x" * 2_000_000)
    response = await web.post_update(update)
    await web.settle()

    assert response.status_code == 413
    assert response.json()["error"] == "error.body_too_large"
    assert web.calls() == []


async def test_an_update_no_handler_takes_still_gets_a_valid_200(web: Web) -> None:
    update = {
        "update_id": 13,
        "edited_channel_post": {
            "message_id": 3,
            "date": 1772589600,
            "edit_date": 1772589660,
            "chat": {"id": -1001234, "type": "channel", "title": "公告"},
            "text": "edited",
        },
    }
    response = await web.post_update(update)
    await web.settle()

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    assert web.calls() == []
    assert await stored(web.services) == {13: ("done", None)}


async def test_updates_stored_by_a_process_that_died_are_handled_at_the_next_start(
    services: Services, test_settings: object, clock: FixedClock
) -> None:
    settings = web_settings_of(test_settings)  # type: ignore[arg-type]
    async with services.uow() as uow:
        # taken in and acknowledged, then the process died before handling it
        uow.session.add(
            ProcessedUpdate(
                update_id=20,
                received_at=clock.now(),
                raw=json.dumps(tg_update(20, user_id=9002)),
                status="received",
            )
        )
        # handled long ago: must not run again
        uow.session.add(
            ProcessedUpdate(update_id=19, received_at=clock.now(), raw=None, status="done")
        )
        await uow.commit()

    async for web in open_web(services, settings):
        await web.settle()
        sent = web.calls("sendMessage")
        assert [s.params["chat_id"] for s in sent] == [9002]
        # Telegram re-sending it now changes nothing
        again = await web.post_update(tg_update(20, user_id=9002))
        await web.settle()
        assert again.status_code == 200
        assert len(web.calls("sendMessage")) == 1

    assert await stored(services) == {19: ("done", None), 20: ("done", None)}


async def test_shutdown_waits_for_updates_still_being_processed(
    services: Services, test_settings: object
) -> None:
    settings = web_settings_of(test_settings)  # type: ignore[arg-type]
    async for web in open_web(services, settings):
        for update_id in range(30, 35):
            response = await web.post_update(tg_update(update_id, user_id=9100 + update_id))
            assert response.status_code == 200
        # no settle(): leaving the lifespan must finish them
        session = web.session

    assert len([s for s in session.requests if s.method == "sendMessage"]) == 5
    async with services.uow() as uow:
        left = await uow.session.scalar(
            select(func.count()).where(ProcessedUpdate.status != "done")
        )
    assert left == 0


async def test_memory_is_handed_back_once_a_burst_backlog_is_worked_off(
    services: Services, test_settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert updates.release_free_memory() in (True, False)  # callable here, never raises
    trims: list[int] = []
    monkeypatch.setattr(updates, "release_free_memory", lambda: trims.append(1) or True)
    settings = web_settings_of(test_settings)  # type: ignore[arg-type]
    async for web in open_web(services, settings, update_concurrency=2):
        # 3 updates: no burst (below 4 x the concurrency of 2), nothing to hand back
        await asyncio.gather(
            *(web.post_update(tg_update(100 + i, user_id=9100 + i)) for i in range(3))
        )
        await web.settle()
        assert trims == []
        # 12 at once: a backlog of 8 or more, handed back once when it has drained
        burst = [tg_update(200 + i, user_id=9200 + i) for i in range(12)]
        await asyncio.gather(*(web.post_update(update) for update in burst))
        await web.settle()
        assert trims == [1]
        assert len(web.calls("sendMessage")) == 15
