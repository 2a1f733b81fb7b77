"""Attack: append a correctly chained "approved by CISO" record to a genuine case and re-seal it, or
fabricate a whole back-dated case, signing with a KMS key of one's own (its public half stored
beside each manifest, as Parry stores its own).

Pinned to the deployed key (its ARN, the stack's SigningKeyArn output), the verifier refuses both:
the forger's manifests are signed by a foreign key. Without a pin it never says intact, whatever
the case, and says how to pin. The retention a case is held to is the auditor's or the bucket's
deployed default, never the one its (forgeable) manifest records. A record dated other than when
S3 stored it is named; so is a folder whose account is no account id, and a decoy folder planted
under the case's id is named while the genuine case still verifies.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from parry.cli.evidence import evidence_app
from parry.evidence.export import export_case
from parry.evidence.problems import BAD_FOLDER, FOREIGN_KEY, MISDATED, RETENTION, UNPINNED
from parry.evidence.sources import DirSource, S3Source
from parry.evidence.verify import Policy, verify_case
from parry.evidence.writer import EvidenceStore, sha256_hex
from tests.support.evidence import BUCKET, Env, build_case, create_bucket
from tests.support.kms import kms_digest_signing


@pytest.fixture
def env(aws):
    with kms_digest_signing():
        s3 = aws.client("s3")
        create_bucket(s3)
        kms = aws.client("kms")
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
        yield Env(s3, kms, key_id, EvidenceStore(s3, BUCKET, retention_days=30, lock_mode="GOVERNANCE"))


def pinned(env: Env) -> set[str]:
    return {sha256_hex(env.public_key_der())}


def kinds(result) -> set[str]:
    return {p.kind for p in result.problems}


def test_an_appended_record_resealed_with_another_key_is_refused_when_pinned(env):
    case = build_case(env, "case-genuine")
    assert verify_case(S3Source(env.s3, BUCKET, case.prefix), trusted_keys=pinned(env)).ok

    forger = env.new_key()
    case.audit("approved", {"step": "revoke-sessions", "by": "ciso@example.com", "reason": "approved by CISO"})
    case.seal(kms=env.kms, key_id=forger)

    result = verify_case(S3Source(env.s3, BUCKET, case.prefix), trusted_keys=pinned(env))
    assert not result.ok
    assert any(p.kind == FOREIGN_KEY and p.path == "manifest/0002.json" for p in result.problems), result.problems


def test_a_fabricated_back_dated_case_signed_with_a_fresh_key_is_refused_when_pinned(env):
    forged = build_case(
        replace(env, key_id=env.new_key()), "case-forged", opened_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    )

    result = verify_case(S3Source(env.s3, BUCKET, forged.prefix), trusted_keys=pinned(env))

    assert not result.ok and FOREIGN_KEY in kinds(result), result.problems


def test_an_unpinned_verify_never_says_intact(env, monkeypatch):
    genuine = build_case(env, "case-genuine")
    forged = build_case(replace(env, key_id=env.new_key()), "case-forged")
    monkeypatch.setenv("PARRY_EVIDENCE_BUCKET", BUCKET)
    monkeypatch.delenv("PARRY_SIGNING_KEY_ID", raising=False)
    monkeypatch.delenv("PARRY_EVIDENCE_PUBLIC_KEY", raising=False)

    for case in (genuine, forged):
        result = verify_case(S3Source(env.s3, BUCKET, case.prefix))
        assert not result.ok and kinds(result) == {UNPINNED}, result.problems
        assert result.as_dict()["intact"] is False

    for case_id in ("case-genuine", "case-forged"):
        out = CliRunner().invoke(evidence_app, ["verify", case_id])
        assert out.exit_code == 1, out.output
        assert out.stdout.startswith(f"NOT INTACT  {case_id}")
        assert "key not pinned" in out.stdout and "--key-id" in out.stdout and "SigningKeyArn" in out.stdout

    pinned_out = CliRunner().invoke(evidence_app, ["verify", "case-genuine", "--key-id", env.key_id])
    assert pinned_out.exit_code == 0 and pinned_out.stdout.startswith("INTACT  case-genuine"), pinned_out.output


def test_an_alias_is_not_a_pin(env, monkeypatch):
    """Whoever may create or re-point an alias would choose which key the auditor trusts."""
    build_case(env, "case-genuine")
    env.kms.create_alias(AliasName="alias/parry-evidence", TargetKeyId=env.new_key())
    monkeypatch.setenv("PARRY_EVIDENCE_BUCKET", BUCKET)

    out = CliRunner().invoke(evidence_app, ["verify", "case-genuine", "--key-id", "alias/parry-evidence"])

    assert out.exit_code == 2 and "pin the key ARN" in out.stderr and "INTACT" not in out.stdout


def test_retention_is_the_auditors_or_the_deployed_one_never_the_manifests(env, tmp_path):
    """A writer that locks for one day records one day in its manifest: the bucket's deployed
    default (30 days here) is still what the case is held to, unless the auditor says otherwise."""
    short = replace(env, store=EvidenceStore(env.s3, BUCKET, retention_days=1, lock_mode="GOVERNANCE"))
    case = build_case(short, "case-short")
    source = S3Source(env.s3, BUCKET, case.prefix)

    result = verify_case(source, trusted_keys=pinned(env))
    assert kinds(result) == {RETENTION} and len(result.problems) == result.objects, result.problems
    assert all("30-day policy" in p.detail for p in result.problems)

    assert verify_case(source, trusted_keys=pinned(env), policy=Policy(days=1)).ok

    export_case(source, tmp_path / "out")
    offline = verify_case(DirSource(tmp_path / "out"), trusted_keys=pinned(env))
    assert kinds(offline) == {RETENTION}, offline.problems


def test_a_back_dated_case_is_named_even_when_signed_with_the_real_key(env, monkeypatch):
    """An insider who could sign (before the key policy kept signing to Parry's roles) writes a
    case "from last month": every record is dated then, chained and sealed correctly."""
    from parry.evidence import writer

    monkeypatch.setattr(writer, "_now", lambda: "2026-11-03T14:06:00.000+00:00")
    case = build_case(env, "case-back-dated")
    monkeypatch.undo()

    result = verify_case(S3Source(env.s3, BUCKET, case.prefix), trusted_keys=pinned(env))

    assert kinds(result) == {MISDATED}, result.problems
    assert {p.path for p in result.problems} == {f"audit/{n:04d}.json" for n in range(1, result.audit_records + 1)}
    assert all("back-dated" in p.detail for p in result.problems)


def test_an_account_folder_that_is_no_account_id_is_refused(env, monkeypatch):
    case = build_case(env, "case-odd", account="evil")
    result = verify_case(S3Source(env.s3, BUCKET, case.prefix), trusted_keys=pinned(env))
    assert kinds(result) == {BAD_FOLDER} and result.problems[0].path == case.prefix

    monkeypatch.setenv("PARRY_EVIDENCE_BUCKET", BUCKET)
    out = CliRunner().invoke(evidence_app, ["verify", "case-odd", "--key-id", env.key_id])
    assert out.exit_code == 1 and f"bad folder: {case.prefix}" in out.stdout


@pytest.mark.parametrize("decoy", ["planted object", "forged case", "copied case", "odd account folder"])
def test_a_decoy_folder_is_named_and_the_genuine_case_still_verifies(env, monkeypatch, decoy):
    genuine = build_case(env, "case-dup")
    if decoy == "planted object":
        env.s3.put_object(Bucket=BUCKET, Key="cases/444455556666/2026/11/03/case-dup/event.json", Body=b"{}")
        decoy_prefix = "cases/444455556666/2026/11/03/case-dup/"
    elif decoy == "forged case":
        decoy_prefix = build_case(replace(env, key_id=env.new_key()), "case-dup", account="444455556666").prefix
    elif decoy == "copied case":
        decoy_prefix = "cases/555566667777/2026/11/04/case-dup/"
        for item in env.s3.list_objects_v2(Bucket=BUCKET, Prefix=genuine.prefix)["Contents"]:
            rel = item["Key"][len(genuine.prefix) :]
            body = env.s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            env.s3.put_object(Bucket=BUCKET, Key=decoy_prefix + rel, Body=body, ChecksumAlgorithm="SHA256")
    else:
        decoy_prefix = build_case(env, "case-dup", account="not-an-account").prefix
    monkeypatch.setenv("PARRY_EVIDENCE_BUCKET", BUCKET)

    out = CliRunner().invoke(evidence_app, ["verify", "case-dup", "--key-id", env.key_id])

    assert out.exit_code == 0 and out.stdout.startswith("INTACT  case-dup"), out.output
    assert f"decoy: s3://{BUCKET}/{decoy_prefix} is named after case case-dup but is not it" in out.stderr
    assert f"decoy: s3://{BUCKET}/{genuine.prefix}" not in out.stderr
    report = CliRunner().invoke(evidence_app, ["verify", "case-dup", "--key-id", env.key_id, "--json"])
    assert json.loads(report.stdout)["prefix"] == genuine.prefix
    # show and export, pinned the same way, take the case itself too
    shown = CliRunner().invoke(evidence_app, ["show", "case-dup", "--key-id", env.key_id, "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["prefix"] == genuine.prefix, shown.output
