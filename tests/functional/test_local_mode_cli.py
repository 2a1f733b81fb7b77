"""Local mode as a newcomer meets it: credentials, a bootstrap that fails visibly, the endpoint's log and
how to stop it, the demo's last lines, and case ids a script can use."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import parry

ROOT = Path(__file__).resolve().parents[2]
DEAD_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing answers there


def test_a_local_endpoint_without_credentials_gets_throwaway_ones_and_says_so(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_ENDPOINT_URL", DEAD_ENDPOINT)
    env_file = tmp_path / "parry-local.env"
    code, out, err = parry(capsys, "local", "bootstrap", "--env-file", str(env_file))
    assert err.splitlines()[0] == (
        f"parry: local endpoint {DEAD_ENDPOINT} and no AWS credentials set: using throwaway ones "
        "(AWS_ACCESS_KEY_ID=parry-local)"
    )
    assert os.environ["AWS_ACCESS_KEY_ID"] == "parry-local"
    # with credentials, what fails is the endpoint: said on stderr, a non-zero exit, no settings to source
    assert code == 2 and out == "" and f"nothing answers at {DEAD_ENDPOINT}" in err and "parry local serve" in err
    assert "Unable to locate credentials" not in err
    assert not env_file.exists()


@pytest.mark.parametrize(
    "setting", [{"AWS_PROFILE": "mine"}, {"AWS_ACCESS_KEY_ID": "AKIAMINE"}], ids=["profile", "keys"]
)
def test_credentials_someone_set_are_theirs_to_keep(capsys, monkeypatch, setting):
    from parry.cli.common import local_credentials

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_ENDPOINT_URL", DEAD_ENDPOINT)
    for key, value in setting.items():
        monkeypatch.setenv(key, value)
    local_credentials()
    assert os.environ.get("AWS_ACCESS_KEY_ID") == setting.get("AWS_ACCESS_KEY_ID")
    assert capsys.readouterr().err == ""


def test_an_aws_endpoint_never_gets_throwaway_credentials(capsys, monkeypatch):
    from parry.cli.common import local_credentials

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://sts.eu-west-1.amazonaws.com")
    local_credentials()
    assert "AWS_ACCESS_KEY_ID" not in os.environ and capsys.readouterr().err == ""


def test_bootstrap_env_file_exports_what_it_prints(capsys, monkeypatch, tmp_path):
    from parry.local.server import LocalServer

    server = LocalServer.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        env_file = tmp_path / "parry-local.env"
        code, out, err = parry(capsys, "local", "bootstrap", "--env-file", str(env_file))
    finally:
        server.stop()
    assert code == 0, err
    printed = dict(line.split("=", 1) for line in out.splitlines())
    assert printed["AWS_DEFAULT_REGION"] == printed["AWS_REGION"] == "us-east-1"  # the AWS CLI v1 reads only the first
    sourced = subprocess.run(
        ["bash", "-c", f". {env_file} && env"], capture_output=True, text=True, env={"PATH": os.environ["PATH"]}
    ).stdout
    exported = dict(line.split("=", 1) for line in sourced.splitlines() if "=" in line)
    assert {key: exported.get(key) for key in printed} == printed


def test_serve_detach_returns_once_it_answers_logs_to_a_file_and_says_how_to_stop_it(tmp_path):
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = subprocess.run(
        [sys.executable, "-m", "parry", "local", "serve", "--port", "0", "--detach", "--log", str(log)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr
    pid = int(started.stderr.rsplit("stop it with: kill ", 1)[1].split()[0])
    try:
        endpoint = started.stdout.strip().removeprefix("AWS_ENDPOINT_URL=")
        assert endpoint.startswith("http://127.0.0.1:")
        assert f"request log in {log}" in started.stderr
        listed = subprocess.run(
            [sys.executable, "-m", "parry", "local", "bootstrap"],
            capture_output=True,
            text=True,
            env={**env, "AWS_ENDPOINT_URL": endpoint},
            timeout=120,
        )
        assert listed.returncode == 0, listed.stderr
        assert "POST / HTTP/1.1" in log.read_text()  # the requests went to the log, not the terminal
    finally:
        os.kill(pid, signal.SIGTERM)


def test_the_demo_says_its_endpoint_stopped_and_saves_the_events_it_adapted(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARRY_", "AWS_"))}
    demo = subprocess.run(
        [sys.executable, "-m", "parry", "demo", "--scenario", "s3", "--events-dir", str(tmp_path / "events")],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,  # ./playbooks: finding them from anywhere is another change's
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    last = demo.stdout.strip().splitlines()[-1]
    assert last.startswith("The demo's endpoint stopped with it.") and "parry demo --keep" in last
    assert "export AWS_ENDPOINT_URL" not in demo.stdout  # an endpoint that is gone is not offered
    event = json.loads((tmp_path / "events" / "s3.json").read_text())
    assert event["source"] == "aws.s3" and event["account"] == "123456789012"  # the sandbox's account


def test_cases_list_ids_prints_full_ids_newest_first(capsys, parry_env, compromised_user, engine):
    from tests.support.playbooks import playbook

    first = engine.run(playbook(), compromised_user["event"])
    second = engine.run(playbook(name="other-book", dedup="id"), compromised_user["event"])
    code, out, err = parry(capsys, "cases", "list", "--ids")
    assert code == 0, err
    assert out.splitlines() == [second.case_id, first.case_id]
    code, out, _ = parry(capsys, "cases", "list", "-q", "--playbook", "test-book")
    assert out.splitlines() == [first.case_id]
