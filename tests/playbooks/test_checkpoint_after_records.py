"""The crash rule with audit records sent concurrently: a case-table checkpoint that moves a case past
a step is written only once that step's audit record has landed, so a crash after any checkpoint leaves
a log the case can run on from (parry.engine.provenance: a case runs on from the first step whose
record is missing). Also: a warm run seals a case it opened, and its capture finds out whether its
artifact is stored, without listing that folder."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.playbooks.test_contain_first import _compromised_key, calls  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[2]


def _landed_steps(s3: Any, bucket: str, table_case: dict[str, Any]) -> set[str]:
    """The steps whose step_finished record is in the case's evidence folder now."""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=table_case["prefix"] + "audit/").get("Contents", [])
    records = [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in listed]
    return {r["step"] for r in records if r.get("kind") == "step_finished"}


def test_every_checkpoint_moving_past_a_step_follows_its_landed_record(engine, aws):
    book = load_file(ROOT / "playbooks" / "iam-credential-compromise.yaml")
    event, _ = _compromised_key(aws, "checkpointed-user")
    bucket, _ = engine.settings.require()
    s3 = aws.client("s3")
    seen: list[tuple[int, set[str]]] = []
    opened: dict[str, Any] = {}
    real_save = engine.store.__class__.save

    def slow_record(params: dict[str, Any], **_: Any) -> None:
        """A record PUT that takes its time on the writers' threads, as a slow S3 answer does."""
        if "/audit/" in params.get("Key", "") and threading.current_thread() is not threading.main_thread():
            time.sleep(0.05)

    engine.aws.client("s3").meta.events.register("before-parameter-build.s3.PutObject", slow_record)

    def save(store: Any, case: Any, **kwargs: Any) -> Any:
        opened["prefix"] = case.evidence_prefix
        seen.append((case.next_step, _landed_steps(s3, bucket, opened)))
        return real_save(store, case, **kwargs)

    with mock.patch.object(engine.store.__class__, "save", save):
        case = engine.run(book, event)

    assert case.status in (cs.SUCCEEDED, cs.COMPLETED_WITH_ERRORS)
    assert len(seen) >= len(book.steps)
    for next_step, landed in seen:
        passed = {step.id for step in book.steps[:next_step]}
        assert passed <= landed, f"checkpoint at step {next_step + 1} before the records of {passed - landed}"


def test_a_warm_run_neither_lists_nor_reads_the_folder_of_the_case_it_opened(engine, aws, calls):  # noqa: F811
    book = load_file(ROOT / "playbooks" / "iam-credential-compromise.yaml")
    first, _ = _compromised_key(aws, "first-sealed-user")
    engine.run(book, first)
    event, _ = _compromised_key(aws, "second-sealed-user")
    calls.clear()

    case = engine.run(book, event)

    assert case.status in (cs.SUCCEEDED, cs.COMPLETED_WITH_ERRORS)
    assert "kms.Sign" in calls
    # nor does the capture ask the folder whether its artifact is there: this run wrote all of it
    assert not {"s3.ListObjectVersions", "s3.ListObjectsV2", "s3.GetObject"} & set(calls), calls
