"""`jingong parse`: the paste parser from the command line, called through main()."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from webhooks.main import main

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "paste_examples.jsonl"


def test_parse_prints_one_readable_line_per_trade(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "缺钢筋工5人、木工3人，小店区，月薪8000，张工13912340001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "shortage · 钢筋工 · grade ? · 5 workers · 140105 小店区 · 8000 yuan/month · "
        "张工 13912340001",
        "shortage · 木工 · grade ? · 3 workers · 140105 小店区 · 8000 yuan/month · "
        "张工 13912340001",
    ]


def test_parse_json_of_a_non_post_is_kind_null(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--json", "明天几点开会？"]) == 0
    assert json.loads(capsys.readouterr().out) == {"kind": None}


def test_parse_json_from_stdin_answers_every_example_line_in_the_expect_format(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    stdin = "\n".join(case["text"] for case in cases) + "\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    assert main(["parse", "--json", "-"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in out] == [case["expect"] for case in cases]
