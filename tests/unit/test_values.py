from datetime import date
from decimal import Decimal

import pytest

from core.domain.enums import Gender
from core.domain.errors import ValidationError
from core.domain.values import (
    IdNumber,
    clean_person_name,
    clean_text,
    parse_day,
    parse_headcount,
    parse_mobile,
    parse_price,
)


@pytest.mark.parametrize(
    ("raw", "gender"), [("11010519491231002X", Gender.FEMALE), ("440524188001010014", Gender.MALE)]
)
def test_valid_id_numbers_parse_with_gender_and_masking(raw: str, gender: Gender) -> None:
    number = IdNumber.parse(raw)
    assert number.gender is gender
    assert number.masked == raw[:6] + "********" + raw[-4:]


def test_lower_case_x_is_accepted() -> None:
    assert IdNumber.parse("11010519491231002x").value == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("4430219504243121", "error.id_length"),  # 16 digits, from the seed
        ("44302195032020190", "error.id_length"),  # 17 digits, from the seed
        ("110105194912310021", "error.id_checksum"),
        ("110105194913310021", "error.id_birth_date"),  # month 13
        ("110105209912310029", "error.id_birth_date"),  # in the future
        ("11010519491231002Y", "error.id_invalid"),
        ("999999194912310025", "error.id_region"),
    ],
)
def test_bad_id_numbers_are_refused_with_a_reason(raw: str, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        IdNumber.parse(raw)
    assert err.value.key == key


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+86 138 0013 8000",
        "0086-138-0013-8000",
        "(+86) 138-0013-8000",
        "138 0013 8000",
        "８６１３８００１３８０００",  # full-width, with the country code
        "+8613800138000",
    ],
)
def test_mobiles_are_normalized(raw: str) -> None:
    assert parse_mobile(raw) == "13800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "11",
        "111",
        "1",
        "23800138000",
        "12345678901",
        "abc",
        "",
        "李明13800138000",  # a name is no part of a phone number
        "tel:13800138000",
        "13800138000 ext 12",
        "+86+13800138000",
    ],
)
def test_bad_mobiles_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_mobile(raw)
    assert err.value.key == "error.phone"


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("5500", "5500.00"),
        ("5,500", "5500.00"),
        ("６０００", "6000.00"),  # full-width digits
        ("7500元", "7500.00"),
        ("¥5,500/月", "5500.00"),  # the way prices are shown back
        ("5500元/月", "5500.00"),
        ("5500/月", "5500.00"),
        ("5500块", "5500.00"),
        ("月薪5500", "5500.00"),
        ("5500 per month", "5500.00"),
        ("5500.5", "5500.50"),
        ("8千", "8000.00"),  # as foremen say it
        ("8千元/月", "8000.00"),
        ("7.5千", "7500.00"),
        ("8千5", "8500.00"),
        ("8k", "8000.00"),
        ("8K", "8000.00"),
        ("1万", "10000.00"),
        ("1万2", "12000.00"),
        ("五千", "5000.00"),  # in Chinese numerals, as said aloud
        ("五千五", "5500.00"),
        ("八千五百元", "8500.00"),
        ("一万二", "12000.00"),
        ("100", "100.00"),  # the bounds themselves
        ("100000", "100000.00"),
    ],
)
def test_monthly_prices_are_read_as_people_type_them(typed: str, value: str) -> None:
    assert parse_price(typed) == Decimal(value)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("11", "error.price_range"),  # the seed's junk price
        ("99.99", "error.price_range"),
        ("100000.01", "error.price_range"),
        ("1000000000", "error.price_range"),
        ("20万", "error.price_range"),
        ("-5500", "error.price_range"),
        ("abc", "error.price_not_number"),
        ("NaN", "error.price_not_number"),
        ("Infinity", "error.price_not_number"),
        ("面议", "error.price_not_number"),
        ("二十万", "error.price_range"),
        ("8千千", "error.price_not_number"),
        ("", "error.price_not_number"),
    ],
)
def test_bad_prices_are_refused_with_a_reason(typed: str, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_price(typed)
    assert err.value.key == key


def test_price_is_decimal_within_bounds() -> None:
    assert parse_price("5,500") == Decimal("5500.00")
    assert parse_price("６０００") == Decimal("6000.00")
    for shown in ("¥5,500/月", "5500元/月", "5500/月", "5500块", "月薪5500", "5500 per month"):
        assert parse_price(shown) == Decimal("5500.00"), shown
    for bad, key in (
        ("11", "error.price_range"),
        ("1000000000", "error.price_range"),
        ("abc", "error.price_not_number"),
        ("NaN", "error.price_not_number"),
    ):
        with pytest.raises(ValidationError) as err:
            parse_price(bad)
        assert err.value.key == key


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("12", 12),
        ("１２", 12),
        (" 8 ", 8),
        ("8人", 8),
        ("8名", 8),
        ("8个", 8),
        ("五", 5),
        ("两", 2),
        ("两个", 2),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("三十五人", 35),
        ("一百二十", 120),
        ("五百", 500),  # the walk found it refused as "not a whole number"
        ("500", 500),
        (7, 7),
    ],
)
def test_headcounts_are_read_in_digits_or_chinese_numerals(typed: str | int, value: int) -> None:
    assert parse_headcount(typed) == value


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("0", "error.headcount_range"),
        ("501", "error.headcount_range"),
        (0, "error.headcount_range"),
        ("five", "error.headcount_not_number"),
        ("-3", "error.headcount_not_number"),
        ("2.5", "error.headcount_not_number"),
        ("零", "error.headcount_range"),
        ("五百零一", "error.headcount_range"),
        ("二点五", "error.headcount_not_number"),
        ("", "error.headcount_not_number"),
    ],
)
def test_bad_headcounts_are_refused_with_a_reason(typed: str | int, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_headcount(typed)
    assert err.value.key == key


def test_headcount_upper_bound_can_be_the_open_places() -> None:
    assert parse_headcount("3", maximum=3) == 3
    with pytest.raises(ValidationError) as err:
        parse_headcount("4", maximum=3)
    assert err.value.params == {"min": 1, "max": 3}


@pytest.mark.parametrize(
    "name", ["张伟", "欧阳·娜娜", "Li Ming", "Mary-Jane O'Neil", "J. Smith", "阿卜杜·热合曼"]
)
def test_real_looking_names_are_accepted(name: str) -> None:
    assert clean_person_name(name) == name


@pytest.mark.parametrize(
    "junk", ["11", "111", "z", "", "张", "张三!", "王<b>&东", "🙂🙂", "李四2", "a.", "x" * 31]
)
def test_names_that_are_no_persons_name_are_refused(junk: str) -> None:
    with pytest.raises(ValidationError) as err:
        clean_person_name(junk)
    assert err.value.key in ("error.bad_name", "error.text_required", "error.text_too_long")


def test_headcount_bounds() -> None:
    assert parse_headcount("12") == 12
    for typed, value in (("五", 5), ("两个", 2), ("十二", 12), ("三十五人", 35), ("8名", 8)):
        assert parse_headcount(typed) == value, typed
    for bad, key in (
        ("0", "error.headcount_range"),
        ("10000", "error.headcount_range"),
        ("five", "error.headcount_not_number"),
        ("-3", "error.headcount_not_number"),
    ):
        with pytest.raises(ValidationError) as err:
            parse_headcount(bad)
        assert err.value.key == key


def test_free_text_is_cleaned_and_capped() -> None:
    assert clean_text("  张\x00三  ", field="name") == "张三"
    with pytest.raises(ValidationError) as err:
        clean_text("x" * 5000, field="contact", max_len=30)
    assert err.value.key == "error.text_too_long"


def test_seed_junk_contact_names_are_refused() -> None:
    for junk in ("11", "111", "z", ""):
        with pytest.raises(ValidationError):
            clean_person_name(junk)
    assert clean_person_name("张伟") == "张伟"


# --- a typed day (one reader for start dates, release / end dates, date ranges) ---------------

DEC_2 = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-12-20", date(2026, 12, 20)),
        ("2026/12/20", date(2026, 12, 20)),
        ("2026年12月20日", date(2026, 12, 20)),
        ("12月20日", date(2026, 12, 20)),
        ("12月20号", date(2026, 12, 20)),
        ("12/20", date(2026, 12, 20)),
        ("12-20", date(2026, 12, 20)),
        ("１２／２０", date(2026, 12, 20)),  # full-width, from a Chinese keyboard
        ("十二月二十日", date(2026, 12, 20)),
        ("20号", date(2026, 12, 20)),  # this month's
        ("1号", date(2026, 12, 1)),  # yesterday, nearer than next month's
        ("明天", date(2026, 12, 3)),
        ("后天", date(2026, 12, 4)),
        ("今天", DEC_2),
        ("昨天", date(2026, 12, 1)),
        ("Tomorrow", date(2026, 12, 3)),
        ("1月5日", date(2027, 1, 5)),  # no year: the nearest, next January
        ("11月30日", date(2026, 11, 30)),  # … or last week
        (" 3 - 4 ", date(2027, 3, 4)),
    ],
)
def test_a_day_is_read_as_people_type_it(typed: str, day: date) -> None:
    assert parse_day(typed, DEC_2) == day


def test_a_day_alone_late_in_the_month_is_next_months() -> None:
    assert parse_day("3号", date(2026, 12, 30)) == date(2027, 1, 3)


@pytest.mark.parametrize(
    "typed",
    ["", "下周", "12月", "2月30日", "2026-02-30", "2026-13-01", "32号", "明天吧", "12/20/2026"],
)
def test_an_unreadable_day_is_a_validation_error_with_the_callers_key(typed: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_day(typed, DEC_2, error="error.my_key")
    assert err.value.key == "error.my_key"


def test_without_today_only_a_full_date_is_read() -> None:
    assert parse_day("2026-12-20", None) == date(2026, 12, 20)
    for typed in ("12/20", "明天"):
        with pytest.raises(ValidationError):
            parse_day(typed, None)
