"""A short schemathesis run against a live `jingong serve` on PostgreSQL (issue 15's quality
gate): a throw-away database, the real server process on a free loopback port, every route
called with a real API key, NUL bytes allowed in the generated strings. No answer may be a
server error, and the server logs no traceback. Bounded: a few dozen cases per operation."""

from __future__ import annotations

import os
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from core.config import Settings
from tests.conftest import PG_ADMIN_DSN, _run_in_thread
from tests.scaleout.conftest import (
    ServeProcess,
    _admin,
    _unreachable,
    jingong_command,
    start_serve,
    wait_ready,
)

EXAMPLES_PER_OPERATION = 25  # × 2 modes × 8 operations: ~400 requests, well under a minute
REQUEST_TIMEOUT = 10.0


@dataclass
class LiveServer:
    process: ServeProcess
    keys: dict[str, str]


async def _seed(settings: Settings) -> dict[str, str]:
    from core.bootstrap import build_services
    from core.domain.actor import Actor
    from core.services.apikeys import create_api_key
    from tests.factories import make_enterprise, make_project, make_shortage

    engine, services = build_services(settings)
    try:
        async with services.uow() as uow:
            enterprise = await make_enterprise(uow, name="太原建工劳务", county_code="140105")
            project = await make_project(uow, enterprise, name="太原南站")
            await make_shortage(uow, project)
            await uow.commit()
            enterprise_id = enterprise.id
        keys: dict[str, str] = {}
        for name, scope in (
            ("enterprise", {"enterprise_id": enterprise_id}),
            ("province", {"region_code": "14"}),
        ):
            async with services.uow() as uow:
                _view, keys[name] = await create_api_key(uow, Actor.system(), label=name, **scope)
        return keys
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    if request.config.getoption("--db") == "sqlite":
        pytest.skip("a PostgreSQL run (--db sqlite given)")
    reason = _unreachable()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("live-api")
    db_name = f"jingong_live_api_{uuid.uuid4().hex[:10]}"
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    env = {
        **os.environ,
        "DATA_DIR": str(workdir / "data"),
        "DATABASE_URL": f"{base}/{db_name}",
        "REDIS_URL": "",
        "SECRET_KEY": f"live-{secrets.token_hex(16)}",
        "BOT_TOKEN": f"42:LIVE-{secrets.token_hex(8)}",
        "TELEGRAM_API_BASE": "http://127.0.0.1:9",  # nothing to send; nothing listens there
        "WEBHOOK_SECRET": f"Live_{secrets.token_urlsafe(24)}",
        "WEBHOOK_BASE_URL": "",
        "JINGONG_SERVE_SCHEDULER": "0",
        "API_RATE_PER_SECOND": "10000",
        "API_RATE_BURST": "10000",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    process: ServeProcess | None = None
    _run_in_thread(_admin(f'CREATE DATABASE "{db_name}"'))
    try:
        upgrade = subprocess.run(
            [*jingong_command(), "db", "upgrade"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=workdir / "data",
            database_url=env["DATABASE_URL"],
            secret_key=env["SECRET_KEY"],  # type: ignore[arg-type]
            bot_token=env["BOT_TOKEN"],  # type: ignore[arg-type]
        )
        keys: dict[str, str] = {}

        async def seed() -> None:
            keys.update(await _seed(settings))

        _run_in_thread(seed())
        process = start_serve("serve", env, workdir)  # binds 127.0.0.1 on a free port
        wait_ready([process])
        yield LiveServer(process=process, keys=keys)
    finally:
        if process is not None:
            process.stop()
        _run_in_thread(_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


def fuzz(operation: Any, base_url: str, headers: dict[str, str], mode: GenerationMode) -> set[int]:
    seen: set[int] = set()

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT)
        seen.add(response.status_code)
        case.validate_response(response, checks=[not_a_server_error], headers=headers)

    run()
    return seen


def test_a_live_server_on_postgresql_answers_generated_requests_without_a_server_error(
    live_server: LiveServer,
) -> None:
    base_url = live_server.process.url
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    schema.config.generation.update(allow_x00=True)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11

    statuses: dict[str, set[int]] = {}
    for operation in operations:
        # worker and project imports with the enterprise key (rows need no enterprise_id);
        # company registration, reads and parsing as the province bureau
        own_rows = operation.method.upper() == "PUT" and "enterprises" not in operation.path
        key = live_server.keys["enterprise" if own_rows else "province"]
        headers = {"Authorization": f"Bearer {key}"}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not operation.path.startswith("/api/"):
                continue  # the probes take no input to break
            statuses.setdefault(operation.label, set()).update(
                fuzz(operation, base_url, headers, mode)
            )

    assert all(code < 500 for codes in statuses.values() for code in codes), statuses
    assert 200 in statuses["GET /api/v1/postings"]  # the cases reached the handlers
    assert 200 in statuses["PUT /api/v1/workers:bulk"]
    assert 422 in statuses["GET /api/v1/postings"]  # and the broken ones were refused
    log = live_server.process.log()
    assert "Traceback" not in log, live_server.process.tail(80)
    assert '"status": 500' not in log
