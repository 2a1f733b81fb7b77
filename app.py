#!/usr/bin/env python3
"""Parry's CDK app. `npx aws-cdk deploy` runs it; so does `CDK_OUTDIR=cdk.out python app.py`.

Synthesis fails, naming file and line, if any playbook is invalid; and fails if cdk-nag's
AwsSolutions checks find anything not acknowledged in code.
"""

from __future__ import annotations

import sys


def main() -> int:
    from parry.errors import ValidationError
    from stacks.build import build
    from stacks.config import ConfigError
    from stacks.policies import TemplateError

    try:
        built = build()
    except ValidationError as exc:
        print(f"parry: {len(exc.problems)} playbook problem(s); nothing was synthesized:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print("parry: unusable CDK context:", file=sys.stderr)
        for line in str(exc).splitlines():
            print(f"  {line}", file=sys.stderr)
        return 1
    except TemplateError as exc:  # an action declares a permission the app cannot render
        print(f"parry: {exc}", file=sys.stderr)
        return 1
    built.app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
