"""The `parry` program exits without the interpreter's teardown, but never before its work is done:
held evidence writes finish, a thread still at work is waited for, and the exit code is the command's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def exit_after(body: str, code: str) -> subprocess.CompletedProcess[str]:
    script = f"import sys, threading, time\nfrom parry.cli import finish\n{body}\nfinish({code})\n"
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_held_evidence_write_is_finished_before_the_process_ends(tmp_path: Path):
    done = tmp_path / "written"
    body = (
        "from parry.evidence import writer\n"
        f"writer._writers().submit(lambda: (time.sleep(0.3), open({str(done)!r}, 'w').write('sealed')))"
    )

    out = exit_after(body, "0")

    assert out.returncode == 0, out.stderr
    assert done.read_text() == "sealed"


def test_a_thread_still_at_work_is_waited_for(tmp_path: Path):
    done = tmp_path / "done"
    body = f"threading.Thread(target=lambda: (time.sleep(0.3), open({str(done)!r}, 'w').write('x'))).start()"

    out = exit_after(body, "3")

    assert out.returncode == 3
    assert done.read_text() == "x"


def test_the_output_is_all_written_and_a_message_exits_1():
    out = exit_after("print('x' * 200_000, end='')", "'parry: stopped'")

    assert (out.returncode, len(out.stdout), out.stderr) == (1, 200_000, "parry: stopped\n")
