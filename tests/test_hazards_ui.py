"""The hazard corpus through the real UI: nothing a stranger writes runs, crashes or hides.

The corpus is served over local HTTP and polled by the app's own pipeline
(``WatchtowerApp.poll_everything_once``), then shown under ``App.run_test`` at 80x24 and
160x48.  The test visits every pane, moves the cursor over and clicks every row, opens
the response panel for hostile items, records hostile notes, follow-ups and a crisis in
the handover log and opens those screens, and raises hostile notifications.

Three detectors, each of which the sanity tests at the bottom prove can fail:

- **actions**: ``App.run_action`` is recorded, and every action that came from a click
  on rendered content (``App._broker_event``, how ``[@click=…]`` runs) counts as content;
  ``action_quit``/``action_screenshot``/``open_url``/``bell`` are recorded too.  Only the
  keys the test pressed on purpose may run actions; the app must still be running.
- **bare str**: ``DataTable.add_row/update_cell``, ``Static(...)``/``Static.update``,
  ``Tab`` labels and ``notify`` are wrapped; a ``str`` that would be parsed as markup is
  a violation (docs/threat-model.md, T1).
- **screen sweep**: every rendered segment is read back from the compositor: no
  ``@click`` meta or link style may come from content, no control/bidi/TAG character may
  be on screen, and the literal markup (``[@click=app.quit]``…) must be *visible* where
  the item is shown, so a parsed tag (which vanishes) is caught.
"""

from __future__ import annotations

import contextvars
import re
from pathlib import Path
from typing import Any

import pytest
from hazard_server import config_dict, serve
from hazards.corpus import DOCS, ESCAPES, MARKUP, MULTILINGUAL, Doc
from pytest_httpserver import HTTPServer
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Offset
from textual.widgets import DataTable, Static, Tab
from waiting import async_wait_until

from watchtower.config import parse_config
from watchtower.core.models import Item
from watchtower.core.text.safetext import one_line
from watchtower.ui.app import WatchtowerApp
from watchtower.ui.widgets.pane import ItemPane

pytestmark = pytest.mark.slow

ON_SCREEN_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff\U000e0000-\U000e007f]"
)
SHOT_NAME = "wt-hazard-shot.svg"

# Errors with hostile text get their own pane, so their health line is readable.
_OWN_PANE = {"mastodon-error": "errors", "http-500-hostile-reason": "errors", "reddit-not-listing": "errors"}
UI_DOCS = [d for d in DOCS if d.name != "rss-10k-items"]


def _platform(doc: Doc) -> str:
    return _OWN_PANE.get(doc.name, doc.family)


# ---------------------------------------------------------------------------- detectors

_from_content: contextvars.ContextVar[str] = contextvars.ContextVar("from_content", default="")

#: Style-meta handlers Textual's own widgets render (scrollbars: textual/scrollbar.py).
TEXTUAL_OWN_META = {("@mouse.down", "grab"), ("@mouse.down", "scroll_up"), ("@mouse.down", "scroll_down")}


class Spy:
    """Records actions, dangerous calls and bare-str widget inputs while installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.actions: list[tuple[str, bool]] = []
        self.dangerous: list[str] = []
        self.bare_str: list[str] = []
        mp = monkeypatch
        spy = self

        orig_run_action = App.run_action
        orig_broker = App._broker_event

        async def run_action(app, action, default_namespace=None, namespaces=None):
            spy.actions.append((str(action), _from_content.get()))
            return await orig_run_action(app, action, default_namespace, namespaces)

        async def broker(app, event_name, event, default_namespace):
            token = _from_content.set(event_name)
            try:
                return await orig_broker(app, event_name, event, default_namespace)
            finally:
                _from_content.reset(token)

        mp.setattr(App, "run_action", run_action)
        mp.setattr(App, "_broker_event", broker)

        def recorder(name):
            def record(self, *a, **k):
                spy.dangerous.append(f"{name}{a!r}")
            return record

        async def async_record_quit(self, *a, **k):
            spy.dangerous.append(f"action_quit{a!r}")

        mp.setattr(App, "action_quit", async_record_quit)
        mp.setattr(App, "action_screenshot", recorder("action_screenshot"))
        mp.setattr(App, "save_screenshot", recorder("save_screenshot"))
        mp.setattr(App, "deliver_screenshot", recorder("deliver_screenshot"))
        mp.setattr(App, "open_url", recorder("open_url"))
        mp.setattr(App, "bell", recorder("bell"))
        mp.setattr(App, "action_bell", recorder("action_bell"))
        mp.setattr(App, "action_simulate_key", recorder("action_simulate_key"))
        mp.setattr(App, "action_toggle_dark", recorder("action_toggle_dark"), raising=False)
        mp.setattr(App, "action_notify", recorder("action_notify"))
        mp.setattr(App, "action_push_screen", recorder("action_push_screen"))
        mp.setattr(App, "action_add_class", recorder("action_add_class"))
        mp.setattr(WatchtowerApp, "action_pwned", recorder("action_pwned"), raising=False)

        def bare(where: str, value: Any) -> None:
            spy.bare_str.append(f"{where}: {value!r:.120}")

        orig_add_row = DataTable.add_row

        def add_row(self, *cells, **kw):
            for c in cells:
                if isinstance(c, str):
                    bare("DataTable.add_row", c)
            return orig_add_row(self, *cells, **kw)

        orig_update_cell = DataTable.update_cell

        def update_cell(self, row_key, column_key, value, **kw):
            if isinstance(value, str):
                bare("DataTable.update_cell", value)
            return orig_update_cell(self, row_key, column_key, value, **kw)

        orig_static_init = Static.__init__

        def static_init(self, content="", *a, **kw):
            if isinstance(content, str) and content and kw.get("markup", True):
                bare(f"{type(self).__name__}(str, markup=True)", content)
            return orig_static_init(self, content, *a, **kw)

        orig_static_update = Static.update

        def static_update(self, content="", *a, **kw):
            if isinstance(content, str) and content and self._render_markup:
                bare(f"{type(self).__name__}.update(str) with markup", content)
            return orig_static_update(self, content, *a, **kw)

        orig_tab_init = Tab.__init__

        def tab_init(self, label, *a, **kw):
            if isinstance(label, str) and "[" in label:
                bare("Tab(str)", label)
            return orig_tab_init(self, label, *a, **kw)

        orig_notify = App.notify

        def notify(self, message, *a, markup: bool = True, **kw):
            title = kw.get("title", "")
            if markup and ("[" in str(message) or "[" in str(title)):
                bare("notify(markup=True)", f"{title} {message}")
            return orig_notify(self, message, *a, markup=markup, **kw)

        mp.setattr(DataTable, "add_row", add_row)
        mp.setattr(DataTable, "update_cell", update_cell)
        mp.setattr(Static, "__init__", static_init)
        mp.setattr(Static, "update", static_update)
        mp.setattr(Tab, "__init__", tab_init)
        mp.setattr(App, "notify", notify)

    @property
    def content_actions(self) -> list[str]:
        """Actions run from style meta on rendered text (``[@click=…]``, ``[@mouse.down=…]``)."""
        return [a for a, event in self.actions if event and (f"@{event}", a) not in TEXTUAL_OWN_META]


def screen_segments(app: App) -> list[list[Any]]:
    """The current screen as rendered by the compositor: one list of segments per line."""
    return [list(strip) for strip in app.screen._compositor.render_strips()]


def screen_text(app: App) -> str:
    return "\n".join("".join(seg.text for seg in line) for line in screen_segments(app))


def sweep(app: App) -> list[str]:
    """Problems on the current screen: content links/actions, and controls on screen."""
    problems: list[str] = []
    for y, line in enumerate(screen_segments(app)):
        for seg in line:
            style = seg.style
            if style is None:
                continue
            meta = style.meta or {}
            for key, value in meta.items():
                if key.startswith("@") and (key, value) not in TEXTUAL_OWN_META:
                    problems.append(f"line {y}: {key}={value!r} on {seg.text!r}")
            if style.link:
                problems.append(f"line {y}: link {style.link!r} on {seg.text!r}")
        text = "".join(seg.text for seg in line)
        bad = ON_SCREEN_FORBIDDEN.search(text)
        if bad:
            problems.append(f"line {y}: U+{ord(bad.group()):04X} on screen: {text!r:.100}")
    return problems


# ---------------------------------------------------------------------------- helpers


async def wait_for(pilot, condition, *, what: str) -> None:
    """Wait (up to :data:`waiting.DEADLINE`) until ``condition()`` holds, letting the app run in between."""
    await async_wait_until(condition, what=what, pause=lambda: pilot.pause(0.05))


def _text_column_x(table) -> int:
    return table.column_x("text")


def _author_column_x(table) -> int:
    return table.column_x("author")


async def click(pilot, widget=None, offset: tuple[int, int] = (0, 0)) -> None:
    """A real click (MouseDown, MouseUp, Click at a screen position, as ``pilot.click``
    sends them) with one pause instead of four, so thousands of rows stay affordable."""
    from textual.events import Click, MouseDown, MouseUp
    from textual.pilot import _get_mouse_message_arguments

    app = pilot.app
    screen = app.screen
    target = screen if widget is None else widget
    kwargs = _get_mouse_message_arguments(target, offset, button=1)
    app.mouse_position = Offset(kwargs["x"], kwargs["y"])
    assert app.mouse_position in screen.size.region
    for cls in (MouseDown, MouseUp, Click):
        screen._forward_event(cls(**({**kwargs, "chain": 1} if cls is Click else kwargs)))
    await pilot.pause()


async def click_every_row(pilot, app: WatchtowerApp, pane: ItemPane, spy: Spy, *, scroll: bool = True) -> int:
    """Move the cursor over every row of ``pane`` and click every row as it is rendered.

    Each row is clicked where its text starts (where a parsed ``[@click]`` would sit);
    rows whose author holds a bracket are clicked on the author too.  Without ``scroll``
    only the rows rendered without scrolling are clicked (the cursor still visits all).
    """
    table = pane.list
    clicks = 0
    x_text = _text_column_x(table)
    x_author = _author_column_x(table)
    for row in range(table.row_count):
        table.move_cursor(row=row, animate=False)
        y = row - round(table.scroll_y)
        if not 0 <= y < table.size.height:
            if not scroll:
                continue
            await pilot.pause()  # let the table scroll the cursor into view
            y = row - round(table.scroll_y)
            if not 0 <= y < table.size.height:
                continue  # a tiny wide-layout pane: scrolled as far as it goes
        key = table.items[row].id
        item = app.items.get(key)
        xs = [x_text]
        if item is not None and "[" in item.author:
            xs.append(x_author)
        for x in xs:
            if x < table.size.width:
                await click(pilot, table, (x, y))
                clicks += 1
        assert app.return_code is None and not spy.dangerous, spy.dangerous
    return clicks


def visible_rows(pane: ItemPane, app: WatchtowerApp) -> list[Item]:
    table = pane.list
    top = round(table.scroll_y)
    rows = []
    for r in range(top, min(table.row_count, top + table.size.height)):
        key = table.items[r].id
        if key in app.items:
            rows.append(app.items[key])
    return rows


def _config(urls: dict[str, str]):
    return parse_config(config_dict(UI_DOCS, urls, platform_of=_platform))


# ---------------------------------------------------------------------------- the test


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    return Spy(monkeypatch)


def _shot_files(dirs: list[Path]) -> list[Path]:
    found = []
    for d in dirs:
        if d.is_dir():
            found += [p for p in d.iterdir() if p.name.startswith("wt-hazard-shot") or p.suffix == ".svg"]
    return found


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_corpus_through_the_real_ui(
    httpserver: HTTPServer, tmp_path: Path, spy: Spy, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shot_dirs = [Path("/tmp"), tmp_path, Path.cwd()]
    before = set(_shot_files(shot_dirs))
    urls = serve(httpserver, UI_DOCS)
    config = _config(urls)
    app = WatchtowerApp(config, data_dir=tmp_path / "data", operator="oncall", start_polling=False, env={})
    pressed: set[str] = set()

    async def press(*keys: str) -> None:
        for k in keys:
            await pilot.press(k)
            pressed.add(k)

    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.monitor is not None and app.handover_log is not None, what="stores")
        await app.poll_everything_once()
        await wait_for(pilot, lambda: len(app.items) > 300, what="corpus items")
        await wait_for(pilot, lambda: sum(p.list.row_count for p in app.panes[1:]) > 300, what="rows")
        assert app.return_code is None

        # Hostile notes, a follow-up and a crisis in the handover log.
        hostile = [*MARKUP, *ESCAPES.values()]
        any_item = next(iter(app.items.values()))
        for p in hostile:
            app.record("note", p)
        app.record("followup_set", MARKUP[0] + " call back " + ESCAPES["osc52-bel"], item=any_item,
                   data={"due": "2000-01-01T00:00:00+00:00", "preset": "custom"})
        app.record("crisis_start", MARKUP[1] + ESCAPES["osc0-title-bel"], data={"description": MARKUP[1]})
        await wait_for(pilot, lambda: len(app.log_entries) >= len(hostile) + 2, what="log entries")
        # Hostile notifications through the app's own paths.
        for p in [*MARKUP[:8], ESCAPES["osc52-st"], ESCAPES["c1-csi"]]:
            app.report_problem(p)
        app._tick()  # follow-ups overdue -> alert toast with hostile text
        await pilot.pause()
        assert not sweep(app), sweep(app)

        # Visit every pane, move over and click every row.
        n_panes = len(app.panes)
        clicks = 0
        for index in range(n_panes):
            if not app.wide:
                if index < 9:
                    await press(str(index + 1))
                else:
                    await press("right_square_bracket")
                await pilot.pause()
                assert app.active_tab == index
            pane = app.panes[index]
            # The Priority pane repeats items of the platform panes: its first screen is enough.
            # At 160x48 every pane is a few rows high: the rows rendered there are clicked
            # (the 80x24 run scrolls through and clicks all of them).
            clicks += await click_every_row(pilot, app, pane, spy, scroll=index > 0 and not app.wide)
            problems = sweep(app)
            assert not problems, (pane.pane_name, problems[:5])
        assert clicks > (300 if not app.wide else 30), clicks

        # The literal markup is on screen where the item is shown (parsed tags would vanish).
        markup_pane = next(p for p in app.panes if p.pane_name == "markup")
        if not app.wide:
            await press(str(app.panes.index(markup_pane) + 1))
        seen_literal: set[str] = set()
        table = markup_pane.list
        width = table.size.width - _text_column_x(table)
        for row in range(table.row_count):
            table.move_cursor(row=row, animate=False)
            await pilot.pause()
            text = screen_text(app)
            key = table.items[row].id
            headline = app.items[key].headline
            for p in MARKUP:
                if headline.startswith(p) and len(p) < width - 1:
                    assert p in text, f"{p!r} not shown literally (parsed as markup?)"
                    seen_literal.add(p)
        # Long payloads do not fit the text column (more fit at 80x24, where one pane is shown).
        assert len(seen_literal) >= (10 if app.wide else 12), sorted(set(MARKUP) - seen_literal)

        # The response panel for hostile items (enter), each swept and clicked.
        opened = 0
        for row in range(0, table.row_count, max(1, table.row_count // 10)):
            table.focus()
            table.move_cursor(row=row, animate=False)
            await pilot.pause()
            key = table.items[row].id
            await press("enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ResponseScreen", what="response panel")
            problems = sweep(app)
            assert not problems, problems[:5]
            body = screen_text(app)
            item = app.items[key]
            first = one_line((item.title or item.text).split("\n")[0])[:15]
            assert first in body, (first, body[:600])
            # The whole payload is in the panel as typed (wrapping may split it at spaces).
            flat = re.sub(r"\s+", "", body)
            for p in MARKUP:
                if p in item.text:
                    assert re.sub(r"\s+", "", p) in flat, (p, body[:600])
            for y in range(1, min(14, app.size.height - 2)):
                for x in (2, 20):
                    await click(pilot, None, (x, y))
            assert app.return_code is None and not spy.dangerous, spy.dangerous
            await press("escape")
            await wait_for(pilot, lambda: type(app.screen).__name__ != "ResponseScreen", what="back")
            opened += 1
        assert opened >= 8

        # Handover, log, follow-ups and crisis screens show the hostile notes as text.
        for key, name in (("h", "HandoverScreen"), ("l", "LogScreen"), ("f", "FollowupsScreen"), ("x", "CrisisScreen")):
            await press(key)
            await wait_for(pilot, lambda name=name: type(app.screen).__name__ == name, what=name)
            await pilot.pause()
            problems = sweep(app)
            assert not problems, (name, problems[:5])
            text = screen_text(app)
            if name in ("LogScreen",):
                assert any(p in text for p in MARKUP[:5]), text[:500]
            for y in range(1, min(app.size.height - 1, 24)):
                for x in (4,):
                    await click(pilot, None, (x, y))
            assert app.return_code is None and not spy.dangerous, (name, spy.dangerous)
            await press("escape")
            await wait_for(pilot, lambda name=name: type(app.screen).__name__ not in (name,), what=f"leave {name}")

        # The toasts (hostile problems and alerts) are on screen as text; click them all.
        for p in MARKUP[:4]:
            app.report_problem(p)
        await pilot.pause()
        text = screen_text(app)
        assert MARKUP[0] in text or "[@click=app.quit]" in text.replace("\n", "")
        assert not sweep(app)
        for y in range(1, app.size.height - 1):  # not the footer: its keys are ours
            await click(pilot, None, (app.size.width - 10, y))
        await pilot.pause()

        # Multilingual text reaches the screen intact: every title, scrolled into view.
        ml_pane = next(p for p in app.panes if p.pane_name == "multilingual")
        if not app.wide:
            await press(str(app.panes.index(ml_pane) + 1))
        shown_ml = set()
        for row in range(ml_pane.list.row_count):
            ml_pane.list.move_cursor(row=row, animate=False)
            await pilot.pause()
            text = screen_text(app)
            shown_ml |= {s for s in MULTILINGUAL if s[:6] in text}
        assert len(shown_ml) == 12, set(MULTILINGUAL) - shown_ml

        assert app.return_code is None, "the app exited"
        assert app.is_running

    assert not spy.content_actions, spy.content_actions
    assert not spy.dangerous, spy.dangerous
    assert not spy.bare_str, spy.bare_str[:10]
    allowed = _allowed_actions(pressed)
    # Key presses run actions with no style meta behind them; each must be one we pressed.
    unexpected = [a for a, event in spy.actions if not event and a.split("(")[0] not in allowed]
    assert not unexpected, unexpected
    assert set(_shot_files(shot_dirs)) == before, "a screenshot file was written"


def _allowed_actions(pressed: set[str]) -> set[str]:
    """The actions the keys this test pressed are bound to (and nothing else)."""
    allowed = {"goto_tab", "next_tab", "respond", "open_item", "back", "handover", "log", "followups",
               "crisis", "app.pop_screen", "pop_screen", "focus_next", "focus_previous", "cursor_down",
               "cursor_up", "select_cursor", "dismiss", "app.back", "screen.dismiss", "toggle_claim"}
    return allowed


# ---------------------------------------------------------------------------- sanity


class UnsafeApp(App[None]):
    """Deliberately wrong: a bare str in a Static, as a careless widget would do."""

    def __init__(self, payload: str) -> None:
        super().__init__()
        self.payload = payload

    def compose(self) -> ComposeResult:
        yield Static(self.payload, id="unsafe")


class SafeApp(UnsafeApp):
    def compose(self) -> ComposeResult:
        yield Static(Text(self.payload), id="unsafe")


async def test_sanity_detectors_catch_an_unsafe_rendering(spy: Spy, tmp_path: Path) -> None:
    app = UnsafeApp("[@click=app.quit]CLICK-ME-QUIT[/]")
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        # The sweep sees the live action and the vanished tag.
        problems = sweep(app)
        assert any("@click" in p for p in problems), problems
        assert "[@click=app.quit]" not in screen_text(app)
        await pilot.click("#unsafe", offset=(2, 0))
        await pilot.pause()
    assert spy.content_actions == ["app.quit"], spy.actions
    assert spy.dangerous and spy.dangerous[0].startswith("action_quit")
    assert spy.bare_str and "Static(str, markup=True)" in spy.bare_str[0]


async def test_sanity_screenshot_payload_is_caught(spy: Spy, tmp_path: Path) -> None:
    app = UnsafeApp(f"[@click=app.screenshot('{SHOT_NAME}','{tmp_path}')]SHOT[/]")
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        await pilot.click("#unsafe", offset=(1, 0))
        await pilot.pause()
    assert any(a.startswith("app.screenshot") for a in spy.content_actions), spy.actions
    assert any(d.startswith("action_screenshot") for d in spy.dangerous)


async def test_sanity_escape_on_screen_is_caught(spy: Spy) -> None:
    app = SafeApp("a\x1b]52;c;UFdORUQ=\x07b \u202eevil")
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        problems = sweep(app)
    assert any("U+" in p for p in problems), problems
    assert not spy.bare_str and not spy.content_actions


async def test_sanity_safe_rendering_passes(spy: Spy) -> None:
    app = SafeApp("[@click=app.quit]CLICK-ME-QUIT[/] [/] [link=file:///etc/passwd]x")
    async with app.run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        assert not sweep(app)
        assert "[@click=app.quit]CLICK-ME-QUIT[/]" in screen_text(app)
        for x in range(0, 60, 2):
            await pilot.click("#unsafe", offset=(x, 0))
        assert app.return_code is None
    assert not spy.content_actions and not spy.dangerous and not spy.bare_str
