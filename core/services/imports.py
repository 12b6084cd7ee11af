"""Bulk import from the real-name platform (实名制平台): workers and projects, idempotent upserts.

Each row is checked on its own; a bad row is reported with its number (1 = the first data row,
a CSV header is not counted), the field and a reason key, and the good rows are written anyway,
all in ONE transaction per call. Workers are keyed by the keyed hash of their ID number
(`uow.cipher.lookup_hash`), projects by their code. Importing the same rows again reports them
as `unchanged` and writes nothing.

Columns (aliases in brackets). Workers: id_number, name, trade [trade_code] (code, Chinese or
English name), grade [grade_level] (1..5, 一级..五级), phone, education, gender (checked against
the ID number), project_code, team, enterprise_id (regulator keys only). Projects: code, name,
county_code, address, status (active / completed, 在建 / 竣工), enterprise_id (regulator keys).
An optional column present in a row is authoritative (empty clears it); an absent one keeps
what is stored. A worker's name never changes through an import: the same ID number under
another name is the seed's data-quality case and is refused (`error.id_name_mismatch`).

Enterprises (regulator and admin keys only): uscc (the upsert key), name, kind (general /
specialty / labor), county_code, address; each row passes the checks of
`enterprises.register_enterprise`.

Who may import: an enterprise (a dispatcher, or an enterprise API key) for itself; a regulator
for enterprises inside its region, naming `enterprise_id` on every row; an admin for anyone.
Fast on 10^4 rows: reference data and existing rows are read with a few IN queries, rows are
written with executemany INSERT / UPDATE, never one SELECT per row.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from core.db.models import Enterprise, Grade, Project, Region, Team, Trade, Worker
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import EnterpriseStatus, ProjectStatus, RegionLevel, Role, WorkerStatus
from core.domain.errors import Conflict, DomainError, PermissionDenied, ValidationError
from core.domain.values import IdNumber, clean_person_name, clean_text, parse_mobile
from core.services.enterprises import (
    ADDRESS_MAX,
    clean_enterprise_name,
    parse_kind,
    parse_uscc,
    uscc_out_of_province,
)
from core.services.regions import normalize_region_code, region_contains

MAX_ROWS = 10_000
_IN_CHUNK = 1_000  # values per IN (...) list: well under SQLite's and asyncpg's limits
_R = TypeVar("_R")
_THREAD_FROM = 500  # parse bigger batches in a thread so the event loop keeps serving

_GRADE_ZH = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "五级": 5}
_PROJECT_STATUS = {
    "active": ProjectStatus.ACTIVE.value,
    "在建": ProjectStatus.ACTIVE.value,
    "在施": ProjectStatus.ACTIVE.value,
    "completed": ProjectStatus.COMPLETED.value,
    "竣工": ProjectStatus.COMPLETED.value,
    "完工": ProjectStatus.COMPLETED.value,
}
_GENDER = {"m": "M", "male": "M", "男": "M", "f": "F", "female": "F", "女": "F"}
_ALIASES = {"trade_code": "trade", "grade_level": "grade"}


# --- DTOs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row was refused: `row` counts data rows from 1, `key` is an error message key."""

    row: int
    field: str
    key: str
    params: dict[str, Any] = dc_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int
    rejected: tuple[RowError, ...]

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged


class _RowFailed(Exception):
    def __init__(self, field: str, error: DomainError) -> None:
        super().__init__(error.key)
        self.field = field
        self.error = error


# --- cell helpers ---------------------------------------------------------------------------


def _normalize_keys(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw_key, value in row.items():
        key = str(raw_key).strip().lower()
        out[_ALIASES.get(key, key)] = value
    return out


def _text(row: Mapping[str, Any], name: str) -> str | None:
    """The cell as text; None when absent or empty. Numbers are accepted as their digits."""
    value = row.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _RowFailed(name, ValidationError("error.invalid", field=name))
    if isinstance(value, float):
        if not value.is_integer():
            raise _RowFailed(name, ValidationError("error.invalid", field=name))
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def _required(row: Mapping[str, Any], name: str) -> str:
    text = _text(row, name)
    if text is None:
        raise _RowFailed(name, ValidationError("error.text_required", field=name))
    return text


def _check(name: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except DomainError as exc:
        raise _RowFailed(name, exc) from exc


def _parse_grade(text: str, levels: set[int]) -> int:
    value = _GRADE_ZH.get(text)
    if value is None:
        digits = text.lower().removeprefix("grade").removesuffix("级").strip()
        value = int(digits) if digits.isdigit() and len(digits) < 3 else None
    if value is None or value not in levels:
        raise ValidationError("error.unknown_grade")
    return value


# --- scope ----------------------------------------------------------------------------------


@dataclass
class _Scope:
    """Which enterprises this actor may import for, and the row's enterprise."""

    actor: Actor
    enterprises: dict[int, Enterprise]

    def enterprise_of(self, row: Mapping[str, Any]) -> int:
        raw = _text(row, "enterprise_id")
        if self.actor.role is Role.DISPATCHER:
            assert self.actor.enterprise_id is not None
            if raw is not None and raw != str(self.actor.enterprise_id):
                raise _RowFailed("enterprise_id", PermissionDenied("error.out_of_scope"))
            return self.actor.enterprise_id
        if raw is None:
            raise _RowFailed("enterprise_id", ValidationError("error.enterprise_required"))
        if not raw.isdigit() or len(raw) > 9:
            raise _RowFailed(
                "enterprise_id", ValidationError("error.invalid", field="enterprise_id")
            )
        enterprise = self.enterprises.get(int(raw))
        if enterprise is None:
            raise _RowFailed("enterprise_id", ValidationError("error.enterprise_not_found"))
        if self.actor.role is Role.REGULATOR and not region_contains(
            self.actor.region_code or "", enterprise.county_code
        ):
            raise _RowFailed("enterprise_id", PermissionDenied("error.out_of_scope"))
        return enterprise.id

    def covers(self, county_code: str) -> bool:
        """A regulator key writes only inside its region (enterprise, project and all)."""
        if self.actor.role is not Role.REGULATOR:
            return True
        return region_contains(self.actor.region_code or "", county_code)


def _refuse_if_wholly_out_of_scope(row_count: int, rejected: Sequence[RowError]) -> None:
    """A request of which every row lies outside the key's scope is refused as a whole (403):
    for an API client that is a wrong key or a wrong file, not a report to read. A request
    with some rows in scope is written, and the others are reported row by row."""
    if (
        row_count
        and len(rejected) == row_count
        and all(error.key == "error.out_of_scope" for error in rejected)
    ):
        raise PermissionDenied("error.out_of_scope", rows=row_count)


def _require_importer(actor: Actor) -> None:
    if actor.role is Role.DISPATCHER and actor.enterprise_id is not None:
        return
    if actor.role is Role.REGULATOR and actor.region_code:
        return
    if actor.role is Role.ADMIN:
        return
    raise PermissionDenied("error.forbidden")


async def _scope(uow: UnitOfWork, actor: Actor, rows: Sequence[Mapping[str, Any]]) -> _Scope:
    wanted: set[int] = set()
    if actor.role is not Role.DISPATCHER:
        for row in rows:
            value = row.get("enterprise_id")
            text = str(value).strip() if isinstance(value, str | int) else ""
            if text.isdigit() and len(text) <= 9:
                wanted.add(int(text))
    found: dict[int, Enterprise] = {}
    for chunk in _chunks(sorted(wanted)):
        for ent in await uow.session.scalars(select(Enterprise).where(Enterprise.id.in_(chunk))):
            found[ent.id] = ent
    return _Scope(actor, found)


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _check_size(rows: Sequence[Any]) -> None:
    if len(rows) > MAX_ROWS:
        raise ValidationError("error.too_many_rows", max=MAX_ROWS)


async def _write(
    uow: UnitOfWork,
    actor: Actor,
    model: type[Worker] | type[Project] | type[Enterprise],
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    unchanged: int,
) -> None:
    """executemany INSERT and UPDATE by primary key, an audit line, one commit."""
    if not inserts and not updates:
        return
    try:
        if inserts:
            await uow.session.execute(insert(model), inserts)
        if updates:
            await uow.session.execute(update(model), updates)
        scope = actor.enterprise_id if actor.enterprise_id is not None else actor.region_code
        uow.audit(
            actor_account_id=actor.account_id,
            action=f"{model.__tablename__}.import",
            entity="import",
            entity_id=scope if scope is not None else "all",
            after={"created": len(inserts), "updated": len(updates), "unchanged": unchanged},
        )
        await uow.commit()
    except IntegrityError as exc:
        # another import wrote the same ID number, project code or USCC meanwhile: try again
        raise Conflict("error.import_conflict") from exc


def _parse_rows(
    normalized: Sequence[Mapping[str, Any] | None],
    parse_one: Callable[[Mapping[str, Any], int], _R],
) -> tuple[list[_R], list[RowError]]:
    """Parse every row (numbered from 1): the good ones, and an error for each bad one."""
    good: list[_R] = []
    bad: list[RowError] = []
    for index, row in enumerate(normalized, start=1):
        if row is None:
            bad.append(RowError(index, "row", "error.invalid", {"field": "row"}))
            continue
        try:
            good.append(parse_one(row, index))
        except _RowFailed as failed:
            bad.append(RowError(index, failed.field, failed.error.key, failed.error.params))
    return good, bad


async def _parse_all(parse: Callable[[], Any], n: int) -> Any:
    if n >= _THREAD_FROM:
        return await asyncio.to_thread(parse)
    return parse()


# --- workers --------------------------------------------------------------------------------


@dataclass
class _WorkerRow:
    row: int
    enterprise_id: int
    id_number: IdNumber
    id_hash: str
    name: str
    trade_code: str
    grade_level: int
    optional: dict[str, Any]  # phone / education present in the row (None clears)
    project_code: str | None
    team_name: str | None


def _parse_worker(
    row: Mapping[str, Any],
    number: int,
    scope: _Scope,
    trades: dict[str, str],
    levels: set[int],
    lookup_hash: Callable[[str], str],
) -> _WorkerRow:
    enterprise_id = scope.enterprise_of(row)
    id_number = _check("id_number", lambda: IdNumber.parse(_required(row, "id_number")))
    name = _check("name", lambda: clean_person_name(_required(row, "name")))
    trade_text = _required(row, "trade")
    trade_code = trades.get(trade_text.lower())
    if trade_code is None:
        raise _RowFailed("trade", ValidationError("error.unknown_trade"))
    grade = _check("grade", lambda: _parse_grade(_required(row, "grade"), levels))
    gender_text = _text(row, "gender")
    if gender_text is not None:
        gender = _GENDER.get(gender_text.lower())
        if gender is None:
            raise _RowFailed("gender", ValidationError("error.invalid", field="gender"))
        if gender != id_number.gender.value:
            raise _RowFailed("gender", ValidationError("error.id_gender_mismatch"))
    optional: dict[str, Any] = {}
    if "phone" in row:
        phone = _text(row, "phone")
        optional["phone"] = _check("phone", lambda: parse_mobile(phone)) if phone else None
    if "education" in row:
        education = _text(row, "education")
        optional["education"] = (
            _check(
                "education",
                lambda: clean_text(education, field="education", max_len=20, required=False),
            )
            or None
        )
    project_code = _text(row, "project_code")
    team_name = _text(row, "team")
    if team_name is not None:
        team_name = _check("team", lambda: clean_text(team_name, field="team", max_len=60))
        if project_code is None:
            raise _RowFailed(
                "project_code", ValidationError("error.text_required", field="project_code")
            )
    return _WorkerRow(
        row=number,
        enterprise_id=enterprise_id,
        id_number=id_number,
        id_hash=lookup_hash(id_number.value),
        name=name,
        trade_code=trade_code,
        grade_level=grade,
        optional=optional,
        project_code=project_code,
        team_name=team_name,
    )


async def _trade_lookup(uow: UnitOfWork) -> dict[str, str]:
    """Trade code, Chinese name and English name (lower case) → trade code."""
    lookup: dict[str, str] = {}
    for trade in await uow.session.scalars(select(Trade)):
        for key in (trade.code, trade.name_zh, trade.name_en):
            lookup[unicodedata.normalize("NFKC", key).strip().lower()] = trade.code
    return lookup


_WORKER_COLUMNS = (
    Worker.id,
    Worker.id_hash,
    Worker.enterprise_id,
    Worker.name,
    Worker.phone,
    Worker.education,
    Worker.trade_code,
    Worker.grade_level,
    Worker.team_id,
)


def _first_of_each_worker(parsed: list[_WorkerRow], rejected: list[RowError]) -> list[_WorkerRow]:
    """The same ID number twice in one request: the first one wins, the second is reported."""
    first_seen: dict[str, _WorkerRow] = {}
    unique: list[_WorkerRow] = []
    for item in parsed:
        first = first_seen.get(item.id_hash)
        if first is None:
            first_seen[item.id_hash] = item
            unique.append(item)
        else:
            key = "error.duplicate_row" if first.name == item.name else "error.id_name_mismatch"
            rejected.append(RowError(item.row, "id_number", key, {"first_row": first.row}))
    return unique


async def _existing_workers(uow: UnitOfWork, unique: list[_WorkerRow]) -> dict[str, Any]:
    """The stored workers with the rows' ID numbers, by ID hash."""
    existing: dict[str, Any] = {}
    for chunk in _chunks([item.id_hash for item in unique]):
        stored = await uow.session.execute(
            select(*_WORKER_COLUMNS).where(Worker.id_hash.in_(chunk))
        )
        for row in stored.all():
            existing[row.id_hash] = row
    return existing


@dataclass
class _WorkerPlaces:
    """The projects and teams the rows name, read once, and the teams the import will create."""

    projects: dict[str, Project]
    teams: dict[tuple[int, str], int]  # (project, name) → team id
    trade_teams: dict[tuple[int, str], int]  # (project, trade) → first team id
    trade_names: dict[str, str]
    new_teams: dict[tuple[int, str], Team] = dc_field(default_factory=dict)

    @classmethod
    async def read(cls, uow: UnitOfWork, unique: list[_WorkerRow]) -> _WorkerPlaces:
        session = uow.session
        codes = sorted({item.project_code for item in unique if item.project_code})
        projects: dict[str, Project] = {}
        for chunk in _chunks(codes):
            for named in await session.scalars(select(Project).where(Project.code.in_(chunk))):
                projects[named.code] = named
        teams: dict[tuple[int, str], int] = {}
        trade_teams: dict[tuple[int, str], int] = {}
        project_ids = sorted(p.id for p in projects.values())
        for chunk in _chunks(project_ids):
            team_rows = await session.execute(
                select(Team.id, Team.project_id, Team.name, Team.trade_code)
                .where(Team.project_id.in_(chunk))
                .order_by(Team.id)
            )
            for known_id, project_id, name, trade_code in team_rows.all():
                teams.setdefault((project_id, name), known_id)
                if trade_code:
                    trade_teams.setdefault((project_id, trade_code), known_id)
        trade_names = {
            code: name for code, name in (await session.execute(select(Trade.code, Trade.name_zh)))
        }
        return cls(projects, teams, trade_teams, trade_names)

    def team_for(self, item: _WorkerRow, project: Project) -> int | Team:
        """An existing team id, or a Team to create (shared by the rows naming it)."""
        if item.team_name is None and (project.id, item.trade_code) in self.trade_teams:
            return self.trade_teams[(project.id, item.trade_code)]
        # a named team, or the trade's first team of the project ("抹灰工班组")
        name = item.team_name or f"{self.trade_names.get(item.trade_code, item.trade_code)}班组"
        team = self.teams.get((project.id, name))
        if team is not None:
            return team
        return self.new_teams.setdefault(
            (project.id, name),
            Team(project_id=project.id, name=name, trade_code=item.trade_code),
        )


def _worker_refusal(item: _WorkerRow, found: Any) -> RowError | None:
    """A stored worker with this ID number must be of the same company and name."""
    if found is None:
        return None
    if found.enterprise_id != item.enterprise_id:
        return RowError(item.row, "id_number", "error.worker_other_enterprise")
    if found.name != item.name:
        return RowError(item.row, "id_number", "error.id_name_mismatch")
    return None


def _accept_workers(
    unique: list[_WorkerRow],
    existing: dict[str, Any],
    places: _WorkerPlaces,
    scope: _Scope,
    rejected: list[RowError],
) -> list[tuple[_WorkerRow, Any, int | Team | None]]:
    """Each row with its stored worker (or None) and its team (id, Team to create, or None)."""
    accepted: list[tuple[_WorkerRow, Any, int | Team | None]] = []
    for item in unique:
        found = existing.get(item.id_hash)
        refusal = _worker_refusal(item, found)
        if refusal is not None:
            rejected.append(refusal)
            continue
        team: int | Team | None = None
        if item.project_code is not None:
            project = places.projects.get(item.project_code)
            if project is None:
                rejected.append(RowError(item.row, "project_code", "error.project_not_found"))
                continue
            if project.enterprise_id != item.enterprise_id or not scope.covers(
                project.county_code
            ):
                rejected.append(RowError(item.row, "project_code", "error.out_of_scope"))
                continue
            team = places.team_for(item, project)
        accepted.append((item, found, team))
    return accepted


def _new_worker(
    uow: UnitOfWork, item: _WorkerRow, team_id: int | None, now: datetime
) -> dict[str, Any]:
    id_number = item.id_number
    return {
        "enterprise_id": item.enterprise_id,
        "id_hash": item.id_hash,
        "id_cipher": uow.cipher.encrypt(id_number.value),
        "id_masked": id_number.masked,
        "name": item.name,
        "gender": id_number.gender.value,
        "birth_date": id_number.birth_date,
        "phone": item.optional.get("phone"),
        "education": item.optional.get("education"),
        "trade_code": item.trade_code,
        "grade_level": item.grade_level,
        "credit_grade": "B",
        "status": (WorkerStatus.BUSY if team_id else WorkerStatus.IDLE).value,
        "team_id": team_id,
        "rating_count": 0,
        "rating_sum": 0,
        "created_at": now,
        "updated_at": now,
        "status_changed_at": now,
    }


def _worker_writes(
    uow: UnitOfWork, accepted: list[tuple[_WorkerRow, Any, int | Team | None]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Rows to insert, rows to update, and how many rows changed nothing."""
    now = uow.now()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for item, found, team in accepted:
        team_id = team.id if isinstance(team, Team) else team
        if found is None:
            inserts.append(_new_worker(uow, item, team_id, now))
            continue
        values = {
            "phone": item.optional.get("phone", found.phone),
            "education": item.optional.get("education", found.education),
            "trade_code": item.trade_code,
            "grade_level": item.grade_level,
            "team_id": team_id if item.project_code is not None else found.team_id,
        }
        if all(values[k] == getattr(found, k) for k in values):
            unchanged += 1
            continue
        updates.append({"id": found.id, **values, "updated_at": now})
    return inserts, updates, unchanged


async def import_workers(
    uow: UnitOfWork, actor: Actor, rows: Sequence[Mapping[str, Any]]
) -> ImportReport:
    """Create or update workers by ID number; bad rows are reported, good rows written."""
    _require_importer(actor)
    _check_size(rows)
    session = uow.session
    normalized = [_normalize_keys(row) if isinstance(row, Mapping) else None for row in rows]
    scope = await _scope(uow, actor, [r for r in normalized if r is not None])
    trades = await _trade_lookup(uow)
    levels = set(await session.scalars(select(Grade.level)))
    lookup_hash = uow.cipher.lookup_hash

    def parse() -> tuple[list[_WorkerRow], list[RowError]]:
        return _parse_rows(
            normalized,
            lambda row, index: _parse_worker(row, index, scope, trades, levels, lookup_hash),
        )

    parsed, rejected = await _parse_all(parse, len(normalized))
    unique = _first_of_each_worker(parsed, rejected)
    existing = await _existing_workers(uow, unique)
    places = await _WorkerPlaces.read(uow, unique)
    accepted = _accept_workers(unique, existing, places, scope, rejected)
    if places.new_teams:
        session.add_all(places.new_teams.values())
        await session.flush()
    inserts, updates, unchanged = _worker_writes(uow, accepted)

    _refuse_if_wholly_out_of_scope(len(rows), rejected)
    await _write(uow, actor, Worker, inserts, updates, unchanged)
    rejected.sort(key=lambda e: e.row)
    return ImportReport(
        created=len(inserts), updated=len(updates), unchanged=unchanged, rejected=tuple(rejected)
    )


# --- projects -------------------------------------------------------------------------------


@dataclass
class _ProjectRow:
    row: int
    enterprise_id: int
    code: str
    values: dict[str, Any]  # name, county_code, city_code, and address / status if present


def _parse_project(
    row: Mapping[str, Any], number: int, scope: _Scope, counties: set[str]
) -> _ProjectRow:
    enterprise_id = scope.enterprise_of(row)
    code = _check("code", lambda: clean_text(_required(row, "code"), field="code", max_len=40))
    name = _check("name", lambda: clean_text(_required(row, "name"), field="name", max_len=120))
    county = _check("county_code", lambda: normalize_region_code(_required(row, "county_code")))
    if county not in counties:
        raise _RowFailed("county_code", ValidationError("error.unknown_region", code=county))
    if not scope.covers(county):
        raise _RowFailed("county_code", PermissionDenied("error.out_of_scope"))
    values: dict[str, Any] = {"name": name, "county_code": county, "city_code": county[:4] + "00"}
    if "address" in row:
        address = _text(row, "address")
        values["address"] = _check(
            "address",
            lambda: clean_text(address, field="address", max_len=200, required=False),
        )
    if "status" in row:
        status_text = _text(row, "status")
        if status_text is not None:
            status = _PROJECT_STATUS.get(status_text.lower())
            if status is None:
                raise _RowFailed("status", ValidationError("error.bad_status"))
            values["status"] = status
    return _ProjectRow(row=number, enterprise_id=enterprise_id, code=code, values=values)


async def import_projects(
    uow: UnitOfWork, actor: Actor, rows: Sequence[Mapping[str, Any]]
) -> ImportReport:
    """Create or update projects by code; bad rows are reported, good rows written."""
    _require_importer(actor)
    _check_size(rows)
    session = uow.session
    normalized = [_normalize_keys(row) if isinstance(row, Mapping) else None for row in rows]
    scope = await _scope(uow, actor, [r for r in normalized if r is not None])
    counties = set(
        await session.scalars(select(Region.code).where(Region.level == RegionLevel.COUNTY.value))
    )

    parsed, rejected = _parse_rows(
        normalized, lambda row, index: _parse_project(row, index, scope, counties)
    )

    first_seen: dict[str, int] = {}
    unique: list[_ProjectRow] = []
    for item in parsed:
        if item.code in first_seen:
            rejected.append(
                RowError(
                    item.row, "code", "error.duplicate_row", {"first_row": first_seen[item.code]}
                )
            )
            continue
        first_seen[item.code] = item.row
        unique.append(item)

    existing: dict[str, Project] = {}
    for chunk in _chunks([item.code for item in unique]):
        for project in await session.scalars(select(Project).where(Project.code.in_(chunk))):
            existing[project.code] = project

    now = uow.now()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for item in unique:
        found = existing.get(item.code)
        if found is None:
            inserts.append(
                {
                    "code": item.code,
                    "enterprise_id": item.enterprise_id,
                    "address": "",
                    "status": ProjectStatus.ACTIVE.value,
                    **item.values,
                    "created_at": now,
                }
            )
            continue
        if found.enterprise_id != item.enterprise_id or not scope.covers(found.county_code):
            rejected.append(RowError(item.row, "code", "error.out_of_scope"))
            continue
        if all(getattr(found, k) == v for k, v in item.values.items()):
            unchanged += 1
            continue
        updates.append({"id": found.id, **item.values})

    _refuse_if_wholly_out_of_scope(len(rows), rejected)
    await _write(uow, actor, Project, inserts, updates, unchanged)
    rejected.sort(key=lambda e: e.row)
    return ImportReport(
        created=len(inserts), updated=len(updates), unchanged=unchanged, rejected=tuple(rejected)
    )


# --- enterprises ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _EnterpriseRow:
    row: int
    uscc: str
    values: dict[str, Any]  # name, type, county_code, city_code, and address if present


def _parse_enterprise(
    row: Mapping[str, Any], number: int, scope: _Scope, counties: set[str]
) -> _EnterpriseRow:
    code = _check("uscc", lambda: parse_uscc(_text(row, "uscc")))
    name = _check("name", lambda: clean_enterprise_name(_text(row, "name")))
    kind = _check("kind", lambda: parse_kind(_text(row, "kind")))
    county = _check("county_code", lambda: normalize_region_code(_required(row, "county_code")))
    if county not in counties:
        raise _RowFailed("county_code", ValidationError("error.not_a_county", code=county))
    if not scope.covers(county):
        raise _RowFailed("county_code", PermissionDenied("error.out_of_scope"))
    values: dict[str, Any] = {
        "name": name,
        "type": kind.value,
        "county_code": county,
        "city_code": county[:4] + "00",
    }
    if "address" in row:
        address = _text(row, "address")
        values["address"] = _check(
            "address",
            lambda: clean_text(address, field="address", max_len=ADDRESS_MAX, required=False),
        )
    return _EnterpriseRow(row=number, uscc=code, values=values)


def _first_of_each_enterprise(
    parsed: list[_EnterpriseRow], rejected: list[RowError]
) -> list[_EnterpriseRow]:
    """A USCC or name twice in one request: the first one wins, the later ones are reported."""
    first_code: dict[str, int] = {}
    first_name: dict[str, int] = {}
    unique: list[_EnterpriseRow] = []
    for item in parsed:
        name = item.values["name"]
        if item.uscc in first_code or name in first_name:
            first = first_code.get(item.uscc) or first_name[name]
            column = "uscc" if item.uscc in first_code else "name"
            rejected.append(
                RowError(item.row, column, "error.duplicate_row", {"first_row": first})
            )
            continue
        first_code[item.uscc] = first_name[name] = item.row
        unique.append(item)
    return unique


async def import_enterprises(
    uow: UnitOfWork, actor: Actor, rows: Sequence[Mapping[str, Any]]
) -> ImportReport:
    """Register or update companies by USCC (regulators inside their region, admins anywhere);
    the same per-row checks as `enterprises.register_enterprise`."""
    if actor.role is Role.DISPATCHER:
        raise PermissionDenied("error.forbidden")
    _require_importer(actor)
    _check_size(rows)
    session = uow.session
    normalized = [_normalize_keys(row) if isinstance(row, Mapping) else None for row in rows]
    scope = _Scope(actor, {})
    counties = set(
        await session.scalars(select(Region.code).where(Region.level == RegionLevel.COUNTY.value))
    )
    parsed, rejected = _parse_rows(
        normalized, lambda row, index: _parse_enterprise(row, index, scope, counties)
    )
    unique = _first_of_each_enterprise(parsed, rejected)

    by_code: dict[str, Enterprise] = {}
    by_name: dict[str, Enterprise] = {}
    for chunk in _chunks([item.uscc for item in unique]):
        for ent in await session.scalars(select(Enterprise).where(Enterprise.uscc.in_(chunk))):
            by_code[str(ent.uscc)] = ent
    for chunk in _chunks([item.values["name"] for item in unique]):
        for ent in await session.scalars(select(Enterprise).where(Enterprise.name.in_(chunk))):
            by_name[ent.name] = ent

    now = uow.now()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for item in unique:
        found = by_code.get(item.uscc)
        namesake = by_name.get(item.values["name"])
        if namesake is not None and namesake is not found:
            rejected.append(
                RowError(item.row, "name", "error.enterprise_name_taken", {"name": namesake.name})
            )
            continue
        if found is None:
            inserts.append(
                {
                    "uscc": item.uscc,
                    "out_of_province": uscc_out_of_province(item.uscc),
                    "address": "",
                    "status": EnterpriseStatus.ACTIVE.value,
                    **item.values,
                    "created_at": now,
                }
            )
            continue
        if not scope.covers(found.county_code):
            rejected.append(RowError(item.row, "uscc", "error.out_of_scope"))
            continue
        if all(getattr(found, k) == v for k, v in item.values.items()):
            unchanged += 1
            continue
        updates.append({"id": found.id, **item.values})

    _refuse_if_wholly_out_of_scope(len(rows), rejected)
    await _write(uow, actor, Enterprise, inserts, updates, unchanged)
    rejected.sort(key=lambda e: e.row)
    return ImportReport(
        created=len(inserts), updated=len(updates), unchanged=unchanged, rejected=tuple(rejected)
    )
