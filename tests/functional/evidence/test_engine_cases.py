"""Cases the engine itself writes (run, approval, resume, undo) seal and verify intact."""

from __future__ import annotations

import pytest

from parry.evidence.keys import load_public_keys
from parry.evidence.sources import S3Source
from parry.evidence.verify import verify_case
from parry.store import model as cs


@pytest.fixture
def signed_engine(env, parry_env, monkeypatch):
    from parry.config import Settings
    from parry.engine.run import Engine

    monkeypatch.setenv("PARRY_SIGNING_KEY_ID", env.key_id)
    from parry.aws.clients import ClientFactory

    return Engine(ClientFactory(region="us-east-1"), Settings.from_env())


def _book():
    from parry.playbooks.validate import validate_document

    return validate_document(
        {
            "name": "test-book",
            "trigger": {"source": ["aws.guardduty"]},
            "target": {
                "user": "detail.resource.accessKeyDetails.userName",
                "key": "detail.resource.accessKeyDetails.accessKeyId",
            },
            "dedup": "detail.id",
            "steps": [
                {
                    "id": "deactivate",
                    "action": "iam.deactivate_access_key",
                    "approval": "required",
                    "undo": True,
                    "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
                }
            ],
        },
        "test.yaml",
    )


def verified(engine, env, parry_env, case_id: str, tmp_path):
    """The case's evidence folder, and its verification against the signing key pinned in a file."""
    source = S3Source(env.s3, parry_env["PARRY_EVIDENCE_BUCKET"], engine.store.get(case_id).evidence_prefix)
    pin = tmp_path / "k.der"
    pin.write_bytes(env.public_key_der())
    return source, verify_case(source, trusted_keys=load_public_keys([pin]))


def test_run_approve_resume_undo_each_seal_and_verify(signed_engine, env, compromised_user, parry_env, tmp_path):
    from parry.engine.undo import undo
    from tests.support.decisions import approve

    book = _book()
    paused = signed_engine.run(book, compromised_user["event"])
    assert paused.status == cs.AWAITING_APPROVAL
    approve(signed_engine, paused.case_id, reason="confirmed", who="arn:aws:iam::123456789012:user/oncall")
    done = signed_engine.resume(paused.case_id, book)
    assert done.status == cs.SUCCEEDED
    undo(signed_engine, done.case_id, who="me", reason="false positive")

    source, result = verified(signed_engine, env, parry_env, done.case_id, tmp_path)
    assert result.ok, [str(p) for p in result.problems]
    assert result.manifests >= 2  # at close, and again after the undo

    from parry.evidence.report import load_case, render_html

    page = render_html(load_case(source), result)
    assert "false positive" in page and "Verification: INTACT" in page
    assert "Undo: state before and after" in page and "Inactive" in page


def test_a_case_waiting_for_approval_is_signed_as_far_as_it_went(
    signed_engine, env, compromised_user, parry_env, tmp_path
):
    """Hours or days may pass before someone decides: what the case did until the request is sealed and signed."""
    paused = signed_engine.run(_book(), compromised_user["event"])
    assert paused.status == cs.AWAITING_APPROVAL

    source, result = verified(signed_engine, env, parry_env, paused.case_id, tmp_path)

    assert result.ok, [str(p) for p in result.problems]
    assert result.manifests == 1
    listing = source.listing()
    assert any(k.startswith("manifest/") and k.endswith(".sig") for k in listing), sorted(listing)
