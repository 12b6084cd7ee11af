"""Telegram's HTML parse mode, as the emulator applies it (wording from tdlib's parse_html)."""

from __future__ import annotations

import pytest

from sandbox.entities import EntityParseError, detect_bot_commands, parse_html, strip_text


def test_allowed_tags_become_entities_with_utf16_offsets() -> None:
    text, entities = parse_html(
        "😀<b>晋工</b> <i>调度</i> <u>u</u> <s>s</s> <tg-spoiler>x</tg-spoiler>"
    )

    assert text == "😀晋工 调度 u s x"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 2, 2),  # the emoji takes two UTF-16 code units
        ("italic", 5, 2),
        ("underline", 8, 1),
        ("strikethrough", 10, 1),
        ("spoiler", 12, 1),
    ]


def test_synonym_tags_map_to_the_same_entities() -> None:
    _, entities = parse_html(
        "<strong>a</strong><em>b</em><ins>c</ins><strike>d</strike><del>e</del>"
    )

    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "strikethrough",
    ]


def test_links_mentions_code_and_quotes_carry_their_arguments() -> None:
    text, entities = parse_html(
        '<a href="https://example.org/?a=1&amp;b=2">站点</a> <a href="tg://user?id=42">王工</a> '
        '<pre><code class="language-python">x = 1</code></pre><code>y</code>'
        "<blockquote expandable>引用</blockquote>"
    )

    assert text == "站点 王工 x = 1y引用"
    assert entities[0] == {
        "offset": 0,
        "length": 2,
        "type": "text_link",
        "url": "https://example.org/?a=1&b=2",
    }
    assert entities[1]["type"] == "text_mention"
    assert entities[1]["user"]["id"] == 42
    assert {"type": "pre", "offset": 6, "length": 5, "language": "python"} in entities
    assert {"type": "code", "offset": 11, "length": 1} in entities
    assert entities[-1]["type"] == "expandable_blockquote"


def test_only_four_named_entities_are_decoded_and_numeric_ones_always() -> None:
    text, _ = parse_html("&lt;&gt;&amp;&quot; &#26187;&#x5DE5; &nbsp; & alone")

    assert text == '<>&" 晋工 &nbsp; & alone'


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("<b/>", 'Unsupported start tag "b/" at byte offset 0'),
        ("<!-- note -->", 'Unsupported start tag "!--" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_markup_telegram_refuses_is_refused_with_its_wording(markup: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(markup)

    assert str(caught.value) == error


def test_user_data_escaped_with_aiogram_quote_parses_back_to_what_was_typed() -> None:
    from aiogram import html

    typed = '王<工> & 李 "调度" </b>'

    text, entities = parse_html(f"姓名: {html.bold(html.quote(typed))}")

    assert text == f"姓名: {typed}"
    assert entities == [{"offset": 4, "length": len(typed), "type": "bold"}]


def test_surrounding_whitespace_is_trimmed_and_entities_follow() -> None:
    text, entities = strip_text(*parse_html("\n  <b> 加粗</b> 尾  \n"))

    assert text == "加粗 尾"
    assert entities == [{"offset": 0, "length": 2, "type": "bold"}]


def test_commands_a_user_types_get_bot_command_entities() -> None:
    assert detect_bot_commands("/start abc") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert detect_bot_commands("see /help@jingong_bot now") == [
        {"type": "bot_command", "offset": 4, "length": 17}
    ]
    assert detect_bot_commands("1/2 and http://x/y") == []
