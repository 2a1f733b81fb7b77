"""Cold start: the runner handler's import time as a ratio to a bare `import boto3`.

Each figure is the median of fresh interpreters (no warm module cache). Target: the handler import
at most 1.5x `import boto3`. Also shown: what the first invocation adds (the engine, the actions,
powertools), since that is paid once per cold start too.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7

SNIPPETS = {
    "import boto3": "import boto3",
    "import handler": "import handler",
    "handler + engine, actions, powertools (first invocation)": (
        "import handler, boto3; import parry.runtime.requests, parry.engine.run, parry.actions, parry.routing.patterns;"
        " from aws_lambda_powertools import Logger, Metrics"
    ),
}


def measure(code: str) -> float:
    timer = f"import time; t0 = time.perf_counter(); {code}; print(time.perf_counter() - t0)"
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", timer],
            cwd=ROOT / "functions" / "runner",
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        samples.append(float(out.strip()))
    return statistics.median(samples)


def main() -> None:
    figures = {name: measure(code) for name, code in SNIPPETS.items()}
    base = figures["import boto3"]
    print(f"cold start (median of {RUNS} fresh interpreters, Python {sys.version.split()[0]})")
    print(f"{'what':<60} {'ms':>8} {'x boto3':>8}")
    for name, seconds in figures.items():
        print(f"{name:<60} {seconds * 1000:8.1f} {seconds / base:8.2f}")
    ratio = figures["import handler"] / base
    print(f"handler import / import boto3 = {ratio:.2f} (target <= 1.5): {'met' if ratio <= 1.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
