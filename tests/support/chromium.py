"""Headless Chromium for the report tests: the page as a browser lays it out, and the text a reader sees."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
MISSING = "no chromium binary on PATH (apt-get install chromium)"


def dump_dom(page: Path, profile: Path, *, width: int = 1280, height: int = 1000) -> str:
    """The DOM after Chromium has loaded `page` (and run its scripts) in a window of that size."""
    assert CHROMIUM is not None, MISSING
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


class Visible(HTMLParser):
    """Text a reader sees: everything in <body> except <style>/<script>/<template> content, one part
    per element; a `<wbr>` (a place a long token may wrap) joins its two sides, as copying does."""

    HIDDEN = {"style", "script", "template", "head", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []
        self.text = ""

    def _flush(self) -> None:
        if self.text.strip():
            self.parts.append(" ".join(self.text.split()))
        self.text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "wbr":
            return
        self._flush()
        if tag in self.HIDDEN:
            self.depth += 1
        style = dict(attrs).get("style") or ""
        assert "display:none" not in style.replace(" ", ""), "nothing in the report may be hidden"

    def handle_endtag(self, tag):
        self._flush()
        if tag in self.HIDDEN:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth == 0:
            self.text += data

    def close(self) -> None:
        super().close()
        self._flush()


def visible_text(dom: str) -> str:
    parser = Visible()
    parser.feed(dom)
    parser.close()
    return "\n".join(parser.parts)
