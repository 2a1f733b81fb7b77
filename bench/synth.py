"""Synth time of Parry's CDK app with 20 playbooks, as a ratio to the empty stack.

"The empty stack" is Parry's responder stack with no playbooks (stores, keys, topic, kill switch,
dashboard, cdk-nag): the ratio is what 20 playbooks add. A bare CDK app with one empty Stack is
printed too, as the floor of any Python CDK synth (interpreter, jsii's Node process). Each figure is the median wall time of fresh `python app.py` processes (what `cdk synth` runs),
so it includes starting jsii's Node process, validating and compiling playbooks, staging the
Lambda asset and cdk-nag. The 20 playbooks are the repository's own, renamed. Target: ratio <= 1.5.

    python bench/synth.py [--playbooks DIR] [--count 20] [--runs 3]
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

    from parry.validation import load_all, playbook_files

    files = playbook_files([source])
    load_all(files)  # the originals must be valid
    names = []
    for i in range(count):
        doc = yaml.safe_load(files[i % len(files)].read_text())
        doc["name"] = f"{doc['name'][:54]}-b{i:02d}"
        (into / f"{doc['name']}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        names.append(doc["name"])
    load_all([into])  # and so must the copies
    return names


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="parry-bench-out-") as out:
            start = time.perf_counter()
            result = subprocess.run(argv, cwd=ROOT, env={**env, "CDK_OUTDIR": out}, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if result.returncode != 0:
                sys.exit(f"{' '.join(argv)} failed:\n{result.stderr[-3000:]}")
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbooks", type=Path, default=ROOT / "playbooks", help="folder of source playbooks")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("PARRY_PLAYBOOKS_DIR", None)
    with tempfile.TemporaryDirectory(prefix="parry-bench-playbooks-") as tmp:
        make_playbooks(args.playbooks, Path(tmp), args.count)
        none = Path(tmp) / "none"
        none.mkdir()
        python = sys.executable
        empty = timed([python, "-c", EMPTY_APP.format("builtin_cloud_formation_validation=False")], env, args.runs)
        empty_default = timed([python, "-c", EMPTY_APP.format("")], env, args.runs)
        real = timed([python, "app.py"], {**env, "PARRY_PLAYBOOKS_DIR": str(args.playbooks)}, args.runs)
        many = timed([python, "app.py"], {**env, "PARRY_PLAYBOOKS_DIR": tmp}, args.runs)
        zero = timed([python, "app.py"], {**env, "PARRY_PLAYBOOKS_DIR": str(none)}, args.runs)

    n_real = len(list(args.playbooks.glob("*.y*ml")))
    ratio = many / zero
    print(f"synth, median of {args.runs} fresh processes (python app.py, cdk-nag on):")
    print(f"  bare CDK app, one empty Stack   {empty:6.2f} s   (with CDK's built-in validation: {empty_default:.2f} s)")
    print(f"  Parry, empty stack (0 playbooks) {zero:6.2f} s")
    print(f"  Parry, {n_real:2d} playbook(s)            {real:6.2f} s")
    print(f"  Parry, {args.count:2d} playbooks              {many:6.2f} s   ({(many - zero) / args.count * 1000:.0f} ms per playbook)")
    print(f"  ratio {args.count} playbooks / empty stack: {ratio:.2f} (target <= {TARGET}: {'met' if ratio <= TARGET else 'NOT met'})")
    print(f"  ratio {args.count} playbooks / bare CDK app: {many / empty:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
