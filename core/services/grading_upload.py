"""The bureau's Excel habit for 工人评级: export the region's workers as a workbook, fill in a
"new grade" column, send it back; read it (every change and every refused row with why), then
apply all changes in one transaction, each one audited, or none.

The workbook's first sheet must have the exported header row; only the worker number and the
new grade are read (the other columns are there for the person filling it in). A blank new
grade leaves the worker as they are.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from core.db.models import AuditLog, Enterprise, Grade, Trade, Worker
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.errors import ValidationError
from core.domain.timeutil import local_date
from core.services.region_scope import home_region
from core.services.regions import region_filter
from core.services.worker_grading import WorkerFilter, filter_clauses

MAX_ROWS = 10_000  # data rows of one upload (and of one export)
CHUNK = 1000  # ids per IN (…) lookup
# (zh, en) header of each exported column; ID and NEW_GRADE are the ones read back
ID, NAME, GENDER, BIRTH, ID_MASKED, TRADE, GRADE, NEW_GRADE = range(8)
HEADERS = (
    ("编号", "Worker no."),
    ("姓名", "Name"),
    ("性别", "Gender"),
    ("出生日期", "Born"),
    ("身份证号（隐藏）", "ID number (masked)"),
    ("工种", "Trade"),
    ("现等级", "Grade now"),
    ("新等级", "New grade"),
)


@dataclass(frozen=True, slots=True)
class GradeChange:
    row: int  # the spreadsheet's row number (the header is row 1)
    worker_id: int
    name: str
    old_grade: int
    new_grade: int


@dataclass(frozen=True, slots=True)
class RefusedRow:
    row: int
    value: str  # what the worker number cell held, as text
    reason: str  # an error.* message key


@dataclass(frozen=True, slots=True)
class GradingUpload:
    rows: int  # data rows read
    changes: tuple[GradeChange, ...]
    refused: tuple[RefusedRow, ...]
    unchanged: int  # blank new grade, or the grade the worker already has


# --- export ---------------------------------------------------------------------------------


async def grading_rows(
    uow: UnitOfWork, actor: Actor, filters: WorkerFilter, locale: str
) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of the grading workbook (at most MAX_ROWS workers, by name)."""
    zh = locale.startswith("zh")
    where = filter_clauses(actor, filters, local_date(uow.now()))
    rows = await uow.session.execute(
        select(
            Worker.id,
            Worker.name,
            Worker.gender,
            Worker.birth_date,
            Worker.id_masked,
            Trade.name_zh if zh else Trade.name_en,
            Worker.grade_level,
        )
        .join(Enterprise, Enterprise.id == Worker.enterprise_id)
        .join(Trade, Trade.code == Worker.trade_code)
        .where(*where)
        .order_by(Worker.name, Worker.id)
        .limit(MAX_ROWS)
    )
    genders = {"M": "男", "F": "女"} if zh else {"M": "male", "F": "female"}
    body = [
        [wid, name, genders.get(gender, gender), born, masked, trade, grade, None]
        for wid, name, gender, born, masked, trade, grade in rows.all()
    ]
    return [pair[0 if zh else 1] for pair in HEADERS], body


# --- read -----------------------------------------------------------------------------------


def _sheet_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook  # imported on first use: heavy, rarely needed
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise ValidationError("error.grading_not_xlsx") from exc
    try:
        yield from book.worksheets[0].iter_rows(values_only=True)
    finally:
        book.close()


def _columns(header: Sequence[Any]) -> tuple[int, int]:
    """Where the worker number and the new grade are, by their (zh or en) header."""
    names = [str(cell).strip() if cell is not None else "" for cell in header]
    found = []
    for column in (ID, NEW_GRADE):
        wanted = HEADERS[column]
        index = next((i for i, name in enumerate(names) if name in wanted), None)
        if index is None:
            raise ValidationError(
                "error.grading_columns", id=HEADERS[ID][0], grade=HEADERS[NEW_GRADE][0]
            )
        found.append(index)
    return found[0], found[1]


def _whole(value: Any) -> int | None:
    """A whole number typed or stored as 3, 3.0 or "3"; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    return int(text) if text.isdecimal() else None


async def read_grading_upload(uow: UnitOfWork, actor: Actor, data: bytes) -> GradingUpload:
    """Read a returned grading workbook; nothing is written."""
    home = home_region(actor)
    rows = _sheet_rows(data)
    header = next(rows, None)
    if header is None:
        raise ValidationError(
            "error.grading_columns", id=HEADERS[ID][0], grade=HEADERS[NEW_GRADE][0]
        )
    id_col, grade_col = _columns(header)
    levels = set((await uow.session.scalars(select(Grade.level))).all())
    wanted: dict[int, tuple[int, int]] = {}  # worker id → (row, new grade)
    refused: list[RefusedRow] = []
    unchanged = 0
    count = 0
    for number, row in enumerate(rows, start=2):
        if not any(cell not in (None, "") for cell in row):
            continue  # an empty line (Excel keeps formatted ones)
        count += 1
        if count > MAX_ROWS:
            raise ValidationError("error.grading_too_many", max=MAX_ROWS)
        cell = row[id_col] if id_col < len(row) else None
        raw_grade = row[grade_col] if grade_col < len(row) else None
        shown = "" if cell is None else str(cell)[:20]
        if raw_grade in (None, ""):
            unchanged += 1
            continue
        worker_id = _whole(cell)
        grade = _whole(raw_grade)
        if worker_id is None:
            refused.append(RefusedRow(number, shown, "error.grading_row_id"))
        elif grade is None or grade not in levels:
            refused.append(RefusedRow(number, shown, "error.grading_row_grade"))
        elif worker_id in wanted:
            refused.append(RefusedRow(number, shown, "error.grading_row_duplicate"))
        else:
            wanted[worker_id] = (number, grade)
    known: dict[int, tuple[str, int]] = {}
    ids = sorted(wanted)
    for start in range(0, len(ids), CHUNK):
        found = await uow.session.execute(
            select(Worker.id, Worker.name, Worker.grade_level)
            .join(Enterprise, Enterprise.id == Worker.enterprise_id)
            .where(Worker.id.in_(ids[start : start + CHUNK]), region_filter(home, Enterprise))
        )
        known.update({wid: (name, grade) for wid, name, grade in found.all()})
    changes = []
    for worker_id, (number, grade) in sorted(wanted.items(), key=lambda kv: kv[1][0]):
        if worker_id not in known:  # unknown and another region's look the same: no probing
            refused.append(RefusedRow(number, str(worker_id), "error.grading_row_scope"))
            continue
        name, old = known[worker_id]
        if old == grade:
            unchanged += 1
            continue
        changes.append(GradeChange(number, worker_id, name, old, grade))
    refused.sort(key=lambda r: r.row)
    return GradingUpload(count, tuple(changes), tuple(refused), unchanged)


# --- apply ----------------------------------------------------------------------------------


async def apply_grading_upload(uow: UnitOfWork, actor: Actor, upload: GradingUpload) -> int:
    """Set every new grade of a read upload in one transaction, one audit row per worker."""
    home_region(actor)
    now = uow.now()
    by_grade: dict[int, list[int]] = {}
    for change in upload.changes:
        by_grade.setdefault(change.new_grade, []).append(change.worker_id)
    for grade, ids in by_grade.items():
        for start in range(0, len(ids), CHUNK):
            await uow.session.execute(
                update(Worker)
                .where(Worker.id.in_(ids[start : start + CHUNK]))
                .values(grade_level=grade, updated_at=now)
                .execution_options(synchronize_session=False)
            )
    if upload.changes:
        await uow.session.execute(
            insert(AuditLog),
            [
                {
                    "at": now,
                    "actor_account_id": actor.account_id,
                    "action": "worker.grade",
                    "entity": "worker",
                    "entity_id": str(c.worker_id),
                    "before": {"grade_level": c.old_grade},
                    "after": {"grade_level": c.new_grade, "source": "workbook"},
                }
                for c in upload.changes
            ],
        )
    await uow.commit()
    return len(upload.changes)
