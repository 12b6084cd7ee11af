"""The paste parser against the labelled examples and our own cases, plus its edge rules."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.paste import parse_paste

DATA = Path(__file__).resolve().parents[1] / "data"


def load_cases(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


EXAMPLES = load_cases("paste_examples.jsonl")
CASES = load_cases("paste_cases.jsonl")


def first_draft(text: str) -> dict[str, Any]:
    drafts = parse_paste(text)
    return drafts[0].as_dict() if drafts else {"kind": None}


def score(cases: list[dict[str, Any]]) -> tuple[float, float, list[str]]:
    """Share of fields right, share of posts entirely right, and the texts that went wrong."""
    fields_right = fields_total = posts_right = 0
    wrong: list[str] = []
    for case in cases:
        expect = case["expect"]
        got = first_draft(case["text"])
        keys = ["kind"] if expect["kind"] is None else list(expect)
        right = sum(got.get(key) == expect[key] for key in keys)
        fields_right += right
        fields_total += len(keys)
        if "all" in case:
            all_right = [d.as_dict() for d in parse_paste(case["text"])] == case["all"]
        else:
            all_right = True
        if right == len(keys) and all_right:
            posts_right += 1
        else:
            wrong.append(case["text"])
    return fields_right / fields_total, posts_right / len(cases), wrong


def test_the_shared_examples_are_all_parsed_right() -> None:
    assert len(EXAMPLES) == 31
    for case in EXAMPLES:
        assert first_draft(case["text"]) == case["expect"], case["text"]


def test_our_own_cases_reach_the_accuracy_targets() -> None:
    assert len(CASES) >= 150
    fields, posts, wrong = score(CASES)
    assert fields >= 0.95, wrong
    assert posts >= 0.90, wrong


def test_our_own_cases_cover_every_city_both_kinds_multi_trade_lines_and_non_posts() -> None:
    posts = [c["expect"] for c in CASES if c["expect"]["kind"]]
    cities = {e["region"][:4] for e in posts if e["region"]}
    assert len(cities) == 11
    assert {e["kind"] for e in posts} == {"shortage", "idle"}
    assert sum(1 for c in CASES if c["expect"]["kind"] is None) >= 20
    assert sum(1 for c in CASES if len(c.get("all", [])) > 1) >= 5


def test_a_line_with_two_trades_gives_one_draft_per_trade_with_the_shared_fields() -> None:
    drafts = parse_paste("缺钢筋工5人、木工3人，小店区，月薪8000，张工13912340001")
    assert [(d.trade, d.headcount) for d in drafts] == [("钢筋工", 5), ("木工", 3)]
    assert {d.region for d in drafts} == {"140105"}
    assert {(d.price.amount, d.price.per) for d in drafts if d.price} == {(8000, "month")}
    assert {d.phone for d in drafts} == {"13912340001"}


def test_each_trade_keeps_its_own_price_when_each_has_one() -> None:
    drafts = parse_paste("急招：钢筋工10人，日薪400；木工6人，日薪380。太原万柏林")
    assert [(d.trade, d.price.amount if d.price else None) for d in drafts] == [
        ("钢筋工", 400),
        ("木工", 380),
    ]


@pytest.mark.parametrize(
    ("text", "amount", "per"),
    [
        ("招木工3人 8千/月 13912340001", 8000, "month"),
        ("招木工3人 1.2万/月 13912340001", 12000, "month"),
        ("招木工3人 月薪一万二 13912340001", 12000, "month"),
        ("招木工3人 一天三百八 13912340001", 380, "day"),
        ("招木工3人 日结 350 13912340001", 350, "day"),
        ("招木工3人 工资 7500 13912340001", 7500, "month"),
        ("招木工3人 工价 300 13912340001", 300, "day"),
    ],
)
def test_prices_keep_the_unit_they_were_written_in(text: str, amount: int, per: str) -> None:
    price = parse_paste(text)[0].price
    assert price is not None
    assert (price.amount, price.per) == (amount, per)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("阳泉城区缺木工3人 13912340001", "140302"),
        ("晋城城区缺木工3人 13912340001", "140502"),
        ("城区缺木工3人 13912340001", None),  # which 城区 is not said
        ("太原周边缺木工3人 13912340001", "140100"),
        ("临汾侯马缺木工3人 13912340001", "141081"),
        ("祁县缺木工3人 13912340001", "140727"),
        ("缺木工3人 太谷 13912340001", "140703"),
    ],
)
def test_regions_resolve_to_the_most_specific_code(text: str, region: str | None) -> None:
    assert parse_paste(text)[0].region == region


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("缺木工3人 高级技师 13912340001", 1),
        ("缺木工3人 技师 13912340001", 2),
        ("缺木工3人 高级工 13912340001", 3),
        ("缺木工3人 中级以上 13912340001", 4),
        ("缺木工3人 初级即可 13912340001", 5),
        ("缺木工3人 二级 13912340001", 2),
        ("缺木工3人 13912340001", None),
    ],
)
def test_grade_words_map_to_the_national_levels(text: str, grade: int | None) -> None:
    assert parse_paste(text)[0].grade == grade


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "好的收到",
        "谁有搅拌机出租",
        "钢筋加工，价格优惠，电话13903510009",
        "有没有木工？",
    ],
)
def test_text_that_is_not_a_labor_post_gives_no_draft(text: str) -> None:
    assert parse_paste(text) == []


def test_a_trade_word_inside_a_contact_is_not_read_as_a_name() -> None:
    draft = parse_paste("招钢筋工5人 小店区 电话13912340001")[0]
    assert draft.contact_name is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)),
        st.text(alphabet="0123456789 -", min_size=0, max_size=400),
        st.text(alphabet="，。！？、：；（）【】,.!?:;()[]/-~+ \n\t", max_size=400),
        st.text(alphabet="招缺钢筋工木工人名个一二两三十百千万元天月日薪级区县市 0123456789"),
    )
)
def test_any_input_gives_a_list_without_raising(text: str) -> None:
    drafts = parse_paste(text)
    assert isinstance(drafts, list)
    for draft in drafts:
        assert draft.headcount is None or 1 <= draft.headcount <= 500


@pytest.mark.parametrize(
    "text",
    [
        "招钢筋工5人 " * 5000,
        "1" * 100_000,
        "，" * 100_000,
        "缺" + "钢筋工" * 20_000,
        "\U0001f600" * 50_000,
    ],
)
def test_very_long_input_is_parsed_in_bounded_time(text: str) -> None:
    started = time.perf_counter()
    parse_paste(text)
    assert time.perf_counter() - started < 0.5
