"""The README's Quick start: the demo installs no test tools; CI runs the README's test command."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# httpx is a runtime dependency since the WeCom and DingTalk robots are called with it
TEST_TOOLS = ("pytest", "playwright", "schemathesis", "mypy", "ruff", "aiosmtpd")


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^python3 -m venv .*$", section, flags=re.MULTILINE)


def test_the_demo_command_installs_only_the_runtime_dependencies() -> None:
    demo, _tests = _quick_start_commands()
    assert demo.endswith("jingong demo")
    assert "pip install -e . " in demo  # no extras
    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=\[ ]", dep, maxsplit=1)[0] for dep in runtime}
    assert names.isdisjoint(TEST_TOOLS)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _demo, tests = _quick_start_commands()
    assert tests.endswith(".venv/bin/pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci
