"""What every outgoing word goes through on screen (issue 18): the account line, the
crisis-mode Q&A check, and the log writes the posting flows make off the loop.

- :func:`account_line`: "post as Riverside Library @riverside on Mastodon" in the
  account's fixed colour (:func:`watchtower.core.respond.replies.post_as`), or a warning when we
  have no account there.  Every confirmation and the copy toast show it, since the paste
  into a browser logged in as the wrong account is where the slip happens.
- :func:`qa_guard`: while crisis mode is on, a text without the Q&A link asks first
  (:func:`watchtower.core.respond.replies.qa_problem`); post, statement, schedule and copy use it.
- :func:`edit_externally`: the text in ``$VISUAL``/``$EDITOR`` (``E``), as an argv list.
- :func:`in_thread`: a blocking core call (the log's lock, Apprise) in a worker thread; its
  error is one line on screen, its result goes to a callback on the loop.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.markup import escape

from ...core.text.safetext import clean, one_line
from .modals import ConfirmScreen

__all__ = ["account_line", "copied_message", "edit_externally", "in_thread", "qa_guard"]


def _style(colour: str | None) -> str:
    try:
        Style.parse(f"bold reverse {colour}")
    except Exception:  # noqa: BLE001 - a colour rich does not know: reverse alone
        return "bold reverse"
    return f"bold reverse {colour}"


def account_line(label: Any, *, verb: str | None = None) -> Text:
    """The account line of a :class:`~watchtower.core.respond.replies.AccountLabel`, as ``Text``:
    ``● post as <name> <handle> on <platform>`` in the account's colour; with ``verb``
    (``"delete from"``) that verb instead of "post as"; ``⚠ ...`` when we have no account."""
    t = Text(end="")  # the style is a span: text appended after it stays plain
    if label.colour is None:
        t.append(f"⚠ {one_line(label.text, limit=200)}", style="bold yellow")
        return t
    text = label.text
    if verb is not None:
        who = f"{label.name} {label.handle}" if label.name and label.name != label.handle else label.handle
        text = f"{verb} {who} on {label.platform}"
    t.append(f"● {one_line(text, limit=200)}", style=_style(label.colour))
    return t


def copied_message(label: Any) -> str:
    """The toast after a copy, as Textual markup (the account line in its colour; every
    string in it comes from the config and is escaped all the same)."""
    if label.colour is None:
        return escape(f"Copied. No account of ours on {one_line(label.platform, limit=40)}: "
                      "post it from the right account by hand.")
    return (f"Copied. Now [{_style(label.colour)}]{escape(one_line(label.text, limit=200))}[/] "
            + escape("(a browser logged in as that account). Press R once it is posted."))


def qa_guard(app: Any, text: str, *, kind: str | None, category: Any, verb: str, then: Callable[[], None]) -> None:
    """Run ``then()`` now, or after a yes when crisis mode is on and ``text`` has no Q&A link
    (holding statements and hacked notices always need it)."""
    from ...core.respond.replies import qa_problem

    try:
        problem = qa_problem(text, app.config, crisis=app.desk.crisis_active, kind=kind,
                             category=getattr(category, "value", category))
    except Exception:  # noqa: BLE001 - a check that breaks never blocks the word going out
        problem = None
    if problem is None:
        then()
        return
    app.push_screen(ConfirmScreen(f"{problem} Send it anyway?", yes=verb), lambda ok: then() if ok else None)


def in_thread(app: Any, work: Callable[[], Any], done: Callable[[Any], None] | None = None, *, what: str) -> None:
    """``work()`` in a worker thread (it may block on the log's lock or the network);
    ``done(result)`` on the loop after.  A :class:`~watchtower.errors.WatchtowerError`
    (a refused schedule, a locked log) or anything else is one line on screen."""

    def run() -> None:
        try:
            result = work()
        except Exception as exc:  # noqa: BLE001 - shown, never lost
            app.call_from_thread(app.report_problem, f"{what}: {one_line(exc, limit=300)}")
            return
        if done is not None:
            app.call_from_thread(done, result)

    app.run_worker(run, thread=True, group="log-write", name=what, exit_on_error=False)


def edit_externally(app: Any, text: str) -> str | None:
    """``text`` edited in ``$VISUAL``/``$EDITOR`` (the app suspended); ``None`` on failure
    (said on screen).  The editor gets an argv list, never a shell string."""
    import subprocess
    import tempfile

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w+", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write(text)
        path = fh.name
    try:
        with app.suspend():
            subprocess.run([*shlex.split(editor), path], check=False)
        with open(path, encoding="utf-8", errors="replace") as fh:
            return clean(fh.read(), limit=20000)
    except Exception as exc:  # noqa: BLE001
        app.report_problem(f"editor: {one_line(exc, limit=200)}")
        return None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
