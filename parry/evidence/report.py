"""The auditor's case report: one self-contained HTML page (inline CSS, no scripts, no external
resources) with the timeline, each step's before/after as a diff, approvals, hashes and the
verification result. It prints well (@media print) so it can be filed as a PDF.

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

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1b1f24;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 28px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #d8dee4;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.meta{color:#57606a;margin:0 0 12px}
.verdict{border-radius:6px;padding:12px 16px;margin:12px 0;font-weight:600}
.verdict.ok{background:#dafbe1;border:1px solid #4ac26b;color:#116329}
.verdict.bad{background:#ffebe9;border:1px solid #ff8182;color:#82071e}
.verdict ul{font-weight:400;margin:6px 0 0 18px;padding:0}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f6;font-weight:600}
td.time{white-space:nowrap;word-break:normal}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;background:#f6f8fa;border:1px solid #d0d7de;padding:8px;white-space:pre-wrap;word-break:break-all;margin:4px 0}
tr.changed td.b{background:#ffebe9}tr.changed td.a{background:#dafbe1}
tr.added td.a{background:#dafbe1}tr.removed td.b{background:#ffebe9}
tr.same{color:#57606a}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;border:1px solid #d0d7de;background:#f6f8fa}
.tag.failed,.tag.error,.tag.not_contained{background:#ffebe9;border-color:#ff8182}.tag.partial{background:#fff8c5;border-color:#d4a72c}.tag.succeeded,.tag.ok{background:#dafbe1;border-color:#4ac26b}
.approval td{background:#fff8c5}
.step{page-break-inside:avoid;break-inside:avoid}
footer{color:#57606a;font-size:12px;margin-top:28px;border-top:1px solid #d0d7de;padding-top:8px}
@media print{
 body{background:#fff;font-size:11pt}main{max-width:none;padding:0}
 h2{page-break-after:avoid;break-after:avoid}
 table,pre,.verdict{page-break-inside:avoid;break-inside:avoid}
 tr.changed td.b,tr.removed td.b,.verdict.bad{background:#fff;border:2px solid #000}
 tr.changed td.a,tr.added td.a,.verdict.ok{background:#fff;border:1px solid #000}
 a{color:inherit;text-decoration:none}
}
"""


def _e(value: Any) -> str:
    if value is None:
        return "<span class=mono>—</span>"
    if isinstance(value, (dict, list)):
        return f"<code>{escape(json.dumps(value, sort_keys=True, default=str))}</code>"
    return escape(str(value))


def _time(at: Any) -> Any:
    """ISO time in UTC, compact: 2026-11-03 14:05:09.412."""
    return at.replace("T", " ").removesuffix("+00:00") if isinstance(at, str) else at


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
            f"{verification.manifests} manifest(s), {verification.audit_records} audit records; signed by {escape(signed)}.</div>"
        )
    items = "".join(
        f"<li><b>{escape(p.kind)}</b>: <code>{escape(p.path)}</code>: {escape(p.detail)}</li>"
        for p in verification.problems
    )
    return (
        f"<div class='verdict bad'>Verification: NOT INTACT. {len(verification.problems)} problem(s):"
        f"<ul>{items}</ul></div>"
    )


def render_html(view: CaseView, verification: Verification | None, *, generated_at: str = "") -> str:
    out = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>Parry case {escape(view.case_id)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>Case {escape(view.case_id)}</h1>",
        f"<p class=meta>Playbook <b>{escape(view.playbook_name or '?')}</b> · account {escape(view.account)} · opened {escape(view.opened)}"
        f" · status <b>{escape(view.status)}</b><br><span class=mono>{escape(view.prefix)}</span></p>",
        _verdict(verification),
    ]
    if verification is not None and verification.notes:
        out.append("<ul class=meta>" + "".join(f"<li>{escape(n)}</li>" for n in verification.notes) + "</ul>")

    out.append("<h2>Timeline</h2><table><tr><th>#</th><th>time (UTC)</th><th>event</th><th>details</th></tr>")
    for r in view.audit:
        cls = " class=approval" if APPROVAL_KINDS.search(str(r.get("kind", ""))) else ""
        out.append(
            f"<tr{cls}><td>{_e(r.get('seq'))}</td><td class='mono time'>{_e(_time(r.get('at')))}</td>"
            f"<td>{_e(str(r.get('kind', '')).replace('_', ' '))}</td><td>{_e(record_summary(r))}</td></tr>"
        )
    out.append("</table>")

    approvals = [r for r in view.audit if APPROVAL_KINDS.search(str(r.get("kind", "")))]
    out.append("<h2>Approvals and undo</h2>")
    if approvals:
        out.append("<table><tr><th>#</th><th>time (UTC)</th><th>what</th><th>step</th><th>by</th><th>reason</th></tr>")
        for r in approvals:
            out.append(
                f"<tr><td>{_e(r.get('seq'))}</td><td class='mono time'>{_e(_time(r.get('at')))}</td><td>{_e(str(r.get('kind')).replace('_', ' '))}</td>"
                f"<td>{_e(r.get('step'))}</td><td>{_e(r.get('by'))}</td><td>{_e(r.get('reason'))}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p>None recorded.</p>")

    out.append("<h2>Steps: state before and after</h2>")
    for step in _step_order(view):
        results = [
            r
            for r in view.audit
            if r.get("step") == step
            and r.get("kind") in ("step_finished", "step_failed", "step_skipped", "step_blocked")
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
        out.append(
            f"<div class=step><h3>{escape(step)} <span class=mono>{escape(str(action))}</span> "
            f"<span class='tag {escape(status)}'>{escape(status or 'no result')}</span></h3>"
        )
        if unmet:  # what a change left open, or what a capture could not take
            heading = "Still open after the change" if status == "not_contained" else "Not captured"
            out.append(f"<p>{heading}:</p><ul>" + "".join(f"<li>{_e(item)}</li>" for item in unmet) + "</ul>")
        for name, body in sorted(view.artifacts.get(step, {}).items()):
            if isinstance(body, dict) and ("before" in body or "after" in body):
                out.append(_diff_table(name, body.get("before"), body.get("after")))
            else:
                text = json.dumps(body, indent=2, sort_keys=True, default=str) if not isinstance(body, str) else body
                out.append(f"<p>{escape(name)} (captured)</p><pre>{escape(text)}</pre>")
        out.append("</div>")

    undo_records = [r for r in view.audit if r.get("kind") == "undo" and ("before" in r or "after" in r)]
    if undo_records:
        out.append("<h2>Undo: state before and after</h2>")
        for r in undo_records:
            out.append(
                f"<div class=step><h3>undo of {escape(str(r.get('step')))} <span class=mono>{escape(str(r.get('action', '')))}</span> "
                f"<span class='tag {escape(str(r.get('status', '')))}'>{escape(str(r.get('status', '')))}</span></h3>"
            )
            out.append(_diff_table(f"record {r.get('seq')}", r.get("before"), r.get("after")))
            out.append("</div>")

    out.append("<h2>Triggering event</h2>")
    out.append(f"<pre>{escape(json.dumps(view.event, indent=2, sort_keys=True, default=str))}</pre>")
    pb_sha = view.playbook.get("sha256") if isinstance(view.playbook, dict) else None
    out.append(
        f"<p>Playbook version sha256 <code>{_e(pb_sha)}</code> (exact compiled playbook in <code>playbook.json</code>).</p>"
    )

    out.append(
        "<h2>Manifests</h2><table><tr><th>manifest</th><th>sealed at</th><th>objects</th><th>signed by</th><th>sha256</th></tr>"
    )
    for m in view.manifests:
        signer = m["key_id"] if m["signed"] else "UNSIGNED"
        out.append(
            f"<tr><td class=mono>{escape(m['path'])}</td><td class=mono>{_e(m['sealed_at'])}</td><td>{_e(m['objects'])}</td>"
            f"<td class=mono>{_e(signer)}</td><td class=mono>{_e(m['sha256'])}</td></tr>"
        )
    out.append("</table>")
    out.append("<h2>Objects and hashes</h2><table><tr><th>object</th><th>size</th><th>sha256</th><th>version</th></tr>")
    for o in view.objects:
        out.append(
            f"<tr><td class=mono>{escape(o['path'])}</td><td>{_e(o['size'])}</td><td class=mono>{_e(o['sha256'])}</td>"
            f"<td class=mono>{_e(o['version_id'])}</td></tr>"
        )
    out.append("</table>")
    out.append(
        f"<footer>Generated by parry evidence report{(' at ' + escape(generated_at)) if generated_at else ''}. "
        "Hashes are recomputed from the stored bytes; verify independently with docs/auditor-guide.md.</footer>"
    )
    out.append("</main></body></html>\n")
    return "".join(out)


def _diff_table(label: str, before: Any, after: Any) -> str:
    rows = diff(before, after)
    changed = sum(1 for r in rows if r[0] != "same")
    out = [
        f"<p>{escape(label)}: {changed} change(s)</p><table><tr><th></th><th>field</th><th>before</th><th>after</th></tr>"
    ]
    for change, path, old, new in rows:
        mark = {"changed": "~", "added": "+", "removed": "−", "same": ""}[change]
        out.append(
            f"<tr class={change}><td>{mark}</td><td class=mono>{escape(path)}</td>"
            f"<td class=b>{_e(old)}</td><td class=a>{_e(new)}</td></tr>"
        )
    out.append("</table>")
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
