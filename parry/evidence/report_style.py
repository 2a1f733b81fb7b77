"""How the case report looks: its stylesheet, and values turned into HTML that wraps where a reader
expects, so nothing runs off the page at 1280 px or on A4.

Long tokens (ARNs, hashes, ids) get a line-break opportunity (`<wbr>`, which copying leaves out)
after each separator and every 16 characters of a long run, so an ARN breaks after a `:` or `/`
and a sha256 in groups of 16; `overflow-wrap` is only the last resort. Every table has fixed
columns, so one long value can never widen its table or squeeze a neighbouring column.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

# A4 less the margins below is 186 mm: 703 CSS px at 96 dpi (tests/functional/evidence/test_report_layout.py)
CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1b1f24;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 28px;background:#fff}
h1{font-size:22px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #d8dee4;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px;overflow-wrap:anywhere}
p,li{overflow-wrap:anywhere}
.meta{color:#57606a;margin:0 0 12px}
.verdict,.key{border-radius:6px;padding:12px 16px;margin:12px 0}
.verdict{font-weight:600}.key b{display:block;font-size:15px}
.verdict.ok,.key.pinned{background:#dafbe1;border:1px solid #4ac26b;color:#116329}
.verdict.bad,.key.unpinned{background:#ffebe9;border:1px solid #ff8182;color:#82071e}
.verdict ul{font-weight:400;margin:6px 0 0 18px;padding:0}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:4px;padding:0 4px;font-weight:600;color:#6f4b00}
p.warn{padding:8px 12px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;table-layout:fixed}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f0f3f6;font-weight:600}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;background:#f6f8fa;border:1px solid #d0d7de;padding:8px;white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0}
col.n{width:3.2em}col.mark{width:2em}col.time{width:14em}col.kind{width:8.5em}col.field{width:24%}col.size{width:5.5em}col.count{width:5em}
tr.changed td.b{background:#ffebe9}tr.changed td.a{background:#dafbe1}
tr.added td.a{background:#dafbe1}tr.removed td.b{background:#ffebe9}
tr.same{color:#57606a}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;border:1px solid #d0d7de;background:#f6f8fa}
.tag.failed,.tag.error,.tag.not_contained{background:#ffebe9;border-color:#ff8182}.tag.partial{background:#fff8c5;border-color:#d4a72c}.tag.succeeded,.tag.ok{background:#dafbe1;border-color:#4ac26b}
.approval td{background:#fff8c5}
dl.hashes dt{font-weight:600;margin-top:8px}dl.hashes dd{margin:2px 0 0 16px}
summary{cursor:pointer;font-weight:600}
footer{color:#57606a;font-size:12px;margin-top:28px;border-top:1px solid #d0d7de;padding-top:8px}
@page{size:A4;margin:14mm 12mm}
@media print{
 body{background:#fff;font-size:10pt}main{max-width:none;padding:0}
 code,.mono,pre{font-size:8pt}
 h2,h3{break-after:avoid}
 tr,.verdict,.key{break-inside:avoid}
 tr.changed td.b,tr.removed td.b,.verdict.bad,.key.unpinned{background:#fff;border:2px solid #000}
 tr.changed td.a,tr.added td.a,.verdict.ok,.key.pinned{background:#fff;border:1px solid #000}
 a{color:inherit;text-decoration:none}
 /* The event JSON is closed on screen (three screens long) but a filed copy must hold all of it.
    The page has no scripts to open it before printing, so CSS does: ::details-content (Chromium,
    Firefox, Safari since 2025) shows a closed <details>' content; the marker would only mislead. */
 details::details-content{content-visibility:visible;display:block}
 summary{list-style:none}summary::-webkit-details-marker{display:none}
}
"""

_SEPARATOR = re.compile(r"(?<=[:/.,;=&?@_-])")
_LONG_RUN = 16  # characters without a separator before a break is allowed (a sha256: 4 groups)
_LONG_TOKEN = re.compile(r"\S{21,}")


def wrappable(text: str) -> str:
    """`text` escaped, with a `<wbr>` after each separator of a long token and every 16 characters
    of a long run in it; short words are left alone."""
    out, last = [], 0
    for match in _LONG_TOKEN.finditer(text):
        out.append(escape(text[last : match.start()]))
        pieces = []
        for part in _SEPARATOR.split(match.group()):
            pieces += [escape(part[i : i + _LONG_RUN]) for i in range(0, len(part), _LONG_RUN)]
        out.append("<wbr>".join(p for p in pieces if p))
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def utc_time(at: Any) -> Any:
    """ISO time in UTC, compact: 2026-11-03 14:05:09.412."""
    return at.replace("T", " ").removesuffix("+00:00") if isinstance(at, str) else at


def cell(value: Any) -> str:
    """A stored value for people: text as is, true/false/numbers and structures as the JSON they are
    stored as (never a Python repr), an absent value as a dash."""
    if value is None:
        return "<span class=mono>—</span>"
    if isinstance(value, str):
        return wrappable(value)
    if isinstance(value, (dict, list)):
        return f"<code>{wrappable(json.dumps(value, sort_keys=True, default=str))}</code>"
    return escape(json.dumps(value, default=str))


def columns(*classes: str) -> str:
    """A <colgroup> giving each column its class: the fixed widths in CSS, the rest shared."""
    return "<colgroup>" + "".join(f"<col class={c}>" if c else "<col>" for c in classes) + "</colgroup>"


def table(classes: tuple[str, ...], headings: tuple[str, ...]) -> str:
    """The opening of a table: its columns and a header row that repeats on each printed page."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    return f"<table>{columns(*classes)}<thead><tr>{head}</tr></thead><tbody>"
