"""`jingong parse [--json] TEXT|-`: read labor posts as written in chat groups into drafts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from core.paste import PasteDraft, parse_paste
from core.paste.lexicon import lexicon


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="read a WeChat-style labor post into posting drafts",
        description='Read a labor post as foremen write it in chat groups ("急招钢筋工5人，'
        '中级，小店区，8000/月，联系张工13912345678") into drafts: kind, trade, grade, '
        "headcount, region, price, contact. Nothing is written to the database.",
    )
    parser.add_argument(
        "text",
        metavar="TEXT",
        help="the message; `-` reads one message per line from standard input",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per message: its first draft, or {"kind": null} when the '
        "message is not a labor post",
    )
    parser.set_defaults(handler=run_parse)


def run_parse(args: argparse.Namespace) -> int:
    messages = _stdin_lines() if args.text == "-" else [args.text]
    try:
        _print_drafts(messages, as_json=args.json)
    except BrokenPipeError:
        # the reader stopped early (`| head`): not an error, and nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _print_drafts(messages: list[str], *, as_json: bool) -> None:
    for message in messages:
        drafts = parse_paste(message)
        if as_json:
            first = drafts[0].as_dict() if drafts else {"kind": None}
            print(json.dumps(first, ensure_ascii=False), flush=True)
        elif not drafts:
            print("not a labor post")
        else:
            for draft in drafts:
                print(describe(draft))


def _stdin_lines() -> list[str]:
    data = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    return data.splitlines()


def describe(draft: PasteDraft) -> str:
    """One line for a person reading the terminal; the fields it did not find show as "?"."""
    region = lexicon().regions_by_code.get(draft.region or "")
    parts = [
        draft.kind,
        draft.trade,
        f"grade {draft.grade}" if draft.grade else "grade ?",
        f"{draft.headcount} workers" if draft.headcount else "? workers",
        f"{draft.region} {region.name_zh}" if region else "region ?",
        f"{draft.price.amount} yuan/{draft.price.per}" if draft.price else "price ?",
        " ".join(filter(None, (draft.contact_name, draft.phone))) or "contact ?",
    ]
    return " · ".join(parts)
