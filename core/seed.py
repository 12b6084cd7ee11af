"""Demo data: a deterministic, realistic Shanxi labor market for demos and benchmarks.

Rows are built in memory with explicit ids (so relations need no round trips) and written with
chunked executemany inserts; ORM objects one by one would take an hour at province scale.
"""

from __future__ import annotations

import bisect
import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any, Literal

from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric

from core.db.models import (
    Account,
    AccountProject,
    ArrearsAlert,
    Deal,
    DealEvent,
    DealWorker,
    DispatchAssignment,
    DispatchPrompt,
    Enterprise,
    Grade,
    GuidePrice,
    IdlePosting,
    IdlePostingWorker,
    Project,
    Rating,
    Region,
    ShortagePosting,
    Team,
    Trade,
    WagePeriod,
    Worker,
)
from core.db.uow import Services
from core.domain.credit import enterprise_grade
from core.domain.dispatch import (
    AlertStatus,
    Arrival,
    LaborAnswer,
    PayerAnswer,
    month_bounds,
    person_days,
    previous_month,
    stay_of,
    wage_due_fen,
)
from core.domain.enums import (
    DealAction,
    DealStatus,
    EnterpriseType,
    PostingStatus,
    RegionLevel,
    Ring,
    Role,
    Side,
    WorkerStatus,
)
from core.domain.errors import Conflict
from core.domain.rules import MAX_INTERNAL_OPEN_HOURS
from core.domain.timeutil import SHANGHAI, day_bounds, local_date
from core.domain.values import mask_id
from core.reference.loader import load_reference_data
from core.services.credit import recompute_credit

Scale = Literal["small", "province", "x1", "x3", "x10"]

# the foreman persona's (fake) Telegram user id, so a demo bot session can act as them at once
DEMO_FOREMAN_TELEGRAM_ID = 700_000_001
CHUNK = 4000


@dataclass(frozen=True, slots=True)
class ScaleSpec:
    enterprises: int
    workers: int
    shortages: int
    idle_postings: int
    past_deals: int


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec(
        enterprises=60, workers=3000, shortages=300, idle_postings=300, past_deals=60
    ),
    "province": ScaleSpec(
        enterprises=3000, workers=200_000, shortages=20_000, idle_postings=20_000, past_deals=3000
    ),
    # the province three and ten times over (issue 17): every count scales, the shape does not
    "x3": ScaleSpec(
        enterprises=9000, workers=600_000, shortages=60_000, idle_postings=60_000, past_deals=9000
    ),
    "x10": ScaleSpec(
        enterprises=30_000,
        workers=2_000_000,
        shortages=200_000,
        idle_postings=200_000,
        past_deals=30_000,
    ),
}
SCALES["x1"] = SCALES["province"]


@dataclass(frozen=True, slots=True)
class SeedReport:
    scale: str
    seed: int
    enterprises: int
    projects: int
    teams: int
    workers: int
    idle_workers: int
    open_shortages: int
    open_idle_postings: int
    deals: int
    ratings: int
    guide_prices: int
    accounts: dict[str, int] = field(default_factory=dict)
    first_worker_name: str = ""
    seconds: float = 0.0


# --- vocabulary -----------------------------------------------------------------------------

FIXED_ENTERPRISES = (
    # (name, type, county) — the two names the seed's own tables use, plus the 临汾 labor company
    ("山西五建集团有限公司", EnterpriseType.GENERAL_CONTRACTOR, "140105"),
    ("山西晋建集团有限公司", EnterpriseType.GENERAL_CONTRACTOR, "140106"),
    ("临汾市尧都区鑫源建筑劳务有限公司", EnterpriseType.LABOR_SERVICE, "141002"),
)
CITY_WEIGHTS = {
    "140100": 25, "140200": 8, "140300": 4, "140400": 9, "140500": 6, "140600": 4,
    "140700": 10, "140800": 11, "140900": 6, "141000": 10, "141100": 7,
}  # fmt: skip
TYPE_WEIGHTS = {
    EnterpriseType.GENERAL_CONTRACTOR: 30,
    EnterpriseType.SUBCONTRACTOR: 30,
    EnterpriseType.LABOR_SERVICE: 40,
}
BRANDS = [
    "恒达",
    "鑫源",
    "宏图",
    "华晋",
    "盛世",
    "鼎盛",
    "汇通",
    "晋阳",
    "天成",
    "永盛",
    "广厦",
    "中泰",
    "金石",
    "众诚",
    "瑞丰",
    "安泰",
    "兴盛",
    "博远",
    "隆昌",
    "德润",
    "宏远",
    "汇丰",
    "正阳",
    "东方",
    "泰和",
    "聚力",
    "鸿运",
    "诚信",
    "锦华",
    "同创",
    "恒通",
    "建宏",
    "晋兴",
    "三晋",
    "龙城",
    "并州",
    "汾河",
    "太行",
    "吕梁",
    "新晋",
    "华夏",
    "宏达",
    "盛源",
    "荣达",
    "海诚",
    "中瑞",
    "嘉禾",
    "信达",
    "晟通",
    "鑫盛",
    "昌盛",
    "鼎立",
    "润泽",
    "宝隆",
    "福源",
    "天泰",
    "凯达",
    "腾飞",
    "金鼎",
    "晋通",
    "华泰",
    "宏基",
    "大地",
    "长信",
    "万通",
    "安达",
    "立信",
    "致远",
    "卓越",
    "银河",
    "丰泽",
    "金泰",
    "文瀛",
]
KINDS = {
    EnterpriseType.GENERAL_CONTRACTOR: (
        "建设集团有限公司", "建筑工程有限公司", "建工集团有限公司",
    ),
    EnterpriseType.SUBCONTRACTOR: (
        "建筑安装工程有限公司", "钢结构工程有限公司", "防水工程有限公司", "装饰工程有限公司",
        "机电安装工程有限公司", "幕墙工程有限公司",
    ),
    EnterpriseType.LABOR_SERVICE: (
        "建筑劳务有限公司", "劳务服务有限公司", "建筑劳务分包有限公司",
    ),
}  # fmt: skip
PROJECT_KINDS = (
    "住宅小区", "花园", "商业综合体", "学校教学楼", "医院门诊楼", "产业园厂房", "棚户区改造安置房",
    "保障性住房", "写字楼", "物流园仓储", "体育馆", "城中村改造",
)  # fmt: skip
PROJECT_BRANDS = [
    "龙城",
    "晋阳",
    "汾河湾",
    "并州",
    "滨河",
    "锦绣",
    "阳光",
    "翡翠",
    "御景",
    "书香",
    "和平",
    "幸福",
    "紫御",
    "星河",
    "富力",
    "万科",
    "碧桂",
    "恒大",
    "保利",
    "中海",
    "融创",
    "华润",
    "金地",
    "绿地",
    "世纪",
    "名都",
    "凤凰",
    "桃园",
    "梧桐",
    "蓝湾",
]
ROADS = [
    "建设路",
    "解放路",
    "迎宾路",
    "长治路",
    "并州路",
    "府西街",
    "新华街",
    "文化路",
    "五一路",
    "中环路",
    "滨河路",
    "学府街",
    "工业路",
]
SURNAMES = (
    "王王王李李李张张张刘刘郭郭赵赵杨杨武贾史阎乔郝梁韩霍田牛薛冯范段卫高孟陈周吴徐孙胡朱"
    "马罗宋郑谢唐曹袁许邓程常白崔康秦任"
)
MALE_GIVEN = (
    "建国军伟强平海东明华勇斌刚鹏志文俊杰波磊涛超亮峰林宏兵飞辉龙新生福贵宝成喜旺保忠永春庆德"
    "胜利山晋富虎云江"
)
FEMALE_GIVEN = "丽芳娟英霞敏静燕红艳玲梅琴萍秀兰桂凤丹慧娜婷"
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "198",
    "199",
]
EDUCATION = (("小学", 15), ("初中", 50), ("高中", 18), ("中专", 10), ("大专", 7))
WORKER_CREDIT = (("AAA", 5), ("AA", 15), ("A", 40), ("B", 30), ("C", 10))
# 普工, 钢筋工, 木工 are the bulk of a site; crane drivers and signallers are few
TRADE_WEIGHTS = {
    "laborer": 20, "rebar": 14, "carpenter": 12, "formwork": 8, "mason": 7, "plasterer": 7,
    "scaffolder": 6, "welder": 5, "electrician": 5, "bricklayer": 4, "concrete": 4,
    "waterproofer": 3, "pipefitter": 3, "painter": 3, "tiler": 3, "crane_operator": 1,
    "signaller": 1,
}  # fmt: skip
GRADE_WEIGHTS = {1: 5, 2: 15, 3: 35, 4: 30, 5: 15}
STAR_WEIGHTS = {5: 38, 4: 36, 3: 16, 2: 7, 1: 3}
HEADCOUNT_WEIGHTS = {1: 10, 2: 15, 3: 15, 4: 12, 5: 10, 6: 8, 8: 8, 10: 8, 12: 4, 15: 4, 20: 3}
IDLE_SIZE_WEIGHTS = {1: 30, 2: 25, 3: 18, 4: 12, 5: 8, 6: 7}

# 太原 monthly guide prices (CNY) for grades 一级..五级; other cities scale by CITY_PRICE_FACTOR
TAIYUAN_GUIDE = {
    "rebar": (6800, 6200, 5600, 5100, 4600),
    "mason": (6200, 5700, 5200, 4700, 4300),
    "waterproofer": (5800, 5300, 4800, 4400, 4000),
    "plasterer": (4400, 4000, 3700, 3450, 3200),
    "formwork": (7000, 6400, 5800, 5300, 4800),
    "carpenter": (7500, 6900, 6300, 5700, 5200),
    "welder": (7200, 6600, 6000, 5500, 5000),
    "scaffolder": (6500, 6000, 5500, 5000, 4600),
    "pipefitter": (6300, 5800, 5300, 4800, 4400),
}
CITY_PRICE_FACTOR = {
    "140100": 1.00, "140200": 0.95, "140300": 0.94, "140400": 0.96, "140500": 0.96,
    "140600": 0.93, "140700": 0.97, "140800": 0.93, "140900": 0.92, "141000": 0.95,
    "141100": 0.94,
}  # fmt: skip
# figures published in the seed's own guide-price screen: kept exactly
PINNED_GUIDE = {
    ("140100", "carpenter", 1): 7500,
    ("140100", "plasterer", 2): 4000,
    ("140700", "plasterer", 4): 3800,
    ("140800", "scaffolder", 2): 5850,
}
# grade 三级 market prices of the trades no bureau publishes a guide for
UNGUIDED_BASE = {
    "laborer": 3800, "bricklayer": 5200, "electrician": 5800, "concrete": 4800, "painter": 5000,
    "tiler": 5600, "crane_operator": 7500, "signaller": 4500,
}  # fmt: skip
GRADE_FACTOR = {1: 1.2, 2: 1.1, 3: 1.0, 4: 0.92, 5: 0.85}


def guide_price_table() -> dict[tuple[str, str, int], int]:
    """(city, trade, grade) → CNY per month: 太原's table scaled per city, seed figures pinned."""
    table: dict[tuple[str, str, int], int] = {}
    for city, factor in CITY_PRICE_FACTOR.items():
        for trade, row in TAIYUAN_GUIDE.items():
            prices = [p * factor for p in row]
            pin = next(
                ((g, v) for (c, t, g), v in PINNED_GUIDE.items() if c == city and t == trade), None
            )
            if pin is not None:
                # rescale the whole row so the pinned grade matches: grades stay ordered
                ratio = pin[1] / prices[pin[0] - 1]
                prices = [p * ratio for p in prices]
            for level, price in enumerate(prices, start=1):
                table[(city, trade, level)] = int(round(price / 50) * 50)
            if pin is not None:
                table[(city, trade, pin[0])] = pin[1]
    return table


def credit_grade_of(score: int) -> str:
    return enterprise_grade(score)


# --- the generator --------------------------------------------------------------------------


class _Choice:
    """Weighted pick by bisection over cumulative weights: O(log n) per draw, deterministic."""

    def __init__(self, weights: Mapping[Any, float] | Sequence[tuple[Any, float]]) -> None:
        pairs = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
        self.items = [item for item, _w in pairs]
        self.cum: list[float] = []
        total = 0.0
        for _item, weight in pairs:
            total += weight
            self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


class _Builder:
    """Builds every row in memory; ids are assigned here, starting after what the DB holds."""

    def __init__(
        self,
        services: Services,
        rng: random.Random,
        spec: ScaleSpec,
        now: datetime,
        city_names: dict[str, str],
        counties: dict[str, list[tuple[str, str]]],
        trades: list[tuple[str, str, bool]],
        next_ids: dict[str, int],
    ) -> None:
        self.cipher = services.cipher
        self.ttl = timedelta(days=services.settings.posting_ttl_days)
        self.rng = rng
        self.spec = spec
        self.now = now
        self.today_start, _ = day_bounds(local_date(now))
        self.city_names = city_names
        self.counties = counties  # city → [(county code, county name)]
        self.county_names = {code: name for opts in counties.values() for code, name in opts}
        # urban districts hold most sites
        self.county_choice = {
            city: _Choice([(code, 3 if name.endswith("区") else 1) for code, name in opts])
            for city, opts in counties.items()
        }
        self.city_choice = _Choice({c: w for c, w in CITY_WEIGHTS.items() if c in counties})
        self.trade_names = {code: name for code, name, _guided in trades}
        self.guided = [code for code, _name, guided in trades if guided]
        self.trade_choice = _Choice(
            [(code, TRADE_WEIGHTS.get(code, 2)) for code, _n, _g in trades]
        )
        self.grade_choice = _Choice(GRADE_WEIGHTS)
        self.education_choice = _Choice(EDUCATION)
        self.credit_choice = _Choice(WORKER_CREDIT)
        self.guide = guide_price_table()
        self.next_ids = next_ids
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.enterprise_names: set[str] = set()
        self.id_bodies: set[str] = set()
        self.projects_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.teams_of: dict[int, list[dict[str, Any]]] = defaultdict(list)

    # small helpers ---------------------------------------------------------------------------

    def _id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def _weighted(self, weights: dict[Any, int]) -> Any:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _pick_city(self) -> str:
        return self.city_choice.pick(self.rng)  # type: ignore[no-any-return]

    def _pick_county(self, city: str) -> str:
        return self.county_choice[city].pick(self.rng)  # type: ignore[no-any-return]

    def _pick_trade(self, *, guided_only: bool = False) -> str:
        if guided_only:
            return self.rng.choice(self.guided)
        return self.trade_choice.pick(self.rng)  # type: ignore[no-any-return]

    def _pick_grade(self) -> int:
        return self.grade_choice.pick(self.rng)  # type: ignore[no-any-return]

    def _person_name(self, male: bool = True) -> str:
        given = MALE_GIVEN if male else FEMALE_GIVEN
        name = self.rng.choice(SURNAMES) + self.rng.choice(given)
        if self.rng.random() < 0.7:
            name += self.rng.choice(given)
        return name

    def _mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def _past(self, min_days: float, max_days: float) -> datetime:
        return self.now - timedelta(seconds=self.rng.uniform(min_days, max_days) * 86400)

    def _earlier_today(self) -> datetime:
        span = max((self.now - self.today_start).total_seconds() - 60, 1.0)
        return self.today_start + timedelta(seconds=self.rng.uniform(0, span))

    def reference_price(self, city: str, trade: str, grade: int) -> int:
        guide = self.guide.get((city, trade, grade))
        if guide is not None:
            return guide
        base = UNGUIDED_BASE.get(trade, 5000) * CITY_PRICE_FACTOR.get(city, 0.95)
        return int(round(base * GRADE_FACTOR.get(grade, 1.0) / 50) * 50)

    def _price_fen(self, city: str, trade: str, grade: int, spread: float = 0.1) -> int:
        price = self.reference_price(city, trade, grade) * self.rng.uniform(1 - spread, 1 + spread)
        return int(round(price / 50) * 50) * 100

    # parties ---------------------------------------------------------------------------------

    def enterprises(self) -> list[dict[str, Any]]:
        result = []
        for name, etype, county in FIXED_ENTERPRISES:
            result.append(self._enterprise(name, etype, county, score=self.rng.randint(82, 98)))
        while len(result) < self.spec.enterprises:
            etype = self._weighted(TYPE_WEIGHTS)
            city = self._pick_city()
            county = self._pick_county(city)
            name = self._enterprise_name(etype, city, county)
            score = min(100, max(50, int(self.rng.triangular(50, 100, 80))))
            result.append(self._enterprise(name, etype, county, score=score))
        return result

    def _enterprise_name(self, etype: EnterpriseType, city: str, county: str) -> str:
        county_name = self.county_names[county]
        tries = 0
        while True:
            prefix = self.rng.choice(
                ("山西", "山西省", self.city_names[city][:-1], self.city_names[city], county_name)
            )
            brand = self.rng.choice(BRANDS)
            if tries >= 40:
                # x3 / x10: a county's names run out; two brands give 73² more of them
                brand += self.rng.choice(BRANDS)
            name = prefix + brand + self.rng.choice(KINDS[etype])
            if name not in self.enterprise_names:
                return name
            tries += 1

    def _enterprise(
        self, name: str, etype: EnterpriseType, county: str, *, score: int
    ) -> dict[str, Any]:
        self.enterprise_names.add(name)
        row = {
            "id": self._id("enterprise"),
            "name": name,
            "type": etype.value,
            "credit_score": score,
            "credit_grade": credit_grade_of(score),
            "county_code": county,
            "city_code": county[:4] + "00",
            "created_at": self._past(400, 3000),
            # the seed's internal postings are up to 25 days old: with the default 24 h they
            # would all open to the market at the demo's first rings job; 30 days keeps the
            # seeded market as it was drawn
            "internal_open_hours": MAX_INTERNAL_OPEN_HOURS,
        }
        self.rows["enterprise"].append(row)
        return row

    def projects_and_teams(self, enterprises: Sequence[dict[str, Any]]) -> None:
        counts = {
            EnterpriseType.GENERAL_CONTRACTOR.value: (3, 6),
            EnterpriseType.SUBCONTRACTOR.value: (1, 3),
            EnterpriseType.LABOR_SERVICE.value: (1, 2),
        }
        for ent in enterprises:
            low, high = counts[ent["type"]]
            for _ in range(self.rng.randint(low, high)):
                self._project(ent)

    def _project(self, ent: dict[str, Any]) -> dict[str, Any]:
        # most sites are in the company's own city, some elsewhere in the province
        city = ent["city_code"] if self.rng.random() < 0.8 else self._pick_city()
        county = (
            ent["county_code"]
            if city == ent["city_code"] and self.rng.random() < 0.4
            else (self._pick_county(city))
        )
        county_name = self.county_names[county]
        pid = self._id("project")
        phase = self.rng.choice(("", "一期", "二期", "三期"))
        name = (
            f"{county_name}{self.rng.choice(PROJECT_BRANDS)}{self.rng.choice(PROJECT_KINDS)}"
            f"{phase}{self.rng.choice(('工程', '项目'))}"
        )
        row = {
            "id": pid,
            "code": f"SX{city[2:4]}{pid:07d}",
            "enterprise_id": ent["id"],
            "name": name,
            "county_code": county,
            "city_code": city,
            "address": f"{self.city_names[city]}{county_name}{self.rng.choice(ROADS)}"
            f"{self.rng.randint(1, 399)}号",
            "status": "active",
            "created_at": self._past(30, 700),
        }
        self.rows["project"].append(row)
        self.projects_of[ent["id"]].append(row)
        trades: list[str] = []
        while len(trades) < self.rng.randint(3, 6):
            trade = self._pick_trade()
            if trade not in trades:
                trades.append(trade)
        for trade in trades:
            team = {
                "id": self._id("team"),
                "project_id": pid,
                "name": f"{self.trade_names[trade]}班组",
                "trade_code": trade,
            }
            self.rows["team"].append(team)
            self.teams_of[pid].append(team)
        return row

    def team_for(self, project: dict[str, Any], trade: str) -> int:
        teams = self.teams_of[project["id"]]
        for team in teams:
            if team["trade_code"] == trade:
                return int(team["id"])
        return int(self.rng.choice(teams)["id"])

    def home_team(self, enterprise_id: int, trade: str) -> int:
        return self.team_for(self.rng.choice(self.projects_of[enterprise_id]), trade)

    # workers ---------------------------------------------------------------------------------

    def _id_number(self, city: str, male: bool) -> tuple[str, date]:
        """A valid, unused GB 11643 number: Shanxi county, birth 1960-2002, parity = gender."""
        while True:
            # most workers were born in the city they work in, some come from elsewhere
            home = city if self.rng.random() < 0.75 else self._pick_city()
            county = self.rng.choice(self.counties[home])[0]
            birth = date(1960, 1, 1) + timedelta(days=self.rng.randrange(15_706))  # ≤ 2002-12-31
            seq = self.rng.randrange(500) * 2 + (1 if male else 0)
            body = f"{county}{birth:%Y%m%d}{seq:03d}"
            if body not in self.id_bodies:
                self.id_bodies.add(body)
                return body + ric.calc_check_digit(body + "0"), birth

    def worker(
        self,
        ent: dict[str, Any],
        *,
        trade: str,
        grade: int,
        status: WorkerStatus,
        team_id: int | None,
        created_at: datetime | None = None,
        status_changed_at: datetime | None = None,
    ) -> dict[str, Any]:
        male = self.rng.random() < 0.9
        id_number, birth = self._id_number(ent["city_code"], male)
        created = created_at or (
            self._earlier_today() if self.rng.random() < 0.005 else self._past(1, 1000)
        )
        changed = max(created, status_changed_at or self._past(0.5, 200))
        row = {
            "id": self._id("worker"),
            "enterprise_id": ent["id"],
            "id_hash": self.cipher.lookup_hash(id_number),
            "id_cipher": self.cipher.encrypt(id_number),
            "id_masked": mask_id(id_number),
            "name": self._person_name(male),
            "gender": "M" if male else "F",
            "birth_date": birth,
            "phone": self._mobile() if self.rng.random() < 0.95 else None,
            "education": self.education_choice.pick(self.rng),
            "trade_code": trade,
            "grade_level": grade,
            "credit_grade": self.credit_choice.pick(self.rng),
            "status": status.value,
            "team_id": team_id,
            "rating_count": 0,
            "rating_sum": 0,
            "created_at": created,
            "updated_at": max(created, changed),
            "status_changed_at": changed,
        }
        self.rows["worker"].append(row)
        return row

    # postings and deals ----------------------------------------------------------------------

    def _posting_common(
        self, created: datetime, status: PostingStatus, ring: Ring
    ) -> dict[str, Any]:
        escalated = ring is Ring.ESCALATED
        return {
            "contact_name": self._person_name(self.rng.random() < 0.8),
            "contact_phone": self._mobile(),
            "ring": ring.value,
            "status": status.value,
            "posted_by_account_id": None,
            "created_at": created,
            "updated_at": created,
            "expires_at": created + self.ttl,
            "escalated_at": (
                min(self.now, created + timedelta(hours=self.rng.uniform(24, 120)))
                if escalated
                else None
            ),
            "version": 1,
        }

    def _open_ring(self) -> Ring:
        roll = self.rng.random()
        return Ring.MARKET if roll < 0.7 else Ring.INTERNAL if roll < 0.88 else Ring.ESCALATED

    def _open_created(self) -> datetime:
        return self._earlier_today() if self.rng.random() < 0.05 else self._past(0.3, 25)

    def shortage(
        self,
        project: dict[str, Any],
        *,
        trade: str,
        min_grade: int,
        headcount: int,
        filled: int,
        status: PostingStatus,
        ring: Ring,
        created: datetime,
        price_fen: int | None = None,
    ) -> dict[str, Any]:
        row = {
            "id": self._id("shortage_posting"),
            "project_id": project["id"],
            "enterprise_id": project["enterprise_id"],
            "county_code": project["county_code"],
            "city_code": project["city_code"],
            "trade_code": trade,
            "min_grade": min_grade,
            "headcount": headcount,
            "filled_count": filled,
            "price_fen": price_fen or self._price_fen(project["city_code"], trade, min_grade),
            **self._posting_common(created, status, ring),
        }
        self.rows["shortage_posting"].append(row)
        return row

    def idle_posting(
        self,
        ent: dict[str, Any],
        workers: Sequence[dict[str, Any]],
        *,
        status: PostingStatus,
        ring: Ring,
        created: datetime,
        filled: int = 0,
    ) -> dict[str, Any]:
        trade, grade = workers[0]["trade_code"], workers[0]["grade_level"]
        row = {
            "id": self._id("idle_posting"),
            "enterprise_id": ent["id"],
            "county_code": ent["county_code"],
            "city_code": ent["city_code"],
            "trade_code": trade,
            "grade_level": grade,
            "headcount": len(workers),
            "filled_count": filled,
            "price_fen": self._price_fen(ent["city_code"], trade, grade),
            "avg_rating_x100": None,
            **self._posting_common(created, status, ring),
        }
        self.rows["idle_posting"].append(row)
        for worker in workers:
            self.rows["idle_posting_worker"].append(
                {"posting_id": row["id"], "worker_id": worker["id"]}
            )
        return row

    def past_deal(
        self,
        project: dict[str, Any],
        idle_ent: dict[str, Any],
        *,
        trade: str,
        headcount: int,
        accepted_at: datetime,
        price_fen: int | None = None,
        rated: bool,
    ) -> list[dict[str, Any]]:
        """A settled dispatch: closed shortage and idle postings, the deal, moved rated workers."""
        rng = self.rng
        min_grade = rng.choice((2, 3, 3, 4))
        grade = rng.choice((max(1, min_grade - 1), min_grade))
        created = accepted_at - timedelta(hours=rng.uniform(1, 72))
        posted = created - timedelta(days=rng.uniform(0.5, 5))
        shortage = self.shortage(
            project,
            trade=trade,
            min_grade=min_grade,
            headcount=headcount,
            filled=headcount,
            status=PostingStatus.FILLED,
            ring=Ring.MARKET,
            created=posted,
            price_fen=price_fen,
        )
        shortage["updated_at"] = accepted_at
        team_id = self.team_for(project, trade)
        workers = [
            self.worker(
                idle_ent,
                trade=trade,
                grade=grade,
                status=WorkerStatus.BUSY,
                team_id=team_id,
                created_at=self._past(200, 1200),
                status_changed_at=accepted_at,
            )
            for _ in range(headcount)
        ]
        idle = self.idle_posting(
            idle_ent,
            workers,
            status=PostingStatus.FILLED,
            ring=Ring.MARKET,
            created=posted + timedelta(hours=rng.uniform(1, 48)),
            filled=headcount,
        )
        idle["updated_at"] = accepted_at
        deal_id = self._id("deal")
        proposer = rng.choice((Side.SHORTAGE, Side.IDLE))
        price = price_fen or self._price_fen(project["city_code"], trade, min_grade, spread=0.08)
        start = local_date(accepted_at) + timedelta(days=rng.randint(1, 3))
        self.rows["deal"].append(
            {
                "id": deal_id,
                "shortage_id": shortage["id"],
                "idle_posting_id": idle["id"],
                "shortage_enterprise_id": project["enterprise_id"],
                "idle_enterprise_id": idle_ent["id"],
                "trade_code": trade,
                "county_code": project["county_code"],
                "city_code": project["city_code"],
                "headcount": headcount,
                "price_fen": price,
                "start_date": start,
                "status": DealStatus.ACCEPTED.value,
                "proposer_side": proposer.value,
                "awaiting_side": None,
                "shortage_account_id": None,
                "idle_account_id": None,
                "created_at": created,
                "updated_at": accepted_at,
                "expires_at": created + timedelta(hours=48),
                "accepted_at": accepted_at,
                "rating_prompt_at": accepted_at + timedelta(days=7) if rated else None,
                "version": 2,
            }
        )
        for at, action, side in (
            (created, DealAction.PROPOSE, proposer),
            (accepted_at, DealAction.ACCEPT, proposer.other),
        ):
            self.rows["deal_event"].append(
                {
                    "id": self._id("deal_event"),
                    "deal_id": deal_id,
                    "at": at,
                    "action": action.value,
                    "side": side.value,
                    "actor_account_id": None,
                    "headcount": headcount,
                    "price_fen": price,
                    "start_date": start,
                }
            )
        stars_given = []
        for worker in workers:
            self.rows["deal_worker"].append({"deal_id": deal_id, "worker_id": worker["id"]})
            if rated:
                stars = self._weighted(STAR_WEIGHTS)
                stars_given.append(stars)
                self.rows["rating"].append(
                    {
                        "id": self._id("rating"),
                        "deal_id": deal_id,
                        "worker_id": worker["id"],
                        "stars": stars,
                        "comment": None,
                        "by_account_id": None,
                        "created_at": min(
                            self.now, accepted_at + timedelta(days=rng.uniform(7, 20))
                        ),
                    }
                )
                worker["rating_sum"] += stars
                worker["rating_count"] += 1
        if stars_given:
            idle["avg_rating_x100"] = round(100 * sum(stars_given) / len(stars_given))
        return workers


# --- the market -----------------------------------------------------------------------------

PERSONAS = (
    # key, display name, role, region
    ("foreman", "张建军", Role.FOREMAN, None),
    ("dispatcher", "李红梅", Role.DISPATCHER, None),
    ("regulator_jinzhong", "晋中市住建局 王强", Role.REGULATOR, "140700"),
    ("regulator_province", "山西省住建厅 赵敏", Role.REGULATOR, "140000"),
    ("regulator_taiyuan", "太原市住建局 刘洋", Role.REGULATOR, "140100"),
)


def _personas(b: _Builder, enterprises: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Demo accounts: a 太原 foreman of 山西五建, a 临汾 labor-company dispatcher, regulators."""
    wujian, linfen_labor = enterprises[0], enterprises[2]
    foreman_project = _taiyuan_project(b, wujian)
    ids: dict[str, int] = {}
    for key, name, role, region in PERSONAS:
        account_id = b._id("account")
        ids[key] = account_id
        enterprise_id = (
            wujian["id"] if role is Role.FOREMAN
            else linfen_labor["id"] if role is Role.DISPATCHER
            else None
        )  # fmt: skip
        telegram_id = DEMO_FOREMAN_TELEGRAM_ID if role is Role.FOREMAN else None
        b.rows["account"].append(
            {
                "id": account_id,
                "telegram_user_id": telegram_id,
                "chat_id": telegram_id,
                "display_name": name,
                "locale": "zh",
                "role": role.value,
                "enterprise_id": enterprise_id,
                "region_code": region,
                "phone": b._mobile(),
                "active": True,
                "notifications_enabled": True,
                "quiet_start": None,
                "quiet_end": None,
                "digest_time": dt_time(8, 0),
                "timezone": "Asia/Shanghai",
                "created_at": b._past(30, 60),
                # the labor company's dispatcher also manages it (🏢 公司管理 in the demo)
                "is_admin": role is Role.DISPATCHER,
            }
        )
    b.rows["account_project"].append(
        {"account_id": ids["foreman"], "project_id": foreman_project["id"]}
    )
    return ids


def _taiyuan_project(b: _Builder, ent: dict[str, Any]) -> dict[str, Any]:
    for project in b.projects_of[ent["id"]]:
        if project["city_code"] == "140100":
            return project
    project = b.projects_of[ent["id"]][0]
    project.update(county_code=ent["county_code"], city_code=ent["city_code"])
    return project


def _guide_price_rows(
    b: _Builder, grades: Sequence[int], existing: set[tuple[str, str, int, date]]
) -> None:
    effective = date(local_date(b.now).year - 1, 1, 1)
    for city in b.city_names:
        for trade in b.guided:
            for grade in grades:
                if (city, trade, grade, effective) in existing:
                    continue
                b.rows["guide_price"].append(
                    {
                        "id": b._id("guide_price"),
                        "city_code": city,
                        "trade_code": trade,
                        "grade_level": grade,
                        "price_fen": b.reference_price(city, trade, grade) * 100,
                        "effective_date": effective,
                        "set_by_account_id": None,
                        "created_at": b._past(60, 65),
                    }
                )


def _market(
    b: _Builder, enterprises: Sequence[dict[str, Any]], accounts: dict[str, int]
) -> dict[str, int]:
    """Past deals with ratings, open idle postings, the rest of the workforce, open shortages."""
    rng, spec = b.rng, b.spec
    ent_by_id = {e["id"]: e for e in enterprises}
    size = {e["id"]: rng.lognormvariate(0, 0.7) for e in enterprises}
    labor = [e for e in enterprises if e["type"] == EnterpriseType.LABOR_SERVICE]
    suppliers = [e for e in enterprises if e["type"] != EnterpriseType.GENERAL_CONTRACTOR]
    project_choice = _Choice(
        [
            (p, {"general_contractor": 3.0, "subcontractor": 1.5}.get(
                ent_by_id[p["enterprise_id"]]["type"], 0.5
            ))
            for p in b.rows["project"]
        ]
    )  # fmt: skip
    idle_choice = _Choice(
        [(e, {"labor_service": 4, "subcontractor": 2}.get(e["type"], 1) * size[e["id"]])
         for e in enterprises]
    )  # fmt: skip
    worker_choice = _Choice(
        [(e, {"labor_service": 3, "subcontractor": 2}.get(e["type"], 1.5) * size[e["id"]])
         for e in enterprises]
    )  # fmt: skip
    deal_size = _Choice({1: 20, 2: 25, 3: 20, 4: 15, 5: 10, 6: 10})
    headcount_choice = _Choice(HEADCOUNT_WEIGHTS)
    idle_size = _Choice(IDLE_SIZE_WEIGHTS)
    min_grade_choice = _Choice({2: 15, 3: 40, 4: 35, 5: 10})

    # the seed's own deal record: 山西五建集团 抹灰工 4 workers at 5500.00, at 19:11
    wujian = enterprises[0]
    taiyuan_labor = next((e for e in labor if e["city_code"] == "140100"), enterprises[2])
    accepted = datetime.combine(
        local_date(b.now) - timedelta(days=20), dt_time(19, 11), tzinfo=SHANGHAI
    ).astimezone(UTC)
    b.past_deal(
        _taiyuan_project(b, wujian),
        taiyuan_labor,
        trade="plasterer",
        headcount=4,
        accepted_at=accepted,
        price_fen=550_000,
        rated=True,
    )

    reposted: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for _ in range(spec.past_deals - 1):
        project = project_choice.pick(rng)
        same_city = [e for e in labor if e["city_code"] == project["city_code"]]
        pool = same_city if same_city and rng.random() < 0.7 else suppliers
        idle_ent = rng.choice(pool)
        if idle_ent["id"] == project["enterprise_id"]:
            continue  # a company's own move is an internal dispatch, not a market deal
        trade = b._pick_trade(guided_only=rng.random() < 0.8)
        today = rng.random() < 0.05
        accepted = b._earlier_today() if today else b._past(3, 90)
        rated = accepted <= b.now - timedelta(days=7)
        workers = b.past_deal(
            project,
            idle_ent,
            trade=trade,
            headcount=deal_size.pick(rng),
            accepted_at=accepted,
            rated=rated,
        )
        if rated and rng.random() < 0.15:
            reposted.append((idle_ent, workers))

    dispatcher_ent = enterprises[2]
    open_idle = 0
    # rated workers whose engagement ended are offered again: their stars show on the posting
    for ent, workers in reposted:
        if open_idle >= spec.idle_postings:
            break
        changed = b._past(0.3, 6)
        trade = workers[0]["trade_code"]
        for worker in workers:
            worker.update(
                status=WorkerStatus.IDLE.value,
                team_id=b.home_team(ent["id"], trade),
                status_changed_at=changed,
                updated_at=changed,
            )
        posting = b.idle_posting(
            ent, workers, status=PostingStatus.OPEN, ring=b._open_ring(),
            created=changed + timedelta(minutes=rng.uniform(5, 120)),
        )  # fmt: skip
        total = sum(w["rating_sum"] for w in workers)
        count = sum(w["rating_count"] for w in workers)
        posting["avg_rating_x100"] = round(100 * total / count) if count else None
        open_idle += 1

    while open_idle < spec.idle_postings:
        ent = dispatcher_ent if open_idle < 8 else idle_choice.pick(rng)
        trade, grade = b._pick_trade(), b._pick_grade()
        created = b._open_created()
        changed = max(
            created - timedelta(minutes=rng.uniform(5, 600)),
            b.today_start if created >= b.today_start else created - timedelta(days=3),
        )
        workers = [
            b.worker(
                ent, trade=trade, grade=grade, status=WorkerStatus.IDLE,
                team_id=b.home_team(ent["id"], trade), status_changed_at=changed,
            )
            for _ in range(idle_size.pick(rng))
        ]  # fmt: skip
        posting = b.idle_posting(
            ent, workers, status=PostingStatus.OPEN, ring=b._open_ring(), created=created
        )
        if ent is dispatcher_ent:
            posting["posted_by_account_id"] = accounts["dispatcher"]
        open_idle += 1

    # the rest of the workforce: on duty, a few idle nobody has posted yet; labor and
    # subcontracting companies staff the general contractors' sites of their city
    gc_sites: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for project in b.rows["project"]:
        if ent_by_id[project["enterprise_id"]]["type"] == EnterpriseType.GENERAL_CONTRACTOR:
            gc_sites[project["city_code"]].append(project)
    for _ in range(max(0, spec.workers - len(b.rows["worker"]))):
        ent = worker_choice.pick(rng)
        trade, grade = b._pick_trade(), b._pick_grade()
        idle = rng.random() < 0.05
        today_idle = b._earlier_today() if idle and rng.random() < 0.2 else None
        sites = gc_sites.get(ent["city_code"])
        if not idle and sites and ent["type"] != "general_contractor" and rng.random() < 0.6:
            team_id = b.team_for(rng.choice(sites), trade)
        else:
            team_id = b.home_team(ent["id"], trade)
        b.worker(
            ent, trade=trade, grade=grade,
            status=WorkerStatus.IDLE if idle else WorkerStatus.BUSY,
            team_id=team_id, status_changed_at=today_idle,
        )  # fmt: skip

    foreman_project = _taiyuan_project(b, wujian)
    for i in range(spec.shortages):
        project = foreman_project if i < 2 else project_choice.pick(rng)
        trade = b._pick_trade()
        headcount = headcount_choice.pick(rng)
        partly = headcount >= 2 and rng.random() < 0.2
        row = b.shortage(
            project,
            trade=trade,
            min_grade=min_grade_choice.pick(rng),
            headcount=headcount,
            filled=rng.randint(1, headcount - 1) if partly else 0,
            status=PostingStatus.PARTLY_FILLED if partly else PostingStatus.OPEN,
            ring=Ring.MARKET if i < 2 else b._open_ring(),
            created=b._open_created(),
        )
        if i < 2:
            row["posted_by_account_id"] = accounts["foreman"]
    return {"open_shortages": spec.shortages, "open_idle_postings": open_idle}


# --- after the deal: arrivals, releases, wages, one open arrears alert ----------------------


def _last_prompted_month(today: date, wage_day: int) -> date:
    """The latest month whose wage questions went out by today."""
    last = previous_month(today)
    return last if today.day >= wage_day else previous_month(last)


def _dispatch_life(
    b: _Builder, enterprises: Sequence[dict[str, Any]], wage_day: int, grace_days: int
) -> None:
    """Every past deal becomes a dispatch: workers arrived on the start date (one no-show on
    the seed's own 山西五建 deal), the re-offered ones released; each month up to the last
    wage day has its wage period, mostly paid on time, some late; and a Taiyuan deal of two
    months ago was not paid: an open 欠薪预警."""
    rng = random.Random(b.rng.random())  # its own stream: the market above stays as it was
    today = local_date(b.now)
    workers = {w["id"]: w for w in b.rows["worker"]}
    deal_workers: dict[int, list[int]] = defaultdict(list)
    for row in b.rows["deal_worker"]:
        deal_workers[row["deal_id"]].append(row["worker_id"])

    wujian = enterprises[0]
    labor = [e for e in enterprises if e["type"] == EnterpriseType.LABOR_SERVICE]
    taiyuan_labor = next((e for e in labor if e["city_code"] == "140100"), enterprises[2])
    unpaid_deal: dict[str, Any] | None = None
    if b.rows["deal"]:
        accepted = datetime.combine(
            today - timedelta(days=62), dt_time(16, 30), tzinfo=SHANGHAI
        ).astimezone(UTC)
        # the deal's three workers stand in for the last three of the general workforce
        # (on no posting, no deal), so the scale keeps its head count
        del b.rows["worker"][-3:]
        b.past_deal(
            _taiyuan_project(b, wujian),
            taiyuan_labor,
            trade="rebar" if "rebar" in b.trade_names else b.guided[0],
            headcount=3,
            accepted_at=accepted,
            rated=True,
        )
        unpaid_deal = b.rows["deal"][-1]
        deal_workers[unpaid_deal["id"]] = [
            r["worker_id"] for r in b.rows["deal_worker"] if r["deal_id"] == unpaid_deal["id"]
        ]
        workers.update({w["id"]: w for w in b.rows["worker"][-3:]})
    no_show_deal = b.rows["deal"][0]["id"] if b.rows["deal"] else None

    last_month = _last_prompted_month(today, wage_day)
    late_done = False
    for deal in b.rows["deal"]:
        start = deal["start_date"]
        stays = []
        for n, worker_id in enumerate(deal_workers[deal["id"]]):
            worker = workers[worker_id]
            arrived = start <= today
            no_show = deal["id"] == no_show_deal and n == len(deal_workers[deal["id"]]) - 1
            released = None
            if worker["status"] == WorkerStatus.IDLE.value and not no_show:
                released = max(start, local_date(worker["status_changed_at"]) - timedelta(days=1))
            if no_show and arrived:
                worker.update(
                    status=WorkerStatus.IDLE.value,
                    team_id=b.home_team(worker["enterprise_id"], worker["trade_code"]),
                    status_changed_at=datetime.combine(
                        start, dt_time(10, 20), tzinfo=SHANGHAI
                    ).astimezone(UTC),
                )
            arrival = (
                Arrival.NO_SHOW if no_show and arrived else Arrival.ARRIVED if arrived
                else Arrival.PENDING
            )  # fmt: skip
            row = {
                "id": b._id("dispatch_assignment"),
                "deal_id": deal["id"],
                "worker_id": worker_id,
                "enterprise_id": deal["idle_enterprise_id"],
                "due_on": start,
                "arrival": arrival.value,
                "arrived_on": start if arrival is Arrival.ARRIVED else None,
                "answered_at": (
                    datetime.combine(start, dt_time(10, 20), tzinfo=SHANGHAI).astimezone(UTC)
                    if arrived
                    else None
                ),
                "answered_by_account_id": None,
                "released_on": released,
                "replaces_assignment_id": None,
                "created_at": deal["accepted_at"],
            }
            b.rows["dispatch_assignment"].append(row)
            stays.append(stay_of(row["arrival"], start, row["arrived_on"], released))

        month = start.replace(day=1)
        while month <= last_month:
            first, last = month_bounds(month)
            due_on = (last + timedelta(days=1)).replace(day=wage_day)
            b.rows["dispatch_prompt"].append(
                {
                    "id": b._id("dispatch_prompt"),
                    "deal_id": deal["id"],
                    "kind": "wage",
                    "day": first,
                    "created_at": datetime.combine(
                        due_on, dt_time(9, 0), tzinfo=SHANGHAI
                    ).astimezone(UTC),
                }
            )
            days = person_days(stays, since=first, until=last)
            month = last + timedelta(days=1)
            if days == 0:
                continue
            due_fen = wage_due_fen(days, deal["price_fen"], first)
            unpaid = unpaid_deal is not None and deal["id"] == unpaid_deal["id"]
            late = not unpaid and (not late_done or rng.random() < 0.1)
            late = late and due_on + timedelta(days=grace_days + 1) <= today
            late_done = late_done or late
            delay = rng.randint(grace_days + 1, grace_days + 8) if late else rng.randint(0, 3)
            answered = min(
                b.now,
                datetime.combine(
                    due_on + timedelta(days=delay), dt_time(11, 5), tzinfo=SHANGHAI
                ).astimezone(UTC),
            )
            period_id = b._id("wage_period")
            b.rows["wage_period"].append(
                {
                    "id": period_id,
                    "deal_id": deal["id"],
                    "month": first,
                    "due_on": due_on,
                    "person_days": days,
                    "due_fen": due_fen,
                    "payer_answer": (PayerAnswer.UNPAID if unpaid else PayerAnswer.PAID).value,
                    "paid_fen": None,
                    "payer_answered_at": answered,
                    "labor_answer": (LaborAnswer.NONE if unpaid else LaborAnswer.RECEIVED).value,
                    "received_fen": None,
                    "workers_paid": not unpaid,
                    "labor_answered_at": answered,
                    "created_at": datetime.combine(
                        due_on, dt_time(9, 0), tzinfo=SHANGHAI
                    ).astimezone(UTC),
                }
            )
            if unpaid:
                b.rows["arrears_alert"].append(
                    {
                        "id": b._id("arrears_alert"),
                        "wage_period_id": period_id,
                        "deal_id": deal["id"],
                        "county_code": deal["county_code"],
                        "city_code": deal["city_code"],
                        "reason": "unpaid",
                        "due_fen": due_fen,
                        "paid_fen": 0,
                        "status": AlertStatus.OPEN.value,
                        "created_at": answered,
                        "resolved_at": None,
                    }
                )


# --- writing --------------------------------------------------------------------------------


def _copy_columns(table: Table, rows: Sequence[dict[str, Any]]) -> list[tuple[str, Any]] | None:
    """(column, default) for a COPY of `rows`, or None when COPY cannot stand in for INSERT:
    rows of differing keys, a JSON column, or a missing column whose default is computed."""
    keys = list(rows[0])
    first = set(keys)
    sample = rows[:: max(1, len(rows) // 64)]
    if any(len(row) != len(keys) or row.keys() != first for row in sample):
        return None
    columns: list[tuple[str, Any]] = []
    for column in table.columns:
        if isinstance(column.type, JSON):
            return None
        if column.name in first:
            columns.append((column.name, _MISSING))
        elif column.default is not None:
            if not column.default.is_scalar:
                return None
            columns.append((column.name, column.default.arg))  # type: ignore[attr-defined]
    return columns


_MISSING = object()


async def _bulk(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    progress: Callable[[str], None] | None = None,
) -> None:
    """Write rows in chunks with no ORM bookkeeping: COPY on PostgreSQL (binary, through the
    session's own connection and transaction), executemany elsewhere."""
    if not rows:
        return
    started = time.perf_counter()
    columns = (
        _copy_columns(table, rows) if session.get_bind().dialect.name == "postgresql" else None
    )
    chunk = CHUNK * 25 if columns is not None else CHUNK
    driver: Any = None
    if columns is not None:
        raw = await (await session.connection()).get_raw_connection()
        driver = raw.driver_connection
    statement = insert(table)
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        if columns is None:
            await session.execute(statement, list(part))
        else:
            records = [
                tuple(row[name] if default is _MISSING else default for name, default in columns)
                for row in part
            ]
            await driver.copy_records_to_table(
                table.name, records=records, columns=[name for name, _ in columns]
            )
        done = min(len(rows), start + chunk)
        if progress is not None and done < len(rows) and done // 200_000 > start // 200_000:
            took = time.perf_counter() - started
            progress(f"  {table.name}: {done:,}/{len(rows):,} ({took:.1f} s)")
    if progress is not None:
        how = "COPY" if columns is not None else "INSERT"
        took = time.perf_counter() - started
        progress(f"{table.name}: {len(rows):,} rows ({how}) in {took:.1f} s")


async def _sync_sequences(session: AsyncSession, tables: Sequence[str]) -> None:
    """Explicit ids leave PostgreSQL sequences behind: move them past the largest id."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite's rowid continues from max(id) by itself
    for table in tables:
        await session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
            )
        )


_ID_TABLES = (
    Enterprise, Project, Team, Account, Worker, ShortagePosting, IdlePosting, Deal, DealEvent,
    Rating, GuidePrice, DispatchAssignment, WagePeriod, ArrearsAlert, DispatchPrompt,
)  # fmt: skip
_INSERT_ORDER: tuple[Table, ...] = tuple(
    model.__table__  # type: ignore[misc]
    for model in (
        Enterprise, Project, Team, Account, AccountProject, GuidePrice, Worker, ShortagePosting,
        IdlePosting, IdlePostingWorker, Deal, DealEvent, DealWorker, Rating, DispatchAssignment,
        WagePeriod, ArrearsAlert, DispatchPrompt,
    )
)  # fmt: skip


async def seed_demo(
    services: Services,
    *,
    scale: Scale,
    seed: int = 2020,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Fill an empty database with a deterministic demo market of the given scale.

    `progress`, when given, is told what is being done and how long each step took."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}")
    spec = SCALES[scale]
    started = time.perf_counter()
    async with services.uow() as uow:
        session = uow.session
        if await session.scalar(select(func.count()).select_from(Enterprise)):
            raise Conflict("error.already_seeded")
        await load_reference_data(session)
        regions = (await session.scalars(select(Region).order_by(Region.code))).all()
        city_names = {r.code: r.name_zh for r in regions if r.level == RegionLevel.CITY}
        counties: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for region in regions:
            if region.level == RegionLevel.COUNTY and region.parent_code in city_names:
                counties[region.parent_code].append((region.code, region.name_zh))
        trades = [
            (t.code, t.name_zh, t.guided)
            for t in (await session.scalars(select(Trade).order_by(Trade.sort_order))).all()
        ]
        grades = sorted((await session.scalars(select(Grade.level))).all())
        existing_guides = {
            (g.city_code, g.trade_code, g.grade_level, g.effective_date)
            for g in (await session.scalars(select(GuidePrice))).all()
        }
        next_ids = {}
        for model in _ID_TABLES:
            top = await session.scalar(select(func.max(model.id)))
            next_ids[model.__tablename__] = int(top or 0) + 1

        b = _Builder(
            services, random.Random(seed), spec, uow.now(), city_names, dict(counties), trades,
            next_ids,
        )  # fmt: skip
        enterprises = b.enterprises()
        b.projects_and_teams(enterprises)
        if progress is not None:
            progress(
                f"{len(enterprises):,} enterprises, {len(b.rows['project']):,} projects built "
                f"after {time.perf_counter() - started:.1f} s"
            )
        accounts = _personas(b, enterprises)
        _guide_price_rows(b, grades, existing_guides)
        counts = _market(b, enterprises, accounts)
        settings = services.settings
        _dispatch_life(b, enterprises, settings.wage_prompt_day, settings.arrears_grace_days)
        if progress is not None:
            progress(
                f"built {sum(len(r) for r in b.rows.values()):,} rows in memory in "
                f"{time.perf_counter() - started:.1f} s"
            )

        for table in _INSERT_ORDER:
            await _bulk(session, table, b.rows[table.name], progress)
        await _sync_sequences(session, [m.__tablename__ for m in _ID_TABLES])
        workers = b.rows["worker"]
        report = SeedReport(
            scale=scale,
            seed=seed,
            enterprises=len(enterprises),
            projects=len(b.rows["project"]),
            teams=len(b.rows["team"]),
            workers=len(workers),
            idle_workers=sum(1 for w in workers if w["status"] == WorkerStatus.IDLE.value),
            open_shortages=counts["open_shortages"],
            open_idle_postings=counts["open_idle_postings"],
            deals=len(b.rows["deal"]),
            ratings=len(b.rows["rating"]),
            guide_prices=len(b.rows["guide_price"]),
            accounts=accounts,
            first_worker_name=workers[0]["name"] if workers else "",
        )
        uow.audit(
            actor_account_id=None,
            action="seed.demo",
            entity="database",
            entity_id=scale,
            after={
                "seed": seed,
                "enterprises": report.enterprises,
                "workers": report.workers,
                "open_shortages": report.open_shortages,
                "open_idle_postings": report.open_idle_postings,
                "deals": report.deals,
                "ratings": report.ratings,
            },
        )
        await uow.commit()
    if progress is not None:
        progress(f"committed after {time.perf_counter() - started:.1f} s; the credit run next")
    # credit is earned, not invented: the daily run over the seeded history
    credit_started = time.perf_counter()
    async with services.uow() as uow:
        await recompute_credit(uow, local_date(uow.now()))
    if progress is not None:
        progress(f"credit run in {time.perf_counter() - credit_started:.1f} s")
    return replace(report, seconds=round(time.perf_counter() - started, 2))
