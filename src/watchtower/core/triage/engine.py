"""Triage: severity, category, reach, coverage and volume spikes, every step explained.

An operator has to trust the order of the Priority pane at 03:00, so nothing here is a
black box: each step that moves an item's severity appends a short reason
(``"keyword 'gehackt' (security)"``, ``"about 2 people likely to see this"``,
``"12 mentions in 10 min, 6x baseline"``) that the detail view shows.

The steps, in order (the rules file ``config/rules.toml`` documents each knob):

1. **Keywords** (English and Dutch, see :mod:`watchtower.core.triage.rules`) vote for a category;
   the winning category's matches give the starting severity.  Swearing plus a real
   complaint is a *grievance*, not *abuse*: the seed says a proper grievance can't be
   ignored, while prank abuse should be.  Praise words with a complaint in the same post,
   or with an eye-roll (🙄, 🙃, "/s"), are sarcasm: a grievance too.
2. **Our own accounts**: a post by one of our handles is ``own-post``; routine ones stay
   ``info``, off-brand, personal or suspicious ones, and ones posted while nobody was on
   shift, are raised with the reason.  A *different* handle with our display name (or a
   handle that only differs by look-alike characters) is possible impersonation.
3. **Reach, the seeds' way**: ``estimated_audience = round(followers x online_fraction)``
   (14% by default).  A 14-follower grumble reaches about 2 people and drops a level; the
   same words from 50,000 followers reach about 7,000 and rise one.  Engagement and the
   source's weight raise too.
4. **Ambassadors** are marked and their posts lowered a level (they correct others).
5. **Spikes**: mentions per window on a platform against the rolling baseline of the
   previous windows; items in a spike rise.
6. **Crisis mode** tightens: medium-and-up items gain ``crisis_boost`` levels.

Pure and deterministic given ``now`` (the spike detector's state aside, which only the
items passed in change).  No clock is read when ``now`` is given, nothing imports a UI.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..coverage.rota import rota_from_config
from ..models import Category, Item, Reach, Severity, utcnow
from ..text.lang import count_words, guess_from_counts, normalise, words
from .model import ModelInput, Reading, TriageModel, shipped_model
from .rules import RuleSet, load_rules, matcher_for

if TYPE_CHECKING:  # pragma: no cover
    from ...config import Config

__all__ = ["Triager", "SpikeStatus", "SpikeDetector", "triage_json_lines", "triaged_record", "TRIAGE_FIELDS"]

_UTC = timezone.utc

# Ties between categories go to the more serious one.
_PRIORITY = {
    Category.CRISIS: 9,
    Category.SECURITY: 8,
    Category.WRONG_INFO: 7,
    Category.GRIEVANCE: 6,
    Category.ABUSE: 5,
    Category.SPAM: 4,
    Category.QUESTION: 3,
    Category.PRAISE: 2,
    Category.OTHER: 1,
    Category.OWN_POST: 0,
}
_PRIORITY_OF: dict[Category | None, int] = {c: p for c, p in _PRIORITY.items()}
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SUSPICIOUS_LINK_RE = re.compile(
    r"log-?in|sign-?in|verify|verif|wallet|crypto|bitcoin|airdrop|giveaway|claim|password",
    re.IGNORECASE,
)
# Characters people swap in to fake a handle: stadsb1eb, stadsbieb_, rn for m.
_CONFUSABLE = str.maketrans({"0": "o", "1": "l", "i": "l", "3": "e", "5": "s", "4": "a", "7": "t", "$": "s"})
_NON_ALNUM_RE = re.compile(r"[\W_]+")
_MAX_KEYWORD_REASONS = 6
_CATEGORY_LABELS = {c: c.value for c in Category}
_CATEGORY_VALUES = frozenset(c.value for c in Category)
# Enum members as module constants: the hot path reads these for every item.
_INFO, _MEDIUM = Severity.INFO, Severity.MEDIUM
_OWN_POST, _SECURITY, _QUESTION, _OTHER = Category.OWN_POST, Category.SECURITY, Category.QUESTION, Category.OTHER
_GRIEVANCE, _ABUSE, _PRAISE = Category.GRIEVANCE, Category.ABUSE, Category.PRAISE
_CRISIS = Category.CRISIS
# Praise said with these is sarcasm ("Great service 🙄", "love waiting an hour /s").
_SARCASM_RE = re.compile("[\U0001f644\U0001f643\U0001f612\U0001f921]|(?:^|\\s)/s(?![\\w/])")
# A question put to us plainly (a reply, a mention, our name called out) outvotes one
# complaint word: "@x is there a priority list for outages?" wants an answer.
_ADDRESSED_BONUS = 2.0
_SPAM_LINK_VOTE = 2.0
# An address that borrows our name is strong evidence: it outvotes a rumour or spam word.
_POSING_VOTE = 4.5
_EXTRA_TERM_VOTE = 0.5
# A post this short gives the model's text reading too little to go on ("Datalek bij de
# bieb!", "Your website has been hacked!"): the reading may raise the rules' level but not
# lower it, and a security or crisis finding of the rules stands (docs/triage-evaluation.md).
SHORT_WORDS = 8


_SEVERITIES = tuple(Severity)


def _clamp(level: int, low: int = Severity.INFO, high: int = Severity.CRITICAL) -> Severity:
    return _SEVERITIES[max(low, min(high, level))]


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _fmt_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


#: A handle that is a domain name (Bluesky's): a country code or a common generic ending.
_DOMAIN_END_RE = re.compile(r"\.(?:[a-z]{2}|com|org|net|social|edu|gov|info|app|dev|io|eu|online|site)$")


def _handle_key(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


def _handle_skeleton(handle: str) -> str:
    """The local part of a handle with look-alike characters folded (for impersonation)."""
    key = _handle_key(handle)
    local = key.split("@", 1)[0]
    if "." in local and "@" not in key and _DOMAIN_END_RE.search(local):  # Bluesky: library.bsky.social
        local = local.split(".", 1)[0]  # (a dot in an Instagram handle is part of the name)
    folded = normalise(local).replace("rn", "m").replace("vv", "w").translate(_CONFUSABLE)
    return _NON_ALNUM_RE.sub("", folded)


def _name_key(name: str) -> str:
    return _NON_ALNUM_RE.sub("", normalise(name))


# -- spikes ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SpikeStatus:
    """Mentions in the current window against the mean of the previous windows."""

    active: bool
    count: int
    baseline: float
    ratio: float

    def describe(self, window_minutes: float) -> str:
        return (
            f"{self.count} {_plural(self.count, 'mention', 'mentions')} in "
            f"{_fmt_number(window_minutes)} min, {self.ratio:.0f}x baseline"
        )


class SpikeDetector:
    """Per-platform mention counts in small slots, summed into sliding windows.

    A window is ``window_minutes`` long and is cut into ten slots, so the current window
    slides with ``now`` instead of restarting at fixed boundaries.  Items are bucketed by
    ``published``; a date in the future counts as ``now`` and one older than the whole
    baseline period is left out (a first poll that back-fills last week must not fake a
    high baseline), so absurd dates can neither hide nor fake a spike.  The same item id
    is counted once.
    """

    SLOTS_PER_WINDOW = 10

    def __init__(self, window_minutes: float = 10, baseline_windows: int = 12, factor: float = 3.0, min_count: int = 5) -> None:
        self.window = timedelta(minutes=window_minutes)
        self.window_minutes = window_minutes
        self.baseline_windows = baseline_windows
        self.factor = factor
        self.min_count = min_count
        self.slot_seconds = self.window.total_seconds() / self.SLOTS_PER_WINDOW
        self._counts: dict[str, dict[int, int]] = {}
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._max_seen = 200_000
        self._status_memo: dict[tuple[str, datetime], SpikeStatus] = {}
        self._last_now: datetime | None = None
        self._last_now_slot = 0

    def _slot(self, when: datetime) -> int:
        if when is self._last_now:
            return self._last_now_slot
        return int(when.timestamp() // self.slot_seconds)

    def _remember_now(self, now: datetime) -> None:
        if now is not self._last_now:
            self._last_now_slot = int(now.timestamp() // self.slot_seconds)
            self._last_now = now

    @property
    def horizon_slots(self) -> int:
        return (self.baseline_windows + 1) * self.SLOTS_PER_WINDOW

    def clamp(self, when: datetime, now: datetime) -> datetime | None:
        """``when`` moved into the tracked period, or ``None`` if it is older than it."""
        self._remember_now(now)
        if when.tzinfo is None:
            when = when.replace(tzinfo=_UTC)
        if when > now:
            return now
        if self._slot(now) - self._slot(when) >= self.horizon_slots:
            return None
        return when

    def add(self, platform: str, when: datetime, now: datetime, *, item_id: str | None = None) -> bool:
        """Count one mention; ``False`` when it was too old or already counted."""
        at = self.clamp(when, now)
        if at is None:
            return False
        if item_id is not None:
            key = f"{platform}\x1f{item_id}"
            if key in self._seen:
                return False
            self._seen[key] = 1
            if len(self._seen) > self._max_seen:
                self._seen.popitem(last=False)
        self._status_memo.clear()
        slots = self._counts.setdefault(platform, {})
        slot = self._slot(at)
        slots[slot] = slots.get(slot, 0) + 1
        self._prune(slots, self._slot(now))
        return True

    def _prune(self, slots: dict[int, int], now_slot: int) -> None:
        if len(slots) <= self.horizon_slots + self.SLOTS_PER_WINDOW:
            return
        oldest = now_slot - self.horizon_slots
        for slot in [s for s in slots if s < oldest]:
            del slots[slot]

    def _window_counts(self, platform: str, now: datetime, n: int) -> list[int]:
        """Counts of the last ``n`` sliding windows ending at ``now``, oldest first."""
        slots = self._counts.get(platform, {})
        now_slot = self._slot(now)
        per = self.SLOTS_PER_WINDOW
        out = []
        for k in range(n - 1, -1, -1):
            top = now_slot - k * per
            out.append(sum(slots.get(s, 0) for s in range(top - per + 1, top + 1)))
        return out

    def volume(self, platform: str, now: datetime, buckets: int = 12) -> list[int]:
        """Mentions per window for a sparkline, oldest first; the last is the current one."""
        return self._window_counts(platform, now, max(1, buckets))

    def status(self, platform: str, now: datetime) -> SpikeStatus:
        memo = self._status_memo.get((platform, now))
        if memo is not None:
            return memo
        if len(self._status_memo) > 256:
            self._status_memo.clear()
        self._status_memo[(platform, now)] = memo = self._status(platform, now)
        return memo

    def _status(self, platform: str, now: datetime) -> SpikeStatus:
        counts = self._window_counts(platform, now, self.baseline_windows + 1)
        current, previous = counts[-1], counts[:-1]
        baseline = sum(previous) / len(previous) if previous else 0.0
        ratio = current / max(baseline, 1.0)
        active = current >= self.min_count and ratio >= self.factor
        return SpikeStatus(active=active, count=current, baseline=round(baseline, 2), ratio=round(ratio, 2))

    def in_current_window(self, when: datetime, now: datetime) -> bool:
        at = self.clamp(when, now)
        return at is not None and self._slot(now) - self._slot(at) < self.SLOTS_PER_WINDOW


# -- who we are: handles, names, domains, and what only looks like them --------------------

# @handle, @user@instance (Mastodon), not the @ of an e-mail address.
_MENTION_RE = re.compile(r"(?<![\w@/.+-])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")
_EMAIL_RE = re.compile(r"(?<![\w.%+-])([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# A bare domain in the text ("vechtstroom-eth.io", "besteprijs-energie.biz"): the common
# top-level domains only, so "done.Then" is not one.  _TLD_HINT_RE is the cheap test first.
_TLDS = (
    "com|net|org|info|biz|io|co|nl|be|de|eu|uk|fr|es|it|us|ru|cn|shop|store|site|online|app|xyz|top|club"
    "|live|me|tv|ai|cc|link|click|ly|to|gg|dev|example|email|win|vip|bid|loan|support|help|services"
)
_TLD_HINT_RE = re.compile(rf"\.(?:{_TLDS})(?![A-Za-z0-9-])", re.IGNORECASE)
_DOMAIN_RE = re.compile(
    rf"(?<![\w@.-])((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:{_TLDS}))(?![A-Za-z0-9-])(?:/\S*)?",
    re.IGNORECASE,
)
_HOST_RE = re.compile(r"^(?:https?://)?(?:[^/@\s]*@)?([^/:?#\s]+)", re.IGNORECASE)
# Second person: a question with these is put to us ("kunnen jullie ...?", "do you ...?").
_SECOND_PERSON = frozenset(("you", "your", "you're", "jullie", "u", "uw"))
# An age of 75 or more stated the usual ways: "my mother (84)", "89yo", "91 jaar oud".
_AGE_RE = re.compile(
    r"(?:\((?:7[5-9]|[89]\d|1[01]\d)\)|\b(?:7[5-9]|[89]\d|1[01]\d)\s?(?:yo|y/o|-?years?[- ]old|jaar oud|jarige)\b)",
    re.IGNORECASE,
)
# A message "from 'us'" in quotes: the writer doubts it came from us (sms van 'de bank').
_CLAIMED_SENDER_RE = re.compile(r"\b(?:from|van|namens|called|named|genaamd|heet)\s+['\"\u2018\u201c]", re.IGNORECASE)
_QUOTES = ("'", '"', "\u2018", "\u201c")
# A post that starts with a mention (after a greeting) speaks to that account.
_LEADING_MENTION_RE = re.compile(r"^\W*(?:(?:hi|hey|hello|dear|hoi|hallo|he|hé|beste|yo)\W+)?@", re.IGNORECASE)
# Hearts and heart-eyes: praise said without words.
_PRAISE_EMOJI_RE = re.compile("[\u2764\U0001f60d\U0001f970\U0001f495\U0001f496\U0001f497\U0001f49a\U0001f499\U0001f49c\U0001f929\U0001f979]")
# Top-level domains spam links favour (a bare "deals-outlet.top" in a post).
_SPAM_TLDS = frozenset(("top", "shop", "xyz", "biz", "click", "win", "vip", "loan", "bid", "store", "site", "online"))


def _eye_roll(text: str) -> bool:
    """An eye-roll emoji or "/s" (the regex only runs when one could be there)."""
    if "/s" not in text and text.isascii():
        return False
    return _SARCASM_RE.search(text) is not None


def _claims_a_sender(text: str) -> bool:
    """A message "from 'X'" in quotes (the regex only runs when there is a quote mark)."""
    if not any(q in text for q in _QUOTES):
        return False
    return _CLAIMED_SENDER_RE.search(text) is not None


def _states_old_age(text: str) -> bool:
    """An age of 75 or more stated in the text (the regex only runs when one could be)."""
    if "(" not in text and "yo" not in text and "jaar" not in text and "year" not in text and "y/o" not in text:
        return False
    return _AGE_RE.search(text) is not None


# A greeting that opens a post, not one to a group ("hi all", "hallo allemaal").
_GREETING_RE = re.compile(
    r"^\W*(?:hi|hey|hello|hallo|hoi|dear|beste|goedemorgen|goedemiddag|goedenavond|good morning|good afternoon)\b"
    r"(?!\W*(?:all|everyone|everybody|guys|folks|people|allemaal|iedereen|mensen|jongens|lieve mensen)\b)",
)
_GREETINGS = frozenset(("hi", "hey", "hello", "dear", "hoi", "hallo", "he", "beste", "goedemorgen", "goedemiddag", "goedenavond", "yo"))


#: Posts the model reads at once (Triager.triage): large enough that numpy's per-call cost
#: is spread thin, small enough to hold little at a time.
_READ_CHUNK = 256


@dataclass(slots=True)
class _Ruled:
    """One post as the rules left it, waiting for the model's reading (Triager._finish)."""

    item: Item
    inp: ModelInput
    reasons: list[str]
    category: Category
    level: int
    low: int
    high: int
    floor: int
    dampen: bool
    by_account: bool
    own_handle: str | None
    audience: int | None
    weight: float | None
    score: float
    rules_level: int
    spike: SpikeStatus
    short: bool


def _whole_text(item: Item) -> str:
    """What triage reads of an item: its text, with the title first unless the text holds it."""
    if item.title and item.title not in item.text:
        return f"{item.title}\n{item.text}"
    return item.text


def _split_text(text: str) -> tuple[str, list[str], list[str], list[tuple[str, str]], list[str]]:
    """``text`` without links, e-mail addresses, @mentions and bare domains, and each of them.

    Returns ``(plain, links, mentions, emails, domains)``: the words of a handle
    (``@vechtstroom_storing``) or a link are not the words of the post.
    """
    links: list[str] = []
    mentions: list[str] = []
    emails: list[tuple[str, str]] = []
    domains: list[str] = []
    plain = text
    if "http" in plain or "www." in plain:
        links = _URL_RE.findall(plain)
        if links:
            plain = _URL_RE.sub(" ", plain)
    if "@" in plain:
        emails = _EMAIL_RE.findall(plain)
        if emails:
            plain = _EMAIL_RE.sub(" ", plain)
        mentions = _MENTION_RE.findall(plain)
        if mentions:
            plain = _MENTION_RE.sub(" ", plain)
    if "." in plain and _TLD_HINT_RE.search(plain) is not None:
        domains = _DOMAIN_RE.findall(plain)
        if domains:
            plain = _DOMAIN_RE.sub(" ", plain)
    return plain, links, mentions, emails, domains


def _registrable(host: str) -> str:
    """``www.vechtstroom.example`` -> ``vechtstroom.example`` (the last two labels)."""
    labels = host.casefold().rstrip(".").split(".")
    return ".".join(labels[-2:])


class _Identity:
    """Our accounts, names and web domains, and the test for what only looks like them."""

    def __init__(self, config: Config) -> None:
        org = config.organisation
        self.own: dict[tuple[str, str], str] = {}
        self.handles: set[str] = set()
        self.locals: set[str] = set()
        self.names: set[str] = set()
        self.skeletons: dict[str, str] = {}
        self.cores: dict[str, str] = {}
        """Skeletons of 5+ letters that a look-alike handle or domain would contain."""
        self.name_words: set[str] = set()
        """Single words that name us in a post ("vechtstroom", "stadsbieb")."""
        for acc in org.accounts:
            key = _handle_key(acc.handle)
            self.own[(acc.platform.casefold(), key)] = acc.handle
            self.handles.add(key)
            self.locals.add(key.split("@", 1)[0])
            if acc.name and len(_name_key(acc.name)) >= 4:
                self.names.add(_name_key(acc.name))
            skel = _handle_skeleton(acc.handle)
            if len(skel) >= 4:
                self.skeletons[skel] = acc.handle
            first = _first_part(acc.handle)
            if len(first) >= 5:
                self.cores.setdefault(first, acc.handle)
            word = _first_part(acc.handle, fold=False)
            if len(word) >= 4:
                self.name_words.add(word)
            if "@" not in key and "." in key:  # a Bluesky handle: stadsbieb.bsky.social
                self.locals.add(key.split(".", 1)[0])
            for name in (acc.name,):
                ws = words(normalise(name or ""))
                if ws and len(ws[0]) >= 4:
                    self.name_words.add(ws[0])
                if len(ws) == 1 and len(ws[0]) >= 5:
                    self.cores.setdefault(_name_key(ws[0]), acc.handle)
        if org.accounts and org.name != "Our organisation":
            if len(_name_key(org.name)) >= 4:
                self.names.add(_name_key(org.name))
            ws = words(normalise(org.name))
            if ws and len(ws[0]) >= 4:
                self.name_words.add(ws[0])
        # The name every handle shares ("lindenhof" in @LindenhofSG, @sghetlindenhof and
        # @het-lindenhof-scholengroep) is how people write us, and what a look-alike copies.
        core = _common_core([_NON_ALNUM_RE.sub("", normalise(_handle_key(a.handle).split("@", 1)[0].split(".")[0]))
                             for a in org.accounts])
        if core:
            folded_core = core.translate(_CONFUSABLE)
            if len(folded_core) >= 5:
                # Our handles share a name ("eemland"): a first part with no part in it is the
                # kind of place we are ("universiteit" in universiteit-eemland), and
                # @Universiteit is somebody else, not a look-alike.  ("kruidhof" in
                # kruidhof-apotheken is part of the shared "kruidhofapo": kept.)
                self.cores = {k: v for k, v in self.cores.items() if folded_core in k or k in folded_core}
            self.cores.setdefault(folded_core, org.accounts[0].handle)
            name_candidates = [w for n in [org.name, *(a.name for a in org.accounts)] for w in words(normalise(n or ""))]
            for w in name_candidates:
                if len(w) >= 4 and w in core:
                    self.name_words.add(w)
            if len(core) >= 5:
                self.name_words.add(core)
        self.domains: set[str] = set()
        if org.qa_url:
            host = _HOST_RE.match(str(org.qa_url))
            if host:
                self.domains.add(_registrable(host.group(1)))
        if org.contact_email and "@" in org.contact_email:
            self.domains.add(_registrable(org.contact_email.rsplit("@", 1)[1]))
        self._memo: dict[str, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self.handles)

    def handle_lookalike(self, handle: str) -> str | None:
        """Which of our handles ``handle`` poses as, if it is not ours (memoised)."""
        key = _handle_key(handle)
        if not key or key in self.handles or key.split("@", 1)[0] in self.locals:
            return None
        found = self._memo.get(key, "")
        if found != "":
            return found
        if len(self._memo) > 50_000:
            self._memo.clear()
        folded = _handle_skeleton(handle)
        ours = self.skeletons.get(folded)
        if ours is None:
            for core, handle_ours in self.cores.items():
                if core in folded and self._posing_rest(folded, core):
                    ours = handle_ours
                    break
        self._memo[key] = ours
        return ours

    def _posing_rest(self, folded: str, core: str) -> bool:
        """Whether what a name adds around our ``core`` is how an impostor dresses it up.

        An impostor copies our name and adds little ("lindenhof_official_", "unieemland.beurs"
        copies a whole handle of ours).  A name that only shares a part of ours, often the
        place in it ("Eemlander Dagblad", "fnv-overheid-eemland" for Universiteit Eemland),
        or that says what it is ("lindenhof.confessions") is somebody else.
        """
        for skel in self.skeletons:
            # A whole handle of ours that says more than the shared name ("unieemland" beyond
            # "eemland") is copied whatever is added; our name alone only with little added.
            if len(skel) >= 5 and skel in folded and (len(skel) > len(core) or self._posing_around(folded, skel)):
                return True
        return self._posing_around(folded, core)

    def _posing_around(self, folded: str, piece: str) -> bool:
        before, _, after = folded.partition(piece)
        return all(self._posing_part(part) for part in (before, after))

    def _posing_part(self, part: str) -> bool:
        part = part.strip("0123456789")
        if len(part) <= 3 or any(part in skel for skel in self.skeletons):
            return True  # "_nl", "2", "sg", a piece of another handle of ours ("uni", "storing")
        while part:
            for affix in _POSING_AFFIXES:
                if part.startswith(affix):
                    part = part[len(affix):].strip("0123456789")
                    break
            else:
                return len(part) <= 2
        return True

    def is_ours(self, host: str) -> bool:
        """Whether a web or e-mail domain is one of ours."""
        return _registrable(host) in self.domains

    def name_in(self, text: str) -> str | None:
        """The name of ours (5+ letters) in a handle or an address part, if any."""
        folded = _NON_ALNUM_RE.sub("", normalise(text).translate(_CONFUSABLE))
        for core in self.cores:
            if core in folded:
                return core
        return None

    def domain_lookalike(self, host: str) -> str | None:
        """The name of ours a web domain (or an e-mail domain) borrows, if it is not ours."""
        host = host.casefold().rstrip(".")
        if not self.cores or _registrable(host) in self.domains:
            return None
        folded = _NON_ALNUM_RE.sub("", normalise(host.rsplit(".", 1)[0]).translate(_CONFUSABLE))
        for core in self.cores:
            if core in folded:
                if not self.domains and not _has_extra(host, core):
                    return None  # without our own domain known, only "ours-plus-something" is suspect
                return core
        return None


#: What impostors add to an organisation's name to look official, folded like a handle's
#: skeleton (longest first, so "helpdesk" is taken before "help").
_POSING_AFFIXES = tuple(sorted((_handle_skeleton(a) for a in (
    "official", "officieel", "officiele", "offical", "real", "echte", "echt", "the", "het",
    "support", "helpdesk", "help", "service", "klantenservice", "klantservice", "webcare", "care",
    "team", "info", "contact", "hq", "news", "nieuws", "updates", "update", "account", "verify",
    "verified", "security", "login", "tickets", "ticket", "shop", "winactie", "giveaway", "prijs",
)), key=len, reverse=True))


def _first_part(handle: str, *, fold: bool = True) -> str:
    """``@vechtstroom_storing`` -> ``vechtstroom``: a handle's first word (look-alike folded)."""
    local = _handle_key(handle).split("@", 1)[0]
    first = normalise(re.split(r"[._-]", local, maxsplit=1)[0])
    return _NON_ALNUM_RE.sub("", first.translate(_CONFUSABLE) if fold else first)


def _common_core(names: list[str]) -> str:
    """The longest run of letters all these names share (5 letters or more), or ``""``."""
    names = [n for n in names if n]
    if not names:
        return ""
    first = min(names, key=len)
    for size in range(len(first), 4, -1):
        for start in range(len(first) - size + 1):
            piece = first[start : start + size]
            if all(piece in n for n in names):
                return piece
    return ""


def _has_extra(host: str, core: str) -> bool:
    name = _NON_ALNUM_RE.sub("", normalise(host.rsplit(".", 1)[0]).translate(_CONFUSABLE))
    return name != core


# -- the triager -----------------------------------------------------------------------

class Triager:
    """Severity, category, reach and coverage for items, from the config and the rules.

    ``source_weights`` maps a source name to its ``weight``; by default it is read from
    ``config.sources``.  ``rules`` defaults to the shipped rules merged with
    ``config.triage.rules``.
    """

    def __init__(
        self,
        config: Config,
        *,
        source_weights: dict[str, float] | None = None,
        rules: RuleSet | None = None,
        model: TriageModel | None | bool = True,
    ) -> None:
        """``model``: ``True`` reads posts with the shipped model too when ``[triage] model``
        is on (the default); ``False``/``None`` the rules alone; or a model of one's own."""
        self.config = config
        if model is True:
            model = shipped_model() if config.triage.model else None
        self.model: TriageModel | None = model or None
        self.last_model_input: ModelInput | None = None
        """What the rules saw of the last post triaged (the training script reads it)."""
        self.rules = rules if rules is not None else load_rules(config)
        self.matcher = matcher_for(self.rules.active_rules)
        if source_weights is None:
            source_weights = {s.name: float(s.weight) for s in config.sources}
        self.source_weights = dict(source_weights)
        self.rota = rota_from_config(config)
        tri = config.triage
        self.online_fraction = tri.online_fraction
        self.crisis_boost = tri.crisis_boost
        self.ambassadors = {_handle_key(h) for h in tri.ambassadors}
        sp = tri.spike
        self.spikes = SpikeDetector(sp.window_minutes, sp.baseline_windows, sp.factor, sp.min_count)
        org = config.organisation
        self.post_languages = {lang.casefold() for lang in org.post_languages}
        self.identity = _Identity(config)
        self._own = self.identity.own
        self._own_handles = self.identity.handles
        self._settings = {c: self.rules.settings_for(c) for c in Category}
        self._corroborate = {c: st.corroborate for c, st in self._settings.items()}
        self._max_up_of = {
            c: self.rules.amplify.max_levels if st.max_up is None else st.max_up for c, st in self._settings.items()
        }
        self._levels = {c: Severity.parse(s.severity) for c, s in self._settings.items()}
        self._ranges = {c: (Severity.parse(s.min), Severity.parse(s.max)) for c, s in self._settings.items()}
        # Per category: amplify, dampen, min and max level.
        self._category_conf = {
            c: (st.amplify, st.dampen, *self._ranges[c]) for c, st in self._settings.items()
        }
        # Per rule index of the matcher: category (None for a signal rule), starting
        # severity, vote, floor, signal.
        self._rule_info: list[tuple[Category | None, Severity, float, Severity | None, str | None, bool]] = []
        for rule in self.matcher.rules:
            if rule.category is None:
                self._rule_info.append((None, _INFO, 0.0, None, rule.signal, False))
                continue
            cat = Category(rule.category)
            sev = rule.base_severity or self._levels[cat]
            floor = Severity.parse(rule.floor) if rule.floor else None
            self._rule_info.append((cat, sev, rule.vote(self._levels[cat]), floor, None, not rule.weak))
        own = self.rules.own_account
        self._own_cfg = own
        self._lookalike_level = Severity.parse(own.lookalike)
        self._max_up = self.rules.amplify.max_levels
        self._needs_handle = bool(self._own or self._own_handles or self.ambassadors)
        self._offbrand_cats = {Category(c) for c in own.offbrand_categories if c in _CATEGORY_VALUES}
        self._suspicious_cats = {Category(c) for c in own.suspicious_categories if c in _CATEGORY_VALUES}
        self._suspicious_rules = frozenset(own.suspicious_rules)
        self._question_vote = max(
            (info[2] for info in self._rule_info if info[0] is Category.QUESTION), default=1.5
        )
        reach = self.rules.reach
        self._signal_rules = frozenset(i for i, r in enumerate(self._rule_info) if r[4] is not None)
        self._floor_medium = reach.floor_medium_at
        self._floor_high = reach.floor_high_at
        self._floor_weight = self.rules.source_weight.raise_at
        self._floor_engagement = self.rules.engagement.floor_medium_at
        self._floor_engagement_high = self.rules.engagement.floor_high_at
        self._no_floor = {Category(c) for c in reach.floor_skips if c in _CATEGORY_VALUES}
        names = sorted(self.identity.name_words, key=len, reverse=True)
        self._vocative = (
            re.compile(
                r"^\W*(?:(?:" + "|".join(sorted(_GREETINGS)) + r")\W+(?:" + "|".join(map(re.escape, names))
                + r")\b|(?:" + "|".join(map(re.escape, names)) + r")\s*[,:!])"
            )
            if names else None
        )

    # -- public API -------------------------------------------------------------------
    def triage(self, items: list[Item], *, now: datetime | None = None, crisis: bool = False) -> list[Item]:
        """Triage a batch in place (and return it); the batch also feeds the spike detector."""
        now = _aware(now) if now is not None else utcnow()
        for item in items:
            self.spikes.add(item.platform, item.published, now, item_id=item.id)
        statuses: dict[str, SpikeStatus] = {}
        # The rules read each post of a chunk, then the model reads the chunk at once; a
        # chunk bounds what is held meanwhile (a 10,000-item first poll is 40 chunks).
        for start in range(0, len(items), _READ_CHUNK):
            ruled = []
            for item in items[start : start + _READ_CHUNK]:
                status = statuses.get(item.platform)
                if status is None:
                    status = statuses[item.platform] = self.spikes.status(item.platform, now)
                ruled.append(self._rules_read(item, status))
            readings = self.model.read_many([r.inp for r in ruled]) if self.model is not None else [None] * len(ruled)
            for r, reading in zip(ruled, readings):
                self._finish(r, reading, now, crisis)
        return items

    def triage_one(
        self,
        item: Item,
        *,
        now: datetime | None = None,
        crisis: bool = False,
        spike: SpikeStatus | None = None,
    ) -> Item:
        """Triage one item in place; reads (does not feed) the spike detector."""
        now = _aware(now) if now is not None else utcnow()
        if spike is None:
            spike = self.spikes.status(item.platform, now)
        return self._triage(item, now, crisis, spike)

    def _triage(self, item: Item, now: datetime, crisis: bool, spike: SpikeStatus) -> Item:
        """:meth:`triage_one` with ``now`` in UTC and the spike status at hand."""
        ruled = self._rules_read(item, spike)
        return self._finish(ruled, self.model.read(ruled.inp) if self.model is not None else None, now, crisis)

    def _rules_read(self, item: Item, spike: SpikeStatus) -> _Ruled:
        """What the rules make of ``item``: the model's input and what finishing needs."""
        reasons: list[str] = []
        text = _whole_text(item)
        plain, links, mentions, emails, domains = _split_text(text)
        tokens = words(normalise(plain))
        counts = count_words(tokens)
        # The guess is only used when the item has no language of its own.
        detected = None if item.language else guess_from_counts(counts, len(tokens))
        if item.language is None and detected in ("en", "nl"):
            item.language = detected
        language = item.language if item.language in ("en", "nl") else None
        matches = self.matcher.find_indices(tokens, language, counts)
        signals: set[str] = set()
        if matches:
            if not self._signal_rules.isdisjoint(matches):
                info = self._rule_info
                for index in [i for i in matches if info[i][4] is not None]:
                    signals.add(info[index][4])  # type: ignore[arg-type]
                    del matches[index]

        item.coverage = self.rota.coverage_at(item.published)
        if self._needs_handle:
            handle = _handle_key(item.author)
            own_handle = self._own.get((item.platform.casefold(), handle)) if self._own else None
            item.own_account = own_handle
            item.ambassador = handle in self.ambassadors
        else:
            handle, own_handle = "", None
            item.own_account = None
            item.ambassador = False

        floor = _INFO
        by_account = own_handle is not None  # what the account is decides, not how the words read
        posing: list[str] = []
        if self.identity and (mentions or emails or domains or links):
            posing = self._posing_in_text(mentions, emails, domains, links)
        if _claims_a_sender(text):
            posing.append("a message 'from' someone in quotes: someone posing as them?")
        asks_us = False
        if own_handle is not None:
            category, severity = self._own_post(item, matches, links, detected, reasons, posing)
        else:
            spam_links = [d for d in domains if d.rsplit(".", 1)[-1].casefold() in _SPAM_TLDS and not self.identity.is_ours(d)]
            category, severity, floor, asks_us = self._classify(
                item, matches, text, plain, reasons, signals, mentions, counts, posing, spam_links,
            )
            if self.identity:
                lookalike = self._lookalike(item, handle)
                if lookalike:
                    by_account = True
                    reasons.insert(0, lookalike)
                    category = _SECURITY
                    floor = max(floor, self._lookalike_level)
        amplify, dampen, low, high = self._category_conf[category]

        if category in (_GRIEVANCE, _QUESTION) and ("vulnerable" in signals or _states_old_age(text)):
            severity = _clamp(severity + 1)
            reasons.append("vulnerable people affected: +1 level")
        up, down, audience, weight, score = self._reach(item, reasons)
        up = min(up, self._max_up_of[category])
        if not amplify:
            up = 0
        if not dampen:
            down = 0
        if up:
            reasons.append(f"reach, engagement or source weight: +{up} {_plural(up, 'level', 'levels')}")
        if down:
            reasons.append(f"few people will see it: -{down} {_plural(down, 'level', 'levels')}")
        level = severity + up - down
        if level < floor:
            level = floor
        if category not in self._no_floor:
            wide = self._reach_floor(audience, weight, score)
            if wide > level:
                level = wide
                if category is _OTHER:
                    reasons.append("unclassified, large audience: look")
                else:
                    reasons.append(f"large audience: at least {_SEVERITIES[wide].label}")
        rules_level = max(low, min(high, level))
        self.last_model_input = inp = ModelInput(
            text, category.value, rules_level, item.author_followers, audience, score, weight,
            own_handle is not None, bool(item.in_reply_to), asks_us,
        )
        return _Ruled(item, inp, reasons, category, level, low, high, floor, dampen, by_account,
                      own_handle, audience, weight, score, rules_level, spike, len(tokens) <= SHORT_WORDS)

    def _finish(self, ruled: _Ruled, reading: Reading | None, now: datetime, crisis: bool) -> Item:
        """The level and category from the rules' reading and the model's, then what holds
        for any reading: ambassadors, spikes, crisis mode, the rota."""
        item, reasons, category, level = ruled.item, ruled.reasons, ruled.category, ruled.level
        low, high, floor, dampen, own_handle = ruled.low, ruled.high, ruled.floor, ruled.dampen, ruled.own_handle
        rules_level, spike = ruled.rules_level, ruled.spike
        if reading is not None:
            if ruled.by_account:
                # Our own posts and look-alike accounts: what the account is decides the
                # category (the rules' checks: off-brand, taken over, posing as us), unless
                # the reading sees our account taken over; the level is never lowered.
                new_category = _SECURITY if (own_handle is not None and reading.category is _SECURITY) else category
                level = max(reading.level, rules_level)
            else:
                new_category = reading.category
                # The rules' floors hold whatever the reading: a look-alike account, a threat,
                # and a large audience (an item many people will see is never left below it).
                wide = _INFO if new_category in self._no_floor else self._reach_floor(ruled.audience, ruled.weight, ruled.score)
                level = max(reading.level, floor, wide)
                if item.author_followers is None:
                    # The model learned from posts whose reach was known; an RSS item's is
                    # not, so the reading may raise the rules' level but never lower it.
                    level = max(level, rules_level)
                if ruled.short and (level < rules_level or (category in (_SECURITY, _CRISIS) and new_category is not category)):
                    level = max(level, rules_level)
                    if category in (_SECURITY, _CRISIS):
                        new_category = category
                    reasons.append(f"a short post (at most {SHORT_WORDS} words): the rules' reading stands")
            # What the reading changed comes first: the badge's cause is the line an operator
            # reads first, in a panel that shows four lines of reasons at 80x24.
            first = 0
            if new_category is not category:
                reasons.insert(0, f"read as {new_category.value} ({reading.category_p:.0%} sure); "
                                  f"the rules alone: {category.value}")
                category = new_category
                dampen = self._category_conf[category][1]
                first = 1
            low, high = _INFO, Severity.CRITICAL  # the reading learned the levels: no category caps them
            if level != rules_level:
                reasons.insert(first, f"read as {_SEVERITIES[level].label} (high or critical: {reading.high_p:.0%}); "
                                      f"the rules alone: {_SEVERITIES[rules_level].label}")
        if item.ambassador:
            reasons.append(f"ambassador {item.author}: a trusted account that often corrects others")
            if dampen and level > max(low, floor):
                level -= 1
                reasons.append("ambassador: -1 level")
        item.spike = False
        if spike.active and self.spikes.in_current_window(item.published, now):
            item.spike = True
            reasons.append(spike.describe(self.spikes.window_minutes))
            level += self.rules.spike.levels
        if crisis and self.crisis_boost and level >= _MEDIUM:
            level += self.crisis_boost
            reasons.append(f"crisis mode: +{self.crisis_boost} {_plural(self.crisis_boost, 'level', 'levels')}")
        if own_handle is None and not item.coverage.covered:
            reasons.append("arrived while nobody was on shift")
        item.severity = _SEVERITIES[max(low, min(high, level))]
        item.category = category
        item.reasons = reasons
        return item

    def spike_status(self, platform: str, now: datetime | None = None) -> SpikeStatus:
        return self.spikes.status(platform, _aware(now) if now is not None else utcnow())

    def volume(self, platform: str, now: datetime | None = None, buckets: int = 12) -> list[int]:
        return self.spikes.volume(platform, _aware(now) if now is not None else utcnow(), buckets)

    # -- steps ------------------------------------------------------------------------
    def _classify(
        self,
        item: Item,
        matches: dict[int, list[str]],
        text: str,
        plain: str,
        reasons: list[str],
        signals: set[str],
        mentions: list[str],
        counts: dict[str, int],
        posing: list[str],
        spam_links: list[str],
    ) -> tuple[Category, Severity, Severity, bool]:
        """Category, severity and floor from the rules that matched (``{rule index: words}``),
        and whether the post puts a question to us."""
        votes: dict[Category, float] = {}
        asks_us = False
        best: dict[Category, Severity] = {}
        floors: dict[Category, Severity] = {}
        signs: dict[Category, int] = {}
        info = self._rule_info
        for index, found in matches.items():
            cat, sev, vote, floor, _signal, strong = info[index]
            if cat is _OWN_POST or cat is None:
                continue  # only checked in our own posts
            if strong or cat is _CRISIS:
                # Separate signs of it; a weak word that survived had company, and for a
                # crisis ("on fire", "evacuated") it is a sign too.
                signs[cat] = signs.get(cat, 0) + 1
            if len(found) > 1:
                # A rule votes once; more of its words in the post make the vote a little surer.
                vote += _EXTRA_TERM_VOTE * min(len(found) - 1, 3)
            total = votes.get(cat)
            if total is None:
                votes[cat] = vote
                best[cat] = sev
            else:
                votes[cat] = total + vote
                if sev > best[cat]:
                    best[cat] = sev
            if floor is not None:
                floors[cat] = max(floors.get(cat, _INFO), floor)
        if spam_links:
            reasons.append(f"a link to {spam_links[0]}: a shop or spam domain")
            votes[Category.SPAM] = votes.get(Category.SPAM, 0.0) + _SPAM_LINK_VOTE
            best.setdefault(Category.SPAM, self._levels[Category.SPAM])
        if posing:
            # A handle, e-mail address or web address in the post that borrows our name.
            reasons.extend(posing)
            level = self._posing_level
            votes[_SECURITY] = votes.get(_SECURITY, 0.0) + _POSING_VOTE
            best[_SECURITY] = max(best.get(_SECURITY, _INFO), level)
            signs[_SECURITY] = signs.get(_SECURITY, 0) + 1
        asked = "?" in plain and self.rules.question.question_mark
        about_incident = False
        if _QUESTION in votes or asked:
            addressed = self._addressed(item, mentions, counts, plain, signals)
            if addressed is not None and not asked and not addressed[1]:
                addressed = None  # question words in a statement ("now I have to ...")
            asks_us = addressed is not None
            if addressed is None:
                if _QUESTION in votes:
                    del votes[_QUESTION]
                    if not votes:
                        reasons.append("a question, but not put to us")
            elif not votes:
                reasons.append(f"asks a question ('?'), {addressed[0]}")
                return _QUESTION, self._levels[_QUESTION], _INFO, asks_us
            else:
                reasons.append(f"a question {addressed[0]}")
                if _QUESTION not in votes:
                    votes[_QUESTION] = self._question_vote
                    best[_QUESTION] = self._levels[_QUESTION]
                plainly = addressed[1] or (
                    # "kunnen jullie ...?": a question word with "you" in it is put to us
                    addressed[0] == "to 'you'" and any(info[i][0] is _QUESTION for i in matches)
                )
                if plainly:
                    votes[_QUESTION] += _ADDRESSED_BONUS  # put to us plainly: it wants our answer
                if asked and plainly and _CRISIS in votes:
                    # A question to us about an incident wants our answer; the incident itself
                    # is known (a closure, a strike, a boil-water advice).
                    about_incident = True
                    del votes[_CRISIS]
        if not votes and _eye_roll(text):
            reasons.append("an eye-roll and no other words: a grumble")
            return _GRIEVANCE, Severity.LOW, _INFO, asks_us
        if not votes and _PRAISE_EMOJI_RE.search(text) is not None:
            reasons.append("hearts and no other words: praise")
            return _PRAISE, self._levels[_PRAISE], _INFO, asks_us
        if not votes:
            reasons.append("no keywords matched")
            return _OTHER, self._levels[_OTHER], _INFO, asks_us
        category = next(iter(votes)) if len(votes) == 1 else max(votes, key=lambda c: (votes[c], _PRIORITY[c]))
        if category in (_PRAISE, _GRIEVANCE) and _PRAISE in votes:
            eye_roll = _eye_roll(text)
            if eye_roll or (_GRIEVANCE in votes and "resolved" not in signals):
                # Thanks with a complaint in it, or with an eye-roll, is not praise: the
                # seed's grievance that can't be ignored, said sarcastically.
                if category is _PRAISE:
                    category = _GRIEVANCE
                    if _GRIEVANCE not in votes:
                        best[_GRIEVANCE] = self._levels[_GRIEVANCE]
                reasons.append("praise words with a complaint or an eye-roll: read as sarcasm, a grievance")
            elif category is _GRIEVANCE:
                # Thanks for fixing a problem: the problem's words are what was fixed.
                category = _PRAISE
                reasons.append("praise for a problem that was put right")
        if _GRIEVANCE in votes and _ABUSE in votes and _ABUSE not in floors:
            # The seed: mindless insults are ignored, a proper grievance never is.
            if category is _ABUSE:
                category = _GRIEVANCE
            if category is _GRIEVANCE:
                reasons.append("swearing, but with a real complaint: a grievance, not a prank")
        ordered = (
            matches if len(matches) == 1
            else sorted(matches, key=lambda i: (info[i][0] is not category, -_PRIORITY_OF.get(info[i][0], -1)))
        )
        shown = 0
        for index in ordered:
            cat = info[index][0]
            if cat is _OWN_POST or cat is None:
                continue
            if shown == _MAX_KEYWORD_REASONS:
                break
            label = _CATEGORY_LABELS[cat]
            for word in matches[index]:
                if shown == _MAX_KEYWORD_REASONS:
                    break
                reasons.append(f"keyword '{word}' ({label})")
                shown += 1
        severity = best[category]
        if about_incident and category is _QUESTION:
            reasons.append("a question about an incident: at least medium")
            severity = max(severity, _MEDIUM)
        extra = self._corroborate[category]
        if extra and signs.get(category, 0) >= 2:
            severity = _clamp(severity + extra)
            reasons.append(f"{signs[category]} separate signs of it: +{extra} {_plural(extra, 'level', 'levels')}")
        return category, severity, floors.get(category, _INFO), asks_us

    def _addressed(
        self, item: Item, mentions: list[str], counts: dict[str, int], plain: str, signals: set[str]
    ) -> tuple[str, bool] | None:
        """How a post is put to us, and whether plainly so; ``None`` when it is not.

        Plainly: a reply, a mention of one of our accounts, our name called out at the
        start ("Hi Vechtstroom", "Vechtstroom, ...").  Less so: our name or "you"/"jullie"
        in a post with a '?' that does not ask other people ("anyone know", "weet iemand").
        """
        if item.in_reply_to:
            return "in a reply", True
        ident = self.identity
        ours = None
        for mention in mentions:
            key = _handle_key(mention)
            if key in ident.handles or key.split("@", 1)[0] in ident.locals:
                ours = key.split("@", 1)[0]
                break
        if ours is not None and _LEADING_MENTION_RE.match(item.text) is not None:
            return f"to our account @{ours}", True  # "@ours ..." starts the post: said to us
        head = normalise(plain[:200])
        if self._vocative is not None and self._vocative.match(head) is not None:
            return "to us by name", True
        if _GREETING_RE.match(head) is not None:
            return "with a greeting", True  # "Hello, ..." in our mentions: said to us
        if "addressed" in signals:
            return "to us", True
        if "asks-others" in signals or "?" not in plain:
            return None
        if ours is not None:
            return f"naming our account @{ours}", False
        if ident.name_words and not counts.keys().isdisjoint(ident.name_words):
            return "naming us", False
        if not counts.keys().isdisjoint(_SECOND_PERSON):
            return "to 'you'", False
        return None

    def _reach(self, item: Item, reasons: list[str]) -> tuple[int, int, int | None, float | None, float]:
        """Levels up and down from followers, engagement and source weight, the audience and weight.

        The levels up are the largest of the three, not their sum: a big account's post is
        liked a lot because it is a big account.
        """
        r = self.rules
        up = down = 0
        followers = item.author_followers
        audience: int | None = None
        if followers is not None:
            audience = round(followers * self.online_fraction)
            item.reach = Reach(followers, audience)
            reasons.append(f"author has {followers:,} {_plural(followers, 'follower', 'followers')}")
            reasons.append(f"about {audience:,} {_plural(audience, 'person', 'people')} likely to see this")
            if audience >= r.reach.raise_twice_at:
                up = 2
            elif audience >= r.reach.raise_at:
                up = 1
            elif audience < r.reach.lower_below:
                down += 1
        else:
            item.reach = Reach(None, None)
        eng = item.engagement
        e = r.engagement
        score = 0.0
        if eng.reposts or eng.replies or eng.likes:
            score = (eng.reposts or 0) * e.repost_weight + (eng.replies or 0) * e.reply_weight + (eng.likes or 0) * e.like_weight
        if score >= e.raise_at:
            parts = []
            for n, one, many in ((eng.reposts, "repost", "reposts"), (eng.likes, "like", "likes"), (eng.replies, "reply", "replies")):
                if n:
                    parts.append(f"{n:,} {_plural(n, one, many)}")
            reasons.append("engagement: " + ", ".join(parts))
            up = max(up, 2 if score >= e.raise_twice_at else 1)
        weight = self.source_weights.get(item.source)
        if weight is not None and weight != 1.0:
            reasons.append(f"source weight {_fmt_number(weight)} ({item.source})")
            sw = r.source_weight
            if weight >= sw.raise_twice_at:
                up = max(up, 2)
            elif weight >= sw.raise_at:
                up = max(up, 1)
            elif weight <= sw.lower_at:
                down += 1
        return min(up, self._max_up), down, audience, weight, score

    def _reach_floor(self, audience: int | None, weight: float | None, engagement: float) -> Severity:
        """The least an item about us gets when many people will see it: the highest of
        what its audience, its source's weight and its engagement each ask for.  A weighted
        source (a national outlet) with a large audience asks for high: what it reports
        about us is read and repeated."""
        weighty = weight is not None and self._floor_weight and weight >= self._floor_weight
        if self._floor_engagement_high and engagement >= self._floor_engagement_high:
            return Severity.HIGH
        if audience is not None:
            if self._floor_high and audience >= self._floor_high:
                return Severity.HIGH
            if self._floor_medium and audience >= self._floor_medium:
                return Severity.HIGH if weighty else _MEDIUM
        if weighty:
            return _MEDIUM
        if self._floor_engagement and engagement >= self._floor_engagement:
            return _MEDIUM
        return _INFO

    def _own_post(
        self, item: Item, matches: dict[int, list[str]], links: list[str], detected: str | None,
        reasons: list[str], posing: list[str],
    ) -> tuple[Category, Severity]:
        cfg = self._own_cfg
        reasons.append(f"posted by our account {item.own_account} ({item.platform})")
        signals: list[Severity] = []
        taken_over = False
        for index, found in matches.items():
            cat = self._rule_info[index][0]
            if cat is None:
                continue
            if cat in self._offbrand_cats:
                signals.append(Severity.parse(cfg.offbrand))
                reasons.append(f"'{found[0]}' in our own post: off-brand, wrong account?")
            elif cat is Category.OWN_POST:
                signals.append(Severity.parse(cfg.personal))
                reasons.append(f"'{found[0]}' in our own post: personal chatter, wrong account?")
            elif cat in self._suspicious_cats or self.matcher.rules[index].id in self._suspicious_rules:
                signals.append(Severity.parse(cfg.suspicious))
                reasons.append(f"'{found[0]}' in our own post: spam-like, compromised?")
                taken_over = True
        for link in links:
            if _SUSPICIOUS_LINK_RE.search(link):
                signals.append(Severity.parse(cfg.suspicious))
                reasons.append("our own post links to a login or crypto page: compromised?")
                taken_over = True
                break
        if posing:
            signals.append(Severity.parse(cfg.suspicious))
            reasons.append("our own post sends people to an address that only borrows our name: compromised?")
            taken_over = True
        lang = item.language or detected
        if lang and self.post_languages and lang.casefold() not in self.post_languages:
            signals.append(Severity.parse(cfg.foreign_language))
            reasons.append(f"our own post is in '{lang}', a language we don't post in: compromised?")
        if self.rota.shifts and not item.coverage.covered:
            signals.append(Severity.parse(cfg.off_shift))
            reasons.append("own account posted while nobody on shift: wrong account or compromised?")
        if not signals:
            reasons.append("routine post")
            return Category.OWN_POST, Severity.parse(cfg.routine)
        level = max(signals)
        routine = Severity.parse(cfg.routine)
        warnings = [s for s in signals if s > routine]  # an off-shift post alone warns of nothing
        if len(warnings) >= 2 and cfg.extra_signal_levels:
            level = _clamp(level + cfg.extra_signal_levels)
            reasons.append(f"{len(warnings)} warning signs together: +{cfg.extra_signal_levels}")
        if taken_over:
            reasons.append("spam or a giveaway from our own account: taken over?")
            return _SECURITY, level
        return Category.OWN_POST, level

    @property
    def _posing_level(self) -> Severity:
        return Severity.parse(self._own_cfg.posing)

    def _posing_in_text(
        self, mentions: list[str], emails: list[tuple[str, str]], domains: list[str], links: list[str]
    ) -> list[str]:
        """Reasons for each handle, e-mail or web address in the post that borrows our name."""
        ident = self.identity
        out: list[str] = []
        for mention in mentions:
            ours = ident.handle_lookalike(mention)
            if ours:
                out.append(f"possible impersonation: @{mention} named in the post looks like our {ours}")
        for local, domain in emails:
            if ident.domain_lookalike(domain):
                out.append(f"possible impersonation: {local}@{domain} borrows our name")
            elif _registrable(domain) not in ident.domains and ident.name_in(local):
                out.append(f"possible impersonation: {local}@{domain} uses our name on another domain")
        hosts = list(domains)
        for link in links:
            m = _HOST_RE.match(link)
            if m:
                hosts.append(m.group(1))
        for host in hosts:
            if ident.domain_lookalike(host):
                out.append(f"possible impersonation: the address {host} borrows our name")
        return out[:3]

    def _lookalike(self, item: Item, handle: str) -> str | None:
        """A reason if this author poses as one of our accounts, else ``None``."""
        ident = self.identity
        if handle in ident.handles:
            return None
        if ident.names and _name_key(item.author_name) in ident.names:
            return f"possible impersonation: display name '{item.author_name}' is ours, handle {item.author} is not"
        ours = ident.handle_lookalike(item.author)
        if ours:
            return f"possible impersonation: handle {item.author} looks like our {ours}"
        return None


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=_UTC) if dt.tzinfo is None else dt.astimezone(_UTC)


# -- CLI hook --------------------------------------------------------------------------

#: The fields triage fills in; ``key`` is the item's internal key (``platform:source:id``).
TRIAGE_FIELDS = ("severity", "category", "reasons", "reach", "coverage", "spike", "ambassador", "own_account", "key")


def triaged_record(data: dict[str, Any], item: Item) -> dict[str, Any]:
    """An input line with triage's fields added, every field it had kept as given.

    Scripts join the output on their own ``id``: it is never rewritten (the internal key
    goes in ``key``).  Fields the input lacks and the item has (``native_id``, a detected
    ``language``) are added; triage's own fields are always the fresh ones.
    """
    fresh = item.to_json()
    fresh["key"] = item.id
    out = dict(data)
    for name, value in fresh.items():
        if name in TRIAGE_FIELDS or name not in out:
            out[name] = value
    return out


def triage_json_lines(
    config: Config,
    lines: Iterable[str],
    *,
    now: datetime | None = None,
    crisis: bool = False,
    triager: Triager | None = None,
) -> Iterator[str | tuple[int, str]]:
    """``watchtower triage [FILE|-]``: item JSON lines in, triaged item JSON lines out.

    Yields a JSON string per good line (:func:`triaged_record`: the input's fields as
    given, triage's added) and ``(line_number, error)`` for a bad one (not JSON, not an
    object, ...), so one broken line never stops the rest.  Blank lines are skipped.
    Items are triaged one at a time, in order, so spikes in the input show.
    """
    t = triager or Triager(config)
    for number, line in enumerate(lines, start=1):
        raw = line.strip()
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield (number, f"not JSON: {exc.msg if hasattr(exc, 'msg') else exc}")
            continue
        if not isinstance(data, dict):
            yield (number, f"expected a JSON object, got {type(data).__name__}")
            continue
        try:
            item = Item.from_json(data)
            t.triage([item], now=now, crisis=crisis)
        except Exception as exc:  # a stranger's line must not end the run
            yield (number, f"cannot triage: {type(exc).__name__}: {exc}")
            continue
        yield json.dumps(triaged_record(data, item), ensure_ascii=False)
