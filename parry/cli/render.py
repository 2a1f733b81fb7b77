"""Human-readable output: the case timeline, the plan, tables. Machine output is `--json`."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)

STATUS_STYLE = {
    "succeeded": "green",
    "noop": "cyan",
    "skipped": "dim",
    "refused": "yellow",
    "failed": "red",
    "blocked": "yellow",
    "not_contained": "bold red",
    "partial": "yellow",
    "planned": "blue",
    "awaiting_approval": "magenta",
    "undone": "cyan",
    "SUCCEEDED": "bold green",
    "FAILED": "bold red",
    "COMPLETED_WITH_ERRORS": "bold yellow",
    "AWAITING_APPROVAL": "bold magenta",
    "DRY_RUN": "bold blue",
    "RUNNING": "bold",
    "DENIED": "bold yellow",
    "CLOSED_UNAPPROVED": "bold yellow",
    "UNDONE": "bold cyan",
    "PARTIALLY_UNDONE": "cyan",
}


def _styled(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/]" if style else status


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """`field: old -> new` for the top-level fields that changed."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            out.append(f"{key}: {_short(old)} -> {_short(new)}")
    return out


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def case(data: dict[str, Any]) -> None:
    header = f"case [bold]{data['case_id']}[/]  playbook [bold]{data['playbook']}[/]  status {_styled(data['status'])}"
    if data.get("duplicate"):
        header += "  [yellow](duplicate delivery: nothing was changed)[/]"
    console.print(header)
    if data.get("target"):
        console.print("  target  " + ", ".join(f"{k}={v}" for k, v in data["target"].items()))
    if data.get("dry_run"):
        console.print("  [blue]dry run: mutating steps were planned, not applied[/]")
    for step in data.get("steps", []):
        console.print(
            f"  {_styled(step['status']):<30} [bold]{step['step_id']}[/] ({step['action']}) {step['duration_ms']} ms"
        )
        if step.get("summary"):
            console.print(f"      {step['summary']}")
        for line in _changes(step.get("before"), step.get("after")):
            console.print(f"      [dim]before→after[/] {line}")
        for call in step.get("calls", []):
            console.print(f"      [dim]call[/] {call}")
        if step.get("error"):
            console.print(f"      [red]{step['error']}[/]")
    if data.get("awaiting"):
        wait = data["awaiting"]
        console.print(f"  [magenta]waiting for approval[/]: {wait['reason']}")
        console.print(
            f'      parry approve {data["case_id"]} --reason "..."   |   parry deny {data["case_id"]} --reason "..."'
        )
    for entry in data.get("history", []):
        console.print(
            f"  [dim]{entry.get('at', '')}[/] {entry.get('kind')} by {entry.get('by', '?')}: {entry.get('reason', '')}"
        )
    if data.get("evidence_prefix"):
        console.print(f"  evidence  {data['evidence_prefix']}")


def plan(result: Any) -> None:
    console.print(f"plan for [bold]{result.playbook}[/]  dedup {result.dedup}")
    if result.target:
        console.print("  target  " + ", ".join(f"{k}={v}" for k, v in result.target.items()))
    if result.dry_run_reason:
        console.print(f"  [blue]{result.dry_run_reason}[/]")
    for step in result.steps:
        mark = "[green]run [/]" if step.will_run else "[dim]skip[/]"
        gate = " [magenta](approval required)[/]" if step.approval else ""
        console.print(f"  {mark} [bold]{step.step_id}[/] ({step.action}){gate}: {step.summary}")
        for call in step.calls:
            console.print(f"       [dim]would call[/] {call}")
        if step.error:
            console.print(f"       [red]{step.error}[/]")


def cases_table(rows: list[dict[str, Any]]) -> None:
    table = Table("case", "playbook", "status", "opened", "target")
    for row in rows:
        target = ", ".join(f"{k}={v}" for k, v in (row.get("target") or {}).items())
        table.add_row(row["case_id"], row["playbook"], _styled(row["status"]), row["opened_at"], _short(target, 60))
    console.print(table)


def actions_table(rows: list[dict[str, Any]]) -> None:
    table = Table("action", "changes", "undo", "permissions")
    for row in rows:
        table.add_row(
            row["action"], "yes" if row["mutating"] else "no", row["undo"] or "-", ", ".join(row["permissions"])
        )
    console.print(table)
