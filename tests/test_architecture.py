"""The direction of imports (docs/architecture.md), checked on the real import graph.

grimp builds the graph the way import-linter does (every ``import`` in every module,
including those inside functions).
"""

from __future__ import annotations

import grimp
import pytest


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
    fetch = ["watchtower.core.http", "watchtower.core.transport", "watchtower.core.parsepool", "watchtower.core.feeds"]
    for module in fetch:
        chain = runtime_graph.find_shortest_chain(importer=module, imported="watchtower.core.sources.base")
        assert chain is None, " -> ".join(chain or ())
