"""Crisis mode: the checklist from the seeds, its progress, and the alert that starts it.

A real crisis (not a grumble from someone with 14 followers) needs the same steps every
time, and at 3 a.m. nobody remembers them.  The seeds (English and Dutch,
docs/product.md) list them:

1. Answer at once, **on the platform where it started**, with our own holding post
   ("Antwoord direct én op het platform waar de eerste berichten binnenkomen").
2. A Q&A page on our website, linked in every answer, so answers stay consistent.
3. Check the other platforms too, even ones we hardly use.
4. **Inform the employees at once**: they get questions on their own accounts.
5. Reply to a thread only once: a second reply is a discussion.
6. Set the follow-ups (a correction reposted later, a private e-mail).

The checklist's texts live in ``config/crisis/en.toml`` and ``nl.toml``, next to the reply
templates, read and checked at import by :mod:`watchtower.core.respond.playbook_files`.

The crisis *state* (active, description, who started it, which checks are done) is derived
from the handover log elsewhere (``decisions.crisis_state``); this module only knows the
checklist and builds the alert.  While a crisis lasts, alert thresholds drop one level:
pass ``crisis=True`` to :meth:`watchtower.core.alert.alerts.Alerter.evaluate`
(:func:`crisis_threshold` is the rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..alert.alerts import Alert, crisis_threshold
from ..models import Item, Severity
from ..text.safetext import clean, one_line
from .playbook_files import builtin

if TYPE_CHECKING:
    import httpx

    from ...config import Config
    from ..record.log import HandoverLog, LogEntry

__all__ = [
    "Check",
    "CHECKLIST",
    "CHECK_IDS",
    "EMPLOYEES_INFORMED",
    "checklist_progress",
    "crisis_alert",
    "crisis_threshold",
    "QaProbe",
    "probe_qa_page",
    "Briefing",
    "crisis_item",
    "staff_briefing",
    "send_staff_briefing",
    "record_staff_informed",
    "declare_crisis",
    "BriefingSent",
]


@dataclass(frozen=True, slots=True)
class Check:
    """One step of the crisis checklist.  ``id`` is what the log records when it is done."""

    id: str
    text: str
    text_nl: str
    why: str = ""
    uses_qa_url: bool = False

    def describe(self, lang: str = "en", *, qa_url: str | None = None) -> str:
        """The step in ``lang`` (``en`` or ``nl``); the Q&A step names the configured URL,
        or says that none is configured."""
        text = self.text_nl if lang.lower().startswith("nl") else self.text
        if self.uses_qa_url:
            if qa_url:
                text += f" ({one_line(qa_url, limit=300)})"
            else:
                text += f" ({_MISSING_QA_URL['nl' if lang.lower().startswith('nl') else 'en']})"
        return text


#: The checklist, in order (``config/crisis/en.toml``; the Dutch texts from ``nl.toml``).
CHECKLIST: list[Check] = [
    Check(
        id=spec.id,
        text=spec.text,
        text_nl=builtin().checklist_text["nl"][spec.id],
        why=spec.why,
        uses_qa_url=spec.uses_qa_url,
    )
    for spec in builtin().checklist.check
]
#: Said in brackets after the Q&A step when ``organisation.qa_url`` is not set, per language.
_MISSING_QA_URL: dict[str, str] = builtin().missing_qa_url

CHECK_IDS: frozenset[str] = frozenset(c.id for c in CHECKLIST)


def checklist_progress(checks_done: Iterable[str]) -> list[tuple[Check, bool]]:
    """Every check in order, with whether it is done.  Unknown ids (from a newer version's
    log) are ignored rather than shown."""
    done = set(checks_done)
    return [(check, check.id in done) for check in CHECKLIST]


def crisis_alert(description: str, operator: str) -> Alert:
    """The alert that tells everyone crisis mode started, and the first steps to take.

    Both arguments may carry text an operator pasted from a post; :class:`Alert` cleans them.
    """
    what = one_line(description, limit=200) or "no description"
    who = one_line(operator, limit=64) or "an operator"
    first = "; ".join(c.text for c in CHECKLIST[:4])
    return Alert(
        key="crisis",
        title=f"CRISIS MODE: {what}",
        body=f"Started by {who}. Alert thresholds are one level lower. First: {first}.",
        severity=Severity.CRITICAL,
        count=1,
        kind="crisis",
    )


# -- the Q&A page answers ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QaProbe:
    """Whether the Q&A page answered; ``message`` is one line for ``watchtower check``."""

    ok: bool
    message: str


async def probe_qa_page(url: str, *, timeout: float = 15.0, client: httpx.AsyncClient | None = None) -> QaProbe:
    """GET the Q&A page (redirects followed, as a browser would) and say whether it answers.

    Every reply links it during a crisis: a page that is down or moved is found now, not
    by the people we send to it.  Only the first bytes are read.
    """
    import httpx

    from ... import __version__

    own = client is None
    http = client or httpx.AsyncClient(
        timeout=httpx.Timeout(timeout), follow_redirects=True, max_redirects=5,
        headers={"User-Agent": f"watchtower/{__version__} (checking the Q&A page)"},
    )
    try:
        async with http.stream("GET", url) as resp:
            async for _ in resp.aiter_bytes():
                break
            code = resp.status_code
            final = str(resp.url)
    except httpx.TooManyRedirects:
        return QaProbe(False, "redirected too many times")
    except httpx.TimeoutException:
        return QaProbe(False, f"no answer within {timeout:g} s")
    except httpx.ConnectError:
        return QaProbe(False, "could not connect")
    except httpx.HTTPError as exc:
        return QaProbe(False, f"network problem ({type(exc).__name__})")
    finally:
        if own:
            await http.aclose()
    moved = f", via {one_line(final, limit=200)}" if final.rstrip("/") != url.rstrip("/") else ""
    if 200 <= code < 300:
        return QaProbe(True, f"answers (HTTP {code}{moved})")
    return QaProbe(False, f"answered HTTP {code}{moved}: the page people are sent to is not there")


# -- the staff briefing -------------------------------------------------------------------------

#: The checklist id the staff briefing ticks ("Informeer onmiddellijk je werknemers!").
EMPLOYEES_INFORMED = "employees-informed"
assert EMPLOYEES_INFORMED in CHECK_IDS


@dataclass(frozen=True, slots=True)
class Briefing:
    """A staff briefing ready to edit, copy or send.  ``text`` is all of it (the subject line
    first, as the template writes it); ``subject`` and ``body`` split it for e-mail."""

    text: str
    subject: str
    body: str
    item: Item | None
    language: str


def crisis_item(crisis: Any, entries: Iterable[LogEntry], items: Iterable[Item]) -> Item | None:
    """The item that started the crisis: the one its ``crisis_start`` entry names (declared
    from an item); else the worst crisis item published by the time it was declared (the
    earliest of equals), else the worst item then.  ``None`` when there is no item at all."""
    pool = list(items)
    by_id = {it.id: it for it in pool}
    start = None
    for e in sorted(entries, key=lambda e: e.seq):
        if e.kind == "crisis_start":
            start = e
    if start is not None:
        named = start.item_id or start.data.get("item")
        if isinstance(named, str) and named in by_id:
            return by_id[named]
    started_at: datetime | None = getattr(crisis, "started_at", None) or (start.ts if start is not None else None)
    if started_at is not None:
        from datetime import timedelta

        pool = [it for it in pool if it.published <= started_at + timedelta(minutes=5)] or pool
    if not pool:
        return None
    from ..models import Category

    crisis_items = [it for it in pool if it.category is Category.CRISIS] or pool
    return min(crisis_items, key=lambda it: (-int(it.severity), it.published))


def staff_briefing(
    config: Config,
    crisis: Any,
    item: Item | None,
    *,
    language: str | None = None,
    templates: Any = None,
    extra: Mapping[str, object] | None = None,
) -> Briefing:
    """The staff briefing for ``crisis`` (a :class:`~watchtower.core.record.decisions.CrisisState`):
    the description the operator typed as "what happened" (no placeholder left when there
    is one), and ``item`` (see :func:`crisis_item`) as the link to where it started.
    Raises :class:`~watchtower.core.respond.replies.TemplateError` only."""
    from .replies import ReplyTemplates

    lang = language or config.organisation.default_language
    templates = templates or ReplyTemplates(config)
    description = clean(getattr(crisis, "description", "") or "", limit=4000).strip()
    values: dict[str, object] = {"details": description} if description else {}
    values.update(extra or {})
    text = templates.render("staff-briefing", item, language=lang, extra=values)
    first, _, rest = text.partition("\n")
    if first.lower().startswith(("subject:", "onderwerp:")):
        subject, body = first.split(":", 1)[1].strip(), rest.strip()
    else:
        subject, body = one_line(first, limit=120), text
    return Briefing(text=text, subject=one_line(subject, limit=200), body=body, item=item, language=lang)


@dataclass(frozen=True, slots=True)
class BriefingSent:
    ok: bool
    message: str
    """One line, safe to show: never the target's secret."""
    target: str = ""
    """The target described safely (``mailto://…``, ``json://localhost``)."""


def send_staff_briefing(config: Config, briefing: Briefing | str, *, env: Mapping[str, str] | None = None) -> BriefingSent:
    """Send the briefing to the staff target (``organisation.staff_apprise_env``: the env var
    holding an Apprise URL such as ``mailto://...`` or a Teams or Slack webhook).

    **Blocking** (Apprise's own network calls): run it in a worker thread.  Never raises;
    a missing target or a failed send is a :class:`BriefingSent` with ``ok`` False.
    """
    import os

    from ..alert.alerts import describe_url

    env = os.environ if env is None else env
    name = config.organisation.staff_apprise_env
    if not name:
        return BriefingSent(False, "no staff target configured (organisation.staff_apprise_env): copy the briefing instead")
    url = (env.get(name) or "").strip()
    if not url:
        return BriefingSent(False, f"the environment variable {name} (the staff target) is not set: copy the briefing instead")
    if isinstance(briefing, str):
        first, _, rest = briefing.partition("\n")
        subject, body = one_line(first, limit=200), rest.strip() or briefing
    else:
        subject, body = briefing.subject, briefing.body
    target = describe_url(url)
    try:
        import apprise

        sender = apprise.Apprise()
        if not sender.add(url):
            return BriefingSent(False, f"{target} in ${name} is not a URL Apprise understands", target)
        ok = sender.notify(title=subject, body=body, body_format=apprise.NotifyFormat.TEXT)
    except Exception as exc:  # noqa: BLE001 - a plugin's failure is a result, not a crash
        return BriefingSent(False, f"sending to {target} failed ({type(exc).__name__})", target)
    if not ok:
        return BriefingSent(False, f"sending to {target} failed (see the target's logs; copy the briefing instead)", target)
    return BriefingSent(True, f"staff briefing sent to {target}", target)


def record_staff_informed(
    log: HandoverLog, *, operator: str, how: str = "copied", target: str = ""
) -> LogEntry:
    """Tick "Employees informed" in the crisis checklist (``crisis_check`` with the
    checklist's own id, :data:`EMPLOYEES_INFORMED`), saying how: copied or sent, and where."""
    where = f" to {target}" if target else ""
    return log.append(
        "crisis_check",
        f"Employees informed: staff briefing {how}{where}",
        operator=operator,
        data={"check": EMPLOYEES_INFORMED, "how": how, "target": target},
    )


def declare_crisis(log: HandoverLog, description: str, *, operator: str, item: Item | None = None) -> LogEntry:
    """Start crisis mode, naming the item it started with (the briefing links it)."""
    return log.append(
        "crisis_start",
        description,
        operator=operator,
        item=item,
        data={"description": clean(description, limit=4000).strip(), "item": item.id if item else None},
    )

