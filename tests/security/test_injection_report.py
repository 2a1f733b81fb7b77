"""Injection into the auditor's HTML report: a resource's tag, a person's reason, a step's status
or an object's name holding HTML shows as text, and opens no script, element or attribute."""

from __future__ import annotations

from parry.evidence.problems import Problem
from parry.evidence.report import CaseView, render_html
from parry.evidence.verify import Verification

SCRIPT = "<script>alert(document.domain)</script>"
ELEMENT = '"><img src=x onerror=alert(1)>'
ATTRIBUTE = "ok' onmouseover='alert(1)"


def test_html_in_tags_reasons_statuses_and_paths_is_text():
    before = {"Tags": [{"Key": "owner", "Value": SCRIPT}], ELEMENT: "x"}
    view = CaseView(
        "cases/111111111111/2026/12/01/case-1/",
        "case-1",
        "111111111111",
        "2026-12-01",
        event={"detail": {"resource": {"instanceDetails": {"tags": [{"key": "Name", "value": SCRIPT}]}}}},
        audit=[
            {"seq": 1, "kind": "case_opened", "playbook": "ec2-compromise"},
            {
                "seq": 2,
                "kind": "step_finished",
                "step": "isolate",
                "action": "ec2.isolate_instance",
                "result": {"status": ATTRIBUTE, "unmet": [ELEMENT]},
            },
            {"seq": 3, "kind": "approved", "step": "isolate", "by": ELEMENT, "reason": SCRIPT},
        ],
        artifacts={"isolate": {"instance": {"before": before, "after": {**before, "Tags": []}}}},
        objects=[{"path": f"evidence/{ELEMENT}.json", "size": 1, "sha256": "0" * 64, "version_id": "v"}],
    )
    problem = Problem("unexpected", f"evidence/{ELEMENT}", SCRIPT)
    page = render_html(view, Verification(prefix=view.prefix, case_id="case-1", problems=[problem], notes=[SCRIPT]))

    assert "<script" not in page and "<img" not in page and "onmouseover='" not in page
    assert "&lt;script&gt;alert(document.domain)&lt;/script&gt;" in page  # the auditor still reads it
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "class='tag ok&#x27; onmouseover=&#x27;alert(1)'" in page
