"""Reference data (regions, trades, grades) lives in CSV files and is upserted into the DB."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Grade, Region, Trade


def read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("core.reference").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def region_rows() -> list[dict[str, Any]]:
    rows = []
    for row in read_csv("regions.csv"):
        rows.append(
            {
                "code": row["code"],
                "parent_code": row["parent_code"] or None,
                "level": row["level"],
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "neighbours": [c for c in (row.get("neighbours") or "").split(";") if c],
            }
        )
    return rows


async def load_reference_data(session: AsyncSession) -> dict[str, int]:
    """Insert or update every reference row; safe to run on every start. Caller commits."""
    counts = {}
    for model, key, rows in (
        (Region, "code", region_rows()),
        (
            Trade,
            "code",
            [
                {**r, "sort_order": int(r["sort_order"]), "guided": r["guided"] == "1"}
                for r in read_csv("trades.csv")
            ],
        ),
        (Grade, "level", [{**r, "level": int(r["level"])} for r in read_csv("grades.csv")]),
    ):
        existing = {getattr(obj, key): obj for obj in (await session.scalars(select(model))).all()}
        for row in rows:
            obj = existing.get(row[key])
            if obj is None:
                session.add(model(**row))
            else:
                for attr, value in row.items():
                    setattr(obj, attr, value)
            if model is Region:
                # parents come first in the file; flush keeps the self-FK satisfied
                await session.flush()
        counts[model.__tablename__] = len(rows)
    await session.flush()
    return counts
