"""Every text the bot can show exists in Chinese and English, with the same placeholders.

msgids come from bot/ (`_("…")`, `tr("…")`, `N_("…")`, …) and from every "error.*" key in
bot/ and core/. To fix a failure: `python -m bot.locales_tool`, then translate the new
entries in locales/{zh,en}/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog

from bot.i18n import SUPPORTED_LOCALES, load_i18n, merged_catalog, t
from bot.keyboards.common import ALL_MENU_KEYS, CANCEL, ROLE_MENUS, SHARE_PHONE
from bot.locales_tool import ROOT, Scan, placeholders, po_path, read_catalog, scan

FIX = "run `python -m bot.locales_tool` and translate the new entries"


@pytest.fixture(scope="module")
def found() -> Scan:
    return scan()


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return {loc: merged_catalog(po_path(loc).parent, loc) for loc in SUPPORTED_LOCALES}


def _translation(catalogs: dict[str, Catalog], locale: str, msgid: str) -> str:
    message = catalogs[locale].get(msgid)
    return "" if message is None or message.fuzzy else str(message.string or "")


def test_the_scan_finds_the_bots_texts_and_the_cores_error_keys(found: Scan) -> None:
    assert "start.welcome" in found.msgids  # a tr() call in bot/
    assert "menu.settings" in found.msgids  # an N_() mark
    assert "error.phone" in found.msgids  # raised in core/domain/values.py
    assert found.error_params["error.price_range"] == {"min", "max"}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_msgid_is_translated(found: Scan, catalogs: dict[str, Catalog], locale: str) -> None:
    missing = sorted(m for m in found.msgids if not _translation(catalogs, locale, m).strip())
    assert missing == [], f"untranslated in {locale}: {missing} — {FIX}"


def test_zh_and_en_use_the_same_placeholders(catalogs: dict[str, Catalog]) -> None:
    zh, en = catalogs["zh"], catalogs["en"]
    differ = {
        str(m.id): (placeholders(str(m.string)), placeholders(str(en[m.id].string)))
        for m in zh
        if m.id
        and m.id in en
        and placeholders(str(m.string)) != placeholders(str(en[m.id].string))
    }
    assert differ == {}


def test_error_texts_only_use_parameters_every_raise_site_passes(
    found: Scan, catalogs: dict[str, Catalog]
) -> None:
    wrong = {}
    for key, given in found.error_params.items():
        for locale in SUPPORTED_LOCALES:
            extra = placeholders(_translation(catalogs, locale, key)) - (given or set())
            if extra:
                wrong[f"{locale}:{key}"] = sorted(extra)
    assert wrong == {}, "a translation asks for a parameter the error does not carry"


def test_the_template_lists_exactly_the_msgids_in_use(found: Scan) -> None:
    template = read_catalog(ROOT / "locales" / "messages.pot")
    assert {str(m.id) for m in template if m.id} == set(found.msgids), FIX


def test_catalogs_compile_and_translate(found: Scan) -> None:
    i18n = load_i18n()
    assert set(i18n.available_locales) == set(SUPPORTED_LOCALES)
    assert t("menu.settings", "zh") == "⚙️ 设置"
    assert t("menu.settings", "en") == "⚙️ Settings"
    assert t("error.price_range", "en", min=100, max=100000).count("100") == 2
    assert t("start.welcome", "en", name="<b>").count("&lt;b&gt;") == 1  # params are escaped


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_buttons_are_distinct_so_a_tap_finds_its_handler(locale: str) -> None:
    i18n = load_i18n()
    keys = (*ALL_MENU_KEYS, CANCEL, SHARE_PHONE)
    labels = [i18n.gettext(k, locale=locale) for k in keys]
    assert len(set(labels)) == len(labels)
    for keys_of_role in ROLE_MENUS.values():
        assert all(i18n.gettext(k, locale=locale) != k for k in keys_of_role)


def test_no_button_reads_the_same_in_both_languages_with_another_meaning() -> None:
    # MenuText matches a text in any language: zh and en texts must map to one key only
    i18n = load_i18n()
    keys = (*ALL_MENU_KEYS, CANCEL, SHARE_PHONE)
    owner: dict[str, str] = {}
    for key in keys:
        for locale in SUPPORTED_LOCALES:
            label = i18n.gettext(key, locale=locale)
            assert owner.setdefault(label, key) == key, f"{label!r} is used by two buttons"
