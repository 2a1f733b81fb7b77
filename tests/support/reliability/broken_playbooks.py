"""The broken-playbook generator: shipped playbooks made invalid in many ways, each to fail by name.

Every broken playbook must be refused by validation with problems of the form
FILE:LINE: path: message, so an author is told where and what; `broken_playbook_figures` counts
those that are, and lists any other outcome.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from tests.support.reliability.figures import Figures
from tests.support.reliability.fixtures import playbook_paths

PROBLEM = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+): (?P<path>\S+): (?P<message>.+)$")


def _step(doc: Any, rng: random.Random) -> Any:
    return rng.choice(doc["steps"])


def _mutations() -> list[tuple[str, Callable[[Any, random.Random], Any]]]:
    """(kind, function(doc, rng) -> doc or YAML text). Every mutation makes the playbook invalid."""

    def drop(key):
        return lambda d, r: {k: v for k, v in d.items() if k != key}

    def setk(key, value):
        return lambda d, r: {**d, key: value}

    def step_set(key, value):
        def f(d, r):
            _step(d, r)[key] = value
            return d

        return f

    def step_drop(key):
        def f(d, r):
            _step(d, r).pop(key, None)
            return d

        return f

    def unknown_param(d, r):
        s = _step(d, r)
        s["with"] = {**(s.get("with") or {}), "no_such_parameter": "x"}
        return d

    def wrong_param_type(d, r):
        for s in d["steps"]:
            for name, value in (s.get("with") or {}).items():
                if isinstance(value, str):
                    s["with"][name] = {"not": ["a", "string"]}
                    return d
        d["steps"][0]["with"] = {"bogus": 1}
        return d

    def duplicate_id(d, r):
        d["steps"].append(dict(d["steps"][0]))
        return d

    def undeclared_target(d, r):
        s = _step(d, r)
        s["with"] = {**(s.get("with") or {}), next(iter(s.get("with") or {"x": 1})): "${target.nowhere}"}
        return d

    def approval_on_reader(d, r):
        d["steps"].insert(
            0,
            {
                "id": "look-first",
                "action": "evidence.capture_iam_user",
                "approval": "required",
                "with": {"user_name": "someone"},
            },
        )
        return d

    def undo_without_undo(d, r):
        d["steps"].append({"id": "tell-again", "action": "notify.sns", "undo": True, "with": {"subject": "x"}})
        return d

    def yaml_syntax(d, r):
        text = yaml.safe_dump(d, sort_keys=False)
        lines = text.splitlines()
        i = r.randrange(1, len(lines))
        lines[i] = lines[i] + " : ]["
        return "\n".join(lines)

    def tab_indent(d, r):
        text = yaml.safe_dump(d, sort_keys=False)
        return text.replace("\n  ", "\n\t", 1)

    return [
        ("missing name", drop("name")),
        ("missing trigger", drop("trigger")),
        ("missing steps", drop("steps")),
        ("unknown field", setk("triggers", {"source": ["aws.guardduty"]})),
        ("bad name", setk("name", "Not A Valid Name!")),
        ("empty steps", setk("steps", [])),
        ("steps not a list", setk("steps", "deactivate everything")),
        ("bad mode", setk("mode", "yolo")),
        ("bad dedup expression", setk("dedup", "detail.[[id")),
        ("bad target expression", lambda d, r: {**d, "target": {**(d.get("target") or {}), "x": "a..b"}}),
        ("target not a string", lambda d, r: {**d, "target": {**(d.get("target") or {}), "x": 5}}),
        ("invalid trigger pattern", setk("trigger", {"source": "aws.guardduty"})),
        ("invalid numeric pattern", setk("trigger", {"detail": {"severity": [{"numeric": ["<<", "x"]}]}})),
        ("empty trigger", setk("trigger", {})),
        ("guardrail zero", setk("guardrails", {"max_cases_per_hour": 0})),
        ("guardrail unknown", setk("guardrails", {"max_cases_per_day": 3})),
        ("approval ttl too long", setk("guardrails", {"approval_ttl_hours": 100000})),
        ("unknown action", step_set("action", "iam.deactivate_acess_key")),
        ("step missing id", step_drop("id")),
        ("step missing action", step_drop("action")),
        ("bad step id", step_set("id", "Bad Id")),
        ("bad on_error", step_set("on_error", "ignore")),
        ("bad approval", step_set("approval", "maybe")),
        ("bad when", step_set("when", "target.[")),
        ("unknown step field", step_set("retry", 3)),
        ("unknown parameter", unknown_param),
        ("wrong parameter type", wrong_param_type),
        ("duplicate step id", duplicate_id),
        ("undeclared target", undeclared_target),
        ("approval on a read-only step", approval_on_reader),
        ("undo on an action without one", undo_without_undo),
        ("not a mapping", lambda d, r: [d]),
        ("YAML syntax error", yaml_syntax),
        ("tab indentation", tab_indent),
    ]


def broken_playbooks(n: int = 100, seed: int = 6) -> Iterator[tuple[str, str, str]]:
    """(filename, kind, YAML text) for `n` broken playbooks: every kind once, then kinds drawn at random."""
    from parry.playbooks.validate import load_yaml

    rng = random.Random(seed)
    sources = playbook_paths()
    kinds = _mutations()
    for i in range(n):
        path = sources[i % len(sources)]
        kind, mutate = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
        doc = load_yaml(path.read_text(), path.name).doc
        out = mutate(doc, rng)
        text = out if isinstance(out, str) else yaml.safe_dump(out, sort_keys=False)
        yield f"broken-{i:03d}-{path.stem}.yaml", kind, text


def broken_playbook_figures(n: int = 100) -> Figures:
    """Each broken playbook must fail validation with problems of the form FILE:LINE: path: message."""
    from parry.errors import ValidationError
    from parry.playbooks.validate import load_yaml, validate_document

    named, kinds, other = 0, set(), []
    for filename, kind, text in broken_playbooks(n):
        try:
            located = load_yaml(text, filename)
            validate_document(located.doc, filename, located)
        except ValidationError as exc:
            bad = [
                p
                for p in exc.problems
                if not (
                    PROBLEM.match(p)
                    and PROBLEM.match(p)["file"] == filename
                    and 1 <= int(PROBLEM.match(p)["line"]) <= text.count("\n") + 1
                )
            ]
            if exc.problems and not bad:
                named += 1
                kinds.add(kind)
            else:
                other.append(f"{kind} ({filename}): malformed problem lines {bad or '(none)'}")
            continue
        except Exception as exc:
            other.append(f"{kind} ({filename}): {type(exc).__name__}: {exc}")
            continue
        other.append(f"{kind} ({filename}): accepted")
    return {
        "broken_playbooks": n,
        "named_validation_errors": named,
        "other_outcomes": len(other),
        "kinds": len(kinds),
        "other": other,
    }
