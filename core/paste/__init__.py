"""Paste-to-post: read a labor post written as one chat line into posting drafts."""

from core.paste.parser import PasteDraft, Price, parse_paste

__all__ = ["PasteDraft", "Price", "parse_paste"]
