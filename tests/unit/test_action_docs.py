"""Every action's docstring carries a YAML example of a step; each one loads and validates."""

from __future__ import annotations

import re

import pytest

from parry.actions import registry
from parry.playbooks.validate import load_yaml, validate_document

ACTIONS = registry.all_actions()
EXAMPLE = re.compile(r"```yaml\n(.*?)```", re.S)
# targets the examples may name; a playbook declares the ones its steps use
TARGETS = (
    "user",
    "key",
    "role",
    "function",
    "instance",
    "bucket",
    "trail",
    "finding",
    "finding_arn",
    "cluster",
    "task",
)


def examples(cls) -> list[str]:
    import inspect

    return EXAMPLE.findall(inspect.getdoc(cls) or "")


@pytest.mark.parametrize("name", ACTIONS)
def test_docstring_has_a_yaml_example_of_this_action(name):
    found = examples(ACTIONS[name])
    assert found, f"{name}: no ```yaml example in the docstring"
    steps = [step for text in found for step in load_yaml(text, name).doc]
    assert any(step["action"] == name for step in steps), f"{name}: the example uses another action"


@pytest.mark.parametrize("name", ACTIONS)
def test_docstring_example_validates_in_a_playbook(name):
    steps = [step for text in examples(ACTIONS[name]) for step in load_yaml(text, name).doc]
    doc = {
        "version": "parry/v1",
        "name": "doc-example",
        "trigger": {"source": ["aws.guardduty"]},
        "target": {t: f"detail.{t}" for t in TARGETS},
        "steps": steps,
    }
    book = validate_document(doc, f"{name} docstring")
    assert [s.action for s in book.steps] == [s["action"] for s in steps]
    # the example's literal values also build typed parameters (expressions resolve at run time)
    for step in steps:
        literal = {k: v for k, v in (step.get("with") or {}).items() if not (isinstance(v, str) and "${" in v)}
        cls = ACTIONS[step["action"]]
        required = [f for f, _, req, _ in registry.param_fields(cls) if req and f not in literal]
        if not required:
            registry.build_params(cls, literal)
