"""The `jingong` command line, called through main() as the console script does."""

from pathlib import Path

import pytest

from webhooks.main import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite database under a temporary DATA_DIR, whatever the developer's .env says."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("SECRET_KEY", "")
    monkeypatch.setenv("BOT_USERNAME", "JinGongDemoBot")
    monkeypatch.setenv("DEFAULT_LOCALE", "zh")
    return data_dir


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("jingong: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("db", "seed", "summary", "invite"):
        assert command in out


@pytest.mark.parametrize(
    "argv",
    [["db", "--help"], ["db", "upgrade", "--help"], ["seed", "--help"], ["summary", "--help"],
     ["invite", "--help"]],
)  # fmt: skip
def test_every_command_explains_itself(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: jingong {argv[0]}")
    assert len(out.splitlines()) > 4


def test_summary_prints_the_table_of_a_seeded_database(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--demo", "--scale", "small"]) == 0
    seeded = capsys.readouterr().out
    assert "3000 workers" in seeded
    assert "foreman=" in seeded
    assert (env / "jingong.db").exists()

    assert main(["summary", "--region", "1401", "--date", "2026-03-04"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("太原市 用工调度汇总 2026-03-04")
    for county in ("小店区", "迎泽区", "古交市", "合计", "钢筋工"):
        assert county in table
    head, _rule, *rows, note = table.split("\n\n")[1].splitlines()
    assert head.split()[-1] == "上报率"
    assert all(row.endswith("%") or row.endswith("—") for row in rows), rows
    assert note.startswith("上报率：近 7 天更新过用工情况的在建项目占比")

    assert main(["summary", "--region", "14", "--locale", "en"]) == 0
    table = capsys.readouterr().out
    assert "Shanxi dispatch summary" in table
    assert "Lüliang" in table
    assert "Total" in table

    # seeding twice is refused with one line
    assert main(["seed", "--demo"]) == 1
    assert "already holds" in _one_error_line(capsys.readouterr().err)

    # a well-formed code that is no region of Shanxi
    assert main(["summary", "--region", "149999"]) == 2
    assert "149999" in _one_error_line(capsys.readouterr().err)

    assert main(["invite", "--role", "regulator", "--name", "王芳", "--region", "1407"]) == 0
    out = capsys.readouterr().out
    token = out.split("token:", 1)[1].split()[0]
    assert f"https://t.me/JinGongDemoBot?start={token}" in out


def test_db_upgrade_creates_the_schema_and_reference_data(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "129 region" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0  # again: nothing to do, still fine


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["summary", "--region", "999999"], "unknown region code '999999'"),
        (["summary", "--region", "abc"], "unknown region code 'abc'"),
        (["summary", "--region", "1401", "--date", "2026-13-01"], "malformed date"),
        (["summary", "--region", "1401", "--date", "4.3.2026"], "malformed date"),
        (["summary"], "--region"),
        (["seed"], "pass --demo"),
        (["seed", "--demo", "--scale", "huge"], "invalid choice"),
        (["invite", "--role", "king", "--name", "x"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        ([], "COMMAND"),
    ],
)
def test_a_wrong_argument_is_one_line_and_exit_code_2(
    env: Path, argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert fragment in _one_error_line(captured.err)
    assert captured.out == ""


def test_a_missing_database_is_one_line_naming_the_fix(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", "--region", "14"]) == 1
    assert "jingong db upgrade" in _one_error_line(capsys.readouterr().err)
    assert not (env / "jingong.db").exists(), "a summary must not create an empty database"


def test_an_unreachable_database_is_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    assert main(["summary", "--region", "14"]) == 1
    _one_error_line(capsys.readouterr().err)


def test_worker_forget_answers_in_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["worker", "forget", "--id-number", "110105194912310021"]) == 2
    assert "check" in _one_error_line(capsys.readouterr().err).lower()  # the checksum is wrong
    assert main(["worker", "forget", "--id-number", "11010519491231002X"]) == 2
    assert "error." not in _one_error_line(capsys.readouterr().err)  # a sentence, not a key


def test_every_command_module_of_core_is_offered_by_jingong() -> None:
    """A new core/cli/<name>.py with `add_parser` must be listed in webhooks.main.COMMANDS."""
    import importlib
    import tomllib

    from webhooks.main import COMMANDS

    root = Path(__file__).resolve().parents[2]
    listed = {module.__name__ for module in COMMANDS}
    for path in sorted((root / "core" / "cli").glob("*.py")):
        module = importlib.import_module(f"core.cli.{path.stem}")
        if hasattr(module, "add_parser"):
            assert module.__name__ in listed, f"{path.name} is missing from COMMANDS"
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["jingong"] == "webhooks.main:main"


def test_credit_show_prints_the_score_and_each_component_with_its_inputs(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--demo", "--scale", "small"]) == 0
    capsys.readouterr()
    assert main(["credit", "show", "--enterprise", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("山西五建集团有限公司 (#1): credit ")
    for part in ("fulfilment", "payment", "ratings", "arrears", "no-shows"):
        assert part in out
    assert "1 open 欠薪预警" in out  # the seeded Taiyuan arrears
    assert main(["credit", "show", "--enterprise", "99999"]) != 0
    err = capsys.readouterr().err
    assert "no such enterprise" in _one_error_line(err)
