"""Response playbooks: what to do about an item, per category, straight from the seeds.

The two source texts (the seeds, docs/product.md) are the playbooks; each step below is one piece of
their advice, phrased as something the on-call person can tick off:

- *tweeting from the wrong account*: delete, then one apology with the right gravity;
  never pretend it didn't happen (:attr:`Category.OWN_POST`, there is no separate
  "wrong account" category: a slip is always one of our own posts);
- *incorrect information*: delete, an explicit correction that refers to the mistake,
  and the correction again a few hours later;
- *abuse*: ignore; block only if personal or truly offensive; weigh the audience;
- *a proper grievance*: one public reply, then a private email;
- *a crisis*: answer at once on the platform where it started, link the Q&A page, reply
  only once per thread, check the other platforms, brief the staff, let ambassadors help.

Every text exists in English and Dutch: :func:`playbook_for` takes ``language``.
A step may name the reply template to use (``template``, a kind from
:mod:`watchtower.core.respond.replies`) and/or a follow-up preset (``followup``, an id in
:data:`FOLLOWUPS_BY_ID`); the response panel turns those into buttons.

This module is pure data and never imports textual or rich.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from ..models import Category, Severity

if TYPE_CHECKING:
    from ...config import Config

__all__ = [
    "Step",
    "Playbook",
    "FollowupPreset",
    "PLAYBOOKS",
    "FOLLOWUP_PRESETS",
    "FOLLOWUPS_BY_ID",
    "LANGUAGES",
    "playbook_for",
    "followup_preset",
    "GRAVE_OWN_POST",
    "templates_for",
    "preselected_template",
    "preselected_for",
]

#: Languages every playbook and preset is written in.
LANGUAGES = ("en", "nl")


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do.  ``template`` and ``followup`` are ids, not text."""

    id: str
    text: str
    template: str | None = None
    """A reply kind (``"correction"``) that this step uses, if any."""
    followup: str | None = None
    """A follow-up preset id (``"repost-correction"``, see :func:`followup_preset`) this step sets, if any."""


@dataclass(frozen=True, slots=True)
class Playbook:
    category: Category
    title: str
    summary: str
    """One line, for the top of the response panel."""
    steps: list[Step]
    templates: list[str]
    """Reply kinds that fit, best first."""
    notes: list[str] = field(default_factory=list)
    """Guidance: the why behind the steps, and what not to do."""
    language: str = "en"

    @property
    def followups(self) -> list[str]:
        """Follow-up preset ids the steps use, in step order, each once."""
        out: list[str] = []
        for step in self.steps:
            if step.followup and step.followup not in out:
                out.append(step.followup)
        return out


@dataclass(frozen=True, slots=True)
class FollowupPreset:
    """A reminder the response panel can set with one key."""

    id: str
    label: str
    delay: timedelta
    """The default delay; see :meth:`delay_for` for the configured one."""
    text: str
    label_nl: str = ""
    text_nl: str = ""
    config_hours: str | None = None
    """A ``[replies]`` setting (hours) that overrides :attr:`delay` when a config is given."""

    def delay_for(self, config: Config | None = None) -> timedelta:
        if config is not None and self.config_hours:
            hours = getattr(config.replies, self.config_hours, None)
            if isinstance(hours, (int, float)) and hours > 0:
                return timedelta(hours=float(hours))
        return self.delay

    def label_in(self, language: str = "en") -> str:
        return self.label_nl if language == "nl" and self.label_nl else self.label

    def text_in(self, language: str = "en") -> str:
        return self.text_nl if language == "nl" and self.text_nl else self.text

    def describe(self, config: Config | None = None, language: str = "en") -> str:
        """``"Repost the correction in 3 h"`` with the configured delay."""
        word = "over" if language == "nl" else "in"
        return f"{self.label_in(language)} {word} {_format_delay(self.delay_for(config), language)}"


def _format_delay(delay: timedelta, language: str) -> str:
    minutes = int(round(delay.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return f"{hours} {'u' if language == 'nl' else 'h'}"
    return f"{hours}:{rest:02d} {'u' if language == 'nl' else 'h'}"


_PRESETS = [
    FollowupPreset(
        id="repost-correction",
        label="Repost the correction",
        delay=timedelta(hours=3),
        config_hours="correction_repost_hours",
        text="Post the correction again, for the people who were offline the first time.",
        label_nl="Rectificatie opnieuw posten",
        text_nl="Post de rectificatie nog een keer, voor wie de eerste keer niet online was.",
    ),
    FollowupPreset(
        id="email-complainant",
        label="Email the complainant privately",
        delay=timedelta(hours=1),
        text="Email the person privately to find a solution; don't continue by @reply or DM.",
        label_nl="Klager privé mailen",
        text_nl="Mail de persoon privé om samen een oplossing te vinden; niet verder via @reply of DM.",
    ),
    FollowupPreset(
        id="check-other-platforms",
        label="Check the other platforms",
        delay=timedelta(minutes=30),
        text="Look again on every platform, including the ones we don't use ourselves.",
        label_nl="Andere platforms checken",
        text_nl="Kijk opnieuw op alle platforms, ook die we zelf niet gebruiken.",
    ),
    FollowupPreset(
        id="update-holding-statement",
        label="Update the holding statement and Q&A",
        delay=timedelta(hours=2),
        text="Update the Q&A page and post an update where the holding statement went out.",
        label_nl="Statement en Q&A bijwerken",
        text_nl="Werk de Q&A-pagina bij en post een update waar het eerste statement stond.",
    ),
    FollowupPreset(
        id="confirm-account-secure",
        label="Confirm the account is secure",
        delay=timedelta(hours=1),
        text="Check passwords changed, sessions and app tokens revoked, 2FA on, nothing new posted.",
        label_nl="Controleren of het account veilig is",
        text_nl="Wachtwoorden gewijzigd, sessies en app-tokens ingetrokken, 2FA aan, niets nieuws gepost?",
    ),
    FollowupPreset(
        id="watch-author",
        label="Look at this author again",
        delay=timedelta(hours=2),
        text="See whether it stopped, grew, or turned into a real grievance.",
        label_nl="Deze afzender opnieuw bekijken",
        text_nl="Kijk of het gestopt is, groeit, of toch een echte klacht blijkt.",
    ),
]

#: Every follow-up preset, in menu order (the UI iterates these).
FOLLOWUP_PRESETS: tuple[FollowupPreset, ...] = tuple(_PRESETS)
#: The same presets by id.
FOLLOWUPS_BY_ID: dict[str, FollowupPreset] = {p.id: p for p in _PRESETS}


def followup_preset(preset_id: str) -> FollowupPreset:
    """The preset with that id; ``KeyError`` names the known ones."""
    try:
        return FOLLOWUPS_BY_ID[preset_id]
    except KeyError:
        raise KeyError(f"unknown follow-up preset {preset_id!r}; known: {', '.join(FOLLOWUPS_BY_ID)}") from None


# --- the playbooks, written once in both languages -------------------------------------


@dataclass(frozen=True, slots=True)
class _T:
    """A text in both languages."""

    en: str
    nl: str

    def get(self, language: str) -> str:
        return self.nl if language == "nl" else self.en


@dataclass(frozen=True, slots=True)
class _S:
    id: str
    text: _T
    template: str | None = None
    followup: str | None = None


@dataclass(frozen=True, slots=True)
class _P:
    title: _T
    summary: _T
    steps: tuple[_S, ...]
    templates: tuple[str, ...]
    notes: tuple[_T, ...] = ()


_DONT_PANIC = _T(
    "Don't panic: a reply is seen mainly by people who follow both parties, and only a "
    "fraction of them (about 14% at peak) are online. Weigh the reach before you worry.",
    "Geen paniek: een reactie zien vooral mensen die beide partijen volgen, en maar een "
    "deel daarvan (zo'n 14% op het drukste moment) is online. Kijk eerst naar het bereik.",
)
_REPLY_ONCE = _T(
    "Reply only once in a thread. A second, let alone a third, reply is a discussion.",
    "Reageer maar één keer in een draad. Een tweede, of erger, derde antwoord is een discussie.",
)
_SAME_PLATFORM = _T(
    "Answer on the platform where it started: a tweet does not help while the anger is on Facebook.",
    "Antwoord op het platform waar het begon: een tweet helpt niet als de ophef op Facebook is.",
)

_SPECS: dict[Category, _P] = {
    Category.OWN_POST: _P(
        title=_T("Our own post: wrong account or a slip", "Eigen post: verkeerd account of misser"),
        summary=_T(
            "Posted from the wrong account? Delete it and apologise once, with the right gravity.",
            "Vanaf het verkeerde account gepost? Verwijderen en één keer excuses, passend bij de ernst.",
        ),
        steps=(
            _S("check", _T(
                "Check which account posted it and whether it was meant for that account.",
                "Controleer welk account het postte en of het voor dat account bedoeld was.",
            )),
            _S("delete", _T("Delete the post right away.", "Verwijder de post meteen.")),
            _S("apologise-light", _T(
                "Harmless slip (irrelevant, a bit personal): a quick, informal sorry.",
                "Onschuldige misser (niet relevant, wat persoonlijk): een kort, luchtig sorry.",
            ), template="apology-light"),
            _S("apologise-serious", _T(
                "Anything worse: one immediate, sincere apology with the right gravity.",
                "Iets ergers: één directe, oprechte excuses, met de ernst die erbij hoort.",
            ), template="apology-serious"),
            _S("separate", _T(
                "Afterwards: keep personal and work accounts apart (separate browsers, no work account on your phone).",
                "Daarna: houd privé- en werkaccounts gescheiden (aparte browsers, geen werkaccount op je telefoon).",
            )),
        ),
        templates=("apology-light", "apology-serious"),
        notes=(
            _T(
                "Never assume nobody saw it, and never pretend it didn't happen: deleting does not remove the evidence.",
                "Ga er nooit van uit dat niemand het zag en doe niet alsof het niet gebeurd is: verwijderen wist het bewijs niet.",
            ),
            _T("One apology is enough.", "Eén keer excuses is genoeg."),
        ),
    ),
    Category.WRONG_INFO: _P(
        title=_T("Incorrect information", "Onjuiste informatie"),
        summary=_T(
            "Delete it, correct it explicitly, and repost the correction a few hours later.",
            "Verwijderen, expliciet rechtzetten, en de rectificatie een paar uur later herhalen.",
        ),
        steps=(
            _S("delete", _T(
                "Delete the wrong post as soon as possible.",
                "Verwijder de onjuiste post zo snel mogelijk.",
            )),
            _S("correct", _T(
                "Post a correction that refers to the mistake (\"we gave out the wrong information earlier\").",
                "Post een rectificatie die naar de fout verwijst (\"we gaven eerder verkeerde informatie\").",
            ), template="correction"),
            _S("right-info", _T(
                "Post the right information in a separate post, if the correction did not include it.",
                "Zet de juiste informatie in een aparte post, als die niet in de rectificatie stond.",
            )),
            _S("repost", _T(
                "Depending on how much it matters, post the correction again a few hours later.",
                "Afhankelijk van het belang: post de rectificatie een paar uur later nog eens.",
            ), template="correction-repost", followup="repost-correction"),
        ),
        templates=("correction", "correction-repost"),
        notes=(
            _T(
                "Don't try to pretend the wrong post never existed: make explicit reference to it.",
                "Doe niet alsof de foute post nooit bestond: verwijs er expliciet naar.",
            ),
            _T(
                "The repost catches the people who were not online for the first one.",
                "De herhaling bereikt de mensen die de eerste keer niet online waren.",
            ),
        ),
    ),
    Category.ABUSE: _P(
        title=_T("Abuse, prank or malice", "Scheldpartij, grap of kwade opzet"),
        summary=_T(
            "Ignore it completely. Block only if it is personal or truly offensive.",
            "Volledig negeren. Alleen blokkeren als het persoonlijk of echt beledigend is.",
        ),
        steps=(
            _S("triage", _T(
                "Decide: mindless prank, or someone who feels mistreated? A real grievance is never ignored.",
                "Bepaal: zinloze grap, of iemand die zich slecht behandeld voelt? Een echte klacht negeer je nooit.",
            )),
            _S("ignore", _T(
                "Prank or malicious: ignore it, totally. No reply.",
                "Grap of kwade opzet: volledig negeren. Niet reageren.",
            )),
            _S("block", _T(
                "Block only if it is personal or truly offensive.",
                "Blokkeer alleen als het persoonlijk of echt beledigend is.",
            )),
            _S("watch", _T(
                "Mere swearing: don't block, so you can keep watching what is said.",
                "Alleen gescheld: niet blokkeren, dan kun je blijven volgen wat er gezegd wordt.",
            ), followup="watch-author"),
        ),
        templates=(),
        notes=(_DONT_PANIC,),
    ),
    Category.GRIEVANCE: _P(
        title=_T("A proper grievance", "Een echte klacht"),
        summary=_T(
            "Reply publicly once, then follow up privately by email.",
            "Eén keer openbaar reageren, daarna privé per e-mail verder.",
        ),
        steps=(
            _S("reply-public", _T(
                "Reply publicly, once: \"we're sorry you're upset, we'll contact you privately\".",
                "Reageer één keer openbaar: \"vervelend dat je dit zo ervaart, we nemen privé contact op\".",
            ), template="grievance-public"),
            _S("email", _T(
                "Then email the person, rather than continuing by @reply or direct message.",
                "Mail de persoon daarna, in plaats van verder te gaan via @reply of DM.",
            ), followup="email-complainant"),
        ),
        templates=("grievance-public",),
        notes=(
            _T(
                "A grievance can't and shouldn't be ignored, but don't wash your dirty linen in public.",
                "Een echte klacht mag je niet negeren, maar vuile was hang je niet buiten.",
            ),
            _T(
                "A personal email often wins people over; some tweet how impressed they were.",
                "Een persoonlijke mail maakt vaak veel goed; sommigen vertellen het daarna trots rond.",
            ),
            _REPLY_ONCE,
        ),
    ),
    Category.SPAM: _P(
        title=_T("Spam", "Spam"),
        summary=_T(
            "Report and hide it. Warn followers only if it uses our name.",
            "Melden en verbergen. Waarschuw volgers alleen als iemand onze naam misbruikt.",
        ),
        steps=(
            _S("report", _T(
                "Report it as spam on the platform, and hide or delete it where we can.",
                "Meld het als spam bij het platform, en verberg of verwijder het waar dat kan.",
            )),
            _S("no-reply", _T(
                "Don't reply to the spammer and don't click its links.",
                "Reageer niet op de spammer en klik niet op de links.",
            )),
            _S("warn", _T(
                "If it pretends to be us or is spreading widely: one short warning to followers.",
                "Doet het zich voor als ons of verspreidt het zich: één korte waarschuwing aan volgers.",
            ), template="spam-notice"),
        ),
        templates=("spam-notice",),
        notes=(_DONT_PANIC,),
    ),
    Category.SECURITY: _P(
        title=_T("Hacked account or phishing in our name", "Gehackt account of phishing uit onze naam"),
        summary=_T(
            "Secure the account, post a holding statement, warn followers.",
            "Account beveiligen, een eerste statement posten, volgers waarschuwen.",
        ),
        steps=(
            _S("secure", _T(
                "Secure the account: change passwords, revoke sessions and app tokens, turn on 2FA.",
                "Beveilig het account: wachtwoorden wijzigen, sessies en app-tokens intrekken, 2FA aan.",
            ), followup="confirm-account-secure"),
            _S("clean-up", _T(
                "Delete what was posted in our name.",
                "Verwijder wat er uit onze naam gepost is.",
            )),
            _S("holding", _T(
                "Post a holding statement that links the Q&A page, on the platform where it happened.",
                "Post een eerste statement met de link naar de Q&A, op het platform waar het gebeurde.",
            ), template="holding-statement"),
            _S("warn", _T(
                "Warn followers: don't click links or answer messages that seemed to come from us.",
                "Waarschuw volgers: niet klikken op links of reageren op berichten die van ons leken te komen.",
            ), template="hacked-notice"),
            _S("brief", _T(
                "Brief the staff so they know what to say.",
                "Informeer de medewerkers, zodat ze weten wat ze moeten zeggen.",
            ), template="staff-briefing"),
            _S("other-platforms", _T(
                "Check the other platforms for the same attack.",
                "Controleer de andere platforms op dezelfde aanval.",
            ), followup="check-other-platforms"),
        ),
        templates=("holding-statement", "hacked-notice", "staff-briefing"),
        notes=(_SAME_PLATFORM,),
    ),
    Category.CRISIS: _P(
        title=_T("A real crisis", "Een echte crisis"),
        summary=_T(
            "Answer at once where it started, link the Q&A page, brief staff, reply only once.",
            "Direct antwoorden waar het begon, naar de Q&A linken, medewerkers informeren, één keer reageren.",
        ),
        steps=(
            _S("holding", _T(
                "Post a holding statement at once, as our own post, on the platform where it started. Link the Q&A page.",
                "Post direct een eerste statement als eigen post, op het platform waar het begon. Link naar de Q&A.",
            ), template="holding-statement"),
            _S("qa", _T(
                "Make sure the Q&A page on our website has everything known; link it in every answer.",
                "Zorg dat de Q&A op onze website alle informatie heeft; link ernaar in elk antwoord.",
            ), followup="update-holding-statement"),
            _S("brief", _T(
                "Brief the staff immediately: they get questions on their personal accounts too.",
                "Informeer de medewerkers onmiddellijk: ook zij krijgen vragen op hun eigen accounts.",
            ), template="staff-briefing"),
            _S("other-platforms", _T(
                "Check the other platforms, even the ones we don't use ourselves.",
                "Check ook de andere platforms, ook de platforms die we zelf niet gebruiken.",
            ), followup="check-other-platforms"),
            _S("ambassadors", _T(
                "Let our ambassadors help: they often correct unfair statements themselves.",
                "Laat ambassadeurs helpen: zij zetten een onterecht statement vaak zelf recht.",
            )),
            _S("reply-once", _T(
                "Reply to a thread only once, with the Q&A link. A second reply is a discussion.",
                "Reageer maar één keer per draad, met de Q&A-link. Een tweede antwoord is een discussie.",
            )),
        ),
        templates=("holding-statement", "staff-briefing"),
        notes=(
            _SAME_PLATFORM,
            _T(
                "The answer need not be detailed; our own post keeps the reactions in one place we can follow.",
                "Het antwoord hoeft niet gedetailleerd te zijn; een eigen post houdt de reacties bij ons.",
            ),
            _T(
                "The Q&A keeps every answer consistent, so you never enter a discussion.",
                "De Q&A houdt elk antwoord consistent, zodat je geen discussie aangaat.",
            ),
        ),
    ),
    Category.QUESTION: _P(
        title=_T("A question", "Een vraag"),
        summary=_T("Answer it, once, in the same thread.", "Beantwoord de vraag, één keer, in dezelfde draad."),
        steps=(
            _S("answer", _T(
                "Answer the question in the same thread, on the same platform.",
                "Beantwoord de vraag in dezelfde draad, op hetzelfde platform.",
            )),
            _S("private", _T(
                "If it needs personal details, offer to continue by email.",
                "Zijn er persoonlijke gegevens nodig, bied dan aan per e-mail verder te gaan.",
            )),
        ),
        templates=(),
        notes=(_REPLY_ONCE,),
    ),
    Category.PRAISE: _P(
        title=_T("Praise", "Compliment"),
        summary=_T("Say thank you, briefly.", "Kort bedanken."),
        steps=(
            _S("thank", _T("Thank them, briefly.", "Bedank kort."), template="thanks"),
            _S("share", _T(
                "Consider sharing it, if it is public and the author would not mind.",
                "Overweeg het te delen, als het openbaar is en de afzender het niet erg vindt.",
            )),
        ),
        templates=("thanks",),
    ),
    Category.OTHER: _P(
        title=_T("Other", "Overig"),
        summary=_T("Read it; usually nothing to do.", "Lezen; meestal hoeft er niets te gebeuren."),
        steps=(
            _S("read", _T(
                "Read it and decide whether it fits one of the other playbooks.",
                "Lees het en beslis of een ander draaiboek past.",
            )),
            _S("mark", _T("Otherwise mark it seen.", "Anders: markeer als gezien.")),
        ),
        templates=(),
        notes=(_DONT_PANIC,),
    ),
}


def _build(language: str) -> dict[Category, Playbook]:
    out: dict[Category, Playbook] = {}
    for category in Category:
        spec = _SPECS[category]
        out[category] = Playbook(
            category=category,
            title=spec.title.get(language),
            summary=spec.summary.get(language),
            steps=[Step(s.id, s.text.get(language), s.template, s.followup) for s in spec.steps],
            templates=list(spec.templates),
            notes=[n.get(language) for n in spec.notes],
            language=language,
        )
    return out


#: The English playbooks, one per category.
PLAYBOOKS: dict[Category, Playbook] = _build("en")
_BY_LANGUAGE: dict[str, dict[Category, Playbook]] = {"en": PLAYBOOKS, "nl": _build("nl")}


def playbook_for(category: Category | str, language: str = "en") -> Playbook:
    """The playbook for ``category`` in ``language`` (``"en"`` or ``"nl"``; others: English).

    An unknown category string gets the "other" playbook rather than an error, so an item
    from a newer triage never leaves the response panel empty.
    """
    try:
        cat = Category(category)
    except ValueError:
        cat = Category.OTHER
    return _BY_LANGUAGE.get(language, PLAYBOOKS)[cat]


#: From this severity an own post is a grave slip (swearing, a compromised account, several
#: warning signs at once: see ``[own_account]`` in the rules) and the apology is the formal one.
GRAVE_OWN_POST = Severity.HIGH


def templates_for(category: Category | str, severity: Severity | int | None = None) -> list[str]:
    """The reply kinds that fit, best first: the playbook's, with the apology matched to the
    gravity of our own post ("one immediate, sincere apology with the appropriate level of
    gravitas; a harmless comment only requires a quick informal sorry")."""
    kinds = list(playbook_for(category).templates)
    try:
        cat = Category(category)
    except ValueError:
        return kinds
    if cat is Category.OWN_POST and severity is not None and int(severity) >= GRAVE_OWN_POST:
        kinds.sort(key=lambda k: k != "apology-serious")
    return kinds


def preselected_template(
    category: Category | str,
    severity: Severity | int | None = None,
    available: list[str] | None = None,
) -> str | None:
    """The template the response panel starts with (``None``: the playbook says don't reply).

    A critical or high own post (wrong account, compromised) starts with the formal
    ``apology-serious``, a harmless one with ``apology-light``.  ``available``: the kinds
    the template directory has; others are skipped.
    """
    for kind in templates_for(category, severity):
        if available is None or kind in available:
            return kind
    return None


def preselected_for(item: object, available: list[str] | None = None) -> str | None:
    """:func:`preselected_template` for a triaged item (its ``category`` and ``severity``)."""
    return preselected_template(
        getattr(item, "category", Category.OTHER), getattr(item, "severity", None), available
    )

