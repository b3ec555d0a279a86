"""The one reach past Textual's public API (ui/textual_compat.py) is pinned to the Textual
version it was checked with, and has a stock fallback."""

from __future__ import annotations

import textual

from watchtower.ui import textual_compat


def test_the_private_use_was_checked_against_this_textual() -> None:
    assert textual.__version__ == textual_compat.CHECKED_WITH, (
        f"Textual is {textual.__version__}, ui/textual_compat.py was checked with {textual_compat.CHECKED_WITH}: "
        "check that App._driver.write still writes to the terminal as is, then update CHECKED_WITH"
    )


class _Driver:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, data: str) -> None:
        self.written.append(data)


class _App:
    def __init__(self, driver: object) -> None:
        self._driver = driver
        self.bells = 0

    def bell(self) -> None:
        self.bells += 1


def test_notifications_go_to_the_driver_and_fall_back_to_the_bell() -> None:
    app = _App(_Driver())
    assert textual_compat.write_to_terminal(app, "\a\x1b]777;notify;t;b\x1b\\")
    assert app._driver.written == ["\a\x1b]777;notify;t;b\x1b\\"]
    stock = _App(None)
    assert not textual_compat.write_to_terminal(stock, "\a\x1b]777;notify;t;b\x1b\\")
    assert stock.bells == 1
    assert not textual_compat.write_to_terminal(stock, "")
