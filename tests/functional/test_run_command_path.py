"""`parry run` as the on-call types it, in a process of its own on a local endpoint: it contains without
loading the command-line framework (typer, pydantic, rich) or, on a playbook validated before, the
validator (jsonschema, PyYAML), and exits with the command's code and its whole output."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.local_endpoint import ROOT, bootstrapped, endpoint_client, run_parry
from tests.support.playbooks import deactivate_only_yaml

FINDING = ROOT / "tests/events/guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"
HEAVY = ("typer", "pydantic", "rich", "jsonschema", "yaml")
MAIN_THEN_REPORT = (
    "import sys\n"
    "from parry.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
    f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr)\n"
)

pytestmark = pytest.mark.xdist_group("run-command-path")  # one local endpoint for the module


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    with bootstrapped(PARRY_CACHE_DIR=str(cache)) as endpoint:
        yield endpoint


def compromise(local, folder: Path) -> dict[str, str]:
    """An IAM user with an active key, the GuardDuty finding about it in a file, and the one-step playbook."""
    iam = endpoint_client(local, "iam")
    user = f"u-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    detail = json.loads(FINDING.read_text())
    detail.update(id=uuid.uuid4().hex, accountId="123456789012", region="us-east-1")
    detail["arn"] = f"arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/{detail['id']}"
    detail["resource"]["accessKeyDetails"].update(userName=user, accessKeyId=key)
    (folder / f"{user}.json").write_text(json.dumps(detail))
    (folder / "deactivate-only.yaml").write_text(deactivate_only_yaml("deactivate-only"))
    return {"user": user, "event": str(folder / f"{user}.json"), "book": str(folder / "deactivate-only.yaml")}


@pytest.fixture
def compromised(local, tmp_path: Path) -> dict[str, str]:
    return compromise(local, tmp_path)


def key_status(local, user: str) -> str:
    return endpoint_client(local, "iam").list_access_keys(UserName=user)["AccessKeyMetadata"][0]["Status"]


def loaded_by_run(local, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", MAIN_THEN_REPORT, *args], env=local["env"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done, ast.literal_eval(done.stderr.strip().splitlines()[-1])


def test_a_run_contains_without_the_cli_framework_or_the_validator(local, tmp_path):
    first, second = compromise(local, tmp_path), compromise(local, tmp_path)

    done, heavy_first = loaded_by_run(local, "run", first["book"], "--event", first["event"], "--json")
    _, heavy_again = loaded_by_run(local, "run", second["book"], "--event", second["event"])

    assert json.loads(done.stdout)["status"] == "SUCCEEDED"
    assert key_status(local, first["user"]) == key_status(local, second["user"]) == "Inactive"
    assert {"yaml", "jsonschema"} <= set(heavy_first)  # validated the first time, then kept compiled
    assert not {"typer", "pydantic", "rich"} & set(heavy_first)
    assert heavy_again == ["rich"]  # the case shown as a table, without --json


def test_the_parry_program_exits_with_the_commands_code_and_all_its_output(local, compromised):
    done = run_parry(local, "run", compromised["book"], "--event", compromised["event"], "--json")

    assert done.returncode == 0, done.stderr
    case = json.loads(done.stdout)  # the whole output: the process does not end before it is written
    assert (case["status"], [s["status"] for s in case["steps"]]) == ("SUCCEEDED", ["succeeded"])
    assert key_status(local, compromised["user"]) == "Inactive"


@pytest.mark.parametrize(
    "args, code, said",
    [
        (("--event", "{event}", "--finding", "f-1"), 2, "parry: give one of --finding, --target or --event\n"),
        (("--event", "{event}", "--new-case"), 2, "parry: --new-case is for a start on --finding or --target"),
        (("--event", "{event}", "--bogus"), 2, "No such option: --bogus"),  # typer's usage error, as before
        (("--event",), 2, "Option '--event' requires an argument."),
        (("--ev", "{event}"), 2, "No such option: --ev"),  # no abbreviations: click takes none either
    ],
)
def test_a_run_that_cannot_start_says_why_as_every_command_does(local, compromised, args, code, said):
    given = [a.format(event=compromised["event"]) for a in args]

    done = run_parry(local, "run", compromised["book"], *given)

    assert (done.returncode, done.stdout) == (code, "")
    assert said in done.stderr and "Traceback" not in done.stderr
    assert key_status(local, compromised["user"]) == "Active"
