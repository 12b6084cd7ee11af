"""`jingong channel add|list|remove|test` through main(), as the console script runs it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.integration.test_channels import Mailbox, _free_port
from tests.integration.test_cli import _one_error_line, env  # noqa: F401 - the fixture
from webhooks.main import main

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=ff6cd723bdb4455fe18f0ba30dbeff00"


@pytest.fixture
def regulator(env: Path, capsys: pytest.CaptureFixture[str]) -> int:  # noqa: F811
    assert main(["db", "upgrade"]) == 0
    with sqlite3.connect(env / "jingong.db") as db:
        cursor = db.execute(
            "INSERT INTO account (display_name, locale, role, region_code, active, "
            "notifications_enabled, digest_time, timezone, created_at, chat_id, telegram_user_id)"
            " VALUES ('太原市住建局', 'zh', 'regulator', '140100', 1, 1, '08:00:00', "
            "'Asia/Shanghai', '2026-03-01 00:00:00', 7001, 7001)"
        )
        account_id = cursor.lastrowid
    capsys.readouterr()
    assert account_id is not None
    return account_id


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--wecom", "https://example.com/cgi-bin/webhook/send?key=abcdefgh1234"],
         "not a WeCom group robot URL"),
        (["--wecom", WECOM.replace("https", "http")], "must start with https://"),
        (["--dingtalk", WECOM], "not a DingTalk custom robot URL"),
        (["--dingtalk", DINGTALK.replace("https", "http")], "must start with https://"),
        (["--dingtalk", DINGTALK, "--secret", "hunter2"], "starts with SEC"),
        (["--email", "zhang.at.example.cn"], "not a valid e-mail address"),
        (["--email", "zhang@localhost"], "not a valid e-mail address"),
        (["--wecom", WECOM, "--secret", "SEC0123456789abcdef0123"], "only for DingTalk"),
    ],
)  # fmt: skip
def test_bad_input_gets_one_line_and_exit_code_2(
    regulator: int, argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["channel", "add", "--account", str(regulator), *argv]) == 2
    assert says in _one_error_line(capsys.readouterr().err)
    assert main(["channel", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no channels"


def test_add_list_test_and_remove(
    regulator: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["channel", "add", "--account", str(regulator), "--wecom", WECOM]) == 0
    assert (
        main(["channel", "add", "--account", str(regulator), "--email", "ju@jsj.example.cn"]) == 0
    )
    assert capsys.readouterr().out.splitlines() == [
        f"channel 1: wecom 企业微信 key=693a…5aaa for account {regulator}",
        f"channel 2: email j***@jsj.example.cn for account {regulator}",
    ]
    assert main(["channel", "list", "--account", str(regulator)]) == 0
    listing = capsys.readouterr().out
    assert "693a…5aaa" in listing
    assert "j***@jsj.example.cn" in listing
    assert "693a91f6-7aoc" not in listing
    assert "ju@jsj" not in listing

    box = Mailbox()
    port = _free_port()
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    # the mail server is down: one line, the message stays queued for the running sender
    assert main(["channel", "test", "2"]) == 1
    assert "not delivered (pending): SMTP unreachable" in _one_error_line(capsys.readouterr().err)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert main(["channel", "test", "2"]) == 0
    finally:
        controller.stop()
    assert capsys.readouterr().out.strip() == "test message delivered to j***@jsj.example.cn"
    assert len(box.messages) == 1
    assert box.messages[0]["To"] == "ju@jsj.example.cn"

    assert main(["channel", "remove", "1"]) == 0
    assert main(["channel", "remove", "1"]) == 2
    assert "no delivery channel with id 1" in _one_error_line(capsys.readouterr().err)
