"""The dependency rule: core/ knows no transport (aiogram, FastAPI, APScheduler) and no outer
layer (bot, webhooks, sandbox), not even inside a function or by a module's name; and no two
core modules import each other, directly or around a circle."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

TRANSPORTS = ("aiogram", "fastapi", "starlette", "apscheduler", "uvicorn")
OUTER_LAYERS = ("bot", "webhooks", "sandbox")
ROOT = Path(__file__).resolve().parents[2]


def _core_modules() -> list[Path]:
    return sorted(p for p in (ROOT / "core").rglob("*.py") if "versions" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Top-level packages a module imports, at any depth of its code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _imports_by_name(path: Path) -> list[str]:
    """Calls that import a module named by a string (importlib.import_module, __import__)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("import_module", "__import__"):
            found.append(f"line {node.lineno}: {name}")
    return found


def test_no_core_module_imports_a_transport_or_an_outer_layer() -> None:
    offenders = {}
    for path in _core_modules():
        bad = _imports(path) & set(TRANSPORTS + OUTER_LAYERS)
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_no_core_module_imports_a_module_by_its_name() -> None:
    offenders = {}
    for path in _core_modules():
        found = _imports_by_name(path)
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_the_check_sees_the_cli_package() -> None:
    # the command line used to be exempt; it is core like the rest now
    checked = {p.relative_to(ROOT).as_posix() for p in _core_modules()}
    assert {"core/cli/app.py", "core/cli/common.py", "core/cli/digest.py"} <= checked


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _core_import_graph() -> dict[str, set[str]]:
    """Core module → the core modules it imports (at any depth; `from pkg import mod` too)."""
    modules = {_module_name(p): p for p in _core_modules()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_core_modules_import_each_other_in_one_direction_only() -> None:
    try:
        TopologicalSorter(_core_import_graph()).prepare()
    except CycleError as exc:
        raise AssertionError(f"import circle in core: {' -> '.join(exc.args[1])}") from None


def test_digest_data_comes_first_and_its_rendering_after() -> None:
    graph = _core_import_graph()
    assert "core.services.digests" in graph["core.reports.text"]
    assert not any(m.startswith("core.reports") for m in graph["core.services.digests"])
