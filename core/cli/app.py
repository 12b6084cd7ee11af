"""Parser assembly, error handling and exit codes shared by every `jingong` command.

Core knows only its own commands; the composition root of the `jingong` command (which adds
the bot's and the web server's) lives in the outer layer, webhooks.main."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from core.cli.common import CliError, JingongParser, describe_exception


class CommandModule(Protocol):
    """A module of `jingong` commands: it adds its subcommand(s) to the parser."""

    def add_parser(self, subparsers: Any) -> None: ...


def assemble_parser(commands: Iterable[CommandModule]) -> argparse.ArgumentParser:
    """The `jingong` parser with the subcommands of `commands`, in that order."""
    parser = JingongParser(
        prog="jingong",
        description="JinGong Dispatch (晋工调度): the Shanxi construction labor market.",
        epilog="Settings come from the environment or .env (DATA_DIR, DATABASE_URL, "
        "SECRET_KEY, BOT_TOKEN, …). Run `jingong COMMAND --help` for a command's options.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in commands:
        module.add_parser(subparsers)
    return parser


def run_command(commands: Iterable[CommandModule], argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become one `jingong: error: …` line on stderr, never a traceback."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = assemble_parser(commands).parse_args(args_list)
        code: int = args.handler(args)
        return code
    except SystemExit as exc:  # --help / --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("jingong: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("JINGONG_DEBUG"):
            raise
        message, code = (
            (exc.message, exc.code) if isinstance(exc, CliError) else (describe_exception(exc))
        )
        print(f"jingong: error: {message}", file=sys.stderr)
        return code
