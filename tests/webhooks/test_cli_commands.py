"""`jingong apikey …`, `jingong serve` and `jingong run` as an operator meets them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from webhooks.main import main

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Serve_Test-Secret_42"
JINGONG = [sys.executable, "-c", "import sys; from webhooks.main import main; sys.exit(main())"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A migrated SQLite database under a temporary DATA_DIR, whatever .env says."""
    values = {
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "SECRET_KEY": "cli-test-secret-key-0123456789",
        "BOT_TOKEN": "42:TEST",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_BASE_URL": "",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    assert main(["db", "upgrade"]) == 0
    return values


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("jingong: error: "), err
    return lines[0]


def test_apikey_create_shows_the_key_once_and_revoke_disables_it(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apikey", "create", "--label", "太原市住建局", "--region", "1401"]) == 0
    out = capsys.readouterr().out
    key = out.split("key:", 1)[1].split()[0]
    prefix = out.split("prefix:", 1)[1].split()[0]
    assert key.startswith(f"jg_{prefix}_")
    assert len(key) > 40
    assert "region 140100" in out

    assert main(["apikey", "list"]) == 0
    listed = capsys.readouterr().out
    assert prefix in listed
    assert "active" in listed
    assert "region=140100" in listed
    assert key not in listed

    assert main(["apikey", "revoke", prefix]) == 0
    assert f"revoked: {prefix}" in capsys.readouterr().out
    assert main(["apikey", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


def test_apikey_create_with_the_realname_export_scope_is_for_the_province_only(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["apikey", "create", "--label", "实名制平台", "--scope", "realname_export"]
    assert main([*argv, "--region", "1401"]) == 2
    assert "province key only" in one_error_line(capsys.readouterr().err)
    assert main([*argv, "--region", "14"]) == 0
    assert "region 140000 + realname_export" in capsys.readouterr().out


def test_apikey_create_refuses_a_missing_scope_or_an_unknown_enterprise(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apikey", "create", "--label", "x"]) == 2
    assert "--enterprise" in one_error_line(capsys.readouterr().err)
    assert main(["apikey", "create", "--label", "x", "--enterprise", "999"]) == 2
    assert "no such enterprise" in one_error_line(capsys.readouterr().err)
    assert main(["apikey", "revoke", "0000abcd"]) == 2
    assert "API key not found" in one_error_line(capsys.readouterr().err)


def test_serve_refuses_to_start_without_a_usable_webhook_secret(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", "has spaces!")
    assert main(["serve"]) == 1
    assert "WEBHOOK_SECRET" in one_error_line(capsys.readouterr().err)
    monkeypatch.setenv("BOT_TOKEN", "")
    assert main(["run"]) == 1
    assert "BOT_TOKEN" in one_error_line(capsys.readouterr().err)


def test_the_command_modules_load_no_web_stack_until_a_command_runs() -> None:
    code = (
        "import sys; import webhooks.main; webhooks.main.build_parser(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'fastapi', 'starlette', 'aiogram', 'uvicorn', 'apscheduler', 'redis'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip() == "[]"


# --- a real `jingong serve` with two workers against a stub Bot API -------------------------


class _StubBotApi(BaseHTTPRequestHandler):
    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        method = self.path.rsplit("/", 1)[-1]
        try:
            params = json.loads(raw) if raw.startswith("{") else dict(_form(raw))
        except ValueError:
            params = {"raw": raw}
        type(self).calls.append((method, params))
        body = json.dumps({"ok": True, "result": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _form(raw: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(raw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stub_api() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    _StubBotApi.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubBotApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _StubBotApi.calls
    server.shutdown()


def test_serve_runs_two_workers_that_answer_probes_and_set_the_webhook_once(
    env: dict[str, str], stub_api: tuple[str, list[tuple[str, dict[str, Any]]]]
) -> None:
    base, calls = stub_api
    port = _free_port()
    child_env = {
        **os.environ,
        **env,
        "TELEGRAM_API_BASE": base,
        "WEBHOOK_BASE_URL": "https://bot.example.org",
        "WEBHOOK_PATH": "/tg/hook",
    }
    proc = subprocess.Popen(
        [*JINGONG, "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()

    def started() -> int:
        return sum('"msg": "started"' in line for line in list(lines))

    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while started() < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert started() == 2, "".join(lines)
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        refused = httpx.post(f"{url}/tg/hook", json={"update_id": 1})
        assert refused.status_code == 401
        # both workers are up: exactly one of them registered the webhook
        hooks = [params for method, params in calls if method == "setWebhook"]
        assert len(hooks) == 1
        assert hooks[0]["url"] == "https://bot.example.org/tg/hook"
        assert hooks[0]["secret_token"] == SECRET
        allowed = hooks[0]["allowed_updates"]
        allowed = json.loads(allowed) if isinstance(allowed, str) else allowed
        assert {"message", "callback_query", "my_chat_member"} <= set(allowed)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        reader.join(timeout=10)
    output = "".join(lines)
    assert proc.returncode == 0, output
    log_lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line["msg"] == "started" for line in log_lines), output
    assert SECRET not in output
    assert env["SECRET_KEY"] not in output
