"""The dependency rule: core/ knows no transport (aiogram, FastAPI, APScheduler)."""

import ast
from pathlib import Path

FORBIDDEN = ("aiogram", "fastapi", "starlette", "apscheduler", "uvicorn")
ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_transport_at_module_level() -> None:
    offenders = {}
    for path in (ROOT / "core").rglob("*.py"):
        if path.name == "cli.py" or "cli" in path.parts:
            continue  # the CLI entry point may start the bot lazily, inside a command
        bad = _imports(path) & set(FORBIDDEN)
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_cli_only_reaches_transports_lazily() -> None:
    for path in (ROOT / "core").rglob("*.py"):
        if path.name != "cli.py" and "cli" not in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # top-level statements only
            if isinstance(node, ast.Import | ast.ImportFrom):
                mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert not (mod or "").startswith(
                    ("aiogram", "fastapi", "apscheduler", "bot", "webhooks")
                )
