"""Pure logic of the evidence modules: canonical bytes, layout names, diffs, problem lines."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parry.errors import VerifyError
from parry.evidence import manifest as mf
from parry.evidence.problems import Problem
from parry.evidence.report import CaseView, diff, flatten, render_html
from parry.evidence.sources import DirSource, case_id_of
from parry.evidence.writer import canonical_json, case_prefix, sha256_hex

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON)
def test_canonical_json_is_stable_and_round_trips(value):
    body = canonical_json(value)
    assert canonical_json(json.loads(body)) == body
    assert b"\n" not in body


def test_canonical_json_is_order_independent():
    assert canonical_json({"b": 1, "a": [1, {"y": 2, "x": 1}]}) == b'{"a":[1,{"x":1,"y":2}],"b":1}'
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_case_prefix_layout_and_refusals():
    assert case_prefix("111122223333", datetime(2026, 1, 9), "c-1") == "cases/111122223333/2026/01/09/c-1/"
    assert case_id_of("cases/111122223333/2026/01/09/c-1/") == "c-1"
    for bad in ("", "a/b", ".."):
        with pytest.raises(ValueError):
            case_prefix("111122223333", datetime(2026, 1, 9), bad)


def test_layout_names():
    assert mf.manifest_relpath(1) == "manifest/0001.json"
    assert mf.signature_relpath(12) == "manifest/0012.sig"
    assert mf.public_key_relpaths(3) == ("manifest/0003.pub.der", "manifest/0003.pub.pem")
    assert mf.AUDIT_RE.match("audit/10000.json") and not mf.AUDIT_RE.match("audit/1.json")
    assert mf.MANIFEST_RE.match("manifest/0002.pub.pem").group(2) == "pub.pem"


def test_pem_from_der_without_cryptography():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert mf.der_to_pem(der) == pem


def test_diff_names_changed_added_removed():
    rows = diff(
        {"Status": "Active", "Tags": [{"k": "a"}], "gone": 1}, {"Status": "Inactive", "Tags": [{"k": "a"}, {"k": "b"}]}
    )
    kinds = {(r[0], r[1]) for r in rows}
    assert ("changed", "Status") in kinds and ("added", "Tags[1].k") in kinds and ("removed", "gone") in kinds
    assert ("same", "Tags[0].k") in kinds
    assert flatten({}) == {"(value)": {}}
    assert diff({"p": []}, {"p": ["parry-quarantine"]}) == [("changed", "p", [], ["parry-quarantine"])]


def test_problem_line():
    assert str(Problem("missing object", "event.json", "deleted")) == "missing object: event.json: deleted"


def test_dir_source_needs_an_export(tmp_path):
    with pytest.raises(VerifyError, match="not a folder made by"):
        DirSource(tmp_path)


def test_report_escapes_what_it_shows():
    view = CaseView(
        "cases/1/2026/01/01/c/",
        "c",
        "1",
        "2026-01-01",
        event={"x": "<script>alert(1)</script>"},
        audit=[{"seq": 1, "kind": "case_opened", "playbook": "<b>p</b>"}],
    )
    page = render_html(view, None)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>p</b>" not in page
