"""watchtower.core (and the config) must never pull in textual or rich.

Two checks, both in a fresh interpreter:

1. With textual and rich made unimportable, every core module still imports: the core
   cannot depend on them.  (httpx's optional CLI imports rich when it is installed and
   falls back silently when it is not, which is why the import is blocked rather than
   just looked for.)
2. Without the block, textual never appears in ``sys.modules`` after importing the core.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import watchtower.core

_BLOCKER = (
    "import sys, importlib.abc\n"
    "class Block(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('textual', 'rich'):\n"
    "            raise ImportError('blocked for the hygiene test: ' + name)\n"
    "        return None\n"
    "sys.meta_path.insert(0, Block())\n"
)


def _core_modules() -> list[str]:
    names = ["watchtower.core", "watchtower.config"]
    for mod in pkgutil.walk_packages(watchtower.core.__path__, "watchtower.core."):
        names.append(mod.name)
    return names


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow  # starts a process
def test_core_imports_with_textual_and_rich_blocked() -> None:
    modules = _core_modules()
    assert len(modules) > 10, modules
    code = _BLOCKER + (
        "import importlib, json\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    assert json.loads(_run(code)) == []


@pytest.mark.slow  # starts a process
def test_core_never_loads_textual() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {_core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    assert json.loads(_run(code)) == []


def test_no_core_source_file_names_textual_or_rich() -> None:
    core = Path(watchtower.core.__file__).parent
    offenders = []
    for path in core.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("textual", "rich")]
    assert offenders == []


@pytest.mark.slow  # starts a process
def test_the_blocker_really_blocks() -> None:
    """The first check is only meaningful if the block makes the UI fail to import."""
    code = _BLOCKER + (
        "try:\n"
        "    import watchtower.ui.app\n"
        "    print('imported')\n"
        "except ImportError:\n"
        "    print('blocked')\n"
    )
    assert _run(code) == "blocked"
