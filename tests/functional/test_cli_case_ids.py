"""Case ids in the `parry` command line: never cut in a table, and a unique prefix taken as git takes a
commit's (ambiguous: the candidates listed; unknown: said), against the case table and the evidence bucket.
Tables fit 80 columns by wrapping what may wrap, and human output holds no Python reprs."""

from __future__ import annotations

import json
import re

import pytest

from parry.cli import render
from parry.store.model import Case
from parry.store.store import CaseStore
from tests.support.cli import parry
from tests.support.evidence import ACCOUNT

IDS = ("case-20261201-aaaa000001", "case-20261201-aaaa000002", "case-20261201-bbbb000003")
STATUSES = ("COMPLETED_WITH_ERRORS", "AWAITING_APPROVAL", "SUCCEEDED")


@pytest.fixture
def narrow(monkeypatch):
    """A terminal 80 columns wide, however wide the one running the tests."""
    monkeypatch.setattr(render.console.made(), "width", 80)


@pytest.fixture
def cases(aws, parry_env):
    store = CaseStore(aws.client("dynamodb"), parry_env["PARRY_CASES_TABLE"])
    for number, (case_id, status) in enumerate(zip(IDS, STATUSES, strict=True)):
        case = Case(
            case_id=case_id,
            playbook="iam-credential-compromise",
            playbook_sha256="ab" * 32,
            status="RUNNING",
            opened_at=f"2026-12-01T14:0{number}:00+00:00",
            account="123456789012",
            region="us-east-1",
            dedup=f"finding-{number}",
            event={"id": f"evt-{number}"},
            target={"user": "ci-deployer", "key": "AKIAIOSFODNN7EXAMPLE", "profile": None, "dry": False},
            history=[{"kind": "undo", "by": None, "reason": "", "at": "2026-12-01T15:00:00+00:00"}],
        )
        store.claim(case, lease_seconds=60, owner="test")
        case.status = status
        store.save(case, owner="test")
    return store


def test_a_unique_prefix_shows_the_case_by_its_full_id(capsys, cases):
    code, out, err = parry(capsys, "cases", "show", "case-20261201-b")
    assert code == 0, err
    assert out.startswith(f"case {IDS[2]}  playbook iam-credential-compromise")


def test_a_full_id_that_starts_no_other_is_taken_as_given(capsys, cases):
    code, out, _ = parry(capsys, "cases", "show", IDS[0])
    assert code == 0 and out.startswith(f"case {IDS[0]} ")


def test_an_ambiguous_prefix_lists_the_candidates_and_changes_nothing(capsys, cases):
    code, out, err = parry(capsys, "approve", "case-20261201-aaaa", "--reason", "go")
    assert code == 2 and out == ""
    assert "case id prefix 'case-20261201-aaaa' is ambiguous: 2 cases" in err
    assert f"parry:   {IDS[0]}\n" in err and f"parry:   {IDS[1]}\n" in err and IDS[2] not in err
    assert all(cases.get(case_id).history[-1]["kind"] == "undo" for case_id in IDS)


def test_a_prefix_no_case_has_is_a_clear_error(capsys, cases):
    code, _, err = parry(capsys, "deny", "case-2027", "--reason", "no")
    assert code == 2
    assert err.strip() == f"parry: no case case-2027 in table {cases.table} (no case id starts with it)"


def test_the_cases_table_fits_80_columns_with_every_id_and_status_whole(capsys, cases, narrow):
    code, out, _ = parry(capsys, "cases", "list")
    assert code == 0
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), out
    for case_id, status in zip(IDS, STATUSES, strict=True):
        assert re.search(rf"^{case_id} +{status} ", out, re.MULTILINE), out


def test_human_output_has_no_python_reprs(capsys, cases, narrow):
    for args in (["cases", "list"], ["cases", "show", IDS[1]], ["actions"], ["actions", "iam.deactivate_access_key"]):
        code, out, err = parry(capsys, *args)
        assert code == 0, err
        for token in ("None", "True", "False", "{'"):
            assert not re.search(rf"(?<![\w-]){re.escape(token)}", out), (args, token, out)
    code, out, _ = parry(capsys, "cases", "show", IDS[1])
    assert "profile=—" in out and "dry=no" in out and "undo by —: (no reason given)" in out


def test_the_actions_table_fits_80_columns_and_shows_every_name_whole(capsys, narrow):
    from parry.actions import registry

    code, out, _ = parry(capsys, "actions")
    assert code == 0 and all(len(line) <= 80 for line in out.splitlines()), out
    shown = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert shown[2:] == list(registry.all_actions()), shown  # the header and its rule, then each name, whole and once


def test_the_evidence_commands_take_a_unique_prefix_of_a_case_in_the_bucket(evidence_cli, capsys, narrow):
    code, out, err = parry(capsys, "evidence", "verify", "case-20261201-b")
    assert code == 0, err
    assert out.startswith(f"INTACT  {IDS[2]}  (")
    code, _, err = parry(capsys, "evidence", "show", "case-20261201-aaaa")
    assert code == 2 and "is ambiguous: 2 cases in s3://" in err and IDS[0] in err and IDS[1] in err
    code, _, err = parry(capsys, "evidence", "report", "case-2099", "--html", "report.html")
    assert code == 2 and "no case case-2099 in s3://parry-evidence-test/cases/ (no case id starts with it)" in err


def test_the_auditor_s_views_have_no_python_reprs(evidence_cli, capsys, narrow):
    for args in (["evidence", "list"], ["evidence", "show", IDS[0]], ["evidence", "verify", IDS[0]]):
        code, out, err = parry(capsys, *args)
        assert code == 0, err
        for token in ("None", "True", "False", "{'"):
            assert not re.search(rf"(?<![\w-]){re.escape(token)}", out), (args, token, out)


def test_the_evidence_table_fits_80_columns_with_every_id_whole(evidence_cli, capsys, narrow):
    code, out, err = parry(capsys, "evidence", "list")
    assert code == 0, err
    assert all(len(line) <= 80 for line in out.splitlines()), out
    assert all(re.search(rf"^{case_id} +{ACCOUNT} +iam-cred\S* +succeeded +1 *$", out, re.M) for case_id in IDS), out


@pytest.fixture
def evidence_cli(aws, monkeypatch):
    """Three sealed cases in an evidence bucket, the signing key pinned as the auditor guide says."""
    from parry.evidence.writer import EvidenceStore
    from tests.support.evidence import BUCKET, Env, build_case, create_bucket
    from tests.support.kms import kms_digest_signing

    with kms_digest_signing():
        s3, kms = aws.client("s3"), aws.client("kms")
        create_bucket(s3)
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
        env = Env(s3, kms, key_id, EvidenceStore(s3, BUCKET, retention_days=30, lock_mode="GOVERNANCE"))
        for case_id in IDS:
            build_case(env, case_id, playbook="iam-credential-compromise")
        monkeypatch.setenv("PARRY_EVIDENCE_BUCKET", BUCKET)
        monkeypatch.setenv("PARRY_SIGNING_KEY_ID", key_id)
        yield env


@pytest.fixture
def terminal(monkeypatch):
    """stderr as a person's terminal, though the test captures it."""
    from parry.cli import progress

    monkeypatch.setattr(progress, "at_terminal", lambda: True)


def test_verify_all_and_export_show_progress_on_a_terminal_only(evidence_cli, capsys, terminal, tmp_path):
    code, out, err = parry(capsys, "evidence", "verify", "--all")
    assert code == 0 and "verifying 3 case(s)" in err and out.endswith("3 of 3 case(s) intact\n")
    code, out, err = parry(capsys, "evidence", "export", IDS[0], str(tmp_path / "out"))
    assert code == 0 and f"exporting {IDS[0]}" in err and out.startswith("exported ")
    code, out, err = parry(capsys, "evidence", "verify", "--all", "--json")
    assert code == 0 and err == "" and len(json.loads(out)) == 3


def test_no_progress_when_stderr_is_not_a_terminal(evidence_cli, capsys, tmp_path):
    code, _, err = parry(capsys, "evidence", "verify", "--all")
    assert code == 0 and err == ""
    code, _, err = parry(capsys, "evidence", "export", IDS[0], str(tmp_path / "out"))
    assert code == 0 and err == ""
