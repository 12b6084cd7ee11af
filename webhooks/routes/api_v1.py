"""/api/v1: the data API for the real-name platform, enterprises and bureaus.

Every route takes an API key (`Authorization: Bearer jg_…` or `X-API-Key`). Scope:
- an enterprise key imports workers and projects of its enterprise and searches postings like
  a dispatcher (market postings and its own);
- a regulator key reads its region and everything below (summary, postings, deal records)
  and may import for enterprises inside its region, naming `enterprise_id` on every row, of
  projects inside its region;
- an import whose rows are all out of the key's scope is a 403; a mixed one is written in
  part, the rows out of scope reported as rejected;
- a regulator key registers companies (enterprises:bulk) inside its region; an enterprise
  key may not;
- guide prices are public information: any valid key reads them;
- any valid key may have a labor post read into drafts (postings:parse writes nothing).
Routes only parse, call a core service and shape the answer; rights are checked by the
services (plus the region filter check of /postings, which the search service treats as a
filter rather than a right).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from core.domain.enums import PostingStatus, Ring, Role
from core.domain.errors import PermissionDenied, ValidationError
from core.paste import parse_paste
from core.services import deals, dispatch_export, guide_prices, imports, search, summaries
from core.services.apikeys import REALNAME_EXPORT
from core.services.dispatch_export import DISPATCH_PAGE_DEFAULT, DISPATCH_PAGE_MAX
from core.services.paging import decode_id_cursor, decode_ts_cursor
from core.services.regions import normalize_region_code, region_contains
from webhooks.deps import PrincipalDep, UowDep
from webhooks.errors import ApiError
from webhooks.schemas import (
    DealRecordPageOut,
    DispatchPageOut,
    EnterpriseRowIn,
    ErrorOut,
    GuidePriceListOut,
    ImportReportOut,
    PasteDraftOut,
    PasteIn,
    PasteResultOut,
    PostingPageOut,
    ProjectRowIn,
    RegionalSummaryOut,
    WorkerRowIn,
    bulk_request_body,
)
from webhooks.text_guard import refuse_control_characters, refuse_in_rows

REGION_PATTERN = r"^14(\d{2}){0,2}$"  # Shanxi: 14, 14xx, 14xxxx
CURSOR_MAX = 200
FIRST_DAY = date(2000, 1, 1)  # deal records before the platform existed make no sense
LAST_DAY = date(2100, 12, 31)
DEFAULT_LIMIT = 20

_ERR: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing, unknown or revoked API key"},
    403: {
        "model": ErrorOut,
        "description": "outside the key's enterprise or region (an import: every row)",
    },
    422: {
        "model": ErrorOut,
        "description": "invalid parameters, or a control character (NUL…) in any string",
    },
    429: {"model": ErrorOut, "description": "rate limit; see Retry-After"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such region"}
}
_BULK_ERR: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the body is not JSON / CSV"},
    409: {"model": ErrorOut, "description": "a concurrent import wrote the same rows; retry"},
    413: {"model": ErrorOut, "description": "more than 10,000 rows or too large a body"},
    415: {"model": ErrorOut, "description": "neither application/json nor text/csv"},
}

router = APIRouter(
    prefix="/api/v1",
    tags=["data"],
    responses=_ERR,
    dependencies=[Depends(refuse_control_characters)],
)

RegionParam = Annotated[
    str | None,
    Query(
        pattern=REGION_PATTERN,
        description="14 (province), a city (1401 or 140100) or a county (140105)",
        examples=["1401"],
    ),
]
CursorParam = Annotated[str | None, Query(max_length=CURSOR_MAX)]
DirectionParam = Annotated[Literal["next", "prev"], Query()]
LimitParam = Annotated[int, Query(ge=1, le=50)]


def _check_region_scope(actor_region: str | None, role: Role, code: str) -> None:
    """A regulator key may filter only inside its region."""
    if role is Role.REGULATOR and not region_contains(actor_region or "", code):
        raise PermissionDenied("error.out_of_scope")


@router.get(
    "/regions/{code}/summary",
    response_model=RegionalSummaryOut,
    summary="Shortage vs idle per sub-region and per trade × grade (regulator keys)",
    responses=_NOT_FOUND,
)
async def region_summary(
    code: Annotated[
        str,
        Path(
            pattern=REGION_PATTERN,
            description="14, 1401, 140105 …",
            examples=["1401", "140105", "14"],
        ),
    ],
    principal: PrincipalDep,
    uow: UowDep,
) -> RegionalSummaryOut:
    summary = await summaries.regional_summary(uow, principal.actor, code)
    return RegionalSummaryOut.of(summary)


@router.get(
    "/postings",
    response_model=PostingPageOut,
    summary="Shortage or idle postings, newest first, with keyset cursors",
)
async def list_postings(
    principal: PrincipalDep,
    uow: UowDep,
    kind: Annotated[Literal["shortage", "idle"], Query()],
    region: RegionParam = None,
    trade: Annotated[str | None, Query(max_length=30)] = None,
    grade: Annotated[int | None, Query(ge=1, le=5)] = None,
    price_min: Annotated[Decimal | None, Query(description="CNY per month")] = None,
    price_max: Annotated[Decimal | None, Query(description="CNY per month")] = None,
    ring: Annotated[Ring | None, Query()] = None,
    status: Annotated[list[PostingStatus] | None, Query(description="default: live")] = None,
    enterprise_credit_grade: Annotated[
        Literal["AAA", "AA", "A", "B", "C"] | None,
        Query(description="信用等级 of the posting company, this grade or better"),
    ] = None,
    worker_gender: Annotated[
        Literal["M", "F"] | None,
        Query(description="idle postings only: offering at least one worker of this gender"),
    ] = None,
    worker_credit_grade: Annotated[
        Literal["A", "B", "C", "D"] | None,
        Query(
            description="idle postings only: offering at least one worker of this 信用等级 "
            "or better (a shortage query with it gets 422)"
        ),
    ] = None,
    cursor: CursorParam = None,
    direction: DirectionParam = "next",
    limit: LimitParam = DEFAULT_LIMIT,
) -> PostingPageOut:
    actor = principal.actor
    if region:
        _check_region_scope(actor.region_code, actor.role, normalize_region_code(region))
    query = search.PostingQuery(
        kind=kind,
        region_code=region,
        trade_code=trade,
        grade_level=grade,
        price_min=price_min,
        price_max=price_max,
        ring=ring,
        statuses=status or None,
        enterprise_credit_grade=enterprise_credit_grade,
        worker_gender=worker_gender,
        worker_credit_grade=worker_credit_grade,
        cursor=_cursor(cursor),
        direction=direction,
        limit=limit,
    )
    return PostingPageOut.of(await search.search_postings(uow, actor, query))


@router.post(
    "/postings:parse",
    response_model=PasteResultOut,
    summary="Read a chat-group labor post into posting drafts (writes nothing)",
)
async def parse_posting_text(body: PasteIn, principal: PrincipalDep) -> PasteResultOut:
    return PasteResultOut(drafts=[PasteDraftOut.of(d) for d in parse_paste(body.text)])


def _cursor(value: str | None) -> str | None:
    """Refuse a forged cursor here, with 422, before it reaches the SQL."""
    if not value:
        return None
    decode_ts_cursor(value)
    return value


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError("error.date_range")
    return value


@router.get(
    "/deals",
    response_model=DealRecordPageOut,
    summary="Accepted deals in a region and date range (regulator keys)",
)
async def list_deals(
    principal: PrincipalDep,
    uow: UowDep,
    date_from: Annotated[date, Query(description="first Shanxi calendar day, inclusive")],
    date_to: Annotated[date, Query(description="last Shanxi calendar day, inclusive")],
    region: RegionParam = None,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    trade: Annotated[str | None, Query(max_length=30)] = None,
    cursor: CursorParam = None,
    direction: DirectionParam = "next",
    limit: LimitParam = DEFAULT_LIMIT,
) -> DealRecordPageOut:
    actor = principal.actor
    result = await deals.deal_records(
        uow,
        actor,
        region_code=region or actor.region_code or "14",
        date_from=_day(date_from),
        date_to=_day(date_to),
        trade_code=trade,
        county_code=county,
        cursor=_cursor(cursor),
        direction=direction,
        limit=limit,
    )
    return DealRecordPageOut.of(result)


DISPATCH_CSV_COLUMNS = (
    "deal_id", "start_date", "accepted_at", "worker_id", "worker_name", "id_number",
    "trade_code", "project_code", "project_name", "county_code", "team", "from_enterprise",
    "to_enterprise", "price",
)  # fmt: skip


@router.get(
    "/dispatches",
    response_model=DispatchPageOut,
    summary="Who was dispatched where, by start date (数据对接 with the real-name platform)",
    description="One row per worker of an accepted deal starting in the range (at most 366 "
    "days): worker, project, team, both companies, dates, price. ID numbers are masked; a "
    "province key created with `jingong apikey create --region 14 --scope realname_export` "
    "gets them in full, and every such read is audited. `format=csv` answers text/csv (UTF-8 "
    "with BOM, for Excel) with the next page's cursor in the X-Next-Cursor header.",
    responses={200: {"content": {"text/csv": {}}}},
)
async def list_dispatches(
    principal: PrincipalDep,
    uow: UowDep,
    date_from: Annotated[date, Query(description="first start date (Shanxi day), inclusive")],
    date_to: Annotated[date, Query(description="last start date (Shanxi day), inclusive")],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=DISPATCH_PAGE_MAX)] = DISPATCH_PAGE_DEFAULT,
) -> Any:
    realname = REALNAME_EXPORT in principal.scopes
    page = await dispatch_export.list_dispatches(
        uow,
        principal.actor,
        date_from=_day(date_from),
        date_to=_day(date_to),
        realname_key_id=principal.key_id if realname else None,
        cursor=_offset_cursor(cursor),
        limit=limit,
    )
    body = DispatchPageOut.of(page)
    if format == "json":
        return body
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DISPATCH_CSV_COLUMNS)
    for item in body.items:
        row = item.model_dump(mode="json")
        writer.writerow(["" if row[c] is None else row[c] for c in DISPATCH_CSV_COLUMNS])
    headers = {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}
    return Response(
        content="\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers=headers,
    )


def _offset_cursor(value: str | None) -> str | None:
    """An offset cursor as /dispatches returns it; anything else is refused with 422."""
    if not value:
        return None
    try:
        offset = decode_id_cursor(value)
    except (ValueError, UnicodeError) as exc:  # forged: never reaches the SQL
        raise ValidationError("error.bad_cursor") from exc
    if offset < 0:
        raise ValidationError("error.bad_cursor")
    return value


@router.get(
    "/guide-prices",
    response_model=GuidePriceListOut,
    summary="Guide prices in force today (public: any key)",
)
async def list_guide_prices(
    principal: PrincipalDep,
    uow: UowDep,
    city: Annotated[
        str | None, Query(pattern=r"^\d{4}(00)?$", description="1401 or 140100")
    ] = None,
    trade: Annotated[str | None, Query(max_length=30)] = None,
) -> GuidePriceListOut:
    views = await guide_prices.list_guide_prices(uow, city_code=city, trade_code=trade)
    return GuidePriceListOut.of(views)


# --- bulk imports ---------------------------------------------------------------------------


async def read_rows(request: Request) -> list[Any]:
    """Rows of a JSON `{"rows": [...]}` or a CSV body with a header row; ≤ 10,000 of them."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/json", ""):
        body = await request.body()
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ApiError(400, "error.bad_body", reason="json") from exc
        rows = data.get("rows") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise ApiError(422, "error.rows_required")
    elif content_type in ("text/csv", "application/csv"):
        rows = _csv_rows(await request.body())
    else:
        raise ApiError(
            415, "error.unsupported_media_type", accepted=["application/json", "text/csv"]
        )
    if len(rows) > imports.MAX_ROWS:
        raise ApiError(413, "error.too_many_rows", max=imports.MAX_ROWS)
    refuse_in_rows(rows)
    return rows


def _csv_rows(body: bytes) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise ApiError(400, "error.bad_body", reason="encoding") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[dict[str, Any]] = []
    try:
        if not reader.fieldnames:
            raise ApiError(400, "error.bad_body", reason="csv_header")
        for record in reader:
            if len(rows) >= imports.MAX_ROWS:
                raise ApiError(413, "error.too_many_rows", max=imports.MAX_ROWS)
            # cells past the header end up under None: not a column of ours
            rows.append({k: v for k, v in record.items() if isinstance(k, str)})
    except csv.Error as exc:
        raise ApiError(400, "error.bad_body", reason="csv") from exc
    return rows


_WORKER_EXAMPLE = {
    "id_number": "11010519491231002X",
    "name": "王海燕",
    "trade": "抹灰工",
    "grade": "二级",
    "phone": "13912345678",
    "education": "初中",
    "project_code": "P000123",
    "team": "抹灰班组",
}
_PROJECT_EXAMPLE = {
    "code": "P000123",
    "name": "太原南站综合体",
    "county_code": "140105",
    "address": "小店区站前街1号",
    "status": "active",
}


@router.put(
    "/workers:bulk",
    response_model=ImportReportOut,
    summary="Create or update workers by ID number (JSON or CSV, ≤ 10,000 rows)",
    responses=_BULK_ERR,
    openapi_extra=bulk_request_body(WorkerRowIn, _WORKER_EXAMPLE),
)
async def import_workers(
    request: Request, principal: PrincipalDep, uow: UowDep
) -> ImportReportOut:
    rows = await read_rows(request)
    report = await imports.import_workers(uow, principal.actor, rows)
    return ImportReportOut.of(report)


@router.put(
    "/projects:bulk",
    response_model=ImportReportOut,
    summary="Create or update projects by code (JSON or CSV, ≤ 10,000 rows)",
    responses=_BULK_ERR,
    openapi_extra=bulk_request_body(ProjectRowIn, _PROJECT_EXAMPLE),
)
async def import_projects(
    request: Request, principal: PrincipalDep, uow: UowDep
) -> ImportReportOut:
    rows = await read_rows(request)
    report = await imports.import_projects(uow, principal.actor, rows)
    return ImportReportOut.of(report)


_ENTERPRISE_EXAMPLE = {
    "uscc": "91140105MA0000001E",
    "name": "山西晋工劳务有限公司",
    "kind": "labor",
    "county_code": "140105",
    "address": "小店区长风街1号",
}


@router.put(
    "/enterprises:bulk",
    response_model=ImportReportOut,
    summary="Register or update companies by USCC (regulator keys, JSON or CSV, ≤ 10,000 rows)",
    responses=_BULK_ERR,
    openapi_extra=bulk_request_body(EnterpriseRowIn, _ENTERPRISE_EXAMPLE),
)
async def import_enterprises(
    request: Request, principal: PrincipalDep, uow: UowDep
) -> ImportReportOut:
    rows = await read_rows(request)
    report = await imports.import_enterprises(uow, principal.actor, rows)
    return ImportReportOut.of(report)
