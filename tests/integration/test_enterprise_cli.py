"""`jingong enterprise add|list|show|suspend` through main(), as the console script runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import make_uscc
from webhooks.main import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An upgraded SQLite database under a temporary DATA_DIR, whatever .env says."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("SECRET_KEY", "")
    monkeypatch.setenv("DEFAULT_LOCALE", "zh")
    assert main(["db", "upgrade"]) == 0
    return data_dir


def _error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("jingong: error: ")
    return lines[0]


def test_enterprise_commands_explain_themselves(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enterprise", "add", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: jingong enterprise add")
    assert "施工总承包" in out
    assert "--uscc" in out


def test_add_list_show_suspend(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = make_uscc("140105", 1)
    argv = ["enterprise", "add", "--name", "山西晋工劳务有限公司", "--uscc", code, "--kind",
            "labor", "--region", "140105", "--address", "小店区长风街1号"]  # fmt: skip
    assert main(argv) == 0
    new_id = capsys.readouterr().out.strip()
    assert new_id.isdigit()

    other = make_uscc("110105", 2)
    assert main(["enterprise", "add", "--name", "北京建工集团", "--uscc", other, "--kind",
                 "general", "--region", "140702"]) == 0  # fmt: skip
    other_id = capsys.readouterr().out.strip()

    assert main(["enterprise", "list", "--region", "1401"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"{new_id}\t{code}\tlabor\t140105\t山西晋工劳务有限公司"]

    assert main(["enterprise", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"{other_id}\t{other}\tgeneral\t140702\t北京建工集团 [外省]" in listing

    assert main(["enterprise", "suspend", new_id, "--reason", "资质过期"]) == 0
    assert "资质过期" in capsys.readouterr().out
    assert main(["enterprise", "show", new_id]) == 0
    shown = capsys.readouterr().out
    for expected in ("山西晋工劳务有限公司", code, "labor", "140105", "小店区长风街1号",
                     "Shanxi", "suspended", "资质过期"):  # fmt: skip
        assert expected in shown


@pytest.mark.parametrize(
    ("argv", "exit_code", "words"),
    [
        (["--uscc", "91140105MA00000010"], 2, "not a valid unified social credit code"),
        (["--kind", "builder"], 2, "invalid choice"),
        (["--region", "140100"], 2, "not a Shanxi county"),
        (["--region", "110105"], 2, "unknown region code"),
        (["--name", "晋"], 2, "at least 2 characters"),
        (["--name", "晋" * 101], 2, "too long"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_a_non_zero_exit(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], exit_code: int, words: str
) -> None:
    capsys.readouterr()
    base = {"--name": "山西晋工劳务有限公司", "--uscc": make_uscc("140105", 1),
            "--kind": "labor", "--region": "140105"}  # fmt: skip
    base[argv[0]] = argv[1]
    full = ["enterprise", "add"] + [part for pair in base.items() for part in pair]
    assert main(full) == exit_code
    assert words in _error(capsys.readouterr().err)
    assert main(["enterprise", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_duplicates_and_unknown_ids_are_refused(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = make_uscc("140105", 1)
    argv = ["enterprise", "add", "--name", "甲公司", "--uscc", code, "--kind", "labor",
            "--region", "140105"]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    assert main([*argv[:3], "乙公司", *argv[4:]]) == 1
    assert "already registered" in _error(capsys.readouterr().err)
    assert main(["enterprise", "show", "999"]) == 2
    assert "no such enterprise" in _error(capsys.readouterr().err)
    assert main(["enterprise", "suspend", "999", "--reason", "x"]) == 2
    capsys.readouterr()
    assert main(["enterprise", "show", "abc"]) == 2
    assert "not a whole number" in _error(capsys.readouterr().err)


def test_rings_sets_the_default_ring_and_the_hours_and_refuses_bad_hours(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["enterprise", "add", "--name", "山西建投", "--uscc", make_uscc("140105", 1),
            "--kind", "general", "--region", "140105"]  # fmt: skip
    assert main(argv) == 0
    new_id = capsys.readouterr().out.strip()
    assert (
        main(["enterprise", "rings", new_id, "--default", "internal", "--open-after", "48"]) == 0
    )
    assert capsys.readouterr().out.strip() == (
        f"enterprise {new_id}: new postings go to internal; internal ones open after 48 h"
    )
    assert main(["enterprise", "rings", new_id, "--open-after", "0"]) != 0
    assert "1 to 720" in _error(capsys.readouterr().err)
    assert main(["enterprise", "rings", new_id]) == 0  # nothing asked: the settings as they are
    assert "internal ones open after 48 h" in capsys.readouterr().out
    assert main(["enterprise", "rings", new_id, "--default", "escalated"]) == 2
    assert "invalid choice" in _error(capsys.readouterr().err)
