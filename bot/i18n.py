"""Translations: aiogram's gettext I18n over catalogs in locales/{zh,en}/LC_MESSAGES/messages.po.

Conventions (one for the whole bot):
- Every msgid is a dotted key, never an English sentence: "start.welcome", "menu.settings",
  and the core's error keys as they are ("error.phone"). Both zh and en translate every key,
  so a missing translation shows up as a raw key in a test, not as silently English text.
- Placeholders are str.format fields. `tr("start.welcome", name=name)` translates in the
  current locale and HTML-escapes str values (messages use HTML parse mode); wrap a value
  that is already HTML in `Safe(...)`. Plain `_("key")` is fine for texts without fields.
  The msgid is always a literal, so the scanner in bot/locales_tool.py finds it; mark keys
  that are only looked up later (menu buttons, role names) with `N_("...")`.
- Inside handlers use `_` / `tr` (the current user's locale, set by the locale middleware);
  in filters `__` (lazy); outside handlers (notifier, scheduler) `t(key, locale, **params)`.

Catalogs are compiled from the .po files with Babel in memory when the bot starts (no .mo
files in git, no cache directory to go stale): `python -m bot.locales_tool` keeps
messages.pot and the .po files in step with the code.
"""

from __future__ import annotations

import contextvars
import gettext
import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SUPPORTED_LOCALES = ("zh", "en")


def N_(key: str) -> str:
    """Mark a msgid for extraction without translating it now."""
    return key


class Safe(str):
    """A parameter for t() that is already HTML (it is not escaped again)."""

    __slots__ = ()


class CatalogI18n(I18n):
    """aiogram's I18n reading .po files directly: compiled by Babel into memory."""

    # aiogram's context-var mixin gives every subclass its own slot, but gettext()/`_` look
    # the instance up as I18n.get_current(): keep using I18n's slot.
    @classmethod
    def set_current(cls, value: I18n) -> contextvars.Token[I18n]:
        return I18n.set_current(value)

    @classmethod
    def reset_current(cls, token: contextvars.Token[I18n]) -> None:
        I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for po_path in sorted(self.path.glob(f"*/LC_MESSAGES/{self.domain}.po")):
            locale = po_path.parent.parent.name
            catalog = merged_catalog(po_path.parent, locale)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            translations[locale] = gettext.GNUTranslations(buffer)
        return translations


def merged_catalog(lc_messages: Path, locale: str) -> Catalog:
    """messages.po plus one fragment per feature (shortage.po, deals.po, …) in one catalog.

    Fragments let features keep their texts apart; a msgid defined twice is an error."""
    merged = Catalog(locale=locale, domain=DOMAIN)
    seen: dict[str, str] = {}
    for path in sorted(lc_messages.glob("*.po")):
        with path.open("rb") as fp:
            part = read_po(fp, locale=locale, domain=DOMAIN)
        for message in part:
            if not message.id:
                continue
            if message.id in seen:
                raise RuntimeError(f"{message.id!r} in both {seen[message.id]} and {path.name}")
            seen[str(message.id)] = path.name
            merged[message.id] = message
    return merged


@lru_cache(maxsize=4)
def load_i18n(default_locale: str = "zh", path: str | None = None) -> CatalogI18n:
    """The catalogs, compiled once per process (they are read-only at run time)."""
    i18n = CatalogI18n(path=path or LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)
    missing = set(SUPPORTED_LOCALES) - set(i18n.available_locales)
    if missing:
        raise RuntimeError(f"locales missing under {i18n.path}: {sorted(missing)}")
    return i18n


def render(text: str, params: dict[str, Any]) -> str:
    """Fill placeholders, HTML-escaping str values (bot messages use HTML parse mode)."""
    if not params:
        return text
    safe = {
        k: v if isinstance(v, Safe) or not isinstance(v, str) else html.quote(v)
        for k, v in params.items()
    }
    try:
        return text.format(**safe)
    except (KeyError, IndexError, ValueError):
        # a translation asking for a parameter the caller did not give: show it unfilled
        # rather than fail the whole reply (tests/test_locales.py keeps this from happening)
        return text


def t(key: str, locale: str | None = None, /, **params: Any) -> str:
    """Translate outside a handler (notifier, scheduler): `t("digest.title", "en", day=...)`."""
    i18n = load_i18n()
    loc = locale if locale in i18n.available_locales else i18n.default_locale
    return render(i18n.gettext(key, locale=loc), params)


def tr(key: str, /, **params: Any) -> str:
    """Translate in the current user's locale (inside a handler) and fill escaped params."""
    return render(_(key), params)
