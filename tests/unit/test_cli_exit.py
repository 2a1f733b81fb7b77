"""The `parry` program exits without the interpreter's teardown, but never before its work is done:
held evidence writes finish, a thread still at work is waited for, and the exit code is the command's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def exit_after(body: str, code: str) -> subprocess.CompletedProcess[str]:
    script = f"import sys, threading, time\nfrom parry.cli import finish\n{body}\nfinish({code})\n"
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)


TEARDOWN = (
    "class Teardown:\n"
    "    def __del__(self):\n"
    "        print('torn down', file=sys.stderr)\n"
    "kept = Teardown()  # the interpreter's teardown says so; os._exit does not\n"
)


def test_a_held_evidence_write_is_finished_before_the_process_ends_without_teardown(tmp_path: Path):
    done = tmp_path / "written"
    body = TEARDOWN + (
        "from parry.evidence import writer\n"
        f"writer._writers().submit(lambda: (time.sleep(0.3), open({str(done)!r}, 'w').write('sealed')))"
    )

    out = exit_after(body, "0")

    assert out.returncode == 0, out.stderr
    assert done.read_text() == "sealed"
    assert "torn down" not in out.stderr  # the writers were joined, so the process ended at once


def test_a_thread_still_at_work_is_waited_for(tmp_path: Path):
    done = tmp_path / "done"
    body = TEARDOWN + f"threading.Thread(target=lambda: (time.sleep(0.3), open({str(done)!r}, 'w').write('x'))).start()"

    out = exit_after(body, "3")

    assert out.returncode == 3
    assert done.read_text() == "x"
    assert "torn down" in out.stderr  # the interpreter's own exit, which waits for it


def test_the_output_is_all_written_and_a_message_exits_1():
    out = exit_after("print('x' * 200_000, end='')", "'parry: stopped'")

    assert (out.returncode, len(out.stdout), out.stderr) == (1, 200_000, "parry: stopped\n")


def test_a_reader_that_went_away_gets_no_traceback():
    script = "import time\nfrom parry.cli import finish\ntime.sleep(0.5)\nprint('x' * 100)\nfinish(0)\n"
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # the output waits for the exit
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=buffered,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # `parry ... | head` whose head has ended

    errors = child.stderr.read()
    child.wait(timeout=60)

    assert "Traceback" not in errors and "BrokenPipeError" not in errors
