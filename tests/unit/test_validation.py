"""Playbook validation: every error kind is caught, all at once, each with its file and line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from parry.errors import ValidationError
from parry.playbooks.validate import load_all, load_file, playbook_schema

GOOD = """\
name: good-book
trigger:
  source: [aws.guardduty]
target:
  user: detail.resource.accessKeyDetails.userName
  key: detail.resource.accessKeyDetails.accessKeyId
steps:
  - id: deactivate
    action: iam.deactivate_access_key
    with: {user_name: "${target.user}", access_key_id: "${target.key}"}
"""


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "book.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ValidationError) as info:
        load_file(path)
    return info.value.problems


def test_shipped_playbooks_are_valid():
    books = load_all(["playbooks"])
    assert "iam-credential-compromise" in {b.name for b in books}


def test_good_playbook_loads_and_compiles(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    book = load_file(path)
    compiled = book.compiled()
    assert compiled["version"] == "parry/v1" and compiled["steps"][0]["on_error"] == "abort"
    assert json.loads(book.compiled_bytes()) == compiled and len(book.sha256) == 64


@pytest.mark.parametrize(
    "replace, expected",
    [
        (
            ("iam.deactivate_access_key", "iam.deactivate_acess_key"),
            ":9: steps[0].action: unknown action 'iam.deactivate_acess_key'; did you mean 'iam.deactivate_access_key'?",
        ),
        (
            ('access_key_id: "${target.key}"', 'access_key_id: "${target.key}", color: red'),
            ":10: steps[0].with.color: unknown parameter",
        ),
        ((', access_key_id: "${target.key}"', ""), ":10: steps[0].with.access_key_id: missing required parameter"),
        (
            ('access_key_id: "${target.key}"', "access_key_id: 42"),
            ":10: steps[0].with.access_key_id: must be string (or a ${...} expression), got int",
        ),
        (("detail.resource.accessKeyDetails.userName", "detail.resource[?"), ":5: target.user: invalid JMESPath"),
        (("source: [aws.guardduty]", "source: aws.guardduty"), ":2: trigger: invalid event pattern"),
        (('"${target.user}"', '"${target.usr}"'), "names target 'usr', which the playbook does not declare"),
        (("name: good-book", "name: Good_Book"), ":1: name: must be lowercase letters, digits and dashes"),
        (("    with:", "    colour: blue\n    with:"), ":10: steps[0].colour: unknown field"),
    ],
)
def test_each_error_kind_is_named_with_file_and_line(tmp_path, replace, expected):
    problems = problems_of(tmp_path, GOOD.replace(*replace))
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(str(tmp_path / "book.yaml") + ":") for p in problems)


def test_duplicate_step_ids_and_undo_without_one(tmp_path):
    text = (
        GOOD
        + """\
  - id: deactivate
    action: notify.sns
    undo: true
"""
    )
    problems = problems_of(tmp_path, text)
    assert any(":11: steps[1].id: duplicate step id 'deactivate'" in p for p in problems), problems
    assert any(":13: steps[1].undo: action notify.sns has no undo" in p for p in problems), problems


def test_every_error_is_reported_at_once(tmp_path):
    text = GOOD.replace("iam.deactivate_access_key", "nope.nothing").replace(
        "detail.resource.accessKeyDetails.userName", "a["
    )
    text = text.replace("source: [aws.guardduty]", "source: []")
    problems = problems_of(tmp_path, text)
    assert len(problems) >= 3
    assert {p.split(": ")[1] for p in problems} >= {"trigger", "target.user", "steps[0].action"}


def test_invalid_yaml_names_the_line(tmp_path):
    problems = problems_of(tmp_path, "name: x\nsteps: [\n  - a: b\n")
    assert problems[0].startswith(str(tmp_path / "book.yaml")) and "invalid YAML" in problems[0]


def test_missing_top_level_fields(tmp_path):
    problems = problems_of(tmp_path, "description: nothing else\n")
    for field in ("name", "trigger", "steps"):
        assert any(f"{field}: missing required field" in p for p in problems), problems


def test_two_playbooks_with_one_name_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(ValidationError, match="also used by"):
        load_all([tmp_path])


def test_schema_file_for_editors_is_current():
    shipped = json.loads(Path("playbooks/schema.json").read_text())
    assert shipped == playbook_schema(), "run `parry schema --write` after changing actions"
