"""The `jingong` command (`[project.scripts] jingong = "webhooks.main:main"`): the composition
root of the command line, in the outermost layer because it also offers the bot's and the web
server's commands.

Each command module defines `add_parser(subparsers)` and imports only the standard library
and core at module level (the bot and the web stack load when its command runs), so
`jingong --help` stays quick. A new command module is added to COMMANDS, which is also the
order of `jingong --help`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot import cli_commands as bot_commands
from bot import demo
from core.cli import (
    apikey,
    channel,
    credit,
    db,
    digest,
    enterprise,
    invite,
    parse,
    project,
    seed,
    summary,
    worker,
)
from core.cli.app import CommandModule, assemble_parser, run_command
from webhooks import cli as web_commands

COMMANDS: tuple[CommandModule, ...] = (
    db,
    seed,
    summary,
    enterprise,
    project,  # `project`, `team`
    invite,
    worker,
    credit,
    digest,
    bot_commands,  # `scheduler`
    apikey,
    channel,
    parse,
    web_commands,  # `serve`, `run`
    demo,  # `demo`
)


def build_parser() -> argparse.ArgumentParser:
    return assemble_parser(COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `jingong` command; the process exit code."""
    return run_command(COMMANDS, argv)
