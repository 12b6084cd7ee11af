"""Property-based run of schemathesis over the app's own OpenAPI schema, in process (ASGI).

Every operation gets a few dozen generated requests with a valid API key, valid ones (positive)
and, for /api/v1, schema-violating ones (negative); no answer may be a 5xx, have an
undocumented status or content type, or break its documented response schema.
Schemathesis runs the app (and its lifespan) in an event loop of its own, so the app builds
its own engine there; the test data is written beforehand through the `services` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.factory import create_bot
from core.config import Settings
from tests.bot.harness import RecordingSession
from tests.webhooks.conftest import World, web_settings_of
from webhooks.app import create_app

EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def isolated_app(engine: AsyncEngine, test_settings: Settings) -> Iterator[Any]:
    settings = web_settings_of(
        test_settings,
        database_url=engine.url.render_as_string(hide_password=False),
        api_rate_per_second=10_000.0,
        api_rate_burst=10_000,
    )
    app = create_app(settings, bot=create_bot(settings, session=RecordingSession()))
    yield app
    asgi.shutdown_lifespans()  # schemathesis started the lifespan in its own loop


def fuzz(operation: Any, headers: dict[str, str], mode: Any = None) -> set[int]:
    """Run the generated cases of one operation; the statuses seen."""
    seen: set[int] = set()

    mode = mode or GenerationMode.POSITIVE

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
        response = case.call(headers=headers)
        seen.add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    return seen


def test_the_api_answers_every_generated_request_as_its_schema_says(
    isolated_app: Any, world: World
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", isolated_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = sorted(op.label for op in operations)
    assert labels == [
        "GET /api/v1/deals",
        "GET /api/v1/dispatches",
        "GET /api/v1/guide-prices",
        "GET /api/v1/postings",
        "GET /api/v1/regions/{code}/summary",
        "GET /healthz",
        "GET /readyz",
        "POST /api/v1/postings:parse",
        "PUT /api/v1/enterprises:bulk",
        "PUT /api/v1/projects:bulk",
        "PUT /api/v1/workers:bulk",
    ]
    statuses: dict[str, set[int]] = {}
    negative: dict[str, set[int]] = {}
    for operation in operations:
        # imports with an enterprise key (rows need no enterprise_id), reads as the province
        key = world.keys["ent_a" if operation.method.upper() == "PUT" else "reg_14"]
        headers = {"Authorization": f"Bearer {key}", "X-API-Key": key}
        statuses[operation.label] = fuzz(operation, headers)
        if operation.path.startswith("/api/"):  # the probes take no input to break
            negative[operation.label] = fuzz(operation, headers, GenerationMode.NEGATIVE)

    # the generated requests did reach the handlers, not only the validation layer
    assert 200 in statuses["GET /api/v1/postings"]
    assert 200 in statuses["PUT /api/v1/workers:bulk"]
    assert 200 in statuses["GET /api/v1/regions/{code}/summary"]
    assert 200 in statuses["POST /api/v1/postings:parse"]
    assert all(422 in codes or 400 in codes for codes in negative.values())
