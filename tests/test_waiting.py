"""The test suite's own waiting helpers: they return as soon as the condition holds, and a
wait that gives up says what it waited for and what it saw instead (docs/testing.md)."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from waiting import WaitTimeout, async_wait_until, wait_until


def test_returns_the_conditions_value_once_it_holds() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "ready", what="three polls", interval=0) == "ready"


def test_a_wait_that_gives_up_names_what_it_waited_for_and_what_it_saw() -> None:
    with pytest.raises(WaitTimeout) as info:
        wait_until(lambda: False, what="bob's claim", timeout=0, seen=lambda: "new", interval=0)
    assert "bob's claim" in str(info.value) and "last seen: new" in str(info.value)


def test_a_failing_description_does_not_hide_the_timeout() -> None:
    with pytest.raises(WaitTimeout, match="could not describe"):
        wait_until(lambda: False, what="x", timeout=0, seen=lambda: 1 / 0, interval=0)


def test_the_async_wait_yields_between_polls() -> None:
    async def main() -> str:
        box: list[str] = []
        asyncio.get_running_loop().call_soon(box.append, "done")
        return await async_wait_until(lambda: box and box[0], what="the callback", interval=0)

    assert asyncio.run(main()) == "done"
