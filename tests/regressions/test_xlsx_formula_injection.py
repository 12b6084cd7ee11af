"""Regression: exports and digests wrote a name starting with "=" as an Excel formula
(openpyxl stores such strings as formulas), so a project imported as "=HYPERLINK(…)" ran in
a bureau's Excel. Every string cell must stay the text that was typed."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from core.reports.xlsx import Sheet, workbook_bytes

EVIL = '=HYPERLINK("http://evil.example/x","点击查看")'


def test_a_name_starting_with_an_equals_sign_is_stored_as_text_not_as_a_formula() -> None:
    data = workbook_bytes([Sheet("需求", ["项目", "缺工"], [[EVIL, 3], ["=1+1", 4], ["太原", 5]])])
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [(c.value, c.data_type) for c in ws["A"][1:]]
    assert cells == [(EVIL, "s"), ("=1+1", "s"), ("太原", "s")]
    assert [c.value for c in ws["B"][1:]] == [3, 4, 5]  # numbers stay numbers
