"""The one Lambda asset every runner shares, staged once per synth.

Holds `handler.py` (from functions/runner), the `parry` engine package without the CLI and without
any module that needs a package absent from the Lambda runtime (PyYAML, jsonschema, typer, rich,
moto, the CDK), and `playbooks/<name>.json`, each playbook compiled. The runtime has boto3 and
jmespath; Powertools comes from its layer.
"""

from __future__ import annotations

import ast
import atexit
import dataclasses
import functools
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from parry.playbooks.model import Playbook

ROOT = Path(__file__).resolve().parent.parent
# Third-party packages the Lambda runtime does not provide (boto3, botocore, jmespath and the
# Powertools layer are present).
ABSENT_IN_RUNTIME = frozenset({"yaml", "jsonschema", "typer", "rich", "click", "moto", "aws_cdk", "constructs", "cdk_nag", "pytest"})


@dataclass(frozen=True)
class StagedAsset:
    path: Path
    modules: tuple[str, ...]  # parry modules included, dotted
    excluded: dict[str, str]  # parry module the handler reaches but cannot import -> why
    has_handler: bool

    @functools.cached_property
    def content_hash(self) -> str:
        """SHA-256 over every staged file's path and bytes: the asset's identity, computed here in
        Python rather than by the CDK's fingerprint walk in Node (slower, and a second pass)."""
        digest = hashlib.sha256()
        for file in sorted(p for p in self.path.rglob("*") if p.is_file()):
            rel = file.relative_to(self.path).as_posix().encode()
            digest.update(len(rel).to_bytes(4, "big") + rel)
            data = file.read_bytes()
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.hexdigest()


def _module_name(package_root: Path, file: Path) -> str:
    rel = file.relative_to(package_root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.lru_cache(maxsize=None)
def _parse(file: Path) -> ast.Module:
    return ast.parse(file.read_text(), str(file))


def _imports(file: Path, module: str, *, toplevel_only: bool) -> set[str]:
    """Modules `file` imports: all of them, or only those run when it is imported (skipping
    `if TYPE_CHECKING:` blocks and function bodies)."""
    tree = _parse(file)
    found: set[str] = set()
    is_package = file.name == "__init__.py"

    def record(node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
            return
        base = node.module or ""
        if node.level:
            anchor = module.split(".") if is_package else module.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        found.add(base)
        found.update(f"{base}.{a.name}" for a in node.names)

    def visit(nodes: Iterable[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                record(node)
            elif isinstance(node, ast.If):
                if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                    visit(node.orelse)
                else:
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.With):
                visit(node.body)

    if toplevel_only:
        visit(tree.body)
    else:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                record(node)
    return found


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def select_modules(package_root: Path, roots: Iterable[str] | None = None) -> tuple[dict[str, Path], dict[str, str]]:
    """The engine modules the handler reaches (all, without `roots`), minus those that cannot
    import in the Lambda runtime; and why each left-out module was left out."""
    files = {
        _module_name(package_root, f): f for f in sorted(package_root.rglob("*.py")) if "__pycache__" not in f.parts
    }
    toplevel = {name: _imports(f, name, toplevel_only=True) for name, f in files.items()}
    excluded: dict[str, str] = {}
    for name in files:
        if any(part == "cli" or part.startswith("cli_") or part == "__main__" for part in name.split(".")[1:]):
            excluded[name] = "the command line is not part of the runtime"
            continue
        bad = sorted({i.split(".")[0] for i in toplevel[name]} & ABSENT_IN_RUNTIME)
        if bad:
            excluded[name] = f"imports {', '.join(bad)}, absent from the Lambda runtime"
    changed = True
    while changed:  # a module importing an excluded module cannot be imported either
        changed = False
        for name in files:
            if name in excluded:
                continue
            hit = next((e for i in toplevel[name] for e in excluded if i == e or i.startswith(e + ".")), None)
            if hit:
                excluded[name] = f"imports {hit}, which is excluded"
                changed = True

    if roots is None:
        reached = set(files)
    else:
        reached = set()
        todo = [r for r in roots if r in files]
        while todo:
            name = todo.pop()
            if name in reached:
                continue
            reached.add(name)
            todo.extend(p for p in _parents(name) if p in files)
            todo.extend(i for i in _imports(files[name], name, toplevel_only=False) if i in files)
    kept = {n: f for n, f in files.items() if n in reached and n not in excluded}
    return kept, {n: why for n, why in excluded.items() if n in reached}


def stage(playbooks: Iterable[Playbook], *, root: Path = ROOT, into: Path | None = None) -> StagedAsset:
    """Write the asset folder (a fresh temporary folder unless `into` is given) and describe it."""
    if into is None:
        into = Path(tempfile.mkdtemp(prefix="parry-asset-"))
        atexit.register(shutil.rmtree, into, ignore_errors=True)
    into.mkdir(parents=True, exist_ok=True)

    handler_dir = root / "functions" / "runner"
    has_handler = (handler_dir / "handler.py").is_file()
    if has_handler:
        for src in sorted(handler_dir.glob("*.py")):
            if not src.name.startswith("test_"):
                shutil.copyfile(src, into / src.name)

    roots = None
    if has_handler:
        roots = set()
        for src in handler_dir.glob("*.py"):
            roots |= {i for i in _imports(src, src.stem, toplevel_only=False) if i.split(".")[0] == "parry"}
    kept, excluded = select_modules(root / "parry", roots)
    for name, src in kept.items():
        dest = into / src.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    typed = root / "parry" / "py.typed"
    if typed.is_file():
        shutil.copyfile(typed, into / "parry" / "py.typed")

    books = into / "playbooks"
    books.mkdir(exist_ok=True)
    for book in playbooks:
        (books / f"{book.name}.json").write_text(json.dumps(book.compiled()))
    _parse.cache_clear()
    return StagedAsset(path=into, modules=tuple(sorted(kept)), excluded=excluded, has_handler=has_handler)


def into_assembly(asset: StagedAsset, outdir: Path) -> StagedAsset:
    """Move the staged folder into the cloud assembly as `asset.<content hash>`, where the
    synthesizer's asset manifest points (one folder, written once: no second copy by the CDK)."""
    final = outdir / f"asset.{asset.content_hash}"
    if final.exists():  # the same content, staged by an earlier synth into this outdir
        shutil.rmtree(asset.path, ignore_errors=True)
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(asset.path), final)
    moved = dataclasses.replace(asset, path=final)
    moved.__dict__["content_hash"] = asset.content_hash  # same bytes: keep the computed hash
    return moved
