"""Parser assembly, error handling and exit codes shared by every `jingong` command."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from core.cli.common import CliError, JingongParser, describe_exception

# one module per command (or command group); each defines `add_parser(subparsers)`
COMMAND_MODULES: tuple[str, ...] = (
    "core.cli.db",
    "core.cli.seed",
    "core.cli.summary",
    "core.cli.invite",
    "core.cli.worker",
    "core.digest_cli",
    "bot.cli_commands",  # `scheduler`: imports only stdlib at module level, bot.* when run
    "core.cli.apikey",
    "core.cli.parse",
    "webhooks.cli",  # `serve`, `run`: stdlib only at module level, the web stack when run
    "bot.demo",  # `demo`: stdlib only at module level, the bot and the sandbox when run
)


def build_parser() -> argparse.ArgumentParser:
    parser = JingongParser(
        prog="jingong",
        description="JinGong Dispatch (晋工调度): the Shanxi construction labor market.",
        epilog="Settings come from the environment or .env (DATA_DIR, DATABASE_URL, "
        "SECRET_KEY, BOT_TOKEN, …). Run `jingong COMMAND --help` for a command's options.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become one `jingong: error: …` line on stderr, never a traceback."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_list)
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
