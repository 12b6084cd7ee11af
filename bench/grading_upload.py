"""A 10,000-row grading workbook (🎖 评级 by Excel): read, previewed and applied.

    .venv/bin/python -m bench.grading_upload            # seed bench/out/coverage.db first
    .venv/bin/python -m bench.grading_upload --reuse    # on what an earlier run seeded

Exports the first 10,000 workers of 太原 as the bureau's workbook (core.services.grading_upload),
fills the "new grade" column (one grade up or down each), then times reading it with the
preview (every change and refused row) and applying it in one transaction with one audit row
per worker. The apply is rolled back afterwards unless --keep, so runs are repeatable.
Target: read + preview + apply < 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import time
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import delete, update

from bench.digests import prepare
from core.db.models import AuditLog, Worker
from core.domain.actor import Actor
from core.domain.enums import Role
from core.services.grading_upload import (
    MAX_ROWS,
    apply_grading_upload,
    grading_rows,
    read_grading_upload,
)
from core.services.worker_grading import WorkerFilter

TARGET_S = 10.0
TAIYUAN = Actor(account_id=None, role=Role.REGULATOR, region_code="140100")


async def main(db_file: Path, reuse: bool, keep: bool) -> int:
    engine, services = await prepare(db_file, reuse)
    try:
        async with services.uow() as uow:
            header, rows = await grading_rows(uow, TAIYUAN, WorkerFilter(), "zh")
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(header)
        for row in rows[:MAX_ROWS]:
            grade = int(row[6])
            row[-1] = grade + 1 if grade < 5 else grade - 1
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        data = out.getvalue()
        print(f"workbook: {len(rows[:MAX_ROWS])} rows, {len(data) / 1e6:.1f} MB")

        async with services.uow() as uow:
            started = time.perf_counter()
            upload = await read_grading_upload(uow, TAIYUAN, data)
            read_s = time.perf_counter() - started
        print(
            f"read + preview: {read_s:.2f} s "
            f"({len(upload.changes)} changes, {len(upload.refused)} refused)"
        )
        async with services.uow() as uow:
            before = {c.worker_id: c.old_grade for c in upload.changes}
            started = time.perf_counter()
            await apply_grading_upload(uow, TAIYUAN, upload)
            apply_s = time.perf_counter() - started
        print(f"apply (one transaction, {len(upload.changes)} audit rows): {apply_s:.2f} s")
        total = read_s + apply_s
        print(f"total: {total:.2f} s (target < {TARGET_S} s)")
        if not keep:  # put the grades back so the next run measures the same thing
            async with services.uow() as uow:
                for grade in range(1, 6):
                    ids = [w for w, g in before.items() if g == grade]
                    for start in range(0, len(ids), 1000):
                        await uow.session.execute(
                            update(Worker)
                            .where(Worker.id.in_(ids[start : start + 1000]))
                            .values(grade_level=grade)
                        )
                await uow.session.execute(
                    delete(AuditLog).where(AuditLog.action == "worker.grade")
                )
                await uow.commit()
    finally:
        await engine.dispose()
    return 0 if total < TARGET_S else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-file", type=Path, default=Path("bench/out/coverage.db"))
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--keep", action="store_true", help="keep the applied grades")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.db_file, args.reuse, args.keep)))
