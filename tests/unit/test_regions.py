import pytest
from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.dialects import sqlite

from core.domain.enums import RegionLevel
from core.domain.errors import ValidationError
from core.reference.loader import region_rows
from core.services.regions import (
    normalize_region_code,
    region_clause,
    region_contains,
    region_level,
)

ROWS = region_rows()
BY_CODE = {row["code"]: row for row in ROWS}


def test_the_region_file_holds_shanxi_its_11_cities_and_all_their_counties() -> None:
    levels = [row["level"] for row in ROWS]
    assert levels.count("province") == 1
    assert levels.count("city") == 11
    assert levels.count("county") >= 110
    assert len(BY_CODE) == len(ROWS), "codes are unique"
    assert BY_CODE["140000"]["name_zh"] == "山西省"


def test_codes_are_six_digits_and_share_their_parents_prefix() -> None:
    for row in ROWS:
        code, parent = row["code"], row["parent_code"]
        assert len(code) == 6
        assert code.isdigit()
        if row["level"] == "province":
            assert parent is None
        elif row["level"] == "city":
            assert parent == "140000"
            assert code.endswith("00")
            assert code[:2] == "14"
        else:
            assert parent == code[:4] + "00"
            assert not code.endswith("00")


def test_every_parent_exists_and_comes_before_its_children() -> None:
    seen: set[str] = set()
    for row in ROWS:
        if row["parent_code"] is not None:
            assert row["parent_code"] in seen, row["code"]
        seen.add(row["code"])


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("140105", "小店区"),
        ("140181", "古交市"),
        ("140213", "平城区"),
        ("140214", "云冈区"),
        ("140215", "云州区"),
        ("140403", "潞州区"),
        ("140404", "上党区"),
        ("140405", "屯留区"),
        ("140406", "潞城区"),
        ("140681", "怀仁市"),
        ("140703", "太谷区"),
        ("141100", "吕梁市"),
    ],
)
def test_current_codes_carry_their_current_names(code: str, name: str) -> None:
    assert BY_CODE[code]["name_zh"] == name


def test_abolished_codes_are_gone() -> None:
    # 大同 城区/矿区/南郊区/大同县, 长治 城区/郊区/长治县/屯留县/潞城市, 太谷县, 怀仁县: 2018-2019
    for code in (
        "140202",
        "140203",
        "140211",
        "140227",
        "140402",
        "140411",
        "140421",
        "140424",
        "140481",
        "140726",
        "140624",
    ):
        assert code not in BY_CODE


def test_names_have_pinyin_in_english() -> None:
    assert BY_CODE["140105"]["name_en"] == "Xiaodian District"
    assert BY_CODE["140121"]["name_en"] == "Qingxu County"
    assert BY_CODE["140181"]["name_en"] == "Gujiao"
    for row in ROWS:
        assert row["name_en"].isascii() or "ü" in row["name_en"]


def test_neighbours_are_symmetric_same_level_and_never_oneself() -> None:
    for row in ROWS:
        for other in row["neighbours"]:
            assert other in BY_CODE, (row["code"], other)
            assert other != row["code"]
            assert BY_CODE[other]["level"] == row["level"]
            assert row["code"] in BY_CODE[other]["neighbours"], (row["code"], other)


def test_every_city_and_county_has_a_neighbour_and_borders_cross_cities() -> None:
    for row in ROWS:
        if row["level"] != "province":
            assert row["neighbours"], row["code"]
    # 小店区 touches 榆次区 of 晋中; 太原 and 晋中 are therefore neighbouring cities
    assert "140702" in BY_CODE["140105"]["neighbours"]
    assert "140700" in BY_CODE["140100"]["neighbours"]


def test_city_neighbours_follow_from_their_counties() -> None:
    for city in (row for row in ROWS if row["level"] == "city"):
        across = {
            other[:4] + "00"
            for row in ROWS
            if row["level"] == "county" and row["parent_code"] == city["code"]
            for other in row["neighbours"]
            if other[:4] != city["code"][:4]
        }
        assert set(city["neighbours"]) == across, city["code"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("14", "140000"),
        ("1401", "140100"),
        ("140105", "140105"),
        (" 140100 ", "140100"),
        ("140000", "140000"),
        ("1400", "140000"),
    ],
)
def test_region_codes_are_normalized(raw: str, expected: str) -> None:
    assert normalize_region_code(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "1", "140", "14010", "1401050", "abc", "11", "110105", "140005"]
)
def test_malformed_or_foreign_region_codes_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as err:
        normalize_region_code(raw)
    assert err.value.key == "error.unknown_region"
    assert "code" in err.value.params


def test_levels_follow_the_code() -> None:
    assert region_level("14") is RegionLevel.PROVINCE
    assert region_level("140700") is RegionLevel.CITY
    assert region_level("140702") is RegionLevel.COUNTY


@pytest.mark.parametrize(
    ("scope", "code", "inside"),
    [
        ("140000", "140105", True),
        ("140000", "140700", True),
        ("140100", "140105", True),
        ("140100", "140100", True),
        ("140100", "140702", False),
        ("140100", "140000", False),
        ("140105", "140105", True),
        ("140105", "140106", False),
        ("140105", "140100", False),
    ],
)
def test_a_region_contains_itself_and_what_lies_below(scope: str, code: str, inside: bool) -> None:
    assert region_contains(scope, code) is inside


def _where(code: str) -> str:
    table = Table("t", MetaData(), Column("county_code", String), Column("city_code", String))
    stmt = select(table.c.county_code).where(
        region_clause(code, table.c.county_code, table.c.city_code)
    )
    compiled = stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled).split("WHERE", 1)[1].strip()


def test_the_region_clause_filters_on_the_right_column() -> None:
    assert _where("14") == "1 = 1"
    assert _where("1401") == "t.city_code = '140100'"
    assert _where("140105") == "t.county_code = '140105'"
