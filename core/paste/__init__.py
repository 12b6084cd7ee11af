"""Paste-to-post: read a labor post written as one chat line into posting drafts."""

from core.paste.parser import (
    PasteDraft,
    Price,
    monthly_amount,
    parse_paste,
    read_contact,
    read_price,
)

__all__ = ["PasteDraft", "Price", "monthly_amount", "parse_paste", "read_contact", "read_price"]
