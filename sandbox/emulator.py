"""The sandbox's HTTP app: Telegram's Bot API for the bot, the client API and page for users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from sandbox.botapi import call_method
from sandbox.clientapi import create_client_router, sandbox_error_response
from sandbox.errors import ApiError, SandboxError
from sandbox.params import parse_body
from sandbox.robots import RobotState, create_robot_app
from sandbox.state import SandboxState

STATIC_DIR = Path(__file__).parent / "static"
MAX_REQUEST_BYTES = 60 * 1024 * 1024


def _unauthorized() -> JSONResponse:
    return JSONResponse(ApiError(401, "Unauthorized").payload(), status_code=401)


def create_emulator_app(state: SandboxState, *, robots: RobotState | None = None) -> FastAPI:
    """One app serves the bot (/bot<token>/<method>, /file/...) and the people (/, /sandbox)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await state.aclose()

    # no /docs: Swagger UI loads from a CDN and this machine may have no internet
    app = FastAPI(
        title="JinGong Dispatch sandbox", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.sandbox = state
    app.add_exception_handler(SandboxError, sandbox_error_response)

    @app.api_route("/bot{token}/{method}", methods=["GET", "POST"], include_in_schema=False)
    async def bot_api(request: Request, token: str, method: str) -> Response:
        if token != state.token:
            return _unauthorized()
        body = await request.body()
        if len(body) > MAX_REQUEST_BYTES:
            return JSONResponse(ApiError(413, "Request Entity Too Large").payload(), 413)
        try:
            params = await parse_body(request.headers.get("content-type", ""), body)
        except ApiError as error:
            return JSONResponse(error.payload(), status_code=error.code)
        for key, value in request.query_params.items():
            params.values.setdefault(key, value)
        status, payload = await call_method(state, method, params)
        return JSONResponse(payload, status_code=status)

    @app.get("/file/bot{token}/{file_path:path}", include_in_schema=False)
    async def download(token: str, file_path: str) -> Response:
        if token != state.token:
            return _unauthorized()
        stored = state.file_by_path(file_path)
        if stored is None:
            return JSONResponse(ApiError(404, "Not Found").payload(), status_code=404)
        return Response(stored.data, media_type=stored.mime_type)

    app.include_router(create_client_router(state))
    if robots is not None:
        # fake WeCom robots (jingong demo): the bot's channel sender posts here, /wecom/ shows
        # what the group received
        app.mount("/wecom", create_robot_app(robots))
    app.mount("/sandbox/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return app
