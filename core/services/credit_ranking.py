"""The top enterprises of a region by credit score: who could take or lend workers when a
bureau brokers (the seed's top-50 list)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from core.db.models import (
    Enterprise,
    IdlePosting,
    ShortagePosting,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.errors import ValidationError
from core.services.posting_state import open_clause, open_headcount
from core.services.reference_choices import region_names
from core.services.region_scope import require_scope
from core.services.regions import (
    region_filter,
)

TOP_ENTERPRISES_MAX = 50


@dataclass(frozen=True, slots=True)
class EnterpriseCredit:
    """One line of the top-50 by credit: who could take or lend workers when brokering."""

    rank: int
    enterprise_id: int
    name: str
    type: str
    credit_score: int
    credit_grade: str
    county_code: str
    county_name_zh: str
    county_name_en: str
    shortage_headcount: int  # still open in its live shortage postings (in scope)
    idle_headcount: int  # still on offer in its live idle postings (in scope)

    def county_name(self, locale: str) -> str:
        return self.county_name_zh if locale.startswith("zh") else self.county_name_en


async def top_enterprises(
    uow: UnitOfWork, actor: Actor, region_code: str, *, limit: int = TOP_ENTERPRISES_MAX
) -> list[EnterpriseCredit]:
    """Enterprises seated in the region, best credit score first (ties: by id)."""
    code = require_scope(actor, region_code)
    if limit < 1 or limit > TOP_ENTERPRISES_MAX:
        raise ValidationError("error.page_size", min=1, max=TOP_ENTERPRISES_MAX)
    rows = (
        await uow.session.scalars(
            select(Enterprise)
            .where(region_filter(code, Enterprise))
            .order_by(Enterprise.credit_score.desc(), Enterprise.id.asc())
            .limit(limit)
        )
    ).all()
    ids = [e.id for e in rows]
    open_by: dict[tuple[str, int], int] = {}
    for kind, model in (("shortage", ShortagePosting), ("idle", IdlePosting)):
        if not ids:
            break
        result = await uow.session.execute(
            select(
                model.enterprise_id,
                func.coalesce(func.sum(open_headcount(model)), 0),
            )
            .where(
                model.enterprise_id.in_(ids),
                open_clause(model, uow.now()),
                region_filter(code, model),
            )
            .group_by(model.enterprise_id)
        )
        for enterprise_id, headcount in result.all():
            open_by[(kind, enterprise_id)] = int(headcount)
    names = await region_names(uow, [e.county_code for e in rows])
    return [
        EnterpriseCredit(
            rank=index,
            enterprise_id=e.id,
            name=e.name,
            type=e.type,
            credit_score=e.credit_score,
            credit_grade=e.credit_grade,
            county_code=e.county_code,
            county_name_zh=names.get(e.county_code, (e.county_code, ""))[0],
            county_name_en=names.get(e.county_code, ("", e.county_code))[1],
            shortage_headcount=open_by.get(("shortage", e.id), 0),
            idle_headcount=open_by.get(("idle", e.id), 0),
        )
        for index, e in enumerate(rows, start=1)
    ]
