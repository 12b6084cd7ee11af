"""A local Telegram: Bot API emulator, users' client API and a web chat page, all offline."""

from sandbox.emulator import create_emulator_app
from sandbox.server import RunningSandbox, run_sandbox
from sandbox.state import FloodLimit, PageAction, Persona, SandboxState

__all__ = [
    "FloodLimit",
    "PageAction",
    "Persona",
    "RunningSandbox",
    "SandboxState",
    "create_emulator_app",
    "run_sandbox",
]
