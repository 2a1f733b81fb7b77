"""How the case report writes values: wrappable where a reader expects, and as they are stored."""

from __future__ import annotations

import re

from parry.evidence.report_style import cell, wrappable

ARN = "arn:aws:guardduty:us-east-1:123456789012:detector/37da5a0204286ccd967d2395320d4dcd/finding/bebf27df0a"


def _pieces(html: str) -> list[str]:
    return html.split("<wbr>")


def test_a_long_token_wraps_after_its_separators_and_copies_whole():
    html = wrappable(ARN)
    assert "".join(_pieces(html)) == ARN  # <wbr> adds no character: a copied ARN is the ARN
    assert "arn:<wbr>aws:<wbr>guardduty:" in html and "detector/<wbr>" in html
    assert max(len(p) for p in _pieces(html)) <= 16


def test_a_sha256_wraps_in_groups_of_16():
    digest = "ab12" * 16
    assert _pieces(wrappable(digest)) == [digest[i : i + 16] for i in range(0, 64, 16)]


def test_short_words_and_prose_are_left_alone():
    text = "step: capture-user; status: succeeded"
    assert wrappable(text) == text


def test_untrusted_text_stays_escaped_around_break_points():
    html = wrappable("<script>alert(1)</script>&x=" + "y" * 30)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert re.sub("<wbr>", "", html).count("&amp;") == 1


def test_values_show_as_stored_never_as_python_reprs():
    assert cell(True) == "true" and cell(False) == "false" and cell(3) == "3"
    assert cell({"a": None}) == "<code>{&quot;a&quot;: null}</code>"
    assert cell(None) == "<span class=mono>—</span>"
