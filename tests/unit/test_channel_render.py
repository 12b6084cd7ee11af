"""Channel formats: platform size limits, splitting, the chart and workbook per platform."""

from __future__ import annotations

import base64
import hashlib

from core.channels.render import (
    DINGTALK_MARKDOWN_BYTES,
    WECOM_MARKDOWN_BYTES,
    Content,
    dingtalk_parts,
    to_markdown,
    wecom_parts,
)

LINES = ["<b>📊 太原市 用工调度日报</b>"] + [
    f"• 山西五建集团有限公司 &amp; 分公司 · 小店区第{i}项目 · 模板工 2 人 · 已 {i} 天"
    for i in range(400)
]


def test_markdown_keeps_bold_and_decodes_entities() -> None:
    assert to_markdown("<b>合计</b>：A &amp; B") == "**合计**：A & B"


def test_a_name_cannot_open_markdown_or_html_of_its_own() -> None:
    line = "• **晋*建** &lt;font color=&quot;red&quot;&gt;公司&lt;/font&gt; `x` a_b"
    assert to_markdown(line) == '• ＊＊晋＊建＊＊ ＜font color="red"＞公司＜/font＞ ｀x｀ a＿b'


def test_a_long_digest_is_split_for_wecom_within_4096_bytes_in_order() -> None:
    content = Content("太原市 日报", LINES, b"\x89PNG" + b"0" * 1000, ("d.xlsx", b"PK.."))
    parts = wecom_parts(content, "zh")
    texts = [p.body["markdown"]["content"] for p in parts if p.body and "markdown" in p.body]
    assert len(texts) > 1
    assert all(len(text.encode()) <= WECOM_MARKDOWN_BYTES for text in texts)
    assert texts[0].startswith("**📊 太原市 用工调度日报**")
    assert texts[-1].endswith(f"({len(texts)}/{len(texts)})")
    joined = "\n".join(texts)
    assert joined.index("第0项目") < joined.index("第399项目")
    assert all(f"第{i}项目" in joined for i in range(400))
    image = parts[len(texts)].body["image"]  # type: ignore[index]
    assert hashlib.md5(base64.b64decode(image["base64"])).hexdigest() == image["md5"]
    assert parts[-1].upload == ("d.xlsx", b"PK..")


def test_a_chart_over_two_megabytes_is_not_sent_to_wecom_but_said_so() -> None:
    content = Content("t", ["x"], b"0" * (2 * 1024 * 1024 + 1))
    parts = wecom_parts(content, "zh")
    assert [p.body["msgtype"] for p in parts if p.body] == ["markdown", "markdown"]
    assert "超过 2 MB" in parts[-1].body["markdown"]["content"]  # type: ignore[index]


def test_dingtalk_gets_markdown_within_its_limit_and_a_note_instead_of_files() -> None:
    content = Content("太原市 日报", LINES * 3, b"png", ("d.xlsx", b"PK.."))
    parts = dingtalk_parts(content, "zh")
    bodies = [p.body for p in parts]
    assert all(b is not None and b["msgtype"] == "markdown" for b in bodies)
    texts = [b["markdown"]["text"] for b in bodies if b]
    assert len(texts) > 1
    assert all(len(t.encode()) <= DINGTALK_MARKDOWN_BYTES for t in texts)
    assert "钉钉机器人不支持上传文件" in texts[-1]
    assert all(p.upload is None for p in parts)
