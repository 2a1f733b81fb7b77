"""`parry` as a user calls it, in-process: the real `main`, its exit code and both streams."""

from __future__ import annotations

import pytest

from parry.cli import main


def parry(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err
