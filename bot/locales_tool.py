"""Keep the catalogs in step with the code: `python -m bot.locales_tool`.

It scans bot/ for literal msgids (`_("…")`, `__("…")`, `N_("…")`, `tr("…")`, `t("…")`, `Tr("…")`,
`gettext("…")`, `lazy_gettext("…")`, `menu_button("…")`) and bot/ + core/ for error keys
("error.some_key" string literals), rewrites locales/messages.pot, and appends every msgid
missing from a locales/<lang>/LC_MESSAGES/messages.po with an empty msgstr for a translator.
tests/test_locales.py uses the same scan to demand complete zh and en translations.
"""

from __future__ import annotations

import ast
import re
import string
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LOCALES_DIR, SUPPORTED_LOCALES, merged_catalog

ROOT = LOCALES_DIR.parent
MSGID_FUNCS = frozenset(
    {"_", "__", "N_", "tr", "t", "T", "Tr", "gettext", "lazy_gettext", "menu_button"}
)
HEADER = (
    "# JinGong Dispatch (晋工调度) bot texts. Msgids are dotted keys (see bot/i18n.py).\n"
    "# Update with: python -m bot.locales_tool"
)
ERROR_KEY = re.compile(r"^error\.[a-z0-9_]+(\.[a-z0-9_]+)*$")


@dataclass
class Scan:
    msgids: dict[str, set[str]] = field(default_factory=dict)  # msgid → "path:line"
    # error key → parameter names every raise site passes (None: no raise site seen)
    error_params: dict[str, set[str] | None] = field(default_factory=dict)

    def add(self, msgid: str, where: str) -> None:
        self.msgids.setdefault(msgid, set()).add(where)


def _py_files(*dirs: Path) -> Iterator[Path]:
    for directory in dirs:
        yield from sorted(p for p in directory.rglob("*.py") if "__pycache__" not in p.parts)


def _func_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def scan(root: Path = ROOT) -> Scan:
    result = Scan()
    for path in _py_files(root / "bot", root / "core"):
        rel = path.relative_to(root).as_posix()
        in_bot = rel.startswith("bot/")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and ERROR_KEY.match(node.value)
            ):
                result.add(node.value, f"{rel}:{node.lineno}")
                result.error_params.setdefault(node.value, None)
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            name = _func_name(node)
            if in_bot and name in MSGID_FUNCS:
                result.add(first.value, f"{rel}:{node.lineno}")
            if ERROR_KEY.match(first.value):
                given = {kw.arg for kw in node.keywords if kw.arg is not None}
                seen = result.error_params.get(first.value)
                result.error_params[first.value] = given if seen is None else seen & given
    return result


def placeholders(text: str) -> set[str]:
    """The str.format field names of a translation ("{name} {count:d}" → {"name", "count"})."""
    names = set()
    for _literal, name, _spec, _conv in string.Formatter().parse(text):
        if name is not None:
            names.add(name.split(".")[0].split("[")[0])
    return names


def po_path(locale: str, root: Path = ROOT) -> Path:
    return root / "locales" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=locale, domain=DOMAIN)


def _write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as fp:
        write_po(fp, catalog, width=99, sort_output=True, include_previous=False)


def sync(root: Path = ROOT, locales: Iterable[str] = SUPPORTED_LOCALES) -> dict[str, list[str]]:
    """Rewrite messages.pot and add missing msgids to each .po; returns what was added.
    Locations are file names without line numbers, so the files change only with msgids."""
    found = scan(root)
    pot = root / "locales" / f"{DOMAIN}.pot"
    template = Catalog(project="jingong-dispatch", domain=DOMAIN, header_comment=HEADER)
    for msgid, where in sorted(found.msgids.items()):
        files = sorted({loc.rsplit(":", 1)[0] for loc in where})
        # no line numbers (Babel writes `#: path`), so edits elsewhere don't touch the .pot
        template.add(msgid, locations=[(f, None) for f in files])  # type: ignore[misc]
    if not pot.exists() or _entries(read_catalog(pot)) != _entries(template):
        _write(pot, template)
    added: dict[str, list[str]] = {}
    for locale in locales:
        path = po_path(locale, root)
        catalog = read_catalog(path, locale) if path.exists() else Catalog(locale=locale)
        known = merged_catalog(path.parent, locale) if path.parent.exists() else catalog
        missing = sorted(m for m in found.msgids if m not in known)
        if missing or not path.exists():
            for msgid in missing:
                catalog.add(msgid, "")
            path.parent.mkdir(parents=True, exist_ok=True)
            _write(path, catalog)
        added[locale] = missing
    return added


def _entries(catalog: Catalog) -> list[tuple[str, tuple[str, ...]]]:
    return sorted(
        (str(m.id), tuple(sorted(loc for loc, _line in m.locations))) for m in catalog if m.id
    )


def main() -> int:
    for locale, missing in sync().items():
        print(f"{locale}: {len(missing)} new msgid(s) to translate")
        for msgid in missing:
            print(f"  {msgid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
