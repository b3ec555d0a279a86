"""The direction of imports (docs/architecture.md), checked on the real import graph.

The contracts are in ``.importlinter`` at the repository root and are run here with
import-linter's own command.  grimp (import-linter's graph builder: every ``import`` in
every module, including those inside functions) checks what a contract cannot say.
"""

from __future__ import annotations

import configparser
import importlib.util
import pkgutil
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import grimp
import pytest

import watchtower

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / ".importlinter"
#: The top-level modules the core may import; every other one is forbidden to it.
CORE_MAY_IMPORT = {"core", "config", "errors"}


def _contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    assert parser.read(CONTRACTS, encoding="utf-8") == [str(CONTRACTS)]
    return parser


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.splitlines() if v.strip() and not v.strip().startswith("#")]


@pytest.mark.slow  # starts a process
def test_the_import_contracts_hold() -> None:
    script = Path(sysconfig.get_path("scripts")) / "lint-imports"
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"]
    out = subprocess.run([*cmd, "--no-cache", "--no-logo", str(CONTRACTS)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    names = [_contracts()[s]["name"] for s in _contracts().sections() if s.startswith("importlinter:contract:")]
    assert len(names) >= 4
    for name in names:
        assert f"{name} KEPT" in report, report


def test_the_headless_contract_forbids_every_top_level_module_outside_core() -> None:
    """A new ``cli_*.py`` or front end must be added to the contracts, or this fails."""
    contracts = _contracts()
    forbidden = set(_lines(contracts["importlinter:contract:core-is-headless"]["forbidden_modules"]))
    layered = {m.strip() for line in _lines(contracts["importlinter:contract:layers"]["layers"]) for m in re.split("[:|]", line)}
    top = {m.name for m in pkgutil.iter_modules(watchtower.__path__)} | {"__main__"}
    for name in sorted(top - CORE_MAY_IMPORT):
        assert f"watchtower.{name}" in forbidden, f"watchtower.{name} is missing from forbidden_modules in .importlinter"
    for name in sorted(top):
        assert f"watchtower.{name}" in layered, f"watchtower.{name} is in no layer of .importlinter"


@pytest.fixture(scope="module")
def runtime_graph() -> grimp.ImportGraph:
    """Imports that run (annotation-only ``if TYPE_CHECKING:`` imports left out)."""
    return grimp.build_graph("watchtower", cache_dir=None, exclude_type_checking_imports=True)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    adj = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in adj:
        if root in index:
            continue
        work = [(root, iter(adj[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(adj[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_module_imports_itself_through_others(runtime_graph: grimp.ImportGraph) -> None:
    assert _cycles(runtime_graph) == []


def test_the_fetch_layer_never_imports_the_connectors(runtime_graph: grimp.ImportGraph) -> None:
    """http.py and sources/base.py imported each other (SourceError, SourceState)."""
    fetch = ["watchtower.core.fetch.http", "watchtower.core.fetch.transport", "watchtower.core.fetch.parsepool", "watchtower.core.fetch.feeds"]
    for module in fetch:
        chain = runtime_graph.find_shortest_chain(importer=module, imported="watchtower.core.sources.base")
        assert chain is None, " -> ".join(chain or ())


def test_the_demo_lives_outside_core() -> None:
    """The scripted incident and its server are a package beside the UI, which the core
    cannot import (the headless contract forbids watchtower.demo)."""
    assert importlib.util.find_spec("watchtower.core.demo") is None
    from watchtower.demo import DemoServer, demo_config, scenario_summary

    assert DemoServer.__module__ == "watchtower.demo.server"
    assert demo_config.__module__ == scenario_summary.__module__ == "watchtower.demo.script"
