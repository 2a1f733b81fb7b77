"""The README's tour and the auditor guide work as written: every ```sh block, verbatim and in order.

The blocks run in one bash (`set -euo pipefail`, so exports carry over and the first failing command
fails the test) in a fresh copy of the repository, against local endpoints. What differs from a
newcomer's shell in a fresh clone, and why:

- `.venv` in the copy is a symlink to the environment running this test (sys.prefix), so
  `.venv/bin/parry` is installed already; PYTHONPATH makes it run the copy's code.
- `make run` runs the command it stands for (`.venv/bin/parry demo`; the install is done), and
  `make test` does not run: it is this suite.
- the README's fixed port 5000 becomes a free port, so a busy 5000 or a parallel run cannot collide.
- no AWS_ or PARRY_ variable is inherited and the AWS config and credentials files are empty: no
  profile and no credentials, as on a newcomer's machine.
- a block whose first line is `# needs an AWS account` is skipped (the docs mark it so).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/auditor-guide.md")  # in the order a newcomer reads them
NEEDS_ACCOUNT = "# needs an AWS account"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TOOLS = ("bash", "aws", "jq", "openssl", "sha256sum", "base64", "comm")


def shell_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, body) of each ```sh block of a Markdown text."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def tour_script(port: int) -> tuple[str, list[str]]:
    """The bash script running every block, and the blocks it skips (as FILE:LINE)."""
    parts, skipped = ["set -euo pipefail"], []
    for doc in DOCS:
        for line, body in shell_blocks((ROOT / doc).read_text()):
            where = f"{doc}:{line}"
            if body.startswith(NEEDS_ACCOUNT):
                skipped.append(where)
                continue
            body = re.sub(r"^make run\b", ".venv/bin/parry demo", body, flags=re.MULTILINE)
            body = re.sub(r"^make test\b.*$", ": make test is this suite", body, flags=re.MULTILINE)
            body = body.replace("--port 5000", f"--port {port}").replace("127.0.0.1:5000", f"127.0.0.1:{port}")
            parts.append(f"printf '\\n>>> %s at %ss\\n' {where!r} \"$SECONDS\"\n{body}")
    return "\n".join(parts) + "\n", skipped


def printed_by_block(printed: str) -> dict[str, str]:
    """What each block printed, by FILE:LINE (the script marks where each block starts)."""
    parts = re.split(r"^>>> (\S+) at \d+s$", printed, flags=re.MULTILINE)
    return {where: text.strip() for where, text in zip(parts[1::2], parts[2::2], strict=True)}


def block_containing(doc: str, needle: str) -> str:
    """FILE:LINE of the one block of `doc` containing `needle`."""
    (line,) = [line for line, body in shell_blocks((ROOT / doc).read_text()) if needle in body]
    return f"{doc}:{line}"


def fresh_copy(into: Path) -> Path:
    """The repository as a clone has it: no venv, caches, build output or an earlier tour's files."""
    ignored = shutil.ignore_patterns(
        ".*", "__pycache__", "cdk.out", "build", "dist", "*.egg-info", "parry-demo-events", "parry-serve.log", "*.env"
    )
    copy = into / "parry"
    shutil.copytree(ROOT, copy, ignore=ignored)
    (copy / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return copy


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_tour(tmp_path: Path) -> tuple[int, str, Path, list[str]]:
    """Run the docs' blocks; (exit code, everything printed, the copy, skipped blocks). Stops the endpoint after."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the auditor guide's commands need {', '.join(missing)}, not installed here")
    copy = fresh_copy(tmp_path)
    script, skipped = tour_script(free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PARRY_"))}
    env.update(
        PYTHONPATH=str(copy),
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
    )
    log = tmp_path / "tour.log"
    try:
        with log.open("w") as out:
            done = subprocess.run(
                ["bash", "-c", script], cwd=copy, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=600
            )
    finally:
        for pid in re.findall(r"stop it with: kill (\d+)", log.read_text()):
            try:
                os.kill(int(pid), signal.SIGTERM)
            except ProcessLookupError:
                pass
    return done.returncode, log.read_text(), copy, skipped


def test_every_command_of_the_readme_and_the_auditor_guide_works_verbatim(tmp_path):
    code, printed, copy, skipped = run_tour(tmp_path)
    assert code == 0, f"a documented command failed (exit {code}); the end of what it printed:\n{printed[-6000:]}"
    # the blocks that need a real account are few and marked; everything else ran
    assert skipped and all(where.startswith(("README.md", "docs/auditor-guide.md")) for where in skipped)
    assert len(skipped) <= 2, skipped
    # both demos contained every scenario, and verified each case against the pinned key
    assert "NOT contained" not in printed and "verification found problems" not in printed
    assert printed.count("4 of 4 scenario(s) contained") == 2
    # no credentials were set: the local endpoint's throwaway ones, said on stderr
    assert "no AWS credentials set: using throwaway ones" in printed
    # the demo saved the events it adapted, which route, plan and the auditor steps then used
    assert sorted(p.name for p in (copy / "parry-demo-events").iterdir()) == [
        "ec2.json",
        "iam-key.json",
        "lambda.json",
        "s3.json",
    ]
    # the approval path ran: quarantined after one approval, access given back after a second
    assert "status UNDONE" in printed
    # the auditor's own checks passed on the case the tour left
    assert "stored key is the expected key" in printed and "Verified OK" in printed
    assert "INTACT" in printed and (copy / "case.html").is_file()
    # and the lists the guide says must be empty are: one version per key, no delete marker, no stray file
    by_block = printed_by_block(printed)
    assert by_block[block_containing("docs/auditor-guide.md", "DeleteMarkers")] == ""
    assert by_block[block_containing("docs/auditor-guide.md", "comm -13")] == ""


def test_the_extracted_blocks_are_the_documented_commands():
    """The runner sees what a reader sees: the blocks in order, a marked block left out, nothing added."""
    text = "intro\n```sh\necho one\n```\n```yaml\nkey: v\n```\n```sh\n# needs an AWS account\naws s3 ls\n```\n"
    assert shell_blocks(text) == [(3, "echo one\n"), (9, "# needs an AWS account\naws s3 ls\n")]
    script, skipped = tour_script(5999)
    assert "--port 5999" in script and "127.0.0.1:5999" in script and "5000" not in script
    assert "\n.venv/bin/parry demo" in script and "\nmake " not in script
