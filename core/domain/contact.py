"""A posting's contact as people type it: "name phone" in either order, with or without a space,
the phone's digit groups separated by spaces or dashes, with or without +86 / 0086."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.domain.errors import ValidationError
from core.domain.values import clean_person_name, normalize_text, parse_mobile

# a run of digits split by spaces, dashes or brackets, maybe with a leading "+": "(+86) 138-…"
_DIGIT_RUN = re.compile(r"\(?\+?\d(?:[\s\-()]*\d)*")
# fewer digits than this is not a try at a phone number (the seed's junk "11 11" is a bad name)
_PHONE_MIN_DIGITS = 7
# words people put around the values: "联系人：李明 电话：138…", "name: Li Ming, tel 138…"
_LABELS = re.compile(
    r"联系人|联系电话|姓名|手机号码|手机号|手机|电话|\b(?:tel|phone|mobile|name)\b", re.I
)
_SEPARATORS = re.compile(r"[\s,，;；:：/|、()]+")
_FIELD = "contact_name"


@dataclass(frozen=True, slots=True)
class Contact:
    """A validated contact person: a real-looking name and an 11-digit mainland mobile."""

    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class TypedContact:
    """What one message held: each part validated, either may be missing."""

    name: str | None
    phone: str | None


def own_contact(display_name: str | None, phone: str | None) -> Contact | None:
    """An account's own name and phone as a contact, when both pass a posting's checks."""
    if not phone:
        return None
    try:
        return Contact(clean_person_name(display_name, field=_FIELD), parse_mobile(phone))
    except ValidationError:
        return None


def split_contact(raw: str | None) -> TypedContact:
    """Find the name and the phone in one typed message; raise on a part that is malformed."""
    # not capped as a whole: the name's own cap (30 characters) is the one to report
    text = normalize_text(raw)
    runs = [m for m in _DIGIT_RUN.finditer(text) if _digits(m.group()) >= _PHONE_MIN_DIGITS]
    if len(runs) > 1 or (runs and _numbers_in(runs[0].group()) > 1):
        raise ValidationError("error.contact_two_phones")
    phone = parse_mobile(runs[0].group()) if runs else None
    rest = text[: runs[0].start()] + " " + text[runs[0].end() :] if runs else text
    rest = " ".join(_SEPARATORS.split(_LABELS.sub(" ", rest))).strip()
    name = clean_person_name(rest, field=_FIELD) if rest else None
    if name is None and phone is None:
        raise ValidationError("error.contact_required")
    return TypedContact(name, phone)


def parse_contact(raw: str | None, *, own: Contact | None = None) -> Contact:
    """One message to a complete contact. A part typed alone is completed from `own` (the
    account's profile) only when it is the account's own, so a stranger's name never stands
    next to the dispatcher's phone, nor the dispatcher's name next to a stranger's phone."""
    typed = split_contact(raw)
    if typed.name is not None and typed.phone is not None:
        return Contact(typed.name, typed.phone)
    if typed.phone is not None:
        if own is not None and typed.phone == own.phone:
            return own
        raise ValidationError("error.contact_needs_name")
    if own is not None and typed.name == own.name:
        return own
    raise ValidationError("error.contact_needs_phone")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _numbers_in(run: str) -> int:
    """ "13800138000 13900001111" is two numbers; "138 0013 8000" and "+86 138…" are one."""
    return sum(_digits(group) >= _PHONE_MIN_DIGITS for group in run.split())
