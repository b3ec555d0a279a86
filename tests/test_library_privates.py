"""No private part of a library outside the ``*compat*`` modules (docs/architecture.md,
"Library privates").

A private name of Textual, httpx, httpcore, the json module or any other dependency
changes without notice on a minor release.  So every ``x._name`` in ``src/watchtower``
whose ``_name`` watchtower does not define itself, and every import from a private module
(``httpcore._utils``), must sit in a module whose name contains ``compat``: there it has a
stock fallback and a test pinned to the library's version.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "watchtower"


def _trees() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py"))}


def _own_names(trees: dict[Path, ast.Module]) -> set[str]:
    """Every ``_name`` watchtower itself defines: functions, attributes it assigns, names
    it binds, slots."""
    own: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                own.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                own.add(node.target.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("_"):
                own.add(node.value)  # __slots__ entries, getattr names of our own
    return own


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_library_privates_are_used_only_in_compat_modules() -> None:
    trees = _trees()
    own = _own_names(trees)
    found = []
    for path, tree in trees.items():
        if "compat" in path.name:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if any(_private(part) for part in node.module.split(".")) and node.module != "__future__":
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}: from {node.module} import ...")
                found.extend(f"{path.relative_to(SRC)}:{node.lineno}: import {a.name} from {node.module}"
                             for a in node.names if _private(a.name) and a.name not in own)
            elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: ._{node.attr.lstrip('_')}")
    assert not found, "library privates outside a *compat* module:\n" + "\n".join(found)


def test_the_check_sees_a_library_private() -> None:
    """The check itself: a private of httpx's client, the kind fetch/http.py once used."""
    tree = ast.parse("resp = client._transport_for_url(url)")
    attrs = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    assert attrs == ["_transport_for_url"] and "_transport_for_url" not in _own_names(_trees()) - {"_transport_for_url"}
