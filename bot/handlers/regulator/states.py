"""The regulator's typed-input steps. FSM data holds codes and ids only (never an ID number)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class RegulatorGuide(StatesGroup):
    price = State()  # typing the new guide price (city, trade, grade already picked)


class RegulatorGrading(StatesGroup):
    query = State()  # typing a worker's name or full ID number
    upload = State()  # sending the grading workbook back
    confirm = State()  # the upload's preview is shown; its file id waits in the FSM data


class RegulatorDeals(StatesGroup):
    dates = State()  # typing "2026-11-01 2026-11-30"
    headcount = State()  # typing "3-10"
    price = State()  # typing "5000-6000"
