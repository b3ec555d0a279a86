"""``R``: who is on call when, this week, with the swaps; record or withdraw a swap.

The rota of the config with every override in the log applied
(:meth:`watchtower.core.desk.Desk.rota`), seven days from today 00:00 in the
organisation's zone, as ``watchtower rota show --week`` prints it: a heading per day
(public holidays and weekends named), one line per stretch (time span, shift, on call,
backup, and the override in place of whom, set by whom), and every gap as
``nobody on call`` (a warning in words, not only in colour).

``o`` records an override (who, from, to, why), ``delete`` withdraws the highlighted one
(after a yes), ``e`` exports the coming four weeks as an iCalendar file.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.text.safetext import one_line
from ..widgets.keys import KeysFooter

__all__ = ["RotaScreen", "rota_lines"]

DAYS = 7
EXPORT_WEEKS = 4


def _t(ts: datetime, ref: datetime | None = None) -> str:
    return ts.strftime("%a %H:%M") if ref is not None and ts.date() != ref.date() else ts.strftime("%H:%M")


def day_start(now: datetime, tz: Any) -> datetime:
    return now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def rota_lines(rota: Any, now: datetime, tz: Any, days: int = DAYS) -> list[tuple[Text, str | None]]:
    """The rota as lines, each with the id of the override it shows (``None``: none)."""
    start = day_start(now, tz)
    end = (start.astimezone(tz) + timedelta(days=days)).replace(hour=0, minute=0).astimezone(timezone.utc)
    out: list[tuple[Text, str | None]] = []
    st = rota.status(now)
    local_now = now.astimezone(tz)
    head = Text(f"Now {local_now:%a %d %b %H:%M %Z}: ", style="bold")
    if st.on_call:
        head.append(one_line(st.on_call, limit=30), style="bold")
        if st.override is not None:
            head.append(f" (override, until {_t(st.override.end.astimezone(tz), local_now)})")
        elif st.ends_at_local is not None:
            head.append(f" until {_t(st.ends_at_local, local_now)}")
        if st.backup and st.backup != st.on_call:
            head.append(f" · backup {one_line(st.backup, limit=30)}")
    elif rota.shifts:
        head.append("⚠ nobody on call", style="bold reverse")
        if st.next_start_local is not None:
            head.append(f" (next: {st.next_shift_name} at {_t(st.next_start_local, local_now)})")
    else:
        head.append("no shifts configured ([[rota.shift]]): every hour counts as covered")
    out.append((head, None))
    by_day: dict[Any, list[Any]] = {}
    for slot in rota.timeline(start, end):
        by_day.setdefault(slot.start.date(), []).append(slot)
    first = start.astimezone(tz).date()
    for offset in range(days):
        d = first + timedelta(days=offset)
        heading = Text(f"{d:%a %d %b}", style="bold underline")
        holiday = rota.holiday(d)
        if holiday:
            heading.append(f"  ☼ {one_line(holiday, limit=40)} (holiday: only holiday shifts start)")
        elif d.weekday() >= 5:
            heading.append("  (weekend)")
        out.append((heading, None))
        for slot in by_day.get(d, []):
            out.append(_slot_line(slot))
    return out


def _slot_line(slot: Any) -> tuple[Text, str | None]:
    span = f"{_t(slot.start)}-{_t(slot.end, slot.start)}"
    t = Text(f"  {span:<17} ", no_wrap=True, end="")
    if not slot.covered:
        t.append("⚠ nobody on call", style="bold reverse")
        return t, None
    if slot.on_call is None and slot.shift is None:
        t.append("covered (no shifts configured)")
        return t, None
    t.append(f"{one_line(slot.shift or '', limit=14):<14} ")
    t.append(one_line(slot.on_call or "(nobody named)", limit=24), style="bold")
    if slot.backup and slot.backup != slot.on_call:
        t.append(f" (backup {one_line(slot.backup, limit=24)})")
    ov = slot.override
    if ov is None:
        return t, None
    was = f" in place of {one_line(slot.scheduled, limit=24)}" if slot.scheduled and slot.scheduled != slot.on_call else ""
    t.append(f"  [override{was}, set by {one_line(ov.by, limit=20)}]", style="italic")
    return t, ov.id


class RotaScreen(Screen[None]):
    DEFAULT_CSS = """
    RotaScreen #rota-title { height: 1; background: $panel; text-style: bold; }
    RotaScreen OptionList { height: 1fr; border: none; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="rota_back"),
        Binding("o", "override", "Override…", id="rota_override", tooltip="Record a swap: who is on call from when to when"),
        Binding("delete", "withdraw", "Withdraw", id="rota_withdraw", tooltip="Withdraw the highlighted override"),
        Binding("e", "export", "Export…", id="rota_export", tooltip="Write the coming four weeks as an iCalendar (.ics) file"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[Text, str | None]] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Rota: who is on call when (overrides applied)"), id="rota-title", markup=False)
        yield OptionList(id="rota-list", compact=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.refresh_rota()
        self.query_one(OptionList).focus()

    def log_changed(self) -> None:
        self.refresh_rota()

    def items_changed(self) -> None:
        pass

    def refresh_rota(self) -> None:
        app: Any = self.app
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        try:
            self.lines = rota_lines(app.desk.rota(), app.clock(), app.tz)
        except Exception as exc:  # noqa: BLE001 - a broken rota is said, never a crash
            self.lines = [(Text(f"⚠ the rota could not be read: {one_line(exc, limit=200)}", style="bold"), None)]
        ol.clear_options()
        ol.add_options([Option(text, id=f"line-{n}") for n, (text, _ov) in enumerate(self.lines)])
        if self.lines:
            ol.highlighted = min(keep or 0, len(self.lines) - 1)
        tz = app.tz
        self.query_one("#rota-title", Static).update(Text(f"Rota in {getattr(tz, 'key', tz)}: {DAYS} days from today, "
                                                          "overrides applied"))

    @property
    def rota_text(self) -> str:
        return "\n".join(t.plain for t, _ in self.lines)

    def _highlighted_override(self) -> Any:
        ol = self.query_one(OptionList)
        if ol.highlighted is None or not 0 <= ol.highlighted < len(self.lines):
            return None
        ov_id = self.lines[ol.highlighted][1]
        app: Any = self.app
        return next((o for o in app.desk.rota().overrides if o.id == ov_id), None) if ov_id else None

    # -- keys -----------------------------------------------------------------------------
    def action_override(self) -> None:
        from .forms import OverrideForm

        app: Any = self.app
        desk = app.desk

        def check(who: str, start: datetime, end: datetime, reason: str) -> str | None:
            try:
                desk.rota_override(who, start, end, reason)
            except ValueError as exc:
                return str(exc)
            return None

        def save(answer: tuple[str, datetime, datetime, str] | None) -> None:
            if answer is None:
                return
            command, warning = desk.rota_override(*answer)
            app.run_command(command, lambda _e: app.notify(f"Recorded: {command.text}", markup=False, timeout=5))
            if warning:
                app.notify(warning, markup=False, severity="warning", timeout=10)

        app.push_screen(OverrideForm(now=app.clock(), tz=app.tz, check=check), save)

    def action_withdraw(self) -> None:
        from .modals import ConfirmScreen

        override = self._highlighted_override()
        app: Any = self.app
        if override is None:
            app.notify("Highlight an override line ([override ...]) to withdraw it.", markup=False, timeout=4)
            return

        def go(ok: bool | None) -> None:
            if ok:
                app.run_command(app.desk.cancel_override(override),
                                lambda _e: app.notify("Override withdrawn.", markup=False, timeout=4))

        who = one_line(override.who, limit=30)
        app.push_screen(ConfirmScreen(f"Withdraw this override ({who})?", yes="Withdraw"), go)

    def action_export(self) -> None:
        from .forms import FileForm

        def go(name: str | None) -> None:
            if name:
                self._export(name)

        self.app.push_screen(FileForm(f"Export the coming {EXPORT_WEEKS} weeks as iCalendar", label="File",
                                      value="rota.ics", placeholder="a path"), go)

    @work(thread=True, group="rota-export", exit_on_error=False)
    def _export(self, name: str) -> None:
        from ...core.coverage.rota_ics import rota_ics

        app: Any = self.app
        now = app.clock()
        start = day_start(now, app.tz)
        path = Path(name).expanduser()
        try:
            payload = rota_ics(app.desk.rota(), start, start + timedelta(weeks=EXPORT_WEEKS), now=now,
                               name=app.config.organisation.name)
            path.write_bytes(payload)
        except (OSError, ValueError) as exc:
            app.call_from_thread(app.report_problem, f"Could not write {path}: {exc}")
            return
        app.call_from_thread(app.notify, f"Wrote the rota to {path.resolve()}", markup=False, timeout=6)
