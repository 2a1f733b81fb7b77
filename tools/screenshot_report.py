"""docs/report-screenshot.png, which the auditor guide shows: the HTML case report of a realistic
case (tests/support/report_case.py), as headless Chromium shows it at 1280 px. Everything runs on
in-process moto, never in a real account.

    PYTHONPATH=$PWD .venv/bin/python tools/screenshot_report.py [--html report.html] [--png docs/report-screenshot.png]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 3300) -> None:
    from tests.support.chromium import CHROMIUM, MISSING

    if CHROMIUM is None:
        sys.exit(MISSING)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={png.resolve()}",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=Path(tempfile.gettempdir()) / "parry-case-report.html")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    args = parser.parse_args()
    from tests.support.report_case import render_reports

    args.html.write_text(render_reports().pinned)
    screenshot(args.html, args.png)
    print(f"wrote {args.html} and {args.png}")


if __name__ == "__main__":
    main()
