from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from core.db.models import (
    Account,
    AccountProject,
    AuditLog,
    Base,
    Deal,
    Enterprise,
    GuidePrice,
    IdlePosting,
    IdlePostingWorker,
    Project,
    Rating,
    ShortagePosting,
    Team,
    Worker,
)
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import LIVE_STATUSES, Role
from core.domain.errors import Conflict
from core.domain.timeutil import as_utc, local_date
from core.domain.values import IdNumber, parse_mobile
from core.seed import DEMO_FOREMAN_TELEGRAM_ID, SeedReport, credit_grade_of, seed_demo
from tests.factories import make_enterprise

REFERENCE_TABLES = {"region", "trade", "grade"}
LIVE = [s.value for s in LIVE_STATUSES]


async def _wipe(services: Services) -> None:
    """Empty every table but the reference data: a fresh database for a second seed."""
    async with services.uow() as uow:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                await uow.session.execute(delete(table))
        await uow.commit()


async def _first_names(services: Services) -> list[str]:
    async with services.uow() as uow:
        return list(
            (await uow.session.scalars(select(Worker.name).order_by(Worker.id).limit(20))).all()
        )


@pytest.fixture
async def seeded(services: Services) -> SeedReport:
    return await seed_demo(services, scale="small")


async def test_the_small_demo_is_the_same_market_every_time(
    services: Services, seeded: SeedReport
) -> None:
    first_names = await _first_names(services)
    await _wipe(services)
    again = await seed_demo(services, scale="small")

    assert again.first_worker_name == seeded.first_worker_name == first_names[0]
    assert await _first_names(services) == first_names
    for field in ("enterprises", "projects", "teams", "workers", "idle_workers", "deals"):
        assert getattr(again, field) == getattr(seeded, field), field
    assert (seeded.enterprises, seeded.workers) == (60, 3000)
    assert seeded.open_shortages == seeded.open_idle_postings == 300
    assert 120 <= seeded.projects <= 200


async def test_every_seeded_id_number_decrypts_to_a_valid_shanxi_id(
    services: Services, seeded: SeedReport
) -> None:
    async with services.uow() as uow:
        workers = (await uow.session.scalars(select(Worker))).all()
        assert len(workers) == seeded.workers
        for worker in workers:
            number = IdNumber.parse(uow.cipher.decrypt(worker.id_cipher))
            assert number.region_code.startswith("14")
            assert 1960 <= number.birth_date.year <= 2002
            assert worker.birth_date == number.birth_date
            assert worker.gender == number.gender.value
            assert worker.id_masked == number.masked
            assert worker.id_hash == uow.cipher.lookup_hash(number.value)
            if worker.phone is not None:
                assert parse_mobile(worker.phone) == worker.phone
        # construction sites are mostly men; 普工 / 钢筋工 / 木工 are the most common trades
        genders = Counter(w.gender for w in workers)
        assert genders["M"] > 4 * genders["F"]
        top = {trade for trade, _n in Counter(w.trade_code for w in workers).most_common(3)}
        assert top == {"laborer", "rebar", "carpenter"}


async def test_seeded_postings_deals_and_ratings_add_up(
    services: Services, seeded: SeedReport
) -> None:
    async with services.uow() as uow:
        s = uow.session
        cities = set(
            (await s.scalars(select(Enterprise.city_code).group_by(Enterprise.city_code))).all()
        )
        assert len(cities) == 11
        for ent in (await s.scalars(select(Enterprise))).all():
            # earned by the seeded history (core.services.credit), not invented
            assert 0 <= ent.credit_score <= 100
            assert ent.credit_grade == credit_grade_of(ent.credit_score)
        names = set((await s.scalars(select(Enterprise.name))).all())
        assert {"山西五建集团有限公司", "山西晋建集团有限公司"} <= names
        types = Counter((await s.scalars(select(Enterprise.type))).all())
        assert set(types) == {"general_contractor", "subcontractor", "labor_service"}

        live_idle = (
            await s.scalars(select(IdlePosting).where(IdlePosting.status.in_(LIVE)))
        ).all()
        assert len(live_idle) == seeded.open_idle_postings
        members: dict[int, list[int]] = defaultdict(list)
        for link in (await s.scalars(select(IdlePostingWorker))).all():
            members[link.posting_id].append(link.worker_id)
        workers = {w.id: w for w in (await s.scalars(select(Worker))).all()}
        for posting in live_idle:
            ids = members[posting.id]
            assert len(ids) == posting.headcount
            assert all(workers[i].status == "idle" for i in ids)
            assert all(workers[i].trade_code == posting.trade_code for i in ids)
            assert all(workers[i].grade_level <= posting.grade_level for i in ids)
            rated = [workers[i] for i in ids if workers[i].rating_count]
            if rated:
                avg = sum(w.rating_sum for w in rated) / sum(w.rating_count for w in rated)
                assert posting.avg_rating_x100 == round(100 * avg)
        assert await s.scalar(
            select(func.count())
            .select_from(ShortagePosting)
            .where(ShortagePosting.status.in_(LIVE), ShortagePosting.escalated_at.is_not(None))
        )

        stars: dict[int, list[int]] = defaultdict(list)
        for rating in (await s.scalars(select(Rating))).all():
            stars[rating.worker_id].append(rating.stars)
        assert len(stars) > 0
        for worker in workers.values():
            assert worker.rating_sum == sum(stars.get(worker.id, []))
            assert worker.rating_count == len(stars.get(worker.id, []))
        deals = (await s.scalars(select(Deal))).all()
        assert len(deals) == seeded.deals
        assert all(d.status == "accepted" and d.accepted_at is not None for d in deals)
        # the seed's own deal record: 山西五建集团, 抹灰工, 4 workers at 5500.00
        wujian = await s.scalar(
            select(Enterprise).where(Enterprise.name == "山西五建集团有限公司")
        )
        assert wujian is not None
        assert any(
            d.shortage_enterprise_id == wujian.id
            and (d.trade_code, d.headcount, d.price_fen) == ("plasterer", 4, 550_000)
            for d in deals
        )

        audits = (await s.scalars(select(AuditLog).where(AuditLog.action == "seed.demo"))).all()
        assert len(audits) == 1


async def test_guide_prices_cover_every_city_trade_and_grade_with_the_seed_figures(
    services: Services, seeded: SeedReport
) -> None:
    async with services.uow() as uow:
        rows = (await uow.session.scalars(select(GuidePrice))).all()
        prices = {(g.city_code, g.trade_code, g.grade_level): g.price_fen // 100 for g in rows}
        assert all(g.effective_date <= date(2026, 3, 4) for g in rows)
    assert len(prices) == seeded.guide_prices == 11 * 9 * 5
    assert prices[("140100", "carpenter", 1)] == 7500
    assert prices[("140100", "plasterer", 2)] == 4000
    assert prices[("140700", "plasterer", 4)] == 3800
    assert prices[("140800", "scaffolder", 2)] == 5850
    for (city, trade, grade), price in prices.items():
        if grade < 5:
            assert price > prices[(city, trade, grade + 1)], (city, trade, grade)


async def test_demo_accounts_have_their_roles_and_scopes(
    services: Services, seeded: SeedReport
) -> None:
    ids = seeded.accounts
    async with services.uow() as uow:
        s = uow.session
        foreman = await s.get(Account, ids["foreman"])
        assert foreman is not None
        assert foreman.role == Role.FOREMAN
        assert foreman.telegram_user_id == DEMO_FOREMAN_TELEGRAM_ID
        links = (
            await s.scalars(
                select(AccountProject.project_id).where(AccountProject.account_id == foreman.id)
            )
        ).all()
        project = await s.get(Project, links[0])
        assert project is not None
        assert project.city_code == "140100"
        assert project.enterprise_id == foreman.enterprise_id

        dispatcher = await s.get(Account, ids["dispatcher"])
        assert dispatcher is not None
        assert dispatcher.role == Role.DISPATCHER
        company = await s.get(Enterprise, dispatcher.enterprise_id)
        assert company is not None
        assert (company.type, company.city_code) == ("labor_service", "141000")
        assert await s.scalar(
            select(func.count())
            .select_from(IdlePosting)
            .where(IdlePosting.posted_by_account_id == dispatcher.id)
        )

        for key, region in (
            ("regulator_jinzhong", "140700"),
            ("regulator_province", "140000"),
            ("regulator_taiyuan", "140100"),
        ):
            account = await s.get(Account, ids[key])
            assert account is not None
            assert (account.role, account.region_code) == (Role.REGULATOR, region)
        # every team belongs to a project, every worker's team exists
        orphans = await s.scalar(
            select(func.count())
            .select_from(Worker)
            .outerjoin(Team, Team.id == Worker.team_id)
            .where(Worker.team_id.is_not(None), Team.id.is_(None))
        )
        assert orphans == 0


async def test_a_seeded_database_refuses_a_second_seed_and_still_takes_new_rows(
    services: Services, seeded: SeedReport
) -> None:
    with pytest.raises(Conflict) as err:
        await seed_demo(services, scale="small")
    assert err.value.key == "error.already_seeded"
    # explicit ids must not leave PostgreSQL's sequences behind
    async with services.uow() as uow:
        ent = await make_enterprise(uow)
        await uow.commit()
    assert ent.id == seeded.enterprises + 1


async def test_the_seeded_history_has_arrivals_a_no_show_late_payment_and_arrears_in_taiyuan(
    services: Services,
) -> None:
    from core.db.models import ArrearsAlert, DispatchAssignment, WagePeriod
    from core.services.credit import explain_credit
    from core.services.digests import build_digest

    await seed_demo(services, scale="small", seed=7)
    async with services.uow() as uow:
        s = uow.session
        arrivals = Counter((await s.scalars(select(DispatchAssignment.arrival))).all())
        alerts = (
            await s.execute(
                select(ArrearsAlert.city_code, ArrearsAlert.status, ArrearsAlert.reason)
            )
        ).all()
        periods = (
            await s.execute(
                select(WagePeriod.payer_answer, WagePeriod.payer_answered_at, WagePeriod.due_on)
            )
        ).all()
        digest = await build_digest(uow, Actor.system(), "140100", local_date(uow.now()))
        wujian = await s.scalar(
            select(Enterprise.id).where(Enterprise.name == "山西五建集团有限公司")
        )
        assert wujian is not None
        credit = await explain_credit(uow, wujian, local_date(uow.now()))
    assert arrivals["arrived"] > 10
    assert arrivals["no_show"] == 1
    assert [tuple(a) for a in alerts] == [("140100", "open", "unpaid")]
    on_time = [p for p in periods if p.payer_answer == "paid" and p.payer_answered_at]
    assert on_time
    assert any(
        local_date(as_utc(p.payer_answered_at)) > p.due_on + timedelta(days=7) for p in on_time
    )
    assert digest.arrears.open_count == 1
    assert credit.credit.inputs.open_arrears == 1
    assert credit.stored_score == credit.credit.score
