"""`jingong project add|list|close` and `jingong team add|list` through main()."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import make_uscc
from webhooks.main import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("SECRET_KEY", "")
    monkeypatch.setenv("DEFAULT_LOCALE", "zh")
    assert main(["db", "upgrade"]) == 0
    return data_dir


def _out(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.strip()


def test_a_contractor_gets_a_project_and_a_team_from_the_command_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = make_uscc("140105", 7)
    assert main(["enterprise", "add", "--name", "山西五建集团有限公司", "--uscc", code,
                 "--kind", "general", "--region", "140105"]) == 0  # fmt: skip
    enterprise_id = _out(capsys)
    assert main(["project", "add", "--enterprise", enterprise_id, "--name", "太原南站项目",
                 "--region", "140105", "--start", "2026-12-01", "--end", "2027-06-30",
                 "--realname-code", "SX-1"]) == 0  # fmt: skip
    project_id = _out(capsys)
    assert project_id.isdigit()
    assert main(["team", "add", "--project", project_id, "--name", "钢筋一班"]) == 0
    team_id = _out(capsys)
    assert main(["team", "list", "--project", project_id]) == 0
    assert _out(capsys) == f"{team_id}\t0\t钢筋一班"
    assert main(["project", "list", "--enterprise", enterprise_id]) == 0
    assert _out(capsys) == f"{project_id}\t140105\tactive\t太原南站项目"
    assert main(["project", "close", project_id]) == 0
    assert _out(capsys) == f"project {project_id} closed: 太原南站项目"
    assert main(["project", "list", "--enterprise", enterprise_id, "--closed"]) == 0
    assert _out(capsys).endswith("completed\t太原南站项目")


def test_dates_out_of_order_and_an_unknown_company_are_one_line_errors(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["project", "add", "--enterprise", "99", "--name", "无主项目",
                 "--region", "140105"]) != 0  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("jingong: error: ")
    code = make_uscc("140105", 8)
    assert main(["enterprise", "add", "--name", "山西晋工劳务有限公司", "--uscc", code,
                 "--kind", "labor", "--region", "140105"]) == 0  # fmt: skip
    enterprise_id = _out(capsys)
    argv = ["project", "add", "--enterprise", enterprise_id, "--name", "倒排项目",
            "--region", "140105", "--start", "2027-01-01", "--end", "2026-12-31"]  # fmt: skip
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "2026-12-31" in err[0]
    assert main(["project", "list", "--enterprise", enterprise_id]) == 0
    assert _out(capsys) == ""


def test_a_team_of_a_trade_and_an_unknown_trade(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["enterprise", "add", "--name", "山西五建集团有限公司",
                 "--uscc", make_uscc("140105", 8), "--kind", "general",
                 "--region", "140105"]) == 0  # fmt: skip
    enterprise_id = _out(capsys)
    assert main(["project", "add", "--enterprise", enterprise_id, "--name", "太原南站项目",
                 "--region", "140105"]) == 0  # fmt: skip
    project_id = _out(capsys)
    assert main(["team", "add", "--project", project_id, "--name", "抹灰一班",
                 "--trade", "plasterer"]) == 0  # fmt: skip
    assert _out(capsys).isdigit()
    assert main(["team", "add", "--project", project_id, "--name", "某某班",
                 "--trade", "no-such-trade"]) != 0  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert main(["team", "list", "--project", project_id]) == 0
    assert _out(capsys).endswith("抹灰一班")  # the refused one was not written
