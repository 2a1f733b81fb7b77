"""The HTML report as a reader sees it: rendered by headless Chromium, asserting on visible text."""

from __future__ import annotations

import pytest

from parry.evidence.report import load_case, render_html
from parry.evidence.sources import S3Source
from parry.evidence.verify import verify_case
from parry.evidence.writer import sha256_hex
from tests.support.chromium import CHROMIUM, MISSING, dump_dom, visible_text
from tests.support.evidence import BUCKET, build_case

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=MISSING)


def _render_in_chromium(path, tmp_path) -> str:
    return visible_text(dump_dom(path, tmp_path / "profile"))


def test_report_of_an_intact_case(env, tmp_path):
    case = build_case(env, "case-report", approval=True)
    source = S3Source(env.s3, BUCKET, case.prefix)
    page = tmp_path / "report.html"
    page.write_text(
        render_html(load_case(source), verify_case(source, trusted_keys={sha256_hex(env.public_key_der())}))
    )
    text = _render_in_chromium(page, tmp_path)
    assert "Case case-report" in text
    assert "Verification: INTACT" in text
    assert "iam-credential-exfiltration" in text
    for kind in ("case opened", "step started", "step finished", "approval requested", "approved", "case closed"):
        assert kind in text, kind
    assert "alice@example.com" in text and "confirmed with the user's manager" in text
    # the before/after of deactivate-key, as a readable diff line
    assert "Status" in text and "Active" in text and "Inactive" in text and "1 change(s)" in text
    assert "manifest/0002.json" in text and case.chain_head in text


def test_report_of_a_tampered_case_says_so_first(env, tmp_path):
    case = build_case(env, "case-tampered")
    env.s3.delete_object(Bucket=BUCKET, Key=case.prefix + "artifacts/deactivate-key/state.json")
    source = S3Source(env.s3, BUCKET, case.prefix)
    page = tmp_path / "report.html"
    page.write_text(render_html(load_case(source), verify_case(source)))
    text = _render_in_chromium(page, tmp_path)
    assert "Verification: NOT INTACT" in text
    assert "missing object" in text and "artifacts/deactivate-key/state.json" in text
    assert text.index("NOT INTACT") < text.index("Timeline")
