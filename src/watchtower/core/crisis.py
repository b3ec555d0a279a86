"""Crisis mode: the checklist from the seeds, its progress, and the alert that starts it.

A real crisis (not a grumble from someone with 14 followers) needs the same steps every
time, and at 3 a.m. nobody remembers them.  The seeds (English and Dutch) list them:

1. Answer at once, **on the platform where it started**, with our own holding post
   ("Antwoord direct én op het platform waar de eerste berichten binnenkomen").
2. A Q&A page on our website, linked in every answer, so answers stay consistent.
3. Check the other platforms too, even ones we hardly use.
4. **Inform the employees at once**: they get questions on their own accounts.
5. Reply to a thread only once: a second reply is a discussion.
6. Set the follow-ups (a correction reposted later, a private e-mail).

The crisis *state* (active, description, who started it, which checks are done) is derived
from the handover log elsewhere (``decisions.crisis_state``); this module only knows the
checklist and builds the alert.  While a crisis lasts, alert thresholds drop one level:
pass ``crisis=True`` to :meth:`watchtower.core.alerts.Alerter.evaluate`
(:func:`crisis_threshold` is the rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .alerts import Alert, crisis_threshold
from .models import Severity
from .safetext import one_line

__all__ = [
    "Check",
    "CHECKLIST",
    "CHECK_IDS",
    "checklist_progress",
    "crisis_alert",
    "crisis_threshold",
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
                text += (
                    " (geen Q&A-URL in de config: organisation.qa_url)"
                    if lang.lower().startswith("nl")
                    else " (no Q&A URL configured: set organisation.qa_url)"
                )
        return text


CHECKLIST: list[Check] = [
    Check(
        id="holding-statement",
        text="Holding statement posted on the platform where it started",
        text_nl="Eerste reactie geplaatst op het platform waar het begon",
        why="A tweet is no use while the outrage is on Facebook; our own post gathers the replies.",
    ),
    Check(
        id="qa-page",
        text="Q&A page up and linked in every answer",
        text_nl="Q&A-pagina online en gelinkt in elk antwoord",
        why="One page to link keeps every answer consistent and avoids discussions.",
        uses_qa_url=True,
    ),
    Check(
        id="other-platforms",
        text="Other platforms checked, even ones we don't use",
        text_nl="Andere platforms gecheckt, ook die we zelf niet gebruiken",
        why="Trouble on one platform is often picked up on LinkedIn or Instagram too.",
    ),
    Check(
        id="employees-informed",
        text="Employees informed (staff briefing sent or copied)",
        text_nl="Medewerkers geïnformeerd (briefing verstuurd of gekopieerd)",
        why="Staff get questions on their own accounts; tell them what to say, at once.",
    ),
    Check(
        id="reply-once",
        text="Replies limited to once per thread",
        text_nl="Per draad maar één keer gereageerd",
        why="A second reply is a discussion; a third is worse.",
    ),
    Check(
        id="follow-ups",
        text="Follow-ups set (corrections reposted, private e-mails)",
        text_nl="Opvolging ingepland (correctie later herhalen, persoonlijke e-mails)",
        why="Repost a correction hours later for those who were offline; answer grievances privately.",
    ),
]

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
