"""The response panel: the whole item, why it got its badge, the playbook, the reply.

Everything the seeds advise is a key here: reply once (a second reply needs an explicit
yes, also when our account already replied on the platform itself), reply on the
platform where it started, with the account shown in its fixed colour before anything is
posted or copied, a correction reposted hours later (a scheduled post, ``L``, or a
follow-up), a grievance answered once in public and then privately by email (a
follow-up), our own wrong post deleted (``D``) and corrected by our own statement
(``C``), in a crisis the Q&A link in every outgoing word and the staff briefing (``S``).
The author's earlier posts we hold, and what we did about them, are listed below the
thread.  Every action is a log entry with who and when (docs/ui-wiring-issue18.md).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static, TextArea

from ...core.models import DATE_UNKNOWN, Category, Item
from ...core.text.safetext import clean, one_line
from .. import render
from ..widgets.keys import KeysFooter
from .modals import ChoiceScreen, ConfirmScreen, PromptScreen, StepScreen, open_link
from .outgoing import account_line, copied_message, edit_externally, in_thread, qa_guard

#: Seconds the author's history may take before the panel says it is unavailable.
HISTORY_PATIENCE = 3.0
#: Earlier posts of the author shown.
HISTORY_LIMIT = 10
#: The kinds offered for our own statement (``C``), in this order, before any others.
STATEMENT_KINDS = ("correction", "holding-statement", "correction-repost", "apology-serious", "apology-light",
                   "hacked-notice")


@dataclass(frozen=True, slots=True)
class Statement:
    """The editor holds our own statement (a new post, not a reply) from ``account``."""

    account: Any


class ResponseScreen(Screen[None]):
    """Respond to one item.  ``escape`` leaves the editor, then the screen."""

    DEFAULT_CSS = """
    ResponseScreen #resp-title {
        height: 1;
        background: $panel;
        text-style: bold;
    }
    ResponseScreen #details {
        height: 1fr;
        padding: 0 1;
    }
    ResponseScreen #reply-status {
        height: 2;
        background: $boost;
        padding: 0 1;
    }
    ResponseScreen #reply {
        height: 7;
        border: round $accent;
    }
    ResponseScreen #reply:focus {
        border: round $success;
    }
    /* Toasts at the top, over the item's details: never over the reply being written. */
    ResponseScreen ToastRack {
        dock: top;
        align: right top;
        margin-bottom: 0;
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("tab", "edit", "Edit reply", id="edit_reply", show=False),
        Binding("y", "copy", "Copy", id="copy", tooltip="Copy the reply (OSC 52, works over SSH)"),
        Binding("R", "mark_replied", "Replied", id="mark_replied", tooltip="Record that we replied"),
        Binding("P", "post", "Post", id="post", tooltip="Post the reply through the platform's API"),
        Binding("t", "next_template", "Template", id="next_template", tooltip="Next reply template"),
        Binding("g", "toggle_language", "en/nl", id="language", show=False,
                tooltip="Switch the reply language (the status line shows it)"),
        Binding("f", "followup", "Follow-up", id="set_followup", tooltip="Set a follow-up"),
        Binding("c", "claim", "Claim", id="claim_item", show=False),
        Binding("i", "ignore", "Ignore", id="ignore", show=False),
        Binding("b", "block", "Block", id="block", show=False),
        Binding("e", "escalate", "Escalate", id="escalate", show=False),
        Binding("n", "note", "Note", id="item_note", show=False),
        Binding("o", "open_link", "Link", id="open_link", show=False),
        Binding("p", "choose_playbook", "Playbook", id="playbook", show=False),
        Binding("T", "choose_template", "Templates", id="choose_template", show=False),
        Binding("D", "delete_own", "Delete", id="delete_own",
                tooltip="Delete our own post (on X, Facebook, Instagram: a checklist step with the link)"),
        Binding("C", "statement", "Statement", id="statement", show=False,
                tooltip="Our own statement or correction from a chosen account (a new post, not a reply); C again posts it"),
        Binding("L", "schedule", "Later", id="schedule_post", show=False,
                tooltip="Schedule this text as a post, e.g. the correction again in 3 h (sent by the TUI or `watchtower due`)"),
        Binding("x", "declare_crisis", "Crisis", id="declare_crisis_item", show=False,
                tooltip="Declare a crisis that started with this item (in a crisis: the crisis screen)"),
        Binding("S", "staff_briefing", "Staff brief", id="staff_briefing", show=False,
                tooltip="The staff briefing, to edit, then copy or send"),
        Binding("E", "external_editor", "$EDITOR", id="external_editor", show=False),
    ]

    def __init__(self, item: Item | None = None) -> None:
        super().__init__()
        self.item: Item = item  # type: ignore[assignment] - set before every push
        self.category: Category = item.category if item is not None else Category.OTHER
        self.language = "en"
        self.kinds: list[str] = []
        self.kind: str | None = None
        self.templates: Any = None
        self._loaded_text = ""
        self._shown: Item | None = None
        self.statement: Statement | None = None
        self._warning: str | None = None
        self._target: Any = None
        self._history_index: Any = None
        self._history_lock = threading.Lock()
        self._history_timer: Any = None
        self._history_pending: str | None = None
        #: The item whose history the one history thread should look up next (the
        #: latest asked for: quick panel flips never queue threads behind a slow archive).
        self._history_wanted: Item | None = None
        self._history_running = False
        self._history_guard = threading.Lock()
        self._ours_drawn: Any = None

    # -- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="resp-title", markup=False)
        with VerticalScroll(id="details"):
            yield Static("", id="item-body", markup=False)
            yield Static("", id="thread", markup=False)
            yield Static("", id="history", markup=False)
            yield Static("", id="playbook", markup=False)
        yield Static("", id="reply-status", markup=False)
        yield TextArea("", id="reply", soft_wrap=True, show_line_numbers=False)
        yield KeysFooter()

    def show(self, item: Item) -> None:
        """The item to respond to; the app keeps one panel and hands it each item (a new
        panel per item left a TextArea behind in Textual's watchers every time)."""
        self.item = item
        self.category = item.category
        self.statement = None
        self._shown = None  # drawn afresh (template, language) when it comes on screen

    def on_screen_resume(self) -> None:
        if self.item is not None and self._shown is not self.item:
            self._start()

    def _start(self) -> None:
        from ...core.respond.replies import ReplyTemplates, choose_language

        app = self.app
        self._shown = self.item
        if self.templates is None:
            try:
                self.templates = ReplyTemplates(app.config)
            except Exception as exc:  # noqa: BLE001 - a broken template dir is a message
                app.report_problem(f"reply templates: {one_line(exc, limit=300)}")
        try:
            self.language = choose_language(self.item, app.config)
        except Exception:  # noqa: BLE001
            self.language = app.config.organisation.default_language
        self._choose_kinds()
        self._render_all()
        self._load_template()
        self._load_history()
        self.refresh_bindings()  # D shows for our own posts only
        self.query_one("#details", VerticalScroll).scroll_home(animate=False)
        self.query_one("#details").focus()

    # -- the author's earlier posts (SearchIndex.author_history, in a thread) -------------
    def _load_history(self) -> None:
        item = self.item
        self._history_pending = item.id
        self.query_one("#history", Static).update(Text("Earlier from this author: looking…\n", style="dim"))
        if self._history_timer is not None:
            self._history_timer.stop()
        self._history_timer = self.set_timer(HISTORY_PATIENCE, partial(self._history_slow, item.id))
        with self._history_guard:
            self._history_wanted = item
            if self._history_running:
                return
            self._history_running = True
        self.run_worker(self._history_job, thread=True, group="author-history", name="author history",
                        exit_on_error=False)

    def _history_job(self) -> None:
        """At most one thread: it looks up the latest item asked for until none is left."""
        try:
            while True:
                with self._history_guard:
                    item, self._history_wanted = self._history_wanted, None
                    if item is None:
                        self._history_running = False
                        return
                self._history_one(item)
        except BaseException:
            with self._history_guard:
                self._history_running = False
            raise

    def _history_one(self, item: Item) -> None:
        from ...core.record.search import SearchIndex

        app = self.app
        try:
            with self._history_lock:  # one thread at a time on the index's connection
                if self._history_index is None:
                    if app.data_dir is None:
                        raise LookupError("no data directory")
                    index = SearchIndex(app.data_dir, group_shared=app.config.data.group_shared, build=False)
                    if not index.path.is_file():
                        index.close()
                        raise LookupError("no archive yet")
                    self._history_index = index
                result = self._history_index.author_history(
                    item.author, entries=app.desk.log_entries, exclude=[item.id], limit=HISTORY_LIMIT, now=app.clock())
        except Exception as exc:  # noqa: BLE001 - a history that cannot be read is a line, never a crash
            app.call_from_thread(self._history_shown, item.id, None, one_line(exc, limit=200))
            return
        app.call_from_thread(self._history_shown, item.id, result, None)

    def _history_slow(self, item_id: str) -> None:
        if self._history_pending == item_id and self.item is not None and self.item.id == item_id:
            self._history_shown(item_id, None, "the archive is slow", final=False)

    def _history_shown(self, item_id: str, result: Any, error: str | None, *, final: bool = True) -> None:
        if self.item is None or self.item.id != item_id:
            return  # an answer for the item shown before
        if final:
            self._history_pending = None
            if self._history_timer is not None:
                self._history_timer.stop()
                self._history_timer = None
        app = self.app
        t = Text()
        t.append("Earlier from this author:", style="bold underline")
        if result is None:
            t.append(f" history unavailable ({error})\n", style="dim")
        elif not result.hits:
            t.append(" no earlier posts held.\n", style="dim")
        else:
            more = f" ({result.total} in all, newest {len(result.hits)})" if result.total > len(result.hits) else ""
            t.append(more + "\n", style="dim")
            for hit in result.hits:
                it = hit.item
                when = it.published_known
                t.append("  " + (render.local_time(when, app.tz, "%d %b %H:%M") if when is not None else DATE_UNKNOWN),
                         style="dim")
                t.append(" ")
                t.append_text(render.severity_badge(it.severity))
                t.append(f" {one_line(it.platform, limit=16)} ")
                t.append(one_line(it.headline, limit=100))
                t.append(f"  [{one_line(hit.state, limit=40)}]", style="bold" if hit.state != "new" else "dim")
                for decision in hit.decisions[-3:]:
                    t.append(f"\n      {one_line(decision, limit=120)}", style="italic")
                t.append("\n")
        self.query_one("#history", Static).update(t)

    def on_unmount(self) -> None:
        # A search still running keeps the index; the process is ending anyway.
        if self._history_lock.acquire(timeout=1.0):
            try:
                if self._history_index is not None:
                    self._history_index.close()
                    self._history_index = None
            finally:
                self._history_lock.release()

    # -- data -----------------------------------------------------------------------------
    @property
    def state(self) -> Any:
        return self.app.desk.state(self.item.id)

    def log_changed(self) -> None:
        """Called by the app when the log changed (another operator, or us)."""
        self._render_all()

    def items_changed(self) -> None:
        """Called by the app when items arrived: an edit of this item replaces it (issue
        15.17), and a reply our account made on the platform may have come in."""
        if self.item is None:
            return
        held = self.app.items.get(self.item.id)
        ours = self.app.desk.outgoing.reply_to(self.item.id)
        if held is not None and held is not self.item:
            self.item = held
            self._shown = held
        elif ours == self._ours_drawn:
            return
        self._render_all()

    def _choose_kinds(self) -> None:
        from ...core.respond.playbooks import preselected_template, templates_for

        # The apology fits the gravity: a grave own post starts with the formal one (18.8).
        suggested = templates_for(self.category, self.item.severity)
        self.kinds = suggested
        if self.templates is not None:
            try:
                available = set(self.templates.kinds(self.language))
                extra = sorted(available - set(suggested))
                self.kinds = [k for k in suggested if k in available] + extra
            except Exception:  # noqa: BLE001
                pass
        # A playbook with no reply (abuse, spam: "ignore it") starts with an empty editor;
        # t still cycles through every template if the operator decides otherwise.
        self.kind = preselected_template(self.category, self.item.severity, available=self.kinds) if suggested else None

    def _render_all(self) -> None:
        self._warning = self._reply_once_warning()
        self._target = self._account_label()
        self._ours_drawn = self.app.desk.outgoing.reply_to(self.item.id)
        self._render_title()
        self._render_body()
        self._render_thread()
        self._render_playbook()
        self._render_status()

    def _render_title(self) -> None:
        item = self.item
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("← ", style="dim")
        t.append_text(render.severity_badge(item.severity))
        t.append(" ")
        mark = self.app.desk.outgoing.mark(item.id)
        if mark is not None and mark.label:
            t.append(self._mark_words(mark), style="bold reverse green")
            t.append(" ")
        t.append(one_line(item.category.value, limit=20), style="bold")
        t.append(f" · {one_line(item.platform, limit=20)} · ")
        t.append(one_line(item.author, limit=40), style="bold")
        if item.author_name and item.author_name != item.author:
            t.append(f" ({one_line(item.author_name, limit=40)})")
        self.query_one("#resp-title", Static).update(t)

    def _mark_words(self, mark: Any) -> str:
        """``DELETED by ann 14:05 (api)``, ``CORRECTED by ann 14:07``, or both."""
        tz = self.app.tz
        words = []
        if mark.deleted_by:
            words.append(f"DELETED by {one_line(mark.deleted_by, limit=20)} "
                         f"{render.local_time(mark.deleted_at, tz, '%H:%M')} ({one_line(mark.how, limit=16)})")
        if mark.corrected_by:
            words.append(f"CORRECTED by {one_line(mark.corrected_by, limit=20)} "
                         f"{render.local_time(mark.corrected_at, tz, '%H:%M')}")
        return " · ".join(words)

    def _render_body(self) -> None:
        item = self.item
        app = self.app
        t = Text()
        reach = item.reach
        followers = item.author_followers if item.author_followers is not None else reach.followers
        if followers is not None:
            t.append(f"{render.human_count(followers)} followers", style="bold")
            if reach.estimated_audience is not None:
                t.append(f" · about {reach.estimated_audience:,} people likely to see this", style="bold")
            t.append(" ")
        else:
            t.append("reach unknown ", style="dim")
        eng = item.engagement
        t.append(f"· ↻ {render.human_count(eng.reposts) if eng.reposts is not None else '-'}"
                 f" ♥ {render.human_count(eng.likes) if eng.likes is not None else '-'}"
                 f" ↩ {render.human_count(eng.replies) if eng.replies is not None else '-'}")
        t.append("\n")
        if item.published_known is None:  # issue 15.15: no usable date from the source
            t.append(DATE_UNKNOWN, style="italic")
        else:
            t.append(f"{render.local_time(item.published, app.tz, '%a %d %b %H:%M')} "
                     f"({render.age(item.published, app.clock())} ago)")
        if item.edited_at is not None:
            t.append(f" · ✎ edited {render.local_time(item.edited_at, app.tz, '%a %H:%M')}", style="italic")
        if item.language:
            t.append(f" · language {one_line(item.language, limit=8)}")
        badge = item.coverage.badge
        cov = item.coverage
        if badge:
            t.append(f" · {badge}", style="bold magenta" if not cov.covered else "cyan")
        if cov.covered and cov.on_call:
            t.append(f" · on call then: {one_line(cov.on_call, limit=30)}")
        if cov.holiday:
            t.append(f" · {one_line(cov.holiday, limit=40)}")
        if item.ambassador:
            t.append(" · ★ ambassador", style="green")
        if item.own_account:
            t.append(f" · OUR ACCOUNT {one_line(item.own_account, limit=40)}", style="bold reverse")
        if item.also_seen_on:
            t.append("\nalso seen on: ", style="dim")
            t.append(", ".join(one_line(s.source, limit=40) for s in item.also_seen_on[:10]))
        t.append("\n\n")
        warning = f"CW: {one_line(item.content_warning, limit=500)}" if item.content_warning else ""
        if warning and not item.text.startswith(warning):  # the Mastodon connector puts it first already
            t.append(warning + "\n", style="bold yellow")
        if item.title and item.title not in item.text:
            t.append(clean(item.title, limit=2000) + "\n", style="bold")
        t.append(clean(item.text, limit=8000))
        t.append("\n\n")
        t.append_text(render.link_line(item.url))
        t.append("\n\n")
        t.append("Why this badge:\n", style="bold underline")
        for reason in item.reasons or ["no rule matched"]:
            t.append(f"  • {one_line(reason, limit=300)}\n")
        self.query_one("#item-body", Static).update(t)

    def _render_thread(self) -> None:
        app = self.app
        item = self.item
        t = Text()
        t.append("The thread as we know it:\n", style="bold underline")
        lines = 0
        thread = item.in_reply_to or item.native_id
        for e in app.log_entries:
            data = getattr(e, "data", {}) or {}
            same_item = getattr(e, "item_id", None) == item.id
            same_thread = data.get("thread") and data.get("thread") in (thread, item.native_id, item.in_reply_to)
            same_author = data.get("author") == item.author and e.kind in ("replied", "posted")
            if not (same_item or same_thread or same_author):
                continue
            if e.kind == "seen":
                continue
            lines += 1
            t.append(f"  {render.local_time(e.ts, app.tz, '%a %H:%M')} ", style="dim")
            t.append(one_line(e.operator, limit=20), style="bold")
            t.append(f" {e.kind}")
            if e.text:
                t.append(": " + one_line(e.text, limit=160))
            if not same_item:
                t.append(" (same author/thread)", style="italic")
            t.append("\n")
        for other in app.items.values():
            if other.id == item.id or not other.ambassador:
                continue
            if other.in_reply_to and other.in_reply_to in (item.native_id, item.in_reply_to):
                lines += 1
                t.append("  ★ ambassador ", style="green")
                t.append(one_line(other.author, limit=30), style="bold")
                t.append(": " + one_line(other.headline, limit=160) + "\n")
        ours = app.desk.outgoing.reply_to(item.id)
        if ours is not None:
            lines += 1
            t.append(f"  ↩ our account {one_line(ours.operator, limit=60)} replied on "
                     f"{one_line(ours.platform, limit=30)} at {render.local_time(ours.ts, app.tz, '%a %H:%M')}",
                     style="green")
            if ours.url:
                t.append(f" ({one_line(ours.url, limit=200)})", style="dim")
            t.append("\n")
        if not lines:
            t.append("  nothing yet: no reply, claim or note on this item.\n", style="dim")
        st = self.state
        holder = getattr(st, "claimed_by", None) if st else None
        if holder and holder != app.operator:
            t.append(f"  ⚑ claimed by {one_line(holder, limit=30)}\n", style="bold yellow")
        self.query_one("#thread", Static).update(t)

    def _render_playbook(self) -> None:
        from ...core.respond.playbooks import playbook_for

        pb = playbook_for(self.category, self.language)
        t = Text()
        t.append(f"Playbook: {one_line(pb.title, limit=80)}", style="bold underline")
        t.append("  (p: switch)\n", style="dim")
        if pb.summary:
            t.append(f"  {one_line(pb.summary, limit=300)}\n", style="italic")
        for i, step in enumerate(pb.steps, start=1):
            t.append(f"  {i}. {one_line(step.text, limit=300)}\n")
        for note in pb.notes:
            t.append(f"  ! {one_line(note, limit=300)}\n", style="yellow")
        self.query_one("#playbook", Static).update(t)

    def _account_label(self) -> Any:
        """Where the editor's text goes: the statement's account, else ours on the item's
        platform (:func:`~watchtower.core.respond.replies.copy_target`)."""
        from ...core.respond.replies import copy_target, post_as

        if self.statement is not None:
            return post_as(self.statement.account, self.statement.account.platform)
        return copy_target(self.item, self.app.config)

    def _render_status(self) -> None:
        from ...core.text.textlength import count, limit

        text = self.reply_text()
        platform = self.statement.account.platform if self.statement is not None else self.item.platform
        t = Text(no_wrap=True, overflow="ellipsis")
        # Line 1: the account it goes out as, in its colour, before anything is copied (18.5).
        if self.statement is not None:
            t.append("STATEMENT ", style="bold")
        if self._target is not None:
            t.append_text(account_line(self._target))
        if self.statement is not None:
            t.append("  P or C posts it: a new post, not a reply", style="dim")
        t.append("\n")
        if self.kind is None:
            t.append("playbook: no reply", style="bold")
            if self._warning:
                t.append("  ⚠ replied before", style="bold yellow")
            t.append(f" [{self.language}] t: pick a template anyway", style="dim")
            self.query_one("#reply-status", Static).update(t)
            return
        t.append(f"{self.kind} [{self.language}]", style="bold")
        lim = limit(platform)
        n = count(text, platform)
        if lim:
            over = n > lim
            t.append(f"  {n}/{lim}", style="bold reverse red" if over else "")
            if over:
                t.append(" TOO LONG", style="bold red")
        else:
            t.append(f"  {n} chars")
        if self._qa_missing(text):
            t.append("  ⚠ no Q&A link", style="bold yellow")
        if self._warning and self.statement is None:
            t.append("  ⚠ replied before", style="bold yellow")
        if self._ours() is not None:
            t.append("  D delete · C correction · L later", style="dim")
        t.append("  tab: edit · y copy · R replied · f follow-up · ? help", style="dim")
        self.query_one("#reply-status", Static).update(t)

    def _qa_missing(self, text: str) -> bool:
        from ...core.respond.replies import missing_qa_link

        try:
            return bool(missing_qa_link(self.kind or "", text, self.app.config, category=self.category,
                                        crisis=self.app.desk.crisis_active))
        except Exception:  # noqa: BLE001
            return False

    def _ours(self) -> Any:
        """Our account that posted this item, or ``None`` (not ours)."""
        from ...core.respond.ownposts import our_account_for

        return our_account_for(self.item, self.app.config) if self.item is not None else None

    def _load_template(self) -> None:
        text = ""
        if self.templates is not None and self.kind:
            account = self.statement.account if self.statement is not None else None
            try:
                # The account that will post it: its disclaimer and handle (18.7).
                text = self.templates.render(self.kind, self.item, language=self.language, account=account)
            except Exception as exc:  # noqa: BLE001 - template errors are messages
                self.app.report_problem(one_line(exc, limit=400))
        self._loaded_text = text
        area = self.query_one("#reply", TextArea)
        area.load_text(text)
        self._render_status()

    def reply_text(self) -> str:
        return clean(self.query_one("#reply", TextArea).text, limit=20000).strip()

    @on(TextArea.Changed, "#reply")
    def _reply_changed(self) -> None:
        self._render_status()

    # -- reply once ---------------------------------------------------------------------
    def _previous_replies(self) -> list:
        """The log's replies and our accounts' replies on the platforms themselves (the
        desk keeps those as items arrive: walking every item per key press would not do)."""
        from ...core.respond.replies import previous_replies

        return previous_replies(self.app.log_entries, (), self.app.config) + self.app.desk.outgoing.replies()

    def _reply_once_warning(self) -> str | None:
        from ...core.respond.replies import ReplyGuard

        app = self.app
        try:  # the guard the tests hold: the window and zone from the config
            w = ReplyGuard(app.config).check(self.item, self._previous_replies(), now=app.clock(), operator=app.operator)
        except Exception:  # noqa: BLE001
            return None
        if w is None:
            return None
        return one_line(getattr(w, "message", w), limit=300)

    def _guarded(self, what: str, then) -> None:
        """Run ``then(confirmed_second)`` after the reply-once and claim checks."""
        warning = self._reply_once_warning()
        st = self.state
        holder = getattr(st, "claimed_by", None) if st else None
        problems = []
        if warning:
            problems.append(warning)
        if holder and holder != self.app.operator:
            problems.append(f"{holder} has claimed this item.")
        if not problems:
            then(False)
            return
        self.app.push_screen(
            ConfirmScreen(" ".join(problems) + f" {what} anyway?", yes=what),
            lambda ok: then(True) if ok else None,
        )

    def _reply(self, kind: str, text: str, second: bool, posted_url: str | None = None) -> Any:
        return self.app.desk.reply(kind, self.item, text, template=self.kind, language=self.language, second=second,
                                   posted_url=posted_url)

    # -- actions --------------------------------------------------------------------------
    def action_back(self) -> None:
        area = self.query_one("#reply", TextArea)
        if area.has_focus:
            self.query_one("#details").focus()
            return
        self.dismiss()

    def action_edit(self) -> None:
        self.query_one("#reply", TextArea).focus()

    def action_copy(self) -> None:
        text = self.reply_text()
        if not text:
            self.app.notify("Nothing to copy: the reply is empty.", markup=False, severity="warning")
            return
        label = self._account_label()

        def copy(second: bool) -> None:
            self.app.copy_to_clipboard(text)
            if self.statement is None:
                self.app.run_command(self._reply("copied", text, second))
            # Where to paste it, in the account's colour (config strings only, escaped).
            self.app.notify(copied_message(label), timeout=8)

        def go() -> None:
            if self.statement is not None:
                copy(False)  # a statement is no reply: the reply-once guard has nothing to say
            else:
                self._guarded("Copy", copy)

        qa_guard(self.app, text, kind=self.kind, category=self.category, verb="Copy", then=go)

    def action_mark_replied(self) -> None:
        text = self.reply_text()

        def go(second: bool) -> None:
            self.app.run_command(self._reply("replied", text, second))
            self.app.notify("Recorded: replied.", markup=False, timeout=3)

        self._guarded("Record a reply", go)

    def action_post(self) -> None:
        from ...core.respond.replies import account_for, post_as

        if self.statement is not None:
            self._confirm_statement()
            return
        text = self.reply_text()
        app = self.app
        account = account_for(self.item, app.config)
        why = app.desk.poster.why_cannot(account, self.item.platform)
        if why is not None:
            app.notify(
                f"No API posting for {one_line(self.item.platform, limit=30)} ({one_line(why, limit=160)}): copy the "
                "reply (y), post it on the platform where it started, then record it (R).",
                markup=False,
                severity="warning",
                timeout=8,
            )
            return
        detail = account_line(post_as(account, self.item.platform))
        detail.append(", in reply to ")
        detail.append(one_line(self.item.author, limit=40), style="bold")
        detail.append("\n\n" + clean(text, limit=600))

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._guarded("Post", lambda second: self._do_post(text, account, second))

        qa_guard(app, text, kind=self.kind, category=self.category, verb="Post",
                 then=lambda: app.push_screen(ConfirmScreen("Post this reply?", yes="Post", detail=detail), confirmed))

    @work(group="post", exit_on_error=False)
    async def _do_post(self, text: str, account: Any, second: bool) -> None:
        try:
            result = await self.app.desk.poster.reply(self.item, text, account=account, language=self.language)
        except Exception as exc:  # noqa: BLE001
            self.app.report_problem(f"posting failed: {one_line(exc, limit=300)}")
            return
        if not getattr(result, "ok", False):
            self.app.report_problem(f"posting failed: {one_line(getattr(result, 'error', ''), limit=300)}")
            return
        url = getattr(result, "url", None)
        self.app.run_command(self._reply("posted", text, second, url))
        self.app.run_command(self._reply("replied", text, second, url))
        self.app.notify("Posted and recorded.", markup=False, timeout=4)

    # -- our own post: delete it (18.1) -------------------------------------------------
    def key_upper_d(self) -> bool:
        """``D`` on someone else's post: say why nothing happens (the binding is hidden)."""
        if self.item is not None and self._ours() is None:
            self.app.notify("This is not a post of one of our accounts: only our own posts can be deleted.",
                            markup=False, severity="warning")
            return True
        return False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "delete_own":
            return self.item is not None and self._ours() is not None
        return True

    def action_delete_own(self) -> None:
        from ...core.respond.replies import post_as

        app = self.app
        item = self.item
        account = self._ours()
        if account is None:
            return
        mark = app.desk.outgoing.mark(item.id)
        if mark is not None and mark.deleted_by:
            app.notify(f"Already deleted by {one_line(mark.deleted_by, limit=30)} ({one_line(mark.how, limit=16)}).",
                       markup=False, severity="warning")
            return
        if app.desk.log is None:
            app.report_problem("No data directory: a delete could not be recorded, so it is not offered.")
            return
        detail = account_line(post_as(account, item.platform), verb="delete from")
        detail.append("\n\n" + clean(item.text or item.headline, limit=600))

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._do_delete(item)

        app.push_screen(ConfirmScreen("Delete this post?", yes="Delete", detail=detail), confirmed)

    @work(group="post", exit_on_error=False)
    async def _do_delete(self, item: Item) -> None:
        from ...core.respond.ownposts import delete_own_post

        app = self.app
        try:
            outcome = await delete_own_post(app.desk.log, app.config, item, operator=app.operator,
                                            poster=app.desk.poster, entries=list(app.log_entries))
        except Exception as exc:  # noqa: BLE001 - a log that cannot be written, said in one line
            app.report_problem(f"delete: {one_line(exc, limit=300)}")
            return
        if outcome.ok:
            app.notify(one_line(outcome.message, limit=300), markup=False, timeout=6)
        elif outcome.manual is not None:
            self._manual_delete(item, outcome.manual)
        else:
            app.report_problem(outcome.message)

    def _manual_delete(self, item: Item, step: Any) -> None:
        """No API here (X, Facebook, Instagram, or no token): the checklist step, ticked by hand."""
        from ...core.respond.ownposts import our_account_for, record_deleted
        from ...core.respond.replies import post_as

        app = self.app
        account = our_account_for(item, app.config)
        detail = account_line(post_as(account, item.platform), verb="delete from")
        detail.append("\n" + one_line(item.text or item.headline, limit=300))

        def ticked(done: bool | None) -> None:
            if not done:
                return
            in_thread(app, lambda: record_deleted(app.desk.log, item, operator=app.operator, how="by hand",
                                                  account=account),
                      lambda _entry: app.notify("Recorded: deleted by hand.", markup=False, timeout=4),
                      what="record the delete")

        app.push_screen(StepScreen("Delete it by hand", step.text, step.url, detail=detail), ticked)

    # -- our own statement (18.2) ------------------------------------------------------
    def action_statement(self) -> None:
        from ...core.respond.replies import post_as
        from ...core.text.textlength import platform_key

        if self.statement is not None:
            self._confirm_statement()
            return
        app = self.app
        poster = app.desk.poster
        accounts = list(app.config.organisation.accounts)
        can = [a for a in accounts if poster.why_cannot(a) is None]
        if not can:
            why = "; ".join(one_line(poster.why_cannot(a), limit=120) for a in accounts) or "no accounts in the config"
            app.notify(f"None of our accounts can post through an API here ({why}). Copy the text (y) and post it "
                       "by hand.", markup=False, severity="warning", timeout=10)
            return
        here = platform_key(self.item.platform) or self.item.platform.casefold()
        # The platform where it started first (the seed: answer where it started).
        can.sort(key=lambda a: (platform_key(a.platform) or a.platform.casefold()) != here)
        options: list[tuple[str, str | Text]] = [(str(i), account_line(post_as(a))) for i, a in enumerate(can)]

        def chosen(value: str | None) -> None:
            if value is not None:
                self._choose_statement_kind(can[int(value)])

        app.push_screen(ChoiceScreen("Post as", options), chosen)

    def _choose_statement_kind(self, account: Any) -> None:
        from ...core.respond.replies import PUBLIC_KINDS

        available = list(self.templates.kinds(self.language)) if self.templates is not None else []
        if self._ours() is not None:
            first = "correction"
        elif self.category is Category.CRISIS or self.app.desk.crisis_active:
            first = "holding-statement"
        else:
            first = "correction"
        order = [first, *STATEMENT_KINDS, *sorted(PUBLIC_KINDS)]
        kinds = [k for k in dict.fromkeys(order) if k in available]
        if not kinds:
            self.app.report_problem("No statement template (correction, holding-statement, ...) in the template directory.")
            return

        def chosen(kind: str | None) -> None:
            if not kind:
                return
            self.statement = Statement(account)
            self.kind = kind
            self._target = self._account_label()
            self._load_template()
            self.query_one("#reply", TextArea).focus()
            self.app.notify("Our own statement: edit it, then P (or C) posts it as a new post.", markup=False, timeout=5)

        self.app.push_screen(ChoiceScreen("Statement template", [(k, k) for k in kinds]), chosen)

    def _confirm_statement(self) -> None:
        from ...core.respond.replies import post_as

        assert self.statement is not None
        account = self.statement.account
        text = self.reply_text()
        if not text:
            self.app.notify("Nothing to post: the statement is empty.", markup=False, severity="warning")
            return
        kind = self.kind
        detail = account_line(post_as(account))
        detail.append("\n\n" + clean(text, limit=600))

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._do_statement(account, text, kind)

        qa_guard(self.app, text, kind=kind, category=self.category, verb="Post", then=lambda: self.app.push_screen(
            ConfirmScreen("Post this statement (a new post, not a reply)?", yes="Post", detail=detail), confirmed))

    @work(group="post", exit_on_error=False)
    async def _do_statement(self, account: Any, text: str, kind: str | None) -> None:
        from ...core.respond.ownposts import post_statement

        app = self.app
        item = self.item
        corrects = item if self._ours() is not None else None
        if app.desk.log is None:
            app.report_problem("No data directory: a statement goes out through the log (never twice), so it cannot here.")
            return
        try:
            outcome = await post_statement(app.desk.log, app.config, account=account, text=text, operator=app.operator,
                                           poster=app.desk.poster, corrects=corrects, language=self.language,
                                           template=kind, env=app.desk.env)
        except Exception as exc:  # noqa: BLE001 - refused (too long) or a log that cannot be written
            app.report_problem(f"statement not posted: {one_line(exc, limit=300)}")
            return
        message = one_line(outcome.message, limit=300)
        if outcome.action in ("sent", "found"):
            app.notify(f"Statement {message}", markup=False, timeout=8)
            if self.item is item:
                self.statement = None
                self._choose_kinds()
                self._render_all()
                self._load_template()
        elif outcome.action == "skipped":  # another run (the app's scheduler, cron) took it first
            app.notify(f"The statement is being sent by another run: {message}.", markup=False, severity="warning",
                       timeout=10)
        elif outcome.action == "uncertain":
            app.notify(f"The statement {message}. The app looks at our posts and finishes it (never twice).",
                       markup=False, severity="warning", timeout=12)
        else:
            app.report_problem(f"statement not posted: {message}")

    # -- a post for later (18.3) -------------------------------------------------------
    def action_schedule(self) -> None:
        from ...core.respond.playbooks import FOLLOWUPS_BY_ID
        from ...core.respond.replies import account_for, post_as

        app = self.app
        text = self.reply_text()
        if not text:
            app.notify("Nothing to schedule: the text is empty.", markup=False, severity="warning")
            return
        account = self.statement.account if self.statement is not None else account_for(self.item, app.config)
        preset = FOLLOWUPS_BY_ID["repost-correction"]
        if account is None:
            app.notify(f"No account of ours on {one_line(self.item.platform, limit=30)}: set a follow-up (f) to post "
                       "it by hand later.", markup=False, severity="warning", timeout=8)
            return
        label = post_as(account, account.platform)
        options: list[tuple[str, str | Text]] = [
            ("preset", preset.describe(app.config, self.language)),
            ("1h", "in 1 h"), ("6h", "in 6 h"), ("tomorrow", "tomorrow 09:00"), ("custom", "Custom…"),
        ]

        def chosen(value: str | None) -> None:
            if value is None:
                return
            now = app.clock()
            if value == "custom":
                app.push_screen(PromptScreen("Post it in how long? (e.g. 90m, 2h, 1h30m)"), custom)
                return
            if value == "preset":
                due = now + preset.delay_for(app.config)
            elif value == "tomorrow":
                local = (now.astimezone(app.tz) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
                due = local
            else:
                due = now + timedelta(hours=float(value.rstrip("h")))
            self._confirm_schedule(account, text, due)

        def custom(value: str | None) -> None:
            from ...core.coverage.when import parse_duration

            if not value:
                return
            try:
                delay = parse_duration(value)
            except ValueError as exc:
                app.notify(one_line(exc, limit=200), markup=False, severity="warning")
                return
            self._confirm_schedule(account, text, app.clock() + delay)

        app.push_screen(ChoiceScreen(f"Post this text as {one_line(label.text, limit=120)} in ...", options), chosen)

    def _confirm_schedule(self, account: Any, text: str, due: datetime) -> None:
        from ...core.respond.replies import post_as

        app = self.app
        kind = self.kind
        detail = account_line(post_as(account))
        detail.append(f" at {render.local_time(due, app.tz, '%a %d %b %H:%M %Z')}", style="bold")
        detail.append("\n\n" + clean(text, limit=600))

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._do_schedule(account, text, due, kind)

        qa_guard(app, text, kind=kind, category=self.category, verb="Schedule",
                 then=lambda: app.push_screen(ConfirmScreen("Schedule this post?", yes="Schedule", detail=detail),
                                              confirmed))

    def _do_schedule(self, account: Any, text: str, due: datetime, kind: str | None) -> None:
        from ...core.respond.schedule import ScheduleError, schedule_post

        app = self.app
        item, language = self.item, self.language
        if app.desk.log is None:
            app.report_problem("No data directory: a scheduled post lives in the log, so it cannot be set here.")
            return

        def work() -> Any:
            try:
                return schedule_post(app.desk.log, account=account, text=text, due=due, operator=app.operator,
                                     about=item, language=language, template=kind)
            except ScheduleError as exc:
                return exc

        def done(result: Any) -> None:
            if isinstance(result, ScheduleError):
                self._schedule_refused(str(result))
                return
            app.notify(f"Scheduled for {render.local_time(result.due, app.tz, '%a %d %b %H:%M')} as "
                       f"{one_line(result.account, limit=60)}: sent by this app or by `watchtower due`; the "
                       "follow-ups screen (f on the main screen) lists it.", markup=False, timeout=8)
            ticker = getattr(app, "due_ticker", None)
            if ticker is not None and result.due <= app.clock():
                ticker.poke()

        in_thread(app, work, done, what="schedule the post")

    def _schedule_refused(self, why: str) -> None:
        """Not schedulable (no posting API on X, ...): offer the follow-up instead."""
        from ...core.respond.playbooks import FOLLOWUPS_BY_ID

        preset = FOLLOWUPS_BY_ID["repost-correction"]
        if "no posting API" not in why:
            self.app.notify(one_line(why, limit=300), markup=False, severity="warning", timeout=8)
            return

        def go(ok: bool | None) -> None:
            if ok:
                hours = preset.delay_for(self.app.config).total_seconds() / 3600
                self._set_followup(preset.text_in(self.language), hours, preset.id)

        self.app.push_screen(ConfirmScreen(f"{one_line(why, limit=300)}. Set the follow-up instead?",
                                           yes="Set follow-up",
                                           detail=Text(preset.describe(self.app.config, self.language))), go)

    def action_next_template(self) -> None:
        if not self.kinds:
            return
        i = self.kinds.index(self.kind) if self.kind in self.kinds else -1
        self.kind = self.kinds[(i + 1) % len(self.kinds)]
        self._load_template()

    def action_choose_template(self) -> None:
        if not self.kinds:
            return

        def chosen(kind: str | None) -> None:
            if kind:
                self.kind = kind
                self._load_template()

        self.app.push_screen(ChoiceScreen("Reply template", [(k, k) for k in self.kinds]), chosen)

    def action_toggle_language(self) -> None:
        langs = [lang for lang in self.app.config.organisation.post_languages if lang in ("en", "nl")] or ["en", "nl"]
        if len(langs) < 2:
            langs = ["en", "nl"]
        self.language = langs[(langs.index(self.language) + 1) % len(langs)] if self.language in langs else langs[0]
        self._render_playbook()
        self._load_template()

    def action_choose_playbook(self) -> None:
        options = [(c.value, c.value) for c in Category]

        def chosen(value: str | None) -> None:
            if value:
                self.category = Category(value)
                self._choose_kinds()
                self._render_playbook()
                self._load_template()

        self.app.push_screen(ChoiceScreen("Playbook for", options), chosen)

    def action_followup(self) -> None:
        from ...core.respond.playbooks import FOLLOWUP_PRESETS, playbook_for

        config = self.app.config
        suggested = playbook_for(self.category, self.language).followups
        presets = sorted(FOLLOWUP_PRESETS, key=lambda p: (p.id not in suggested, suggested.index(p.id) if p.id in suggested else 0))
        options = [(p.id, p.describe(config, self.language)) for p in presets] + [("custom", "Custom…")]

        def chosen(pid: str | None) -> None:
            if not pid:
                return
            if pid == "custom":
                self.app.push_screen(
                    PromptScreen("Follow-up: in how long, and what? (e.g. '2h call back', '30m check replies')"),
                    self._custom_followup,
                )
                return
            preset = next(p for p in FOLLOWUP_PRESETS if p.id == pid)
            hours = preset.delay_for(config).total_seconds() / 3600
            self._set_followup(preset.text_in(self.language), hours, pid)

        self.app.push_screen(ChoiceScreen("Set a follow-up", options), chosen)

    def _custom_followup(self, value: str | None) -> None:
        if not value:
            return
        hours = 1.0
        first, _, rest = value.partition(" ")
        if first[:-1].replace(".", "", 1).isdigit() and first[-1:] in ("h", "m"):
            hours = float(first[:-1]) / (60 if first[-1] == "m" else 1)
            value = rest or value
        self._set_followup(value, hours, "custom")

    def _set_followup(self, text: str, hours: float, preset: str) -> None:
        command = self.app.desk.followup(self.item, text, hours, preset)
        due = self.app.clock() + timedelta(hours=hours)
        self.app.run_command(command)
        self.app.notify(
            f"Follow-up set for {render.local_time(due, self.app.tz, '%a %H:%M')}: {one_line(text, limit=80)}",
            markup=False,
            timeout=5,
        )

    def action_claim(self) -> None:
        self.app.toggle_claim(self.item)

    def action_ignore(self) -> None:
        self.app.record("ignored", item=self.item)
        self.app.notify("Ignored. Mindless abuse is best blanked totally.", markup=False, timeout=4)

    def action_block(self) -> None:
        def go(ok: bool | None) -> None:
            if ok:
                self.app.record("blocked", item=self.item)
                self.app.notify("Recorded: blocked (block it on the platform too).", markup=False, timeout=4)

        self.app.push_screen(
            ConfirmScreen(
                "Block only if it is personal or truly offensive. Mere swearing is better left "
                "unblocked, so you can keep watching what is said. Block?",
                yes="Block",
            ),
            go,
        )

    def action_escalate(self) -> None:
        def go(text: str | None) -> None:
            if text is not None:
                self.app.record("escalated", text, item=self.item)

        self.app.push_screen(PromptScreen("Escalate: to whom, and why?"), go)

    def action_note(self) -> None:
        def go(text: str | None) -> None:
            if text:
                self.app.record("note", text, item=self.item)

        self.app.push_screen(PromptScreen("Note on this item"), go)

    def action_staff_briefing(self) -> None:
        from .briefing import BriefingScreen

        self.app.push_screen(BriefingScreen(item=self.item, language=self.language))

    def action_declare_crisis(self) -> None:
        """A crisis that started with this item (the briefing links it); in a crisis, the
        crisis screen."""
        from ...core.respond.crisis import crisis_alert, declare_crisis

        app = self.app
        if app.desk.crisis_active:
            app.action_crisis()
            return
        if app.desk.log is None:
            app.report_problem("No data directory: crisis mode lives in the log, so it cannot be declared here.")
            return
        item = self.item

        def go(desc: str | None) -> None:
            if not desc:
                return
            in_thread(app, lambda: declare_crisis(app.desk.log, desc, operator=app.operator, item=item),
                      lambda _entry: app.deliver_alert(crisis_alert(desc, app.operator)), what="declare the crisis")

        app.push_screen(PromptScreen("Declare a crisis that started with this item: one line, what is happening?"), go)

    def action_open_link(self) -> None:
        open_link(self.app, self.item.url)

    def action_external_editor(self) -> None:
        edited = edit_externally(self.app, self.reply_text())
        if edited is not None:
            self.query_one("#reply", TextArea).load_text(edited)
        self._render_status()


def open_response(app: Any, item: Item) -> None:
    """The response panel for ``item``: one panel, installed once, shown again (a new
    panel per item left a TextArea behind in Textual's watchers every time)."""
    seen = app.desk.seen(item)
    if seen is not None:
        app.run_command(seen)
    if not app.is_screen_installed("respond"):
        app.install_screen(ResponseScreen(), "respond")
    panel = app.get_screen("respond")
    if panel in app.screen_stack:
        return
    panel.show(item)
    app.push_screen("respond")
