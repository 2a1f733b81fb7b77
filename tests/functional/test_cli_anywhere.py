"""`parry` from any directory: the playbooks folder is --playbooks, then $PARRY_PLAYBOOKS, then
./playbooks, then the playbooks installed with parry; a folder that is not there is named. And
`validate --json` gives each problem as its parts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import parry

ROOT = Path(__file__).resolve().parents[2]
BOOK = """\
version: parry/v1
name: ec2-state-watch
description: Capture an instance whose state changed
trigger: {source: [aws.ec2], detail-type: [EC2 Instance State-change Notification]}
dedup: 'detail."instance-id"'
target:
  instance: 'detail."instance-id"'
steps:
  - id: capture
    action: evidence.capture_instance
    with: {instance_id: "${target.instance}"}
"""
EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2026-12-01T14:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"],
    "detail": {"instance-id": "i-0123456789abcdef0", "state": "running"},
}


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A working directory with no playbooks folder, and a folder of one's own playbooks beside it."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    books = tmp_path / "my-playbooks"
    books.mkdir()
    (books / "ec2-state-watch.yaml").write_text(BOOK)
    (cwd / "event.json").write_text(json.dumps(EVENT))
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("PARRY_PLAYBOOKS", raising=False)
    return books


def test_validate_from_another_directory_reads_the_playbooks_installed_with_parry(elsewhere):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PARRY_PLAYBOOKS", None)
    out = subprocess.run(
        [sys.executable, "-m", "parry", "validate"],
        cwd=Path.cwd(),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "ok  iam-credential-compromise" in out.stdout and "cannot read" not in out.stderr


def test_parry_playbooks_names_the_folder_for_validate_and_route(capsys, elsewhere, monkeypatch):
    monkeypatch.setenv("PARRY_PLAYBOOKS", str(elsewhere))
    code, out, err = parry(capsys, "validate")
    assert code == 0, err
    assert out.splitlines() == [f"ok  ec2-state-watch  ({elsewhere / 'ec2-state-watch.yaml'}, 1 steps)"]
    assert parry(capsys, "route", "event.json")[:2] == (0, "ec2-state-watch\n")


def test_the_playbooks_flag_comes_before_the_environment(capsys, elsewhere, monkeypatch, tmp_path):
    monkeypatch.setenv("PARRY_PLAYBOOKS", str(tmp_path / "nowhere"))
    assert parry(capsys, "route", "event.json", "--playbooks", str(elsewhere))[:2] == (0, "ec2-state-watch\n")
    code, _, err = parry(capsys, "route", "event.json")
    assert code == 2 and err == f"parry: PARRY_PLAYBOOKS={tmp_path / 'nowhere'}: no such folder\n"


def test_a_playbooks_folder_that_is_not_there_is_named(capsys, elsewhere, tmp_path):
    code, out, err = parry(capsys, "validate", "--playbooks", str(tmp_path / "missing"))
    assert (code, out) == (2, "") and err == f"parry: --playbooks {tmp_path / 'missing'}: no such folder\n"


def test_validate_json_gives_each_problem_as_its_parts(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntrigger: {source: [aws.guardduty]}\nsteps:\n  - id: a\n    action: iam.nope\n")
    code, out, err = parry(capsys, "validate", str(bad), "--json")
    problems = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and err.endswith(f"{len(problems)} problem(s)\n")
    assert {
        "file": str(bad),
        "line": 5,
        "path": "steps[0].action",
        "message": "unknown action 'iam.nope'; `parry actions` lists them",
    } in problems
    assert all(set(p) == {"file", "line", "path", "message"} and p["file"] == str(bad) for p in problems)


def test_validate_json_without_problems_is_one_summary(capsys, elsewhere):
    code, out, _ = parry(capsys, "validate", "--playbooks", str(elsewhere), "--json")
    assert code == 0
    assert json.loads(out) == {
        "problems": [],
        "playbooks": [{"name": "ec2-state-watch", "path": str(elsewhere / "ec2-state-watch.yaml"), "steps": 1}],
    }
