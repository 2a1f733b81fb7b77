"""The `parry` command as a user calls it: exit codes, output, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import parry

IAM_FINDING = "tests/events/guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"


def test_validate_passes_on_the_shipped_playbooks(capsys):
    code, out, _ = parry(capsys, "validate")
    assert code == 0 and "ok  iam-credential-compromise" in out


def test_validate_fails_with_file_and_line(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntrigger: {source: [aws.guardduty]}\nsteps:\n  - id: a\n    action: iam.nope\n")
    code, _, err = parry(capsys, "validate", str(bad))
    assert code == 1
    assert f"{bad}:5: steps[0].action: unknown action 'iam.nope'" in err


def test_route_names_the_playbook_and_wraps_bare_findings(capsys):
    code, out, err = parry(capsys, "route", IAM_FINDING)
    # AWS's published finding is a sample: no trigger takes it, and route says where the real one would go
    assert code == 0 and out.splitlines() == [
        "iam-credential-compromise  (as a real detection: a GuardDuty sample finding, which no trigger takes)"
    ]
    assert "wrapped in its EventBridge envelope" in err


def test_route_jsonl_gives_one_line_per_event_in_order(capsys, tmp_path):
    finding = json.loads(Path(IAM_FINDING).read_text())
    other = {
        "source": "aws.ec2",
        "detail-type": "EC2 Instance State-change Notification",
        "detail": {"state": "running"},
    }
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps(other) + "\n\n" + json.dumps(finding) + "\n")
    code, out, _ = parry(capsys, "route", str(batch), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert lines[0] == {"source": f"{batch}:1", "playbooks": []}
    assert lines[1]["source"] == f"{batch}:3" and lines[1]["playbooks"] == []  # a sample: routed nowhere
    assert "iam-credential-compromise" in lines[1]["as_real_detection"]


def test_route_names_each_result_s_file_and_goes_on_past_a_bad_one(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    code, out, err = parry(capsys, "route", str(bad), str(empty), IAM_FINDING)

    assert code == 1  # something could not be routed: said, and the rest still routed
    assert f"{bad}: not an EventBridge event" in err and f"{empty}: holds no event" in err
    assert out.splitlines() == [
        f"{IAM_FINDING}: iam-credential-compromise  (as a real detection: a GuardDuty sample finding, which no trigger takes)"
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not JSON"),
        ('{"hello": 1}', "not an EventBridge event, GuardDuty finding"),
    ],
)
def test_bad_event_files_are_one_line_errors(capsys, tmp_path, content, message):
    path = tmp_path / "event.json"
    path.write_text(content)
    code, out, err = parry(capsys, "route", str(path))
    assert code == 1 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_playbook_is_a_one_line_error(capsys):
    code, _, err = parry(capsys, "plan", "no-such-book", "--event", IAM_FINDING)
    assert code == 2 and "no playbook 'no-such-book'" in err


def test_run_without_settings_says_what_to_set(capsys, moto):
    code, _, err = parry(capsys, "run", "iam-credential-compromise", "--event", IAM_FINDING)
    assert code == 2 and "PARRY_EVIDENCE_BUCKET" in err


def test_local_bootstrap_refuses_a_real_endpoint(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://iam.amazonaws.com")
    code, _, err = parry(capsys, "local", "bootstrap")
    assert code == 2 and "only runs against a local endpoint" in err


def test_plan_run_show_and_undo_asks_for_the_front_door(capsys, aws, parry_env, compromised_user, tmp_path, engine):
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(compromised_user["event"]))

    code, out, _ = parry(capsys, "plan", "iam-credential-compromise", "--event", str(event_file))
    assert code == 0 and "would call iam:UpdateAccessKey" in out

    code, out, _ = parry(capsys, "run", "iam-credential-compromise", "--event", str(event_file), "--json")
    case = json.loads(out)
    assert code == 0 and case["status"] == "SUCCEEDED" and set(case) >= {"case_id", "status", "steps"}

    code, out, _ = parry(capsys, "cases", "show", case["case_id"], "--json")
    assert code == 0 and json.loads(out)["steps"] == case["steps"]

    code, out, _ = parry(capsys, "cases", "list", "--json")
    assert [c["case_id"] for c in json.loads(out)] == [case["case_id"]]

    code, out, _ = parry(capsys, "run", "iam-credential-compromise", "--event", str(event_file), "--json")
    assert json.loads(out)["duplicate"] is True

    # no local endpoint: as against an account, requests go through the front door, which must be named
    code, _, err = parry(capsys, "undo", case["case_id"], "--json")
    assert code == 2 and "PARRY_CONTROL_URL" in err
    assert engine.store.get(case["case_id"]).undo_request is None
    keys = aws.client("iam").list_access_keys(UserName="ci-deployer")["AccessKeyMetadata"]
    assert keys[0]["Status"] == "Inactive"
    code, _, err = parry(capsys, "run", "iam-credential-compromise", "--event", str(event_file), "--control-url", "x")
    assert code == 2 and "--finding or --target" in err


def test_python_dash_m_parry_is_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "parry", "route", IAM_FINDING], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "iam-credential-compromise" in result.stdout


def test_a_cli_error_is_never_a_traceback():
    env = dict(
        os.environ,
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        PARRY_EVIDENCE_BUCKET="b",
        PARRY_CASES_TABLE="t",
        AWS_MAX_ATTEMPTS="1",
    )
    result = subprocess.run(
        [sys.executable, "-m", "parry", "cases", "show", "case-x"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.startswith("parry: ")


def test_run_on_a_saved_custom_action_event_runs_each_selected_finding(
    capsys, aws, engine, compromised_user, tmp_path, monkeypatch
):
    """`parry run` on the event a Security Hub custom action sent, as its Lambda runs it."""
    from tests.support.findings import registered

    detail = compromised_user["event"]["detail"]
    hub = aws.client("securityhub")
    finding = hub.get_findings(Filters={"Id": [{"Value": detail["arn"], "Comparison": "EQUALS"}]})["Findings"][0]
    event_file = tmp_path / "custom-action.json"
    event_file.write_text(
        json.dumps(
            {
                "version": "0",
                "id": "25a1be76-1141-cb5d-be5c-bbaa5461e626",
                "detail-type": "Security Hub Findings - Custom Action",
                "source": "aws.securityhub",
                "account": "123456789012",
                "time": "2024-05-01T10:00:00Z",
                "region": "us-east-1",
                "resources": ["arn:aws:securityhub:us-east-1:123456789012:action/custom/IamCredential"],
                "detail": {"actionName": "IamCredential", "actionDescription": "Run it", "findings": [finding]},
            }
        )
    )

    gd = aws.client("guardduty")
    (detector,) = gd.list_detectors()["DetectorIds"]
    gd.delete_detector(DetectorId=detector)
    # GuardDuty is off: the finding is named, nothing runs
    code, out, err = parry(capsys, "run", "iam-credential-compromise", "--event", str(event_file))
    assert code == 1 and f"finding {detail['arn']}: " in err and "GuardDuty is not enabled in us-east-1" in err

    registered(aws, compromised_user["event"])  # GuardDuty on again, holding the finding
    monkeypatch.setattr("parry.cli.starting.make_engine", lambda *a: engine)

    code, out, _ = parry(capsys, "run", "iam-credential-compromise", "--event", str(event_file), "--json")
    result = json.loads(out)
    assert code == 0 and result["errors"] == [] and [c["status"] for c in result["cases"]] == ["SUCCEEDED"]
    assert aws.client("iam").list_access_keys(UserName="ci-deployer")["AccessKeyMetadata"][0]["Status"] == "Inactive"


def test_plan_on_a_saved_custom_action_event_plans_each_selected_finding(
    capsys, aws, engine, compromised_user, tmp_path, monkeypatch
):
    """`parry plan` on a custom action plans what `parry run` would do: on the GuardDuty finding
    read back (its targets resolve), changing nothing."""
    detail = compromised_user["event"]["detail"]
    finding = aws.client("securityhub").get_findings(
        Filters={"Id": [{"Value": detail["arn"], "Comparison": "EQUALS"}]}
    )["Findings"][0]
    event_file = tmp_path / "custom-action.json"
    event_file.write_text(
        json.dumps(
            {
                "version": "0",
                "id": "25a1be76-1141-cb5d-be5c-bbaa5461e627",
                "detail-type": "Security Hub Findings - Custom Action",
                "source": "aws.securityhub",
                "account": "123456789012",
                "time": "2024-05-01T10:00:00Z",
                "region": "us-east-1",
                "resources": ["arn:aws:securityhub:us-east-1:123456789012:action/custom/IamCredential"],
                "detail": {
                    "actionName": "IamCredential",
                    "actionDescription": "Plan it",
                    "findings": [
                        finding,
                        {**finding, "Id": "arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/gone"},
                    ],
                },
            }
        )
    )
    monkeypatch.setattr("parry.cli.playbooks.make_engine", lambda *a: engine)

    code, out, err = parry(capsys, "plan", "iam-credential-compromise", "--event", str(event_file), "--json")

    assert code == 0, err
    planned, gone = json.loads(out)
    assert planned["finding"] == detail["arn"]
    assert planned["plan"]["target"]["user"] == "ci-deployer"
    assert any(s["step_id"] == "deactivate-key" and s["will_run"] for s in planned["plan"]["steps"])
    assert gone["finding"].endswith("/finding/gone") and gone["error"]
    assert aws.client("iam").list_access_keys(UserName="ci-deployer")["AccessKeyMetadata"][0]["Status"] == "Active"


def test_cases_list_takes_a_status_in_any_case_and_refuses_one_that_is_not(capsys, parry_env, compromised_user, engine):
    from tests.support.playbooks import playbook

    case = engine.run(playbook(), compromised_user["event"])
    code, out, err = parry(capsys, "cases", "list", "--status", "succeeded", "--json")
    assert code == 0, err
    assert [c["case_id"] for c in json.loads(out)] == [case.case_id]

    code, out, err = parry(capsys, "cases", "list", "--status", "bogus")
    assert code == 2 and "--status 'bogus': a case status is one of RUNNING, AWAITING_APPROVAL" in err


def test_cases_expire_says_when_there_was_nothing_to_do(capsys, parry_env):
    code, out, err = parry(capsys, "cases", "expire")
    assert code == 0 and out == "" and "nothing to do" in err


def test_a_denial_or_an_undo_asks_why_on_a_terminal_and_never_off_one(monkeypatch):
    from parry.cli import decisions

    asked = []
    monkeypatch.setattr(decisions.typer, "prompt", lambda text, **_: asked.append(text) or "pentest, agreed with SOC")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert decisions._reason("", "deny") == "pentest, agreed with SOC" and asked == [
        "why deny? (recorded in the case and the audit log)"
    ]
    assert decisions._reason("given", "undo") == "given" and len(asked) == 1  # given: not asked again
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)  # a script: nothing to ask, nothing waits
    assert decisions._reason("", "undo") == "" and len(asked) == 1
