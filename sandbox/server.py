"""Run the sandbox (or any ASGI app) with uvicorn inside the current event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from sandbox.emulator import create_emulator_app
from sandbox.robots import RobotState
from sandbox.state import SandboxState


class _EmbeddedServer(uvicorn.Server):
    # the host program (tests, `jingong demo`) owns Ctrl-C, not uvicorn
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class RunningServer:
    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@dataclass
class RunningSandbox(RunningServer):
    state: SandboxState

    async def stop(self) -> None:
        await self.state.aclose()  # wake long polls first so shutdown does not wait for them
        await super().stop()


async def serve_app(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> RunningServer:
    """Start uvicorn for an ASGI app and return once it accepts connections."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=2,
        ws_ping_interval=None,
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(), name=f"uvicorn-{host}:{port}")
    while not server.started:
        if task.done():
            task.result()  # raises the bind error, if any
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    shown_host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)
    if ":" in shown_host and not shown_host.startswith("["):
        shown_host = f"[{shown_host}]"
    return RunningServer(url=f"http://{shown_host}:{bound_port}", server=server, task=task)


async def run_sandbox(
    state: SandboxState,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
    robots: RobotState | None = None,
) -> RunningSandbox:
    """Serve the emulator, the client API and the page (and, with `robots`, fake WeCom group
    robots under /wecom); `await running.stop()` to end."""
    app = create_emulator_app(state, robots=robots)
    running = await serve_app(app, host, port, log_level=log_level)
    return RunningSandbox(url=running.url, server=running.server, task=running.task, state=state)
