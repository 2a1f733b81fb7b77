"""Human-readable output: the case timeline, the plan, tables. Machine output is `--json`.

Every value from a case (what a finding, an event, a resource's name or tags, or a person's reason
said) is data: `safe` before it goes into rich markup, `inert` before a plain print. Parry's own
markup is the only markup a terminal obeys.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Column, Table


class _Console:
    """rich's console, made on first use: a `--json` command never imports rich (~40 ms)."""

    _made: Console | None = None

    @classmethod
    def made(cls) -> Console:
        if cls._made is None:
            from rich.console import Console

            # no emoji codes either: `:warning:` in a tag value prints as typed
            cls._made = Console(highlight=False, soft_wrap=True, emoji=False)
        return cls._made

    def __getattr__(self, name: str) -> Any:
        return getattr(self.made(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.made(), name, value)


console = _Console()


def inert(value: Any) -> str:
    """`value` as one line a terminal shows and does not obey: each control or invisible character
    becomes its visible escape (`\\x1b`, `\\n`, `\\u202e`), so an ESC cannot restyle the screen, move the
    cursor or open a link, a newline cannot forge a line, and a bidi override cannot reorder one."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def safe(value: Any) -> str:
    """`value` for a rich markup string: inert, and its `[...]` printed as typed, never a style or link."""
    from rich.markup import escape

    return escape(inert(value))


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
    return f"[{style}]{safe(status)}[/]" if style else safe(status)


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


def _pairs(values: dict[str, Any], separator: str = ", ") -> str:
    return separator.join(f"{k}={_plain(v)}" for k, v in values.items())


def _plain(value: Any) -> str:
    """A value as a person reads it: no Python reprs (None, True, {'a': ...}) in human output."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return " ".join(f"{k}={_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(_plain(v) for v in value) or "—"
    return str(value)


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def case(data: dict[str, Any]) -> None:
    header = (
        f"case [bold]{safe(data['case_id'])}[/]  playbook [bold]{safe(data['playbook'])}[/]"
        f"  status {_styled(data['status'])}"
    )
    if data.get("duplicate"):
        header += "  [yellow](duplicate delivery: nothing was changed)[/]"
    console.print(header)
    if data.get("target"):
        console.print("  target  " + safe(_pairs(data["target"])))
    if data.get("dry_run"):
        console.print("  [blue]dry run: mutating steps were planned, not applied[/]")
    for step in data.get("steps", []):
        console.print(
            f"  {_styled(step['status']):<30} [bold]{safe(step['step_id'])}[/] ({safe(step['action'])})"
            + (f" {safe(step['duration_ms'])} ms" if step.get("duration_ms") is not None else "")
        )
        if step.get("summary"):
            console.print(f"      {safe(step['summary'])}")
        for line in _changes(step.get("before"), step.get("after")):
            console.print(f"      [dim]before→after[/] {safe(line)}")
        for call in step.get("calls", []):
            console.print(f"      [dim]call[/] {safe(call)}")
        if step.get("error"):
            console.print(f"      [red]{safe(step['error'])}[/]")
    if data.get("awaiting"):
        wait = data["awaiting"]
        console.print(f"  [magenta]waiting for approval[/]: {safe(wait['reason'])}")
        case_id = safe(data["case_id"])
        console.print(f'      parry approve {case_id} --reason "..."   |   parry deny {case_id} --reason "..."')
    for entry in data.get("history", []):
        console.print(
            f"  [dim]{safe(entry.get('at', ''))}[/] {safe(_plain(entry.get('kind')))} by {safe(_plain(entry.get('by')))}:"
            f" {safe(entry.get('reason') or '(no reason given)')}"
        )
    if data.get("evidence_prefix"):
        console.print(f"  evidence  {safe(data['evidence_prefix'])}")


def plan(result: Any) -> None:
    console.print(f"plan for [bold]{safe(result.playbook)}[/]  dedup {safe(result.dedup)}")
    if result.target:
        console.print("  target  " + safe(_pairs(result.target)))
    if result.dry_run_reason:
        console.print(f"  [blue]{safe(result.dry_run_reason)}[/]")
    for step in result.steps:
        mark = "[green]run [/]" if step.will_run else "[dim]skip[/]"
        gate = " [magenta](approval required)[/]" if step.approval else ""
        console.print(f"  {mark} [bold]{safe(step.step_id)}[/] ({safe(step.action)}){gate}: {safe(step.summary)}")
        for call in step.calls:
            console.print(f"       [dim]would call[/] {safe(call)}")
        if step.error:
            console.print(f"       [red]{safe(step.error)}[/]")


def _table(*columns: Column) -> Table:
    """A table that fits the terminal (80 columns when piped): no vertical rules, and only the columns
    that may wrap do; ids and statuses are kept whole, long tokens (ARNs, keys) fold."""
    from rich import box
    from rich.table import Table

    return Table(*columns, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))


def _whole(header: str) -> Column:
    """A column never cut or wrapped: an id a person types, a status read at a glance."""
    from rich.table import Column

    return Column(header, no_wrap=True, overflow="ignore", min_width=len(header))


def _folded(header: str, ratio: int = 1) -> Column:
    from rich.table import Column

    return Column(header, overflow="fold", ratio=ratio, min_width=len(header))


def _when(value: Any) -> str:
    """An ISO timestamp to the second, with a space a narrow column can wrap at."""
    text = str(value or "")
    return text[:19].replace("T", " ") if len(text) >= 19 else text or "—"


def cases_table(rows: list[dict[str, Any]]) -> None:
    """The case id and status whole; the playbook above its target in the one column that wraps."""
    from rich.table import Column

    table = _table(_whole("case"), _whole("status"), Column("opened", min_width=10), _folded("playbook / target"))
    for row in rows:
        target = _pairs(row.get("target") or {}, " ")
        table.add_row(
            safe(row["case_id"]),
            _styled(row["status"]),
            safe(_when(row.get("opened_at"))),
            safe(row["playbook"]) + (f"\n[dim]{safe(target)}[/]" if target else ""),
        )
    console.print(table, soft_wrap=False)


def evidence_table(rows: list[dict[str, Any]]) -> None:
    """`parry evidence list`: the cases in the bucket, newest first; the account above the day opened."""
    columns = (_whole("case"), _whole("account, day"), _folded("playbook"), _whole("status"), _whole("manifests"))
    table = _table(*columns)
    for row in rows:
        table.add_row(
            safe(row["case_id"]),
            f"{safe(row['account'])}\n{safe(row['opened'])}",
            safe(row["playbook"] or "—"),
            _styled(row["status"]),
            str(row["manifests"]),
        )
    console.print(table, soft_wrap=False)


def actions_table(rows: list[dict[str, Any]]) -> None:
    """Each action's name whole, what it does and its undo beside it; `parry actions NAME` has the rest."""
    table = _table(_whole("action"), _whole("changes"), _folded("does, and its undo"))
    for row in rows:
        undo = f"\n[dim]undo: {safe(row['undo'] or 'none')}[/]" if row["mutating"] else ""
        table.add_row(safe(row["action"]), "yes" if row["mutating"] else "no", safe(row["summary"]) + undo)
    console.print(table, soft_wrap=False)


def action(row: dict[str, Any]) -> None:
    """`parry actions NAME`: what one action does, takes, changes and needs."""
    console.print(f"[bold]{safe(row['action'])}[/]  {safe(row['summary'])}")
    if row.get("about"):
        console.print(safe(row["about"]), soft_wrap=False)
    console.print(f"changes   {'yes' if row['mutating'] else 'no (read-only)'}")
    console.print(f"undo      {safe(row['undo'] or row['no_undo_reason'] or '—')}", soft_wrap=False)
    table = _table(
        _whole("parameter"), _whole("type"), _whole("required"), _folded("default"), _folded("description", 3)
    )
    for param in row["params"]:
        default = _plain(param["default"]) if "default" in param else "—"
        required = "yes" if param["required"] else "no"
        table.add_row(
            safe(param["name"]), safe(param["type"]), required, safe(default), safe(param["description"] or "—")
        )
    console.print(table if row["params"] else "no parameters", soft_wrap=False)
    console.print("IAM permissions", soft_wrap=False)
    for permission in row["permissions"]:
        console.print(f"  {safe(permission)}")
