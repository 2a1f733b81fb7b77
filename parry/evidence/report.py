"""The auditor's case report: one self-contained HTML page (inline CSS, no scripts, no external
resources) with the verification result and whether its key was pinned, the timeline, approvals
(a decision without a reason flagged), the notifications sent, each step's before/after as a diff,
the event, the playbook's two hashes and every object's. It fits 1280 px and prints on A4 (the
stylesheet and the wrapping of long values are in report_style.py) so it can be filed as a PDF.

The page is built from the same source the verifier reads (bucket or export folder), and always
shows the verification result beside the content, so a reader never sees tampered evidence
presented as if it were intact.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from parry.evidence import manifest as mf
from parry.evidence.report_sections import key_banner, notifications, playbook_hashes
from parry.evidence.report_style import CSS, cell, table, utc_time
from parry.evidence.writer import sha256_hex

if TYPE_CHECKING:
    from parry.evidence.sources import Source
    from parry.evidence.verify import Verification

APPROVAL_KINDS = re.compile(r"approv|denied|deny|undo|reject", re.I)


@dataclass
class CaseView:
    """What a case folder holds, parsed for people (every value still as stored)."""

    prefix: str
    case_id: str
    account: str
    opened: str
    event: Any = None
    playbook: dict[str, Any] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def playbook_name(self) -> str:
        for record in self.audit:
            if record.get("kind") == "case_opened" and record.get("playbook"):
                return str(record["playbook"])
        inner = self.playbook.get("playbook") if isinstance(self.playbook, dict) else None
        return str((inner or {}).get("name", "")) if isinstance(inner, dict) else ""

    @property
    def status(self) -> str:
        return status_of(self.audit[-1] if self.audit else None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "account": self.account,
            "opened": self.opened,
            "prefix": self.prefix,
            "playbook": self.playbook_name,
            "status": self.status,
            "event": self.event,
            "audit": self.audit,
            "artifacts": self.artifacts,
            "manifests": self.manifests,
            "objects": self.objects,
        }


def status_of(last_record: dict[str, Any] | None) -> str:
    """The case's status as its latest audit record says: the one `parry cases list` shows, when the
    record names it (every record that moves a case does), else a description of where it stopped."""
    if not last_record:
        return "empty"
    if isinstance(last_record.get("case_status"), str):
        return str(last_record["case_status"])
    kind = str(last_record.get("kind", "?"))
    if kind == "case_closed":
        return str(last_record.get("status") or "closed")
    if kind == "approval_requested":
        return "awaiting approval"
    if kind == "undo":
        return "undone" if last_record.get("status") in ("succeeded", "noop", None) else "undo failed"
    return f"open ({kind})"


def _json(body: bytes | None) -> Any:
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def load_case(source: Source) -> CaseView:
    parts = source.prefix.rstrip("/").split("/")
    account, opened = (parts[1], "-".join(parts[2:5])) if len(parts) >= 6 else ("?", "?")
    view = CaseView(source.prefix, parts[-1] if parts else "?", account, opened)
    listing = source.listing()
    for rel in sorted(listing):
        latest = next((v for v in listing[rel] if v.is_latest and not v.delete_marker), None)
        if latest is None:
            continue
        body = source.read(rel, latest.version_id)
        view.objects.append(
            {
                "path": rel,
                "version_id": latest.version_id,
                "size": len(body) if body is not None else None,
                "sha256": sha256_hex(body) if body is not None else None,
            }
        )
        if rel == "event.json":
            view.event = _json(body)
        elif rel == "playbook.json":
            view.playbook = _json(body) or {}
        elif mf.AUDIT_RE.match(rel):
            record = _json(body)
            view.audit.append(record if isinstance(record, dict) else {"kind": "unreadable", "raw": record})
        elif rel.startswith("artifacts/") and rel.count("/") >= 2:
            _, step, name = rel.split("/", 2)
            view.artifacts.setdefault(step, {})[name] = (
                _json(body) if rel.endswith(".json") else f"({len(body or b'')} bytes)"
            )
        elif mf.MANIFEST_RE.match(rel) and rel.endswith(".json"):
            doc = _json(body)
            if isinstance(doc, dict):
                signing = doc.get("signing") or {}
                view.manifests.append(
                    {
                        "path": rel,
                        "seq": doc.get("seq"),
                        "sealed_at": doc.get("sealed_at"),
                        "signed": bool(doc.get("signed")),
                        "key_id": signing.get("key_id"),
                        "sha256": sha256_hex(body or b""),
                        "objects": len(doc.get("objects") or []),
                        "audit_head": doc.get("audit_head"),
                    }
                )
    view.audit.sort(key=_seq)
    return view


def _seq(record: dict[str, Any]) -> int:
    seq = record.get("seq")
    return seq if isinstance(seq, int) else 0


# ---- diff --------------------------------------------------------------------------------------


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """{"a.b[0].c": leaf} for a JSON value, so a before/after pair reads as changed lines. A list of
    plain values stays one leaf (`[] → ["parry-quarantine"]` reads better than two rows)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and value:
        for k in sorted(value):
            out.update(flatten(value[k], f"{path}.{k}" if path else str(k)))
    elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        for i, item in enumerate(value):
            out.update(flatten(item, f"{path}[{i}]"))
    else:
        out[path or "(value)"] = value
    return out


def diff(before: Any, after: Any) -> list[tuple[str, str, Any, Any]]:
    """(change, path, before, after) rows; change is one of changed, added, removed, same."""
    a, b = flatten(before) if before is not None else {}, flatten(after) if after is not None else {}
    rows = []
    for path in sorted(set(a) | set(b)):
        if path not in a:
            rows.append(("added", path, None, b[path]))
        elif path not in b:
            rows.append(("removed", path, a[path], None))
        elif a[path] != b[path]:
            rows.append(("changed", path, a[path], b[path]))
        else:
            rows.append(("same", path, a[path], b[path]))
    return rows


# ---- HTML --------------------------------------------------------------------------------------


def record_summary(record: dict[str, Any]) -> str:
    """An audit record's details on one line (`step: ...; action: ...; status: ...`), for the timeline."""
    bits = []
    for key in ("step", "action", "by", "reason", "status", "error", "from_step", "next_step", "playbook"):
        if record.get(key) not in (None, ""):
            bits.append(f"{key}: {record[key]}")
    result = record.get("result")
    if isinstance(result, dict):
        for key in ("status", "summary", "error"):
            if result.get(key):
                bits.append(f"{key}: {result[key]}")
    return "; ".join(str(b) for b in bits)


def _verdict(verification: Verification | None) -> str:
    if verification is None:
        return "<div class='verdict bad'>Not verified.</div>"
    if verification.ok:
        signed = ", ".join(verification.signed_by) or "—"
        return (
            f"<div class='verdict ok'>Verification: INTACT. {verification.objects} objects, "
            f"{verification.manifests} manifest(s), {verification.audit_records} audit records; signed by {cell(signed)}.</div>"
        )
    items = "".join(
        f"<li><b>{escape(p.kind)}</b>: <code>{cell(p.path)}</code>: {cell(p.detail)}</li>"
        for p in verification.problems
    )
    return (
        f"<div class='verdict bad'>Verification: NOT INTACT. {len(verification.problems)} problem(s):"
        f"<ul>{items}</ul></div>"
    )


def _is_decision(record: dict[str, Any]) -> bool:
    """A person's approval, denial or undo: the audit record names who (`by`)."""
    return bool(record.get("by")) and bool(APPROVAL_KINDS.search(str(record.get("kind", ""))))


def _reason(record: dict[str, Any]) -> str:
    reason = record.get("reason")
    if _is_decision(record) and not str(reason or "").strip():
        return "<span class=warn>⚠ no reason given</span>"
    return cell(reason)


def render_html(view: CaseView, verification: Verification | None, *, generated_at: str = "") -> str:
    out = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>Parry case {escape(view.case_id)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>Case {cell(view.case_id)}</h1>",
        f"<p class=meta>Playbook <b>{cell(view.playbook_name or '?')}</b> · account {cell(view.account)} · opened {cell(view.opened)}"
        f" · status <b>{cell(view.status)}</b><br><span class=mono>{cell(view.prefix)}</span></p>",
        _verdict(verification),
        key_banner(verification),
    ]
    if verification is not None and verification.notes:
        out.append("<ul class=meta>" + "".join(f"<li>{cell(n)}</li>" for n in verification.notes) + "</ul>")
    unexplained = [r for r in view.audit if _is_decision(r) and not str(r.get("reason") or "").strip()]
    if unexplained:
        which = ", ".join(f"#{r.get('seq')} {str(r.get('kind', '')).replace('_', ' ')}" for r in unexplained)
        out.append(f"<p class=warn>⚠ A person acted without giving a reason: {escape(which)}.</p>")

    out.append("<h2>Timeline</h2>" + table(("n", "time", "kind", ""), ("#", "time (UTC)", "event", "details")))
    for r in view.audit:
        cls = " class=approval" if APPROVAL_KINDS.search(str(r.get("kind", ""))) else ""
        out.append(
            f"<tr{cls}><td>{cell(r.get('seq'))}</td><td class='mono time'>{cell(utc_time(r.get('at')))}</td>"
            f"<td>{cell(str(r.get('kind', '')).replace('_', ' '))}</td><td>{cell(record_summary(r))}</td></tr>"
        )
    out.append("</tbody></table>")

    approvals = [r for r in view.audit if APPROVAL_KINDS.search(str(r.get("kind", "")))]
    out.append("<h2>Approvals and undo</h2>")
    if approvals:
        out.append(table(("n", "time", "kind", "kind", "", ""), ("#", "time (UTC)", "what", "step", "by", "reason")))
        for r in approvals:
            out.append(
                f"<tr><td>{cell(r.get('seq'))}</td><td class='mono time'>{cell(utc_time(r.get('at')))}</td>"
                f"<td>{cell(str(r.get('kind')).replace('_', ' '))}</td><td>{cell(r.get('step'))}</td>"
                f"<td>{cell(r.get('by'))}</td><td>{_reason(r)}</td></tr>"
            )
        out.append("</tbody></table>")
    else:
        out.append("<p>None recorded.</p>")

    out.append(notifications(view.audit))
    out.append("<h2>Steps: state before and after</h2>")
    for step in _step_order(view):
        out.append(_step(view, step))

    undo_records = [r for r in view.audit if r.get("kind") == "undo" and ("before" in r or "after" in r)]
    if undo_records:
        out.append("<h2>Undo: state before and after</h2>")
        for r in undo_records:
            out.append(
                f"<div class=step><h3>undo of {cell(str(r.get('step')))} <span class=mono>{cell(str(r.get('action', '')))}</span> "
                f"<span class='tag {escape(str(r.get('status', '')))}'>{escape(str(r.get('status', '')))}</span></h3>"
            )
            out.append(_diff_table(f"record {r.get('seq')}", r.get("before"), r.get("after")))
            out.append("</div>")

    event = json.dumps(view.event, indent=2, sort_keys=True, default=str)
    out.append(
        "<h2>Triggering event</h2><details class=event>"
        f"<summary>event.json: {event.count(chr(10)) + 1} lines of JSON (show; printed in full)</summary>"
        f"<pre>{escape(event)}</pre></details>"
    )
    out.append(playbook_hashes(view))

    out.append(
        "<h2>Manifests</h2>"
        + table(("", "time", "count", "", ""), ("manifest", "sealed at", "objects", "signed by", "sha256"))
    )
    for m in view.manifests:
        signer = m["key_id"] if m["signed"] else "UNSIGNED"
        out.append(
            f"<tr><td class=mono>{cell(m['path'])}</td><td class=mono>{cell(utc_time(m['sealed_at']))}</td><td>{cell(m['objects'])}</td>"
            f"<td class=mono>{cell(signer)}</td><td class=mono>{cell(m['sha256'])}</td></tr>"
        )
    out.append("</tbody></table>")
    out.append("<h2>Objects and hashes</h2>" + table(("", "size", "", ""), ("object", "size", "sha256", "version")))
    for o in view.objects:
        out.append(
            f"<tr><td class=mono>{cell(o['path'])}</td><td>{cell(o['size'])}</td><td class=mono>{cell(o['sha256'])}</td>"
            f"<td class=mono>{cell(o['version_id'])}</td></tr>"
        )
    out.append("</tbody></table>")
    out.append(
        f"<footer>Generated by parry evidence report{(' at ' + escape(generated_at)) if generated_at else ''}. "
        "Hashes are recomputed from the stored bytes; verify independently with docs/auditor-guide.md.</footer>"
    )
    out.append("</main></body></html>\n")
    return "".join(out)


def _step(view: CaseView, step: str) -> str:
    """One step: its action and outcome, what it left open, and each artifact (a before/after as a diff)."""
    results = [
        r
        for r in view.audit
        if r.get("step") == step and r.get("kind") in ("step_finished", "step_failed", "step_skipped", "step_blocked")
    ]
    action = next((r.get("action") for r in view.audit if r.get("step") == step and r.get("action")), "")
    status = ""
    unmet: list[Any] = []
    if results:
        last = results[-1]
        outcome = last.get("result")
        res = outcome if isinstance(outcome, dict) else {}
        status = str(res.get("status") or last.get("kind", "")).replace("step_", "")
        found = res.get("unmet")
        unmet = found if isinstance(found, list) else []
    out = [
        f"<div class=step><h3>{cell(step)} <span class=mono>{cell(str(action))}</span> "
        f"<span class='tag {escape(status)}'>{escape(status or 'no result')}</span></h3>"
    ]
    if unmet:  # what a change left open, or what a capture could not take
        heading = "Still open after the change" if status == "not_contained" else "Not captured"
        out.append(f"<p>{heading}:</p><ul>" + "".join(f"<li>{cell(item)}</li>" for item in unmet) + "</ul>")
    for name, body in sorted(view.artifacts.get(step, {}).items()):
        if isinstance(body, dict) and ("before" in body or "after" in body):
            out.append(_diff_table(name, body.get("before"), body.get("after")))
        else:
            text = json.dumps(body, indent=2, sort_keys=True, default=str) if not isinstance(body, str) else body
            out.append(f"<p>{cell(name)} (captured)</p><pre>{escape(text)}</pre>")
    out.append("</div>")
    return "".join(out)


def _diff_table(label: str, before: Any, after: Any) -> str:
    rows = diff(before, after)
    changed = sum(1 for r in rows if r[0] != "same")
    out = [
        f"<p>{cell(label)}: {changed} change(s)</p>"
        + table(("mark", "field", "", ""), ("", "field", "before", "after"))
    ]
    for change, path, old, new in rows:
        mark = {"changed": "~", "added": "+", "removed": "−", "same": ""}[change]
        out.append(
            f"<tr class={change}><td>{mark}</td><td class='mono field'>{cell(path)}</td>"
            f"<td class=b>{cell(old)}</td><td class=a>{cell(new)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _step_order(view: CaseView) -> list[str]:
    order: list[str] = []
    for r in view.audit:
        step = r.get("step")
        if (
            isinstance(step, str)
            and step not in order
            and (r.get("kind", "").startswith("step_") or step in view.artifacts)
        ):
            order.append(step)
    for step in sorted(view.artifacts):
        if step not in order:
            order.append(step)
    return order
