"""One contact parser for every flow: "name phone" in either order, spaced or not."""

import pytest

from core.domain.contact import Contact, TypedContact, own_contact, parse_contact, split_contact
from core.domain.errors import ValidationError

LI_MING = Contact("李明", "13800138000")
OWN = Contact("李调度", "13912345678")


@pytest.mark.parametrize(
    "typed",
    [
        # the three ways issue 10 found refused or mis-stored
        "李明13800138000",
        "李明 138 0013 8000",
        "13800138000李明",
        # phone groups with dashes, the name after
        "138-0013-8000 李明",
        "李明 13800138000",
        "李明，13800138000",
        "李明：+86 138 0013 8000",
        "0086-138-0013-8000 李明",
        "+8613800138000李明",
        "联系人：李明 电话：13800138000",
        "李明 手机 138-0013-8000",
        "  李明\t13800138000\n",
        "李明１３８００１３８０００",  # full-width digits from a Chinese keyboard
        "李\u200b明 13800138000",  # a zero-width space pasted in
        "(+86) 138-0013-8000 李明",
        "李明（13800138000）",  # full-width brackets
    ],
)
def test_name_and_phone_are_found_in_either_order_with_or_without_spaces(typed: str) -> None:
    assert parse_contact(typed) == LI_MING
    assert parse_contact(typed, own=OWN) == LI_MING  # a typed pair always wins over the profile


@pytest.mark.parametrize(
    ("typed", "contact"),
    [
        ("Li Ming 13800138000", Contact("Li Ming", "13800138000")),
        ("+86 138 0013 8000, Li Ming", Contact("Li Ming", "13800138000")),
        ("name: Mary-Jane O'Neil tel: 13800138000", Contact("Mary-Jane O'Neil", "13800138000")),
        ("欧阳·娜娜 13800138000", Contact("欧阳·娜娜", "13800138000")),
    ],
)
def test_latin_and_compound_names_are_kept_as_typed(typed: str, contact: Contact) -> None:
    assert parse_contact(typed) == contact


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("11 11", "error.bad_name"),  # the seed's junk contact
        ("李四 12345678", "error.phone"),  # 8 digits
        ("李四 23800138000", "error.phone"),  # does not start with 1
        ("李四 1380013800", "error.phone"),  # 10 digits
        ("李四 13800138000 13900001111", "error.contact_two_phones"),
        ("李四 13800138000，13900001111", "error.contact_two_phones"),
        ("李 13800138000", "error.bad_name"),  # one character is no name
        ("张三!! 13800138000", "error.bad_name"),
        ("🙂🙂 13800138000", "error.bad_name"),
        ("李四2号 13800138000", "error.bad_name"),  # a short number inside the name
        ("x" * 31 + " 13800138000", "error.text_too_long"),  # the length cap
        ("", "error.contact_required"),
        ("  ，；  ", "error.contact_required"),
        ("\x00\x01", "error.contact_required"),
        ("13800138000", "error.contact_needs_name"),  # a stranger's phone without a name
        ("王五", "error.contact_needs_phone"),  # a name without a phone, no profile
    ],
)
def test_a_malformed_contact_is_refused_with_a_reason(typed: str, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_contact(typed)
    assert err.value.key == key


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [
        ("李调度", OWN),  # the account's own name: its own phone goes with it
        ("13912345678", OWN),  # the account's own phone: its own name goes with it
        ("139 1234 5678", OWN),
        ("王五", "error.contact_needs_phone"),  # a stranger's name never gets the own phone
        ("13800138000", "error.contact_needs_name"),  # nor a stranger's phone the own name
    ],
)
def test_a_part_typed_alone_is_completed_from_the_profile_only_when_it_is_the_own(
    typed: str, outcome: Contact | str
) -> None:
    if isinstance(outcome, Contact):
        assert parse_contact(typed, own=OWN) == outcome
        return
    with pytest.raises(ValidationError) as err:
        parse_contact(typed, own=OWN)
    assert err.value.key == outcome


@pytest.mark.parametrize(
    ("typed", "parts"),
    [
        ("王五", TypedContact("王五", None)),
        ("138 0013 8000", TypedContact(None, "13800138000")),
        ("王五 13800138000", TypedContact("王五", "13800138000")),
    ],
)
def test_split_contact_reports_which_parts_were_typed(typed: str, parts: TypedContact) -> None:
    assert split_contact(typed) == parts


@pytest.mark.parametrize(
    ("name", "phone", "contact"),
    [
        ("李调度", "13912345678", OWN),
        ("李调度", "+86 139 1234 5678", OWN),
        ("李调度", None, None),  # no phone on the profile
        ("🙂", "13912345678", None),  # a Telegram name that is no person's name
        ("李调度", "12345", None),
    ],
)
def test_own_contact_is_the_profile_when_it_would_pass_a_postings_checks(
    name: str, phone: str | None, contact: Contact | None
) -> None:
    assert own_contact(name, phone) == contact
