"""Pydantic models of the HTTP side: what /api/v1 answers, and the documented import rows.

Money is a decimal string in yuan ("5500.00"), never a float. No model has a field for a full
ID number or an unmasked phone, but DispatchOut.id_number: masked, and full only for a province
key with the realname_export scope (each such read audited in core).
The one exception is the paste parse answer, which echoes the phone of the caller's own text.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.paste import PasteDraft
from core.services.deals import DealRecord, DealRecordPage
from core.services.dispatch_export import DispatchRow
from core.services.guide_prices import GuidePriceView
from core.services.imports import MAX_ROWS, ImportReport
from core.services.paging import Page
from core.services.search import PostingCard
from core.services.summaries import AreaRow, RegionalSummary, TradeGradeCell


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(BaseModel):
    error: str = Field(description="message key, e.g. error.out_of_scope")
    params: dict[str, Any] = Field(default_factory=dict, description="values for the message")


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str = Field(description="ok or unavailable")
    checks: dict[str, str] = Field(description="per dependency: ok, error or skipped")


# --- regions --------------------------------------------------------------------------------


class RegionOut(_Out):
    code: str
    name_zh: str
    name_en: str
    level: str
    parent_code: str | None


class AreaRowOut(_Out):
    code: str
    name_zh: str
    name_en: str
    shortage_postings: int
    shortage_headcount: int
    idle_postings: int
    idle_headcount: int
    balance: int = Field(description="idle minus shortage headcount")

    @classmethod
    def of(cls, row: AreaRow) -> AreaRowOut:
        return cls.model_validate(row)


class TradeGradeCellOut(_Out):
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    grade_level: int
    grade_name_zh: str
    grade_name_en: str
    shortage: int
    idle: int


class NewTodayOut(_Out):
    shortage_postings: int
    shortage_headcount: int
    idle_postings: int
    idle_headcount: int


class DealsTodayOut(_Out):
    count: int
    headcount: int
    avg_price: Decimal | None
    guided_headcount: int
    guided_avg_price: Decimal | None
    avg_guide_price: Decimal | None
    vs_guide_pct: Decimal | None


class RegionalSummaryOut(BaseModel):
    region: RegionOut
    day: date
    rows: list[AreaRowOut]
    total: AreaRowOut
    matrix: list[TradeGradeCellOut]
    new_today: NewTodayOut
    deals_today: DealsTodayOut

    @classmethod
    def of(cls, summary: RegionalSummary) -> RegionalSummaryOut:
        cells: list[TradeGradeCell] = list(summary.matrix)
        return cls(
            region=RegionOut(
                code=summary.region.code,
                name_zh=summary.region.name_zh,
                name_en=summary.region.name_en,
                level=summary.region.level.value,
                parent_code=summary.region.parent_code,
            ),
            day=summary.day,
            rows=[AreaRowOut.of(row) for row in summary.rows],
            total=AreaRowOut.of(summary.total),
            matrix=[TradeGradeCellOut.model_validate(cell) for cell in cells],
            new_today=NewTodayOut.model_validate(summary.new_today),
            deals_today=DealsTodayOut.model_validate(summary.deals_today),
        )


# --- postings -------------------------------------------------------------------------------


class PostingOut(_Out):
    kind: str
    id: int
    enterprise_id: int
    enterprise_name: str
    project_id: int | None
    project_name: str | None
    county_code: str
    county_name_zh: str
    county_name_en: str
    city_code: str
    city_name_zh: str
    city_name_en: str
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    grade_level: int
    headcount: int
    filled_count: int
    open_headcount: int
    price: Decimal = Field(description="CNY per worker-month")
    ring: str
    status: str
    created_at: datetime
    expires_at: datetime
    contact_name: str
    contact_phone_masked: str


class PostingPageOut(BaseModel):
    items: list[PostingOut]
    next_cursor: str | None = Field(description='pass with direction "next" for older rows')
    prev_cursor: str | None = Field(description='pass with direction "prev" for newer rows')

    @classmethod
    def of(cls, page: Page[PostingCard]) -> PostingPageOut:
        return cls(
            items=[PostingOut.model_validate(card) for card in page.items],
            next_cursor=page.next_cursor,
            prev_cursor=page.prev_cursor,
        )


# --- paste-to-post --------------------------------------------------------------------------

PASTE_MAX_CHARS = 4000


class PasteIn(BaseModel):
    text: str = Field(
        min_length=1,
        max_length=PASTE_MAX_CHARS,
        description="a labor post as written in a chat group",
        examples=["急招钢筋工5人，中级，小店区，8000/月，联系张工13912345678"],
    )


class PastePriceOut(BaseModel):
    amount: Decimal = Field(description="CNY, in the unit written")
    per: Literal["month", "day"]


class PasteDraftOut(BaseModel):
    kind: Literal["shortage", "idle"]
    trade_code: str
    trade: str = Field(description="the trade's Chinese name")
    grade: int | None = Field(description="1 (highest) … 5; the minimum when 以上 is said")
    headcount: int | None
    region: str | None = Field(description="six-digit code of the most specific region named")
    price: PastePriceOut | None
    contact_name: str | None
    phone: str | None = Field(description="11 digits, as written in the caller's text")

    @classmethod
    def of(cls, draft: PasteDraft) -> PasteDraftOut:
        return cls(
            kind=draft.kind,
            trade_code=draft.trade_code,
            trade=draft.trade,
            grade=draft.grade,
            headcount=draft.headcount,
            region=draft.region,
            price=(
                PastePriceOut(amount=Decimal(draft.price.amount), per=draft.price.per)
                if draft.price
                else None
            ),
            contact_name=draft.contact_name,
            phone=draft.phone,
        )


class PasteResultOut(BaseModel):
    drafts: list[PasteDraftOut] = Field(description="one per trade named; empty: not a post")


# --- deals ----------------------------------------------------------------------------------


class DealRecordOut(_Out):
    deal_id: int
    enterprise_name: str = Field(description="the receiving (shortage) enterprise")
    supplier_name: str = Field(description="the enterprise whose workers moved")
    trade_code: str
    trade_name_zh: str
    headcount: int
    person_days: int = Field(
        description="days each worker was on site, arrival to release (or the report date)"
    )
    price: Decimal = Field(description="CNY per worker-month")
    amount: Decimal = Field(description="headcount × price")
    county_code: str
    accepted_at: datetime


class DispatchOut(_Out):
    deal_id: int
    start_date: date
    accepted_at: datetime
    worker_id: int
    worker_name: str
    id_number: str = Field(description="masked; full only with the realname_export scope")
    trade_code: str
    project_code: str
    project_name: str
    county_code: str = Field(description="the project's county")
    team: str | None = Field(description="the worker's team on that project, once registered")
    from_enterprise: str
    to_enterprise: str
    price: Decimal = Field(description="CNY per worker-month")


class DispatchPageOut(BaseModel):
    items: list[DispatchOut]
    next_cursor: str | None
    prev_cursor: str | None

    @classmethod
    def of(cls, page: Page[DispatchRow]) -> DispatchPageOut:
        rows: tuple[DispatchRow, ...] = page.items
        return cls(
            items=[DispatchOut.model_validate(r) for r in rows],
            next_cursor=page.next_cursor,
            prev_cursor=page.prev_cursor,
        )


class DealRecordPageOut(BaseModel):
    items: list[DealRecordOut]
    next_cursor: str | None
    prev_cursor: str | None
    total_deals: int
    total_headcount: int
    total_person_days: int = Field(description="person-days summed (see person_days)")

    @classmethod
    def of(cls, result: DealRecordPage) -> DealRecordPageOut:
        records: tuple[DealRecord, ...] = result.page.items
        return cls(
            items=[DealRecordOut.model_validate(r) for r in records],
            next_cursor=result.page.next_cursor,
            prev_cursor=result.page.prev_cursor,
            total_deals=result.total_deals,
            total_headcount=result.total_headcount,
            total_person_days=result.total_person_days,
        )


# --- guide prices ---------------------------------------------------------------------------


class GuidePriceOut(_Out):
    city_code: str
    city_name_zh: str
    trade_code: str
    trade_name_zh: str
    grade_level: int
    grade_name_zh: str
    price: Decimal = Field(description="CNY per worker-month")
    effective_date: date


class GuidePriceListOut(BaseModel):
    items: list[GuidePriceOut]

    @classmethod
    def of(cls, views: list[GuidePriceView]) -> GuidePriceListOut:
        return cls(items=[GuidePriceOut.model_validate(v) for v in views])


# --- imports --------------------------------------------------------------------------------


class RowErrorOut(BaseModel):
    row: int = Field(description="1 = the first data row (a CSV header is not counted)")
    field: str
    error: str = Field(description="message key, e.g. error.id_checksum")
    params: dict[str, Any] = Field(default_factory=dict)


class ImportReportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: list[RowErrorOut]

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportOut:
        return cls(
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=[
                RowErrorOut(row=e.row, field=e.field, error=e.key, params=dict(e.params))
                for e in report.rejected
            ],
        )


Cell = str | int | None


class WorkerRowIn(BaseModel):
    """One worker of the real-name platform (documentation; rows are checked one by one)."""

    model_config = ConfigDict(extra="allow")

    id_number: Cell = Field(None, description="18-character resident ID number (GB 11643)")
    name: Cell = Field(None, description="as on the ID card")
    trade: Cell = Field(None, description="trade code, Chinese or English name: 抹灰工")
    grade: Cell = Field(None, description="1..5 or 一级..五级 (一级 is the highest)")
    phone: Cell = Field(None, description="mainland mobile; empty clears it")
    education: Cell = None
    gender: Cell = Field(None, description="M/F or 男/女; must agree with the ID number")
    project_code: Cell = Field(None, description="register the worker on this project")
    team: Cell = Field(None, description="team (班组) name inside the project")
    enterprise_id: Cell = Field(None, description="regulator keys only: the worker's employer")


class ProjectRowIn(BaseModel):
    """One project of the real-name platform (documentation; rows are checked one by one)."""

    model_config = ConfigDict(extra="allow")

    code: Cell = Field(None, description="the platform's project code (the upsert key)")
    name: Cell = None
    county_code: Cell = Field(None, description="six-digit county code, e.g. 140105")
    address: Cell = None
    status: Cell = Field(None, description="active / completed (在建 / 竣工)")
    enterprise_id: Cell = Field(None, description="regulator keys only: the project's owner")


class EnterpriseRowIn(BaseModel):
    """One company of the registry (documentation; rows are checked one by one)."""

    model_config = ConfigDict(extra="allow")

    uscc: Cell = Field(None, description="统一社会信用代码, 18 characters (the upsert key)")
    name: Cell = Field(None, description="company name, 2–100 characters")
    kind: Cell = Field(
        None, description="general (施工总承包) / specialty (专业分包) / labor (劳务企业)"
    )
    county_code: Cell = Field(None, description="six-digit Shanxi county code, e.g. 140105")
    address: Cell = None


def bulk_request_body(row_model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI requestBody of a bulk import: JSON {"rows": [...]} or CSV with a header row."""
    row_schema = row_model.model_json_schema()
    row_schema.pop("title", None)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["rows"],
                        "properties": {
                            "rows": {"type": "array", "maxItems": MAX_ROWS, "items": row_schema}
                        },
                    },
                    "example": {"rows": [example]},
                },
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": ",".join(example) + "\n" + ",".join(map(str, example.values())),
                },
            },
        }
    }
