"""The parts of the case report that explain what a reader could misread: whether the signing key
was pinned, what people were told, and the playbook's two hashes (what each is, how to check it)."""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

from parry.evidence.keys import PIN_HINT
from parry.evidence.problems import FOREIGN_KEY, UNPINNED
from parry.evidence.report_style import cell, utc_time
from parry.evidence.writer import sha256_hex

if TYPE_CHECKING:
    from parry.evidence.report import CaseView
    from parry.evidence.verify import Verification

NOTIFY = "notify.sns"  # the action whose output records what it told people (parry.actions.notify)


def key_banner(verification: Verification | None) -> str:
    """Whether the signatures were checked against a key the auditor pinned: without one they prove
    only that the manifests agree with a key stored in the very folder being checked."""
    if verification is None:
        return "<div class='key unpinned'><b>Signatures not checked</b>Nothing on this page was verified.</div>"
    if any(p.kind == UNPINNED for p in verification.problems):
        return (
            "<div class='key unpinned'><b>Signing key NOT pinned</b>The signatures were checked only against the "
            "public key stored in the case folder: they prove the manifests are consistent with that key, not that "
            "Parry's key signed them (whoever can write the folder can sign with a key of their own). "
            f"To tie them to Parry, {escape(PIN_HINT)}.</div>"
        )
    if not verification.signed_by:
        return "<div class='key unpinned'><b>Signing key pinned, but no manifest is validly signed</b></div>"
    foreign = any(p.kind == FOREIGN_KEY for p in verification.problems)
    signers = cell(", ".join(verification.signed_by))
    if foreign:
        return (
            "<div class='key unpinned'><b>Signing key pinned: some manifests are NOT signed by it</b>"
            f"Keys that signed: {signers}; see the problems above.</div>"
        )
    return (
        "<div class='key pinned'><b>Signing key pinned</b>Every manifest's signature was checked against the key "
        f"the auditor pinned: {signers}.</div>"
    )


def notifications(audit: list[dict[str, Any]]) -> str:
    """What people were told: each notify step's topic, subject and message, from its audit record."""
    out = ["<h2>Notifications sent</h2>"]
    for r in audit:
        result = r.get("result")
        if r.get("kind") != "step_finished" or not isinstance(result, dict) or result.get("action") != NOTIFY:
            continue
        output = result.get("output")
        sent = output if isinstance(output, dict) else {}
        out.append(f"<h3>{cell(r.get('step'))} <span class='mono time'>{cell(utc_time(r.get('at')))}</span></h3>")
        if result.get("error"):
            out.append(f"<p class=warn>Not sent: {cell(result['error'])}</p>")
            continue
        out.append(
            f"<p>To <span class=mono>{cell(sent.get('topic_arn'))}</span>, message id "
            f"<span class=mono>{cell(sent.get('message_id'))}</span><br>Subject: <b>{cell(sent.get('subject'))}</b></p>"
        )
        message = sent.get("message")
        if isinstance(message, str):
            out.append(f"<pre>{escape(message)}</pre>")
        else:
            out.append(
                "<p>The message text is not in the evidence: notify.sns recorded only its subject when this case ran.</p>"
            )
    if len(out) == 1:
        out.append("<p>No notify step ran.</p>")
    out.append(
        "<p class=meta>Parry's own notices (approval needed, case blocked, a change that did not hold, an expired "
        "approval, an undo's outcome) go to Parry's topic too; the timeline records what caused each, not its text.</p>"
    )
    return "".join(out)


def playbook_hashes(view: CaseView) -> str:
    """The playbook's two hashes, each said what it is and how to check it: the version (over the
    compiled playbook, what runners compare) and the file playbook.json (its bytes, as every object)."""
    doc = view.playbook if isinstance(view.playbook, dict) else {}
    version, compiled = doc.get("sha256"), doc.get("playbook")
    opened = next((r.get("playbook_sha256") for r in view.audit if r.get("kind") == "case_opened"), None)
    file_sha = next((o["sha256"] for o in view.objects if o["path"] == "playbook.json"), None)
    checks = []
    if isinstance(compiled, dict):
        recomputed = sha256_hex(json.dumps(compiled, sort_keys=True, separators=(",", ":")).encode())
        checks.append(("recomputed from playbook.json", recomputed == version))
    if opened is not None:
        checks.append(("named by the case_opened record", opened == version))
    said = "; ".join(f"{what}: {'matches' if ok else '<span class=warn>DOES NOT MATCH</span>'}" for what, ok in checks)
    return (
        "<h2>Playbook</h2><dl class=hashes>"
        f"<dt>Playbook version (sha256)</dt><dd><code>{cell(version)}</code><br>The hash of the compiled playbook "
        "(the <code>playbook</code> member of <code>playbook.json</code> as compact JSON with sorted keys): the version "
        f"the runner ran, which it checks again before each approve, resume and undo. {said or 'Nothing to check it against.'}"
        "<br>Check it: <code>python3 -c \"import hashlib,json; d=json.load(open('playbook.json'))['playbook']; "
        "print(hashlib.sha256(json.dumps(d,sort_keys=True,separators=(',',':')).encode()).hexdigest())\"</code></dd>"
        f"<dt>File playbook.json (sha256)</dt><dd><code>{cell(file_sha)}</code><br>The hash of the stored file's bytes, "
        "as for every object under Objects and hashes: it differs from the version because the file holds the version "
        "beside the compiled playbook. Check it: <code>sha256sum playbook.json</code> in a folder made by "
        "<code>parry evidence export</code>.</dd></dl>"
    )
