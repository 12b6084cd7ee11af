"""Core's `jingong` commands: one module per command (or group) with `add_parser(subparsers)`.

The `jingong` console script is webhooks.main:main, the composition root in the outer layer:
it lists these modules next to the bot's and the web server's commands. A command module here
imports only core; core/cli/app.py has the shared parser assembly and error handling.
"""
