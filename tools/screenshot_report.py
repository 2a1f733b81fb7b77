"""docs/report-screenshot.png, which the auditor guide shows: the HTML case report of a realistic
case (tests/support/report_case.py), as headless Chromium shows it at 1280 px. Everything runs on
in-process moto, never in a real account.

    PYTHONPATH=$PWD .venv/bin/python tools/screenshot_report.py [--html report.html] [--png docs/report-screenshot.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def render_case(html: Path) -> None:
    """Run the case of tests/support/report_case.py on moto and write its report to `html`."""
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    from moto import mock_aws

    from parry.aws.clients import ClientFactory
    from parry.config import Settings
    from parry.engine.run import Engine
    from parry.evidence.report import load_case, render_html
    from parry.evidence.sources import S3Source
    from parry.evidence.verify import verify_case
    from parry.evidence.writer import sha256_hex
    from parry.local import corrections
    from parry.local.bootstrap import provision
    from tests.support.kms import kms_digest_signing
    from tests.support.report_case import run_case

    corrections.security_hub_findings_like_aws()
    corrections.guardduty_findings_like_aws()
    with mock_aws(), kms_digest_signing():
        aws = ClientFactory(region="us-east-1")
        settings = provision(aws)
        os.environ.update(settings)
        prefix = run_case(Engine(aws, Settings.from_env()), aws)
        source = S3Source(aws.client("s3"), settings["PARRY_EVIDENCE_BUCKET"], prefix)
        pinned = sha256_hex(aws.client("kms").get_public_key(KeyId=settings["PARRY_SIGNING_KEY_ID"])["PublicKey"])
        html.write_text(render_html(load_case(source), verify_case(source, trusted_keys={pinned})))


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 3300) -> None:
    chromium = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    if chromium is None:
        sys.exit("no chromium on PATH (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
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
    render_case(args.html)
    screenshot(args.html, args.png)
    print(f"wrote {args.html} and {args.png}")


if __name__ == "__main__":
    main()
