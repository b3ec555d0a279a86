"""The one place watchtower reaches past Textual's public API, each with a stock fallback.

- :func:`write_to_terminal`: a desktop notification (OSC 777 / OSC 9) is bytes written to
  the terminal as they are; Textual has no public call for that (``App.bell`` rings, it
  cannot notify), so this uses the driver's ``write``.  Without a driver that has one,
  it falls back to ``App.bell()`` (the bell still reaches the operator, the pop-up not).

``tests/test_ui_compat.py`` pins the Textual version this was checked against
(:data:`CHECKED_WITH`) and fails loudly on an upgrade, so the private use is looked at
again instead of breaking silently.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CHECKED_WITH", "write_to_terminal"]

#: The Textual version the private uses here were checked against.
CHECKED_WITH = "8.2.8"


def write_to_terminal(app: Any, data: str) -> bool:
    """Write ``data`` (bytes built by :mod:`watchtower.core.alert.termnotify`, sanitised there)
    to the terminal.  Whether it went as written (False: only the bell rang)."""
    if not data:
        return False
    driver = getattr(app, "_driver", None)
    write = getattr(driver, "write", None)
    if callable(write):
        write(data)
        return True
    if "\a" in data:
        app.bell()
    return False
