"""What a scenario returns and how a test shows it: a `Figures` dict, printed as one greppable line.

The tests assert on a scenario's figures and the benchmark formats the same dict, so both read
one result; `report` is the line a test prints (pytest -s) so a run's figures can be collected.
"""

from __future__ import annotations

from typing import Any

Figures = dict[str, Any]


def report(**figures: Any) -> None:
    """The one line each test prints: `RELIABILITY key=value ...` (run pytest with -s to see it)."""
    print("RELIABILITY " + " ".join(f"{k}={v}" for k, v in figures.items() if not isinstance(v, (list, dict)) or v))
