"""Conversation states, one StatesGroup per dialog. FSM data holds opaque ids only."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Onboarding(StatesGroup):
    phone = State()  # waiting for the user's own contact (request_contact button)


class InviteForeman(StatesGroup):
    project = State()  # picking one of the company's projects (inline buttons)
    name = State()  # typing the foreman's name
