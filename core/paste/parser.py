"""Paste-to-post: a labor post as written in a WeChat group → zero or more posting drafts.

Deterministic, no network, never raises on any input. Fields are found with their position in
the text, then handed to the trade they follow, so "缺钢筋工5人、木工3人" gives two drafts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import cn2an

from core.domain.errors import ValidationError
from core.domain.values import MAX_HEADCOUNT, parse_mobile
from core.paste.lexicon import CITY_RELATIVE_NAMES, RegionEntry, TradeEntry, lexicon

Kind = Literal["shortage", "idle"]
Per = Literal["month", "day"]

# a WeChat post is a few lines; anything longer is read up to here (bounded time per message)
MAX_INPUT_CHARS = 2000
DAY_PRICE_RANGE = (50, 3000)
MONTH_PRICE_RANGE = (1000, 100_000)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_CN_NUM = "零〇一二两三四五六七八九十百千万"
_NUM = rf"(?:\d+(?:\.\d+)?(?:\s*[千万kKwW]\d?)?|[{_CN_NUM}]+)"
_NUM_RE = re.compile(_NUM)

# a mobile written with spaces or dashes: 11 digits, 1 then 3-9
_PHONE_RE = re.compile(r"(?<![\d.])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
# a landline ("0351-1234567") is not a mobile, but its digits must not read as a price
_LANDLINE_RE = re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")

_HEADCOUNT_RE = re.compile(
    rf"(?P<num>{_NUM})(?:\s*[-~到至]\s*(?P<upper>{_NUM}))?\s*(?:人|名|位|个(?!月|工|小时))"
)
# "人数：8", "人数5": a count after its label, without a unit
_HEADCOUNT_LABEL_RE = re.compile(
    rf"(?:人数|名额|数量)\s*[:：]?\s*(?P<num>{_NUM})(?!\s*[元块天月级])"
)
_GRADE_RE = re.compile(
    r"高级技师|技师|高级工?|中级工?|初级工?|(?P<n>[一二三四五1-5])\s*级(?!资质|建造|企业|风|台阶)"
)
_GRADE_WORDS = {"高级技师": 1, "技师": 2, "高级": 3, "中级": 4, "初级": 5}
_LEVEL_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}

# unit written after the amount: "/天", "元一天", "元每月", "一个月", "一月"
_PRICE_AFTER = re.compile(r"\s*(?:元|块钱?)?\s*(?:/|每|一个?|每个)\s*(?P<unit>天|日|工|月)")
_PRICE_AFTER_YUAN = re.compile(r"\s*(?:元|块钱?)")
# marker written before the amount: "日薪380", "一天三百八", "月薪七千", "工价350"
_PRICE_BEFORE_DAY = re.compile(r"(?:日薪|日结|日工资|点工|一天|每天|每日|一日|天)\s*[:：]?\s*$")
_PRICE_BEFORE_MONTH = re.compile(
    r"(?:月薪|月工资|包月|每月|一个月|一月|月)\s*(?:工资|薪资)?\s*[:：]?\s*$"
)
_PRICE_BEFORE_ANY = re.compile(
    r"(?:工资|工价|薪资|薪水|待遇|价格|单价|底薪|工钱|价钱|报价|要价|收入)\s*[:：]?\s*$"
)

_IDLE_STRONG = re.compile(
    r"赋闲|闲置|待岗|空闲|闲着|闲散|闲(?!聊|话|谈)|没活|缺活|找.{0,3}活|求活|接活|等活|外派|可派|待业|"
    r"可调配|可调剂|富余|随时进场|可进场|可出工|能出工|可外出|寻活|找工作|求工作|找项目|求项目|求职"
)
_SHORTAGE_STRONG = re.compile(
    r"急招|招聘|诚聘|招|缺(?!活)|急需|需要|需|求(?!职|活|工作|项目)|聘|急用|用工"
)
# asking who has idle workers is a demand: "谁有空闲的钢筋工" is a shortage
_DEMAND = re.compile(r"谁有|哪有|哪里有|有没有|求购")
_IDLE_WEAK = re.compile(r"现有|我公司有|本公司有|我处有|我们有|手上有|手里有|有一批|^有")
_QUESTION = re.compile(r"[?？]|吗|谁有|哪里|哪有|多少钱|怎么|什么|几点|有没有")
_ADVERT = re.compile(
    r"出租|出售|转让|回收|加工|批发|培训|考证|办证|贷款|代办|加盟|招商|优惠|租赁|材料|厂家|促销|"
    r"招标|投标|中标|承接|承包"
)

_TITLES = "经理|师傅|先生|女士|老板|老师|总|工|姐|哥"
# surnames that start an "X工 / X经理" contact; characters that also start trade or work words
# ("施工", "包工", "管工", "车工", "长工", "童工") are left out on purpose
_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋"
    "蔡贾丁魏薛叶阎闫余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙"
    "万段钱汤尹黎易常武乔贺赖龚文樊兰殷陶翟安倪严牛温芦季俞章鲁葛伍韦申尤毕聂焦向柳邢岳齐"
    "梅莫庞耿祁霍郝柴卫左樊庄甘覃路房解靳雷"
)
_TITLED_NAME_RE = re.compile(rf"([{_SURNAMES}])({_TITLES})")
_CONTACT_LEAD_RE = re.compile(r"联系人|联系|找")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_A_NAME = re.compile(r"^(?:电话|手机|方式|微信|我|人|号码|本人|即可|时间)")


@dataclass(frozen=True, slots=True)
class Price:
    amount: int
    per: Per


@dataclass(slots=True)
class PasteDraft:
    """One posting read from a paste; any field the text did not say is None."""

    kind: Kind
    trade_code: str
    trade: str
    grade: int | None = None
    headcount: int | None = None
    region: str | None = None
    price: Price | None = None
    contact_name: str | None = None
    phone: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The shape of examples.jsonl's `expect` (and of the CLI and API output)."""
        return {
            "kind": self.kind,
            "trade": self.trade,
            "grade": self.grade,
            "headcount": self.headcount,
            "region": self.region,
            "price": (
                {"amount": self.price.amount, "per": self.price.per} if self.price else None
            ),
            "contact_name": self.contact_name,
            "phone": self.phone,
        }


@dataclass(slots=True)
class _Found:
    """A value and where it stands in the normalized text."""

    start: int
    end: int
    value: Any


@dataclass(slots=True)
class _Fields:
    trades: list[_Found] = field(default_factory=list)
    headcounts: list[_Found] = field(default_factory=list)
    grades: list[_Found] = field(default_factory=list)
    prices: list[_Found] = field(default_factory=list)


def parse_paste(text: object) -> list[PasteDraft]:
    """Every labor post in `text`, one draft per trade named; [] when it is not a post."""
    try:
        return _parse(text if isinstance(text, str) else "")
    except Exception:  # the parser reads anything users forward: a bug must not crash a chat
        return []


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[:MAX_INPUT_CHARS])
    text = _THOUSANDS.sub("", text)  # "8,000/月"
    return _CONTROL.sub(" ", text)


def _parse(raw: str) -> list[PasteDraft]:
    text = _normalize(raw)
    if not _CJK.search(text):
        return []
    phone, text = _take_phone(text)
    text = _LANDLINE_RE.sub(lambda m: " " * len(m.group()), text)
    fields = _Fields(trades=_find_trades(text))
    if not fields.trades:
        return []
    masked = _mask(text, fields.trades)
    fields.headcounts = _find_headcounts(masked)
    fields.grades = _find_grades(masked)
    fields.prices = _find_prices(masked, fields.headcounts, fields.grades)
    contact_name = _find_contact_name(masked)

    if _ADVERT.search(text) and not fields.headcounts:
        return []
    if _QUESTION.search(text) and not fields.headcounts and phone is None:
        return []
    if not (fields.headcounts or fields.prices or phone):
        return []

    kind = _kind(text)
    region = _find_region(masked)
    drafts = _assign(fields, text)
    for draft in drafts:
        draft.kind = kind
        draft.region = region
        draft.contact_name = contact_name
        draft.phone = phone
    return drafts


def _take_phone(text: str) -> tuple[str | None, str]:
    """The first valid mobile, and the text with every mobile blanked out."""
    phone: str | None = None
    for match in _PHONE_RE.finditer(text):
        try:
            number = parse_mobile(match.group())
        except ValidationError:
            continue
        phone = phone or number
    blanked = _PHONE_RE.sub(lambda m: " " * len(m.group()), text)
    return phone, blanked


def _find_trades(text: str) -> list[_Found]:
    """Trade words, longest first at each position ("瓷砖工" before "砖工")."""
    lex = lexicon()
    found: list[_Found] = []
    i = 0
    while i < len(text):
        for size in range(min(lex.max_trade_len, len(text) - i), 1, -1):
            entry = lex.trades.get(text[i : i + size])
            if entry is not None:
                found.append(_Found(i, i + size, entry))
                i += size
                break
        else:
            i += 1
    return found


def _mask(text: str, found: list[_Found]) -> str:
    """Trade words replaced by a placeholder so "钢筋工" cannot read as a contact "筋工"."""
    chars = list(text)
    for item in found:
        for pos in range(item.start, item.end):
            chars[pos] = "□"
    return "".join(chars)


@lru_cache(maxsize=4096)
def to_number(token: str) -> float | None:
    """ "8千" 8000, "1.2万" 12000, "三百八" 380, "一万二" 12000, "8k" 8000; else None."""
    token = token.replace(" ", "")
    if not token or len(token) > 12:
        return None
    lowered = token.lower()
    if lowered.endswith(("k", "w")) or lowered[:-1].endswith(("k", "w")):
        unit = 1000 if "k" in lowered else 10000
        head, _, tail = lowered.replace("w", "k").partition("k")
        try:
            return float(head) * unit + (float(tail) * unit / 10 if tail else 0)
        except ValueError:
            return None
    try:
        value = cn2an.cn2an(token, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return float(value)


def _find_headcounts(text: str) -> list[_Found]:
    found = []
    for match in _HEADCOUNT_RE.finditer(text):
        team = text[max(0, match.start() - 2) : match.start()].endswith(("班组", "队"))
        if team and match.group().endswith("个"):
            continue  # "木工班组一个（8人）": the team is one, the workers are eight
        value = to_number(match.group("upper") or match.group("num"))
        if value is None or value != int(value) or not 1 <= value <= MAX_HEADCOUNT:
            continue
        found.append(_Found(match.start(), match.end(), int(value)))
    for match in _HEADCOUNT_LABEL_RE.finditer(text):
        value = to_number(match.group("num"))
        if value is not None and value == int(value) and 1 <= value <= MAX_HEADCOUNT:
            found.append(_Found(match.start(), match.end(), int(value)))
    found.sort(key=lambda f: f.start)
    return found


def _find_grades(text: str) -> list[_Found]:
    found = []
    for match in _GRADE_RE.finditer(text):
        word = match.group()
        if match.group("n"):
            level = _LEVEL_DIGITS.get(match.group("n")) or int(match.group("n"))
        else:
            level = _GRADE_WORDS[word.removesuffix("工")]
        found.append(_Found(match.start(), match.end(), level))
    return found


def _find_prices(text: str, headcounts: list[_Found], grades: list[_Found]) -> list[_Found]:
    """Amounts with a day or month unit; a bare amount is a day rate below 1000, else monthly."""
    taken = [(f.start, f.end) for f in (*headcounts, *grades)]
    explicit: list[_Found] = []
    bare: list[_Found] = []
    for match in _NUM_RE.finditer(text):
        start, end = match.span()
        if any(s <= start < e for s, e in taken):
            continue
        value = to_number(match.group())
        if value is None:
            continue
        after, before = text[end : end + 8], text[max(0, start - 8) : start]
        per: Per | None = None
        unit = _PRICE_AFTER.match(after)
        if unit:
            per = "month" if unit.group("unit") == "月" else "day"
        elif _PRICE_BEFORE_DAY.search(before):
            per = "day"
        elif _PRICE_BEFORE_MONTH.search(before):
            per = "month"
        amount = round(value)
        if per is not None:
            if _in_range(amount, per):
                explicit.append(_Found(start, end, Price(amount, per)))
            continue
        if after.startswith(("年", "号", "日", "点", "天", "米", "层", "栋", "楼", "%", ".")):
            continue
        generic = _PRICE_BEFORE_ANY.search(before) or _PRICE_AFTER_YUAN.match(after)
        guess: Per = "day" if amount < MONTH_PRICE_RANGE[0] else "month"
        if _in_range(amount, guess) and (generic or amount >= 100):
            bare.append(_Found(start, end, Price(amount, guess)))
    return explicit or bare[:1]


def read_price(text: str) -> Price | None:
    """A price typed on its own ("350/天", "日薪350", "8000", "8千") with its unit."""
    try:
        normalized = _normalize(text if isinstance(text, str) else "")[:200]
        found = _find_prices(normalized, [], [])
    except Exception:  # same promise as parse_paste: typed input never crashes a chat
        return None
    return found[0].value if found else None


def read_contact(text: str) -> tuple[str | None, str | None]:
    """A contact typed on its own ("张工 139 1234 5678"): the name and the mobile found."""
    try:
        phone, rest = _take_phone(_normalize(text if isinstance(text, str) else "")[:200])
    except Exception:
        return None, None
    name = " ".join(re.sub(r"联系人|联系|电话|手机|[:：,，;；]", " ", rest).split())
    return name or None, phone


def monthly_amount(price: Price, days_per_month: int) -> int:
    """The monthly figure of a price: a daily rate times the working days of a month."""
    return price.amount * days_per_month if price.per == "day" else price.amount


def _in_range(amount: int, per: Per) -> bool:
    low, high = DAY_PRICE_RANGE if per == "day" else MONTH_PRICE_RANGE
    return low <= amount <= high


def _find_contact_name(text: str) -> str | None:
    """ "张工", "李经理", "王师傅", "吴先生", or a full name after 联系人 / 联系."""
    for lead in _CONTACT_LEAD_RE.finditer(text):
        rest = text[lead.end() :].lstrip(" :：")
        if _NOT_A_NAME.match(rest):
            continue
        name_match = re.match(r"[\u4e00-\u9fff]{2,4}", rest)
        if not name_match:
            continue
        name = name_match.group()
        titled = _TITLED_NAME_RE.match(name)
        if titled:
            return titled.group()
        if name[0] in _SURNAMES:
            # stop a run-on like "冯伟手机" at the first word that is not part of a name
            cut = re.split(r"电话|手机|微信|号码|先生|女士", name)[0]
            if len(cut) >= 2:
                return cut[:3]
    for match in _TITLED_NAME_RE.finditer(text):
        before = text[match.start() - 1] if match.start() > 0 else ""
        # "施工员" / "小王工" style words: the title must follow a lone surname
        if before and _CJK.match(before) and before not in "联系找人的:：":
            continue
        return match.group()
    return None


def _find_region(text: str) -> str | None:
    """The most specific region named: a county, else a city; "城区" needs its city first."""
    lex = lexicon()
    named: list[RegionEntry] = []
    cities: list[RegionEntry] = []
    i = 0
    while i < len(text):
        for size in range(min(lex.max_region_len, len(text) - i), 1, -1):
            word = text[i : i + size]
            entries = lex.regions.get(word)
            if entries is None:
                continue
            if word in CITY_RELATIVE_NAMES:
                city = cities[-1] if cities else None
                entries = tuple(e for e in entries if city and e.parent_code == city.code)
                if not entries:
                    continue
            entry = entries[0]
            named.append(entry)
            if entry.level == "city":
                cities.append(entry)
            i += size
            break
        else:
            i += 1
    if not named:
        return None
    counties = [e for e in named if e.level == "county"]
    if counties:
        city_codes = {c.code for c in cities}
        in_city = [e for e in counties if e.parent_code in city_codes]
        return (in_city or counties)[0].code
    cities_named = [e for e in named if e.level == "city"]
    return (cities_named or named)[0].code


def _kind(text: str) -> Kind:
    if _DEMAND.search(text):
        return "shortage"
    if _IDLE_STRONG.search(text):
        return "idle"
    if _SHORTAGE_STRONG.search(text):
        return "shortage"
    if _IDLE_WEAK.search(text):
        return "idle"
    return "shortage"


def _assign(fields: _Fields, text: str) -> list[PasteDraft]:
    """One draft per distinct trade; a field belongs to the trade it follows."""
    trades = fields.trades
    bounds = [
        (t.start, trades[n + 1].start if n + 1 < len(trades) else len(text))
        for n, t in enumerate(trades)
    ]
    first_start = trades[0].start

    def in_segment(items: list[_Found], n: int) -> list[_Found]:
        start, end = bounds[n]
        return [f for f in items if start <= f.start < end]

    drafts: dict[str, PasteDraft] = {}
    order: list[str] = []
    private: dict[str, dict[str, Any]] = {}
    last = len(trades) - 1
    for n, trade in enumerate(trades):
        entry: TradeEntry = trade.value
        own = private.setdefault(entry.code, {})
        if entry.code not in drafts:
            drafts[entry.code] = PasteDraft(
                kind="shortage", trade_code=entry.code, trade=entry.name_zh
            )
            order.append(entry.code)
        for name, items in (
            ("headcount", fields.headcounts),
            ("grade", fields.grades),
            ("price", fields.prices),
        ):
            if name in own:
                continue
            hits = in_segment(items, n)
            if not hits and name == "headcount":
                # "缺5个钢筋工": the count written just before the trade
                hits = [f for f in items if 0 <= trade.start - f.end <= 1]
            if hits:
                own[name] = (hits[0].value, n != last)

    distinct = len(order)
    for code in order:
        draft = drafts[code]
        own = private[code]
        for name, items in (
            ("headcount", fields.headcounts),
            ("grade", fields.grades),
            ("price", fields.prices),
        ):
            if name in own:
                setattr(draft, name, own[name][0])
                continue
            before = [f for f in items if f.start < first_start]
            if before:
                setattr(draft, name, before[0].value)
                continue
            if name == "headcount" and distinct > 1:
                continue
            # a grade or price after the last trade is shared when no trade has its own
            others_private = any(
                name in private[c] and private[c][name][1] for c in order if c != code
            )
            shared = [private[c][name][0] for c in order if c != code and name in private[c]]
            if shared and not others_private:
                setattr(draft, name, shared[0])
            elif distinct == 1 and items:
                setattr(draft, name, items[0].value)
    return [drafts[code] for code in order]
