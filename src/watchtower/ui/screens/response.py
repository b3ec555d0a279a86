"""The response panel: the whole item, why it got its badge, the playbook, the reply.

Everything the seeds advise is a key here: reply once (a second reply needs an explicit
yes), reply on the platform where it started, with the account shown in its fixed colour
before anything is posted, a correction reposted hours later (a follow-up), a grievance
answered once in public and then privately by email (a follow-up), a staff briefing in a
crisis.  Every action is a log entry with who and when.
"""

from __future__ import annotations

import os
import shlex
from datetime import timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static, TextArea

from ...core.models import Category, Item
from ...core.safetext import clean, one_line, safe_url, url_host
from .. import render
from ..widgets.keys import KeysFooter
from .modals import ChoiceScreen, ConfirmScreen, PromptScreen


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
        height: 1;
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
        Binding("g", "toggle_language", "en/nl", id="language", tooltip="Switch the reply language"),
        Binding("f", "followup", "Follow-up", id="set_followup", tooltip="Set a follow-up"),
        Binding("c", "claim", "Claim", id="claim_item", show=False),
        Binding("i", "ignore", "Ignore", id="ignore", show=False),
        Binding("b", "block", "Block", id="block", show=False),
        Binding("e", "escalate", "Escalate", id="escalate", show=False),
        Binding("n", "note", "Note", id="item_note", show=False),
        Binding("o", "open_link", "Link", id="open_link", show=False),
        Binding("p", "choose_playbook", "Playbook", id="playbook", show=False),
        Binding("T", "choose_template", "Templates", id="choose_template", show=False),
        Binding("S", "staff_briefing", "Staff brief", id="staff_briefing", show=False),
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

    # -- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="resp-title", markup=False)
        with VerticalScroll(id="details"):
            yield Static("", id="item-body", markup=False)
            yield Static("", id="thread", markup=False)
            yield Static("", id="playbook", markup=False)
        yield Static("", id="reply-status", markup=False)
        yield TextArea("", id="reply", soft_wrap=True, show_line_numbers=False)
        yield KeysFooter()

    def show(self, item: Item) -> None:
        """The item to respond to; the app keeps one panel and hands it each item (a new
        panel per item left a TextArea behind in Textual's watchers every time)."""
        self.item = item
        self.category = item.category
        self._shown = None  # drawn afresh (template, language) when it comes on screen

    def on_screen_resume(self) -> None:
        if self.item is not None and self._shown is not self.item:
            self._start()

    def _start(self) -> None:
        from ...core.replies import ReplyTemplates, choose_language

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
        self.query_one("#details", VerticalScroll).scroll_home(animate=False)
        self.query_one("#details").focus()

    # -- data -----------------------------------------------------------------------------
    @property
    def state(self) -> Any:
        return self.app.desk.state(self.item.id)

    def log_changed(self) -> None:
        """Called by the app when the log changed (another operator, or us)."""
        self._render_all()

    def _choose_kinds(self) -> None:
        from ...core.playbooks import playbook_for

        pb = playbook_for(self.category)
        suggested = list(pb.templates)
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
        self.kind = suggested[0] if suggested and suggested[0] in self.kinds else None

    def _render_all(self) -> None:
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
        t.append(one_line(item.category.value, limit=20), style="bold")
        t.append(f" · {one_line(item.platform, limit=20)} · ")
        t.append(one_line(item.author, limit=40), style="bold")
        if item.author_name and item.author_name != item.author:
            t.append(f" ({one_line(item.author_name, limit=40)})")
        self.query_one("#resp-title", Static).update(t)

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
        t.append(f"{render.local_time(item.published, app.tz, '%a %d %b %H:%M')} ({render.age(item.published, app.clock())} ago)")
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
        t.append("\n\n")
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
        if not lines:
            t.append("  nothing yet: no reply, claim or note on this item.\n", style="dim")
        st = self.state
        holder = getattr(st, "claimed_by", None) if st else None
        if holder and holder != app.operator:
            t.append(f"  ⚑ claimed by {one_line(holder, limit=30)}\n", style="bold yellow")
        self.query_one("#thread", Static).update(t)

    def _render_playbook(self) -> None:
        from ...core.playbooks import playbook_for

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

    def _render_status(self) -> None:
        from ...core.textlength import count, limit

        text = self.reply_text()
        platform = self.item.platform
        t = Text(no_wrap=True, overflow="ellipsis")
        if self.kind is None:
            t.append("playbook: no reply", style="bold")
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
        warning = self._reply_once_warning()
        if warning:
            t.append("  ⚠ replied before", style="bold yellow")
        t.append("  tab: edit · y copy · R replied · f follow-up · ? help", style="dim")
        self.query_one("#reply-status", Static).update(t)

    def _qa_missing(self, text: str) -> bool:
        from ...core.replies import missing_qa_link

        try:
            return bool(missing_qa_link(self.kind or "", text, self.app.config, category=self.category))
        except Exception:  # noqa: BLE001
            return False

    def _load_template(self) -> None:
        text = ""
        if self.templates is not None and self.kind:
            try:
                text = self.templates.render(self.kind, self.item, language=self.language)
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
        from ...core.replies import PreviousReply

        return [
            PreviousReply.from_log(operator=e.operator, ts=e.ts, data=e.data, platform=e.platform)
            for e in self.app.log_entries
            if e.kind in ("replied", "posted")
        ]

    def _reply_once_warning(self) -> str | None:
        from ...core.replies import check_reply_once

        app = self.app
        window = timedelta(hours=app.config.replies.reply_window_hours)
        try:
            w = check_reply_once(
                self.item, self._previous_replies(), now=app.clock(), window=window, tz=app.tz, operator=app.operator
            )
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

        def go(second: bool) -> None:
            self.app.copy_to_clipboard(text)
            self.app.run_command(self._reply("copied", text, second))
            self.app.notify(
                "Reply copied (OSC 52). If your terminal ignores OSC 52, select it in the editor below. "
                "Press R once you have posted it.",
                markup=False,
                timeout=6,
            )

        self._guarded("Copy", go)

    def action_mark_replied(self) -> None:
        text = self.reply_text()

        def go(second: bool) -> None:
            self.app.run_command(self._reply("replied", text, second))
            self.app.notify("Recorded: replied.", markup=False, timeout=3)

        self._guarded("Record a reply", go)

    def action_post(self) -> None:
        from ...core.replies import account_for

        try:
            from ...core.posting import can_post
        except ImportError:  # pragma: no cover
            can_post = None
        text = self.reply_text()
        account = None
        try:
            account = account_for(self.item, self.app.config)
        except Exception:  # noqa: BLE001
            account = None
        if account is None or can_post is None or not can_post(self.item.platform, account):
            self.app.notify(
                f"No API posting for {one_line(self.item.platform, limit=30)}: copy the reply (y), "
                "post it on the platform where it started, then record it (R).",
                markup=False,
                severity="warning",
                timeout=8,
            )
            return
        detail = Text("Post as ")
        detail.append(f"● {one_line(account.name or account.handle, limit=40)}", style=f"bold reverse {account.colour}")
        detail.append(f" ({one_line(account.handle, limit=60)}) on {one_line(self.item.platform, limit=20)}, in reply to ")
        detail.append(one_line(self.item.author, limit=40), style="bold")
        detail.append("\n\n" + clean(text, limit=600))

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._guarded("Post", lambda second: self._do_post(text, account, second))

        self.app.push_screen(ConfirmScreen("Post this reply?", yes="Post", detail=detail), confirmed)

    @work(exclusive=True, group="post", exit_on_error=False)
    async def _do_post(self, text: str, account: Any, second: bool) -> None:
        from ...core import posting

        try:
            result = await posting.post_reply(self.item, text, account, language=self.language)
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
        from ...core.playbooks import FOLLOWUP_PRESETS, playbook_for

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
        if self.templates is None:
            return
        self.kind = "staff-briefing"
        self._load_template()
        self.app.notify("Staff briefing drafted: copy it (y) and send it to everyone now.", markup=False, timeout=6)

    def action_open_link(self) -> None:
        url = safe_url(self.item.url)
        if url is None:
            self.app.notify("This item has no http(s) link to open.", markup=False, severity="warning")
            return
        host = url_host(url)
        remote = bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))
        if remote:
            self.app.copy_to_clipboard(url)
            self.app.notify(
                f"Over SSH a browser would open on the server, not on your machine. Link copied instead: {host}",
                markup=False,
                timeout=8,
            )
            return
        detail = Text("host: ")
        detail.append(host, style="bold")
        detail.append("\n" + one_line(url, limit=500))

        def go(ok: bool | None) -> None:
            if ok:
                self.app.open_url(url)

        self.app.push_screen(ConfirmScreen(f"Open a browser at {host}?", yes="Open", detail=detail), go)

    def action_external_editor(self) -> None:
        import subprocess
        import tempfile

        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile("w+", suffix=".txt", delete=False, encoding="utf-8") as fh:
            fh.write(self.reply_text())
            path = fh.name
        try:
            with self.app.suspend():
                # argv list, never a shell string: no item text reaches a shell.
                subprocess.run([*shlex.split(editor), path], check=False)
            with open(path, encoding="utf-8", errors="replace") as fh:
                self.query_one("#reply", TextArea).load_text(clean(fh.read(), limit=20000))
        except Exception as exc:  # noqa: BLE001
            self.app.report_problem(f"editor: {one_line(exc, limit=200)}")
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
        self._render_status()
