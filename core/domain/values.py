"""Value objects and input validation (GB 11643 ID numbers, mobiles, money, counts, dates,
free text)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an
import phonenumbers
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from core.domain.enums import Gender
from core.domain.errors import ValidationError
from core.domain.timeutil import SHANGHAI

MIN_MONTHLY_PRICE = Decimal(100)
MAX_MONTHLY_PRICE = Decimal(100_000)
MAX_HEADCOUNT = 500
MAX_NAME_LEN = 30
MAX_TEXT_LEN = 500

# a per-month suffix after a price: "/月", "每月", "一个月", "/month", "per month", "块(钱)"
_PRICE_WORDS = re.compile(r"\s*(?:块钱?|元)?\s*(?:(?:/|每|一个|per)\s*)?(?:月|month)?$")
_DIALLED = re.compile(r"\+?\d+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def normalize_text(raw: str | None) -> str:
    """NFKC (full-width digits and letters to half-width), control characters removed,
    whitespace collapsed: the form every typed value is read in."""
    text = _CONTROL.sub("", unicodedata.normalize("NFKC", raw or ""))
    return " ".join(text.split())


def clean_text(
    raw: str | None, *, field: str, max_len: int = MAX_TEXT_LEN, required: bool = True
) -> str:
    """Normalize free text: NFKC, control characters removed, whitespace collapsed, capped."""
    text = normalize_text(raw)
    if required and not text:
        raise ValidationError("error.text_required", field=field)
    if len(text) > max_len:
        raise ValidationError("error.text_too_long", field=field, max=max_len)
    return text


def clean_person_name(raw: str | None, *, field: str = "name") -> str:
    """A real-looking person's name: 2..30 characters, at least two letters (CJK or Latin),
    nothing but letters, spaces and the dots, hyphens and apostrophes names carry."""
    name = clean_text(raw, field=field, max_len=MAX_NAME_LEN)
    letters = sum(ch.isalpha() for ch in name)
    if letters < 2 or not all(_name_character(ch) for ch in name):
        raise ValidationError("error.bad_name", field=field)
    return name


# 欧阳·娜娜, Mary-Jane O'Neil, J. Smith (NFKC has already turned full-width forms half-width)
_NAME_MARKS = frozenset(" ·•・‧.'-")


def _name_character(ch: str) -> bool:
    # combining marks (category M*) belong to the letter before them
    return ch.isalpha() or ch in _NAME_MARKS or unicodedata.category(ch).startswith("M")


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A mainland resident ID number (GB 11643-1999), validated by python-stdnum."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> IdNumber:
        text = (raw or "").strip().replace(" ", "").upper()
        value = ric.compact(text)
        if len(value) != 18:
            raise ValidationError("error.id_length")
        if not value[:-1].isdigit() or not (value[-1].isdigit() or value[-1] == "X"):
            raise ValidationError("error.id_invalid")
        if value[-1] != ric.calc_check_digit(value):
            raise ValidationError("error.id_checksum")
        try:
            birth = ric.get_birth_date(value)
        except InvalidComponent as exc:
            raise ValidationError("error.id_birth_date") from exc
        # stdnum's own place check also demands the code existed in the birth year, which
        # rejects valid IDs issued later to people born earlier: only the code must exist.
        if not _known_region(value[:6]):
            raise ValidationError("error.id_region")
        if birth > datetime.now(SHANGHAI).date():
            raise ValidationError("error.id_birth_date")
        return cls(value)

    @property
    def birth_date(self) -> date:
        return ric.get_birth_date(self.value)

    @property
    def gender(self) -> Gender:
        return Gender.MALE if int(self.value[16]) % 2 == 1 else Gender.FEMALE

    @property
    def region_code(self) -> str:
        return self.value[:6]

    @property
    def masked(self) -> str:
        return mask_id(self.value)


def _known_region(code: str) -> bool:
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def mask_id(value: str) -> str:
    """First 6 + last 4, the common practice for showing an ID number."""
    return f"{value[:6]}********{value[-4:]}"


def parse_mobile(raw: str) -> str:
    """A mainland mobile number as 11 digits; +86 / 0086 / spaces / dashes are stripped."""
    text = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw or ""))
    if not _DIALLED.fullmatch(text):
        # phonenumbers would skip leading letters: "李明13800138000" is no phone number
        raise ValidationError("error.phone")
    if text.startswith("0086"):
        text = "+86" + text[4:]
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("error.phone") from exc
    national = str(number.national_number)
    if (
        number.country_code != 86
        or len(national) != 11
        or not national.startswith("1")
        or phonenumbers.number_type(number)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    ):
        raise ValidationError("error.phone")
    return national


def mask_phone(value: str) -> str:
    return f"{value[:3]}****{value[-4:]}" if len(value) >= 7 else "****"


def parse_price(raw: str | Decimal | int) -> Decimal:
    """A monthly price in CNY: Decimal with at most 2 places, 100..100000."""
    if isinstance(raw, str):
        # "5500", "5,500元", and the way prices are shown back: "¥5,500/月", "5500元/月"
        text = unicodedata.normalize("NFKC", raw).strip().lower()
        text = _PRICE_WORDS.sub("", text.removeprefix("月薪"))
        text = text.replace(",", "").replace("元", "").replace("¥", "").replace(" ", "")
        value = _spoken_amount(text)
    else:
        value = Decimal(raw)
    if not value.is_finite():
        raise ValidationError("error.price_not_number")
    if value < MIN_MONTHLY_PRICE or value > MAX_MONTHLY_PRICE:
        raise ValidationError(
            "error.price_range", min=int(MIN_MONTHLY_PRICE), max=int(MAX_MONTHLY_PRICE)
        )
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# "8千", "8k", "7.5千", "8千5" (8500), "1万", "1万2" (12000), "五千五" (5500): how foremen
# say a monthly wage
_SCALED = re.compile(r"(\d+(?:\.\d+)?)([千k万w])(\d?)")
_SCALE = {"千": 1000, "k": 1000, "万": 10000, "w": 10000}


def _spoken_amount(text: str) -> Decimal:
    try:
        if scaled := _SCALED.fullmatch(text):
            number, unit, next_digit = scaled.groups()
            scale = _SCALE[unit]
            return Decimal(number) * scale + Decimal(next_digit or 0) * scale / 10
        return Decimal(text)
    except InvalidOperation as exc:
        if (spoken := _chinese_count(text)) is not None:  # 五千五, 一万二, 八千五百
            return Decimal(spoken)
        raise ValidationError("error.price_not_number") from exc


def price_to_fen(value: Decimal) -> int:
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def fen_to_price(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _chinese_count(text: str) -> int | None:
    """ "五" → 5, "两" → 2, "三十五" → 35, "五百" → 500 (cn2an); None when not a whole number."""
    try:
        value = cn2an.cn2an(text, "normal")
    except ValueError:
        return None
    return int(value) if value == int(value) else None


def parse_headcount(raw: str | int, *, maximum: int = MAX_HEADCOUNT) -> int:
    """A positive whole number of workers, at most `maximum`."""
    if isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip().removesuffix("人").strip()
        text = text.removesuffix("个").removesuffix("名").strip()
        value = int(text) if text.isdecimal() else _chinese_count(text)
        if value is None:
            raise ValidationError("error.headcount_not_number")
    else:
        value = int(raw)
    if value < 1 or value > maximum:
        raise ValidationError("error.headcount_range", min=1, max=maximum)
    return value


def percent_off(value: Decimal, reference: Decimal) -> Decimal:
    """Signed distance of `value` from `reference` in percent of the reference."""
    if reference == 0:
        return Decimal(0)
    return ((value - reference) / reference * 100).quantize(Decimal("0.1"))


# --- a typed day -------------------------------------------------------------------------------

# "2026-12-20", "2026/12/20", "2026.12.20", "2026年12月20日"; "12-20", "12/20", "12月20日",
# "12月20号"; "20号", "20日" (this month's or next month's)
_FULL_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?")
_COMPACT_DATE = re.compile(r"\d{8}")
_MONTH_DAY = re.compile(r"(\d{1,2})[-/.月](\d{1,2})[日号]?")
_DAY_ONLY = re.compile(r"(\d{1,2})[日号]")
_RELATIVE_DAYS = {
    "前天": -2, "昨天": -1, "昨日": -1, "yesterday": -1, "今天": 0, "今日": 0, "today": 0,
    "明天": 1, "明日": 1, "tomorrow": 1, "后天": 2,
}  # fmt: skip
_CN_NUMERAL = re.compile(r"[〇零一二两三四五六七八九十]")


def parse_day(raw: str | None, today: date | None, *, error: str = "error.date_format") -> date:
    """A calendar day as people type it on a phone: a full date, a month and day, a day of the
    month ("20号"), Chinese numerals ("十二月二十日"), or 今天 / 明天 / 后天 / 昨天 / 前天.
    Without a year the day nearest `today` is meant (Dec 2 → "1月5日" is next January's,
    "11月30日" last week's); a day alone is this month's or next month's, the nearer. With
    `today` None only a full date is read. Whether the day is allowed is the caller's rule;
    an unreadable one raises ValidationError(`error`)."""
    text = normalize_text(raw).replace(" ", "").lower()
    if _CN_NUMERAL.search(text) and re.search(r"[年月日号]", text):
        try:
            text = str(cn2an.transform(text, "cn2an"))
        except (ValueError, KeyError):
            raise ValidationError(error) from None
    if _COMPACT_DATE.fullmatch(text):  # 20261201
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        if found := _FULL_DATE.fullmatch(text):
            return date(int(found[1]), int(found[2]), int(found[3]))
        if today is None:
            raise ValidationError(error)
        if text in _RELATIVE_DAYS:
            return today + timedelta(days=_RELATIVE_DAYS[text])
        if found := _MONTH_DAY.fullmatch(text):
            month, day = int(found[1]), int(found[2])
            years = (today.year - 1, today.year, today.year + 1)
            return _nearest((_day_or_none(y, month, day) for y in years), today, error)
        if found := _DAY_ONLY.fullmatch(text):
            day = int(found[1])
            months = [_shift_month(today, n) for n in (0, 1)]
            return _nearest((_day_or_none(y, m, day) for y, m in months), today, error)
    except ValueError:
        raise ValidationError(error) from None
    raise ValidationError(error)


def _day_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _shift_month(today: date, months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def _nearest(days: Iterable[date | None], today: date, error: str) -> date:
    """The candidate closest to today; on a tie the later one (plans are about the future)."""
    found = [d for d in days if d is not None]
    if not found:
        raise ValidationError(error)
    return min(found, key=lambda d: (abs((d - today).days), d < today))
