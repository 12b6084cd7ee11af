"""Telegram's HTML parse mode: markup in, plain text plus MessageEntity dicts out.

Mirrors what the Bot API accepts and how it words refusals (tdlib's parse_html), so a bot that
forgets to escape "<" in user data fails here the way it would in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

ALLOWED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "span",
        "tg-spoiler", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\n\r\f\v"
_BOT_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


class EntityParseError(ValueError):
    """The markup is not what Telegram accepts; str() is tdlib's wording."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int  # UTF-16 offset in the output where the entity starts
    out_index: int  # index into the output pieces, to recover the text of <a> without href


class _TelegramHTML(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self._source = source
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(source) if ch == "\n"]
        self.pieces: list[str] = []
        self._u16 = 0
        self.open_tags: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    # -- positions -------------------------------------------------------------------------
    def _index(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def _byte(self, index: int) -> int:
        return len(self._source[:index].encode("utf-8"))

    def _raw_tag_name(self, index: int) -> str:
        end = index + 1
        while end < len(self._source) and self._source[end] not in _SPACE + ">":
            end += 1
        return self._source[index + 1 : end].lower()

    def _emit(self, text: str) -> None:
        self.pieces.append(text)
        self._u16 += utf16_len(text)

    # -- tokens ----------------------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        lt = data.find("<")
        if lt >= 0:
            self._stray_lt(self._index() + lt)
        self._emit(data)

    def _stray_lt(self, index: int) -> None:
        # html.parser passes a "<" that does not open a well-formed tag through as text;
        # Telegram treats every "<" as markup and refuses
        pos = self._byte(index)
        rest = self._source[index + 1 :]
        if rest.startswith("/"):
            if not self.open_tags:
                raise EntityParseError(f"Unexpected end tag at byte offset {pos}")
            raise EntityParseError(f"Unclosed end tag at byte offset {pos}")
        name = self._raw_tag_name(index)
        if index + 1 + len(name) >= len(self._source):
            raise EntityParseError(f"Unclosed start tag at byte offset {pos}")
        if name not in ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {pos}')
        # a known tag html.parser could not finish, e.g. '<a href' at the very end
        raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {pos}')

    def _unsupported_here(self) -> None:
        index = self._index()
        name = self._raw_tag_name(index)
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {self._byte(index)}'
        )

    def handle_comment(self, data: str) -> None:
        self._unsupported_here()

    def handle_decl(self, decl: str) -> None:
        self._unsupported_here()

    def handle_pi(self, data: str) -> None:
        self._unsupported_here()

    def unknown_decl(self, data: str) -> None:
        self._unsupported_here()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._unsupported_here()  # "<b/>": Telegram reads the tag name "b/"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        index = self._index()
        pos = self._byte(index)
        if tag not in ALLOWED_TAGS or self._raw_tag_name(index) != tag:
            raise EntityParseError(
                f'Unsupported start tag "{self._raw_tag_name(index)}" at byte offset {pos}'
            )
        argument = ""
        for name, value in attrs:
            value = value or ""
            if tag == "a" and name == "href":
                argument = value
            elif tag == "code" and name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[3:]
            elif tag == "tg-emoji" and name == "emoji-id":
                argument = value
            elif tag == "blockquote" and name == "expandable":
                argument = "1"
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {pos}')
        self.open_tags.append(_Open(tag, argument, self._u16, len(self.pieces)))

    def handle_endtag(self, tag: str) -> None:
        pos = self._byte(self._index())
        if not self.open_tags:
            raise EntityParseError(f"Unexpected end tag at byte offset {pos}")
        top = self.open_tags[-1]
        if tag != top.tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {pos}, expected "</{top.tag}>", '
                f'found "</{tag}>"'
            )
        self.open_tags.pop()
        length = self._u16 - top.offset
        if length > 0:
            self._close_entity(top, length)

    def _close_entity(self, top: _Open, length: int) -> None:
        entity: dict[str, Any] = {"offset": top.offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and last["offset"] == top.offset and last["length"] == length
        if top.tag in _SIMPLE:
            entity["type"] = _SIMPLE[top.tag]
        elif top.tag == "tg-emoji":
            if not top.argument.isdigit() or int(top.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=top.argument)
        elif top.tag == "blockquote":
            entity["type"] = "expandable_blockquote" if top.argument else "blockquote"
        elif top.tag == "a":
            url = top.argument or "".join(self.pieces[top.out_index :])
            user_id = _link_user_id(url)
            if user_id is not None:
                entity.update(type="text_mention", user={"id": user_id, "is_bot": False})
            else:
                checked = _checked_link(url)
                if checked is None:
                    return  # Telegram silently drops links it can't use
                entity.update(type="text_link", url=checked)
        elif top.tag == "code":
            if same_span and last is not None and last["type"] == "pre" and top.argument:
                last["language"] = top.argument
                return
            entity["type"] = "code"
            if top.argument:
                entity["language"] = top.argument  # kept only if a <pre> wraps it, see below
        elif top.tag == "pre":
            if same_span and last is not None and last["type"] == "code" and "language" in last:
                last["type"] = "pre"
                return
            entity["type"] = "pre"
        self.entities.append(entity)

    def handle_entityref(self, name: str) -> None:
        if name in _NAMED:
            self._emit(_NAMED[name])
            return
        # unsupported named entities stay as typed, like Telegram does
        index = self._index()
        end = index + 1 + len(name)
        if end < len(self._source) and self._source[end] == ";":
            end += 1
        self._emit(self._source[index:end])

    def handle_charref(self, name: str) -> None:
        index = self._index()
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
        except ValueError:
            code = 0
        if code == 0 or code >= 0x10FFFF:
            end = index + 2 + len(name)
            if end < len(self._source) and self._source[end] == ";":
                end += 1
            self._emit(self._source[index:end])
            return
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        self._emit(chr(code))


def _link_user_id(url: str) -> int | None:
    match = re.fullmatch(r"tg://user\?id=(\d{1,19})", url.strip())
    return int(match.group(1)) if match else None


def _checked_link(url: str) -> str | None:
    url = url.strip()
    if not url or any(ch in url for ch in _SPACE):
        return None
    if "://" not in url and not url.startswith(("tg:", "mailto:")):
        url = "http://" + url
    return url


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Markup → (text, entities) with UTF-16 offsets; raises EntityParseError like Telegram."""
    parser = _TelegramHTML(markup)
    parser.feed(markup)
    parser.close()
    if parser.open_tags:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{parser.open_tags[-1].tag}"'
        )
    for entity in parser.entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return "".join(parser.pieces), sort_entities(parser.entities)


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace as Telegram does, moving and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def detect_bot_commands(text: str) -> list[dict[str, Any]]:
    """bot_command entities Telegram adds to what a user types."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group(0)),
        }
        for m in _BOT_COMMAND.finditer(text)
    ]
