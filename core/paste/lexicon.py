"""Word lists the paste parser reads: trades, trade synonyms and regions (reference CSVs)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from core.reference.loader import read_csv

# region names that only mean something with a city in front ("阳泉城区", "晋城城区")
CITY_RELATIVE_NAMES = frozenset({"城区", "郊区", "矿区"})
_SUFFIXES = ("市", "区", "县")


@dataclass(frozen=True, slots=True)
class TradeEntry:
    code: str
    name_zh: str


@dataclass(frozen=True, slots=True)
class RegionEntry:
    code: str
    parent_code: str | None
    level: str
    name_zh: str


@dataclass(frozen=True, slots=True)
class Lexicon:
    trades: dict[str, TradeEntry]  # word as written → trade
    regions: dict[str, tuple[RegionEntry, ...]]  # word as written → regions it may name
    regions_by_code: dict[str, RegionEntry]
    max_trade_len: int
    max_region_len: int


def _short_name(name: str) -> str | None:
    """ "小店区" → "小店", "太原市" → "太原"; one-character stems ("祁", "沁") are ambiguous."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@cache
def lexicon() -> Lexicon:
    """Built once per process from core/reference/data (trades, trade_synonyms, regions)."""
    by_code = {
        row["code"]: TradeEntry(row["code"], row["name_zh"]) for row in read_csv("trades.csv")
    }
    trades: dict[str, TradeEntry] = {entry.name_zh: entry for entry in by_code.values()}
    for row in read_csv("trade_synonyms.csv"):
        trades.setdefault(row["synonym"], by_code[row["trade_code"]])

    regions: dict[str, list[RegionEntry]] = {}
    by_region_code: dict[str, RegionEntry] = {}
    for row in read_csv("regions.csv"):
        entry = RegionEntry(row["code"], row["parent_code"] or None, row["level"], row["name_zh"])
        by_region_code[entry.code] = entry
        words = {entry.name_zh}
        short = _short_name(entry.name_zh)
        if short:
            words.add(short)
        if entry.level == "province":
            words.add("山西")
        for word in words:
            regions.setdefault(word, []).append(entry)
    frozen = {word: tuple(entries) for word, entries in regions.items()}
    return Lexicon(
        trades=trades,
        regions=frozen,
        regions_by_code=by_region_code,
        max_trade_len=max(map(len, trades)),
        max_region_len=max(map(len, frozen)),
    )
