"""The auditor guide's "without Parry" route works: openssl and sha256sum agree with the verifier."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from parry.evidence.export import export_case
from parry.evidence.sources import S3Source
from tests.support.evidence import BUCKET, build_case


@pytest.mark.skipif(
    shutil.which("openssl") is None or shutil.which("sha256sum") is None, reason="needs openssl and sha256sum"
)
def test_openssl_verifies_the_manifest_signature_and_sha256sum_the_objects(env, tmp_path):
    case = build_case(env, "case-guide", approval=True)
    out = tmp_path / "case"
    export_case(S3Source(env.s3, BUCKET, case.prefix), out)
    (tmp_path / "expected.der").write_bytes(env.public_key_der())
    for n in (1, 2):
        pem = subprocess.run(
            ["openssl", "pkey", "-pubin", "-inform", "DER", "-in", str(tmp_path / "expected.der")],
            capture_output=True,
            check=True,
        ).stdout
        (tmp_path / "expected.pem").write_bytes(pem)
        proc = subprocess.run(
            [
                "openssl",
                "dgst",
                "-sha256",
                "-verify",
                str(tmp_path / "expected.pem"),
                "-signature",
                f"manifest/{n:04d}.sig",
                f"manifest/{n:04d}.json",
            ],
            cwd=out,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0 and "Verified OK" in proc.stdout, proc.stdout + proc.stderr
    manifest = json.loads((out / "manifest" / "0002.json").read_text())
    lines = "".join(f"{o['sha256']}  {o['key'][len(case.prefix) :]}\n" for o in manifest["objects"])
    proc = subprocess.run(["sha256sum", "-c", "-"], cwd=out, input=lines, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (out / "manifest" / "0002.json").write_text(json.dumps(manifest))  # re-serialised: other bytes
    proc = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(tmp_path / "expected.pem"),
            "-signature",
            "manifest/0002.sig",
            "manifest/0002.json",
        ],
        cwd=out,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "Verification failure" in proc.stdout
