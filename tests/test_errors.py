"""One error tree (watchtower/errors.py): the drawing in its docstring is the real tree,
every error is a WatchtowerError, and the old import paths still give the same classes."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from watchtower import errors

#: Where each error used to be defined; those modules still export it.
OLD_HOMES = {
    "WatchtowerError": ["watchtower.config"],
    "ConfigError": ["watchtower.config"],
    "NoConfigError": ["watchtower.config"],
    "StorageError": ["watchtower.core.record.paths", "watchtower.core.record.log"],
    "CorruptFileError": ["watchtower.core.record.log"],
    "ReadOnlyError": ["watchtower.core.record.log"],
    "AckRefused": ["watchtower.core.record.log"],
    "SourceError": ["watchtower.core.sources.base", "watchtower.core.sources"],
    "ParserError": ["watchtower.core.fetch.parsepool"],
    "TemplateError": ["watchtower.core.respond.replies"],
    "ScheduleError": ["watchtower.core.respond.schedule"],
    "ServeRefused": ["watchtower.serve"],
}


def _drawn_tree() -> dict[str, str | None]:
    """``{name: parent}`` read from the box drawing in the module docstring."""
    doc = errors.__doc__ or ""
    block = doc.split("The tree::", 1)[1].split("\n\n", 2)[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        m = re.match(r"^([\s│├└─]*)([A-Z]\w+)\s", line + " ")
        if not m or not m.group(2).endswith(("Error", "Refused")):
            continue  # a continuation line of a description
        col = len(m.group(1))
        while stack and stack[-1][0] >= col:
            stack.pop()
        parents[m.group(2)] = stack[-1][1] if stack else None
        stack.append((col, m.group(2)))
    return parents


def test_the_drawing_is_the_real_tree() -> None:
    drawn = _drawn_tree()
    assert sorted(drawn) == sorted(errors.__all__)
    for name, parent in drawn.items():
        cls = getattr(errors, name)
        if parent is None:
            assert cls.__bases__ == (Exception,), name
        else:
            assert cls.__bases__[0] is getattr(errors, parent), (name, parent)


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_is_a_watchtower_error(name: str) -> None:
    assert issubclass(getattr(errors, name), errors.WatchtowerError)


@pytest.mark.parametrize(("name", "module"), [(n, m) for n, ms in OLD_HOMES.items() for m in ms])
def test_old_import_paths_give_the_same_class(name: str, module: str) -> None:
    assert getattr(importlib.import_module(module), name) is getattr(errors, name)


def test_errors_are_defined_only_in_errors_py() -> None:
    """No second definition of a tree member anywhere in the package."""
    root = Path(errors.__file__).parent
    twice = []
    for path in root.rglob("*.py"):
        if path == Path(errors.__file__):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name in errors.__all__:
                twice.append(f"{path.relative_to(root)}:{node.lineno} {node.name}")
    assert twice == []


def test_errors_py_imports_nothing_from_watchtower() -> None:
    tree = ast.parse(Path(errors.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("watchtower"), ast.dump(node)
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("watchtower") for a in node.names)


def test_source_and_parser_errors_are_user_errors_with_their_old_behaviour() -> None:
    """A SourceError that escapes to the CLI is one line, not a traceback; a ParserError is
    still a RuntimeError for code that catches that."""
    assert issubclass(errors.SourceError, errors.WatchtowerError)
    err = errors.SourceError("HTTP 503", retry_after=30.0)
    assert (str(err), err.retry_after, err.permanent) == ("HTTP 503", 30.0, False)
    assert issubclass(errors.ParserError, RuntimeError)
    assert not issubclass(errors.ParserError, errors.SourceError)  # the poller tells them apart


def test_posting_failures_are_in_the_tree() -> None:
    from watchtower.core.respond import posting

    assert issubclass(posting._SessionError, errors.PostingError)


def test_messages_are_unchanged() -> None:
    assert str(errors.ConfigError("c.toml", "sources[0].url", "an http(s) URL")) == "c.toml: sources[0].url: an http(s) URL"
    assert str(errors.ConfigError(None, None, "a table")) == "<config>: a table"
    assert str(errors.CorruptFileError(Path("/x/log-2024-01.0001.json"), "not JSON")) == (
        "log file log-2024-01.0001.json is unreadable: not JSON"
    )
    assert str(errors.TemplateError("thanks.j2", "template syntax error", line=1)) == (
        "thanks.j2, line 1: template syntax error"
    )
    refused = errors.AckRefused("already acknowledged by bob", handover="h", ack="a")
    assert (refused.handover, refused.ack) == ("h", "a")
