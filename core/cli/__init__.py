"""The `jingong` command line: `jingong = "core.cli:main"`.

Each command lives in its own module of this package and is listed in `COMMAND_MODULES`
(core.cli.app). A command that needs the bot or the web app (run, serve, scheduler…) imports
`bot.*` / `webhooks.*` inside its handler, never at module level: core stays transport-free.
"""

from core.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
