"""`python -m parry evidence ...` in its own process, against a moto server through AWS_ENDPOINT_URL,
as an auditor's shell runs it: exit codes, stdout, one-line errors on stderr."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from parry.evidence.writer import EvidenceStore
from tests.support.evidence import BUCKET, Env, build_case, create_bucket
from tests.support.kms import kms_digest_signing


@pytest.fixture
def server(monkeypatch):
    from moto.server import ThreadedMotoServer

    with kms_digest_signing():  # the server runs in this process, so the patch applies to it
        srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        srv.start()
        try:
            host, port = srv.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            srv.stop()


def test_parry_evidence_in_a_subprocess(server, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    from parry.aws.clients import ClientFactory

    aws = ClientFactory(region="us-east-1")
    s3, kms = aws.client("s3"), aws.client("kms")
    create_bucket(s3)
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    env = Env(s3, kms, key, EvidenceStore(s3, BUCKET, retention_days=30))
    case = build_case(env, "case-proc")
    (tmp_path / "key.der").write_bytes(env.public_key_der())

    def parry(*args):
        environ = {**os.environ, "AWS_ENDPOINT_URL": server, "PARRY_EVIDENCE_BUCKET": BUCKET}
        return subprocess.run(
            [sys.executable, "-m", "parry", "evidence", *args], capture_output=True, text=True, env=environ, timeout=120
        )

    ok = parry("verify", "case-proc", "--public-key", str(tmp_path / "key.der"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("INTACT  case-proc")

    s3.put_object(Bucket=BUCKET, Key=case.prefix + "artifacts/planted.json", Body=b"{}")
    bad = parry("verify", "case-proc")
    assert bad.returncode == 1
    assert "unexpected object: artifacts/planted.json" in bad.stdout

    missing = parry("show", "nope")
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0 and "no case nope" in missing.stderr
    assert "Traceback" not in missing.stderr
