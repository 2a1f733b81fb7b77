"""The case report fits where an auditor reads it: a 1280 px screen, and A4 paper.

A case the engine ran (tests/support/report_case.py, once for the module) is rendered by headless Chromium with a script
injected into a copy of the page: it lists every element wider than the viewport or whose content
spills out of its box, every field name broken inside a word, and the height of the event JSON's <details>.
Print is laid out by applying the page's print rules on screen at A4's printable width (the page
has no scripts to emulate print media from, and `--dump-dom` renders for the screen).
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from tests.support.chromium import CHROMIUM, MISSING, dump_dom, visible_text
from tests.support.report_case import render_reports

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=MISSING)

A4_WIDTH = 794  # 210 mm at 96 dpi
A4_PRINTABLE = 703  # 210 mm less the 12 mm side margins of the report's @page rule, at 96 dpi

MEASURE = """<script>(() => {
  const vw = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : "");
  const found = {viewport: vw, page: document.documentElement.scrollWidth, wide: [], spilled: [], broken: []};
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const text = (el.textContent || "").trim().slice(0, 80);
    if (r.right > vw + 0.5 || r.left < -0.5) found.wide.push([name(el), Math.round(r.width), text]);
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) found.spilled.push([name(el), el.clientWidth, el.scrollWidth, text]);
  }
  for (const el of document.querySelectorAll("td.field")) {  // a field name breaks only between its parts
    const range = document.createRange();
    range.selectNodeContents(el);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    if (lines > el.textContent.split(/[.\\[_]/).length) found.broken.push([el.textContent, lines]);
  }
  const event = document.querySelector("details.event");
  found.event = event ? Math.round(event.getBoundingClientRect().height) : null;
  const out = document.createElement("pre");
  out.id = "layout";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
})();</script>"""


@pytest.fixture(scope="module")
def reports():
    return render_reports()


@pytest.fixture
def page(reports):
    return reports.pinned


def measure(html: str, tmp_path, *, width: int, print_rules: bool = False) -> dict:
    if print_rules:
        assert "@media print{" in html
        html = html.replace("@media print{", "@media all{")
    copy = tmp_path / f"measured-{width}-{print_rules}.html"
    copy.write_text(html.replace("</body>", MEASURE + "</body>"))
    dom = dump_dom(copy, tmp_path / "profile", width=width)
    found = json.loads(unescape(re.search(r'<pre id="layout">(.*?)</pre>', dom, re.S).group(1)))
    assert width - 20 <= found["viewport"] <= width, found["viewport"]  # measured at the width meant
    return found


@pytest.mark.parametrize(
    "width, print_rules",
    [(1280, False), (A4_WIDTH, False), (A4_PRINTABLE, True)],
    ids=["screen-1280px", "screen-A4-width", "printed-on-A4"],
)
def test_nothing_is_wider_than_the_page(page, tmp_path, width, print_rules):
    found = measure(page, tmp_path, width=width, print_rules=print_rules)
    assert found["wide"] == [], found["wide"]
    assert found["spilled"] == [], found["spilled"]
    assert found["page"] <= found["viewport"]
    assert found["broken"] == [], found["broken"]  # field names keep whole words (no letter per line)


def test_the_event_json_is_folded_on_screen_and_printed_in_full(page, tmp_path):
    assert measure(page, tmp_path, width=1280)["event"] < 40  # its summary line alone
    assert measure(page, tmp_path, width=A4_PRINTABLE, print_rules=True)["event"] > 1500  # 154 lines


def test_the_finding_arn_is_shown_whole(reports, tmp_path):
    """mark-finding's before/after holds the finding's ARN: where it wraps adds no character to it."""
    text = visible_text(dump_dom(_write(reports.pinned, tmp_path), tmp_path / "profile"))
    assert reports.finding_arn in text


def test_what_an_auditor_could_misread_is_said_plainly(page, tmp_path):
    text = visible_text(dump_dom(_write(page, tmp_path), tmp_path / "profile"))
    assert text.index("Signing key pinned") < text.index("Timeline")
    # the undo was given no reason: flagged at the top and in its row
    assert "A person acted without giving a reason: #15 undo." in text
    assert "⚠ no reason given" in text
    # what people were told, word for word
    assert "Subject:\nParry deactivated access key" in text
    assert 'Playbook: "iam-credential-compromise"' in text and "Undo the case: parry undo case-" in text
    # the playbook's two hashes, each said what it is, both checks passing
    assert "Playbook version (sha256)" in text and "File playbook.json (sha256)" in text
    assert "recomputed from playbook.json: matches; named by the case_opened record: matches" in text
    assert "DOES NOT MATCH" not in text
    assert "quarantined\nfalse\ntrue" in text  # quarantine-user's before/after as stored: JSON, not a Python repr


def test_an_unpinned_report_says_so_before_anything_else(reports, tmp_path):
    text = visible_text(dump_dom(_write(reports.unpinned, tmp_path), tmp_path / "profile"))
    assert "Signing key NOT pinned" in text and "Signing key pinned" not in text
    assert text.index("NOT pinned") < text.index("Timeline")
    assert "prove the manifests are consistent with that key, not that Parry's key signed them" in text


def _write(page: str, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(page)
    return path
