"""Playbooks read YAML 1.2's booleans: only true and false; yes/no/on/off are strings.

Under YAML 1.1 `id: off` was the boolean false and `manual: yes` a silent true; an author who
writes them now gets the string, and where the schema wants a boolean, a hint to write true or false.
The C and the pure-Python loaders must agree, since which one runs depends on the machine.
"""

from __future__ import annotations

import textwrap

import pytest
import yaml

from parry.errors import ValidationError
from parry.playbooks import validate

LOADERS = {"pure": validate.yaml12_loader(yaml.SafeLoader)}
if hasattr(yaml, "CSafeLoader"):
    LOADERS["c"] = validate.yaml12_loader(yaml.CSafeLoader)

BOOK = """\
name: yaml-book
{top}
trigger:
  source: [aws.guardduty]
target:
  user: detail.resource.accessKeyDetails.userName
  key: detail.resource.accessKeyDetails.accessKeyId
steps:
  - id: {step_id}
    action: iam.deactivate_access_key
    with: {{user_name: "${{target.user}}", access_key_id: "${{target.key}}"}}
{step}
"""


@pytest.fixture(params=sorted(LOADERS))
def loader(request, monkeypatch):
    monkeypatch.setattr(validate, "_LOADER", LOADERS[request.param])
    return request.param


def load(tmp_path, *, top: str = "", step_id: str = "deactivate", step: str = ""):
    path = tmp_path / "book.yaml"
    path.write_text(BOOK.format(top=top, step_id=step_id, step=textwrap.indent(step, "    ")))
    return validate.load_file(path)


def problems(tmp_path, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as info:
        load(tmp_path, **kwargs)
    return [p.split(": ", 1)[1] for p in info.value.problems]


@pytest.mark.parametrize("word", ["off", "on", "yes", "no", "y", "n"])
def test_a_yaml_11_boolean_word_is_a_step_id(tmp_path, loader, word):
    book = load(tmp_path, step_id=word)
    assert book.steps[0].id == word


def test_manual_yes_is_refused_with_a_hint(tmp_path, loader):
    assert problems(tmp_path, top="manual: yes") == ["manual: 'yes' is a string in YAML 1.2; write true or false"]


def test_undo_off_is_refused_with_a_hint(tmp_path, loader):
    assert problems(tmp_path, step="undo: off") == ["steps[0].undo: 'off' is a string in YAML 1.2; write true or false"]


@pytest.mark.parametrize("value", ["yes", "on"])
def test_approval_yes_is_refused_with_the_values_it_takes(tmp_path, loader, value):
    assert problems(tmp_path, step=f"approval: {value}") == [
        f"steps[0].approval: {value!r} is a string in YAML 1.2; write required or none"
    ]


def test_approval_true_is_refused_with_the_values_it_takes(tmp_path, loader):
    assert problems(tmp_path, step="approval: true") == ["steps[0].approval: True is a boolean; write required or none"]


@pytest.mark.parametrize(("written", "value"), [("true", True), ("True", True), ("TRUE", True), ("false", False)])
def test_true_and_false_are_still_booleans(tmp_path, loader, written, value):
    book = load(tmp_path, top=f"manual: {written}", step=f"undo: {'FALSE' if value else 'False'}")
    assert book.manual is value and book.steps[0].undo is False


def test_the_c_and_pure_loaders_read_the_same_document():
    if "c" not in LOADERS:
        pytest.skip("PyYAML was built without libyaml")
    text = "a: [yes, no, on, off, y, n, Yes, NO, true, True, TRUE, false, False, FALSE, ~, 1, 1.5, 0x1f, '2']\n"
    docs = {name: yaml.load(text, Loader=cls) for name, cls in LOADERS.items()}
    assert docs["c"] == docs["pure"]
    assert docs["pure"]["a"][:8] == ["yes", "no", "on", "off", "y", "n", "Yes", "NO"]
    assert docs["pure"]["a"][8:] == [True, True, True, False, False, False, None, 1, 1.5, 31, "2"]


def test_the_yaml_12_loader_leaves_pyyamls_own_loaders_alone():
    assert yaml.safe_load("a: off") == {"a": False}
