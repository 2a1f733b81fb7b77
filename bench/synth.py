"""Synth time of Parry's CDK app with 20 playbooks, as a ratio to the empty stack.

"The empty stack" is Parry's app with no playbooks (stores, keys, topic, kill switch, dashboard,
cdk-nag): the ratio is what 20 playbooks cost. A bare CDK app with one empty Stack is printed too,
as the floor of any Python CDK synth (interpreter, jsii's Node process). Every figure is the wall
time of fresh processes (`python app.py`, what `cdk synth` runs: playbook validation, the Lambda
asset, cdk-nag), run round-robin so all cases share the machine's load; the ratio uses the best
run of each. The 20 playbooks are the repository's own, renamed. Target: ratio <= 1.5.

    python bench/synth.py [--playbooks DIR] [--count 20] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Parry's app turns CDK's built-in CloudFormation validation off (cfn-lint runs in the tests
# instead), so the fair baseline does too; the default empty app is printed for reference.
EMPTY_APP = "import aws_cdk as cdk; app = cdk.App({}); cdk.Stack(app, 'Empty'); app.synth()"
TARGET = 1.5


def make_playbooks(source: Path, into: Path, count: int) -> list[str]:
    """`count` valid playbooks: the source ones, cycled, each under a new name."""
    import yaml

    from parry.playbooks.validate import load_all, load_yaml, playbook_files

    files = playbook_files([source])
    load_all(files)  # the originals must be valid
    names = []
    for i in range(count):
        doc = load_yaml(files[i % len(files)].read_text(), files[i % len(files)].name).doc
        doc["name"] = f"{doc['name'][:54]}-b{i:02d}"
        (into / f"{doc['name']}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        names.append(doc["name"])
    load_all([into])  # and so must the copies
    return names


def timed(cases: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, list[float]]:
    """Wall times of each case, run round-robin so that every case sees the same machine load."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, (argv, env) in cases.items():
            with tempfile.TemporaryDirectory(prefix="parry-bench-out-") as out:
                start = time.perf_counter()
                result = subprocess.run(argv, cwd=ROOT, env={**env, "CDK_OUTDIR": out}, capture_output=True, text=True)
                times[name].append(time.perf_counter() - start)
            if result.returncode != 0:
                sys.exit(f"{name}: {' '.join(argv)} failed:\n{result.stderr[-3000:]}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbooks", type=Path, default=ROOT / "playbooks", help="folder of source playbooks")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("PARRY_PLAYBOOKS_DIR", None)
    with tempfile.TemporaryDirectory(prefix="parry-bench-playbooks-") as tmp:
        make_playbooks(args.playbooks, Path(tmp), args.count)
        none = Path(tmp) / "none"
        none.mkdir()
        python = sys.executable
        app = [python, "app.py"]
        times = timed(
            {
                "bare": ([python, "-c", EMPTY_APP.format("builtin_cloud_formation_validation=False")], env),
                "bare-default": ([python, "-c", EMPTY_APP.format("")], env),
                "empty": (app, {**env, "PARRY_PLAYBOOKS_DIR": str(none)}),
                "repo": (app, {**env, "PARRY_PLAYBOOKS_DIR": str(args.playbooks)}),
                "many": (app, {**env, "PARRY_PLAYBOOKS_DIR": tmp}),
            },
            args.runs,
        )

    best = {name: min(t) for name, t in times.items()}
    median = {name: statistics.median(t) for name, t in times.items()}
    n_real = len(list(args.playbooks.glob("*.y*ml")))
    rows = [
        ("bare CDK app, one empty Stack", "bare"),
        ("  same, CDK's built-in validation on", "bare-default"),
        ("Parry, empty stack (0 playbooks)", "empty"),
        (f"Parry, {n_real} playbook(s) of the repo", "repo"),
        (f"Parry, {args.count} playbooks", "many"),
    ]
    print(f"synth wall time of fresh processes (python app.py, cdk-nag on), {args.runs} round-robin runs:")
    print(f"  {'':40} {'best':>7} {'median':>7}")
    for label, key in rows:
        print(f"  {label:40} {best[key]:6.2f}s {median[key]:6.2f}s")
    ratio = best["many"] / best["empty"]
    per = (best["many"] - best["empty"]) / args.count * 1000
    print(
        f"  {args.count} playbooks / empty stack (best): {ratio:.2f}, target <= {TARGET}: "
        f"{'met' if ratio <= TARGET else 'NOT met'}  [median: {median['many'] / median['empty']:.2f}; "
        f"{per:.0f} ms per playbook]"
    )
    print(f"  {args.count} playbooks / bare CDK app (best): {best['many'] / best['bare']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
