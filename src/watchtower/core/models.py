"""The normalised item and the small value types every layer shares.

An :class:`Item` is what every connector produces and what triage, the archive, the UI
and ``watchtower fetch --json`` consume.  The JSON field names are a contract: later
features add fields, they never rename these.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum, IntEnum
from functools import lru_cache
from typing import Any, Iterable, Sequence
from urllib.parse import quote

from .text.safetext import MAX_TEXT, clean, one_line, safe_url, url_host

__all__ = [
    "Severity",
    "Category",
    "Engagement",
    "NO_ENGAGEMENT",
    "Reach",
    "Coverage",
    "Item",
    "SeenOn",
    "stable_id",
    "legacy_id",
    "dedupe",
    "NO_TEXT",
    "DATE_UNKNOWN",
    "parse_time",
    "parse_time_or_none",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Severity(IntEnum):
    """How much an item needs a human, lowest first.  Never shown by colour alone."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def symbol(self) -> str:
        """A shape that survives NO_COLOR and 16-colour terminals."""
        return _SEVERITY_SYMBOLS[self]

    @property
    def short(self) -> str:
        return _SEVERITY_SHORT[self]

    @property
    def badge(self) -> str:
        """Symbol and word, fixed width: ``'!!! CRIT'``."""
        return f"{self.symbol:<3} {self.short:<4}"

    @classmethod
    def parse(cls, value: str | int | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        if isinstance(value, int):
            return cls(value)
        key = str(value).strip().upper()
        aliases = {"CRIT": "CRITICAL", "MED": "MEDIUM"}
        return cls[aliases.get(key, key)]


_SEVERITY_SYMBOLS = {
    Severity.INFO: "·",
    Severity.LOW: "▽",
    Severity.MEDIUM: "!",
    Severity.HIGH: "!!",
    Severity.CRITICAL: "!!!",
}
_SEVERITY_LABELS = {s: s.name.lower() for s in Severity}
_SEVERITY_SHORT = {
    Severity.INFO: "INFO",
    Severity.LOW: "LOW",
    Severity.MEDIUM: "MED",
    Severity.HIGH: "HIGH",
    Severity.CRITICAL: "CRIT",
}


class Category(str, Enum):
    """What kind of incident an item is; each has a playbook in the response panel."""

    WRONG_INFO = "wrong-info"
    ABUSE = "abuse"
    GRIEVANCE = "grievance"
    SECURITY = "security"
    CRISIS = "crisis"
    SPAM = "spam"
    QUESTION = "question"
    PRAISE = "praise"
    OWN_POST = "own-post"
    OTHER = "other"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


@dataclass(frozen=True, slots=True)
class Engagement:
    """Counts a platform reports for a post (``None``: not reported).

    Frozen, so the one :data:`NO_ENGAGEMENT` can stand for every post that has none (an
    RSS item): ten thousand items then carry no ten thousand objects for the cyclic
    garbage collector to walk (see :mod:`watchtower.ui.gcpolicy`).
    """

    reposts: int | None = None
    likes: int | None = None
    replies: int | None = None

    @property
    def total(self) -> int:
        return sum(v for v in (self.reposts, self.likes, self.replies) if v)

    def to_json(self) -> dict[str, int | None]:
        return {"reposts": self.reposts, "likes": self.likes, "replies": self.replies}


@dataclass(slots=True)
class Reach:
    followers: int | None = None
    estimated_audience: int | None = None

    def to_json(self) -> dict[str, int | None]:
        return {"followers": self.followers, "estimated_audience": self.estimated_audience}


@dataclass(slots=True)
class Coverage:
    """Whether an item arrived while someone was on call, judged in the org's time zone."""

    covered: bool = True
    shift: str | None = None
    on_call: str | None = None
    weekend: bool = False
    holiday: str | None = None

    @property
    def badge(self) -> str:
        """``UNCOVERED`` beats ``HOL`` beats ``WKND``; empty when staffed on a weekday."""
        if not self.covered:
            return "⚠ UNCOVERED"
        if self.holiday:
            return "☼ HOL"
        if self.weekend:
            return "◇ WKND"
        return ""

    def to_json(self) -> dict[str, Any]:
        return {
            "covered": self.covered,
            "shift": self.shift,
            "on_call": self.on_call,
            "weekend": self.weekend,
            "holiday": self.holiday,
        }


@dataclass(frozen=True, slots=True)
class SeenOn:
    """Another source that delivered the same post (the same link) as an item.

    ``id`` is the id that source's copy would have had; it is not stored as an item of
    its own (the item it points from is the one row for that post).
    """

    source: str
    id: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "id": self.id}


#: The engagement of a post whose platform reports none (shared: :class:`Engagement` is frozen).
NO_ENGAGEMENT = Engagement()

#: What a list row shows for an item with neither title nor text (``(no text) host``).
NO_TEXT = "(no text)"
#: What is shown instead of a time for an item whose source gave no usable date.
DATE_UNKNOWN = "date unknown"


@dataclass(slots=True)
class Item:
    """One mention, post, comment or article from one source.

    Every text field is already clean (see :mod:`watchtower.core.text.safetext`) when it is
    built through :meth:`create`, which every connector uses.

    Identity is per source: ``id`` is ``platform:source:native-id`` (:func:`stable_id`),
    so two feeds on one platform that both number their posts ``1, 2, 3`` keep all of
    them.  Items stored before this rule keep the id they were stored under
    (``platform:native-id``, :attr:`legacy_id`); see :meth:`Monitor.ingest
    <watchtower.core.pipeline.monitor.Monitor.ingest>`.
    """

    id: str
    platform: str
    source: str
    author: str
    author_name: str
    author_followers: int | None
    text: str
    url: str | None
    published: datetime
    language: str | None = None
    engagement: Engagement = NO_ENGAGEMENT
    in_reply_to: str | None = None
    title: str = ""
    native_id: str = ""
    # Filled in by triage.
    severity: Severity = Severity.INFO
    category: Category = Category.OTHER
    reasons: list[str] = field(default_factory=list)
    reach: Reach = field(default_factory=Reach)
    coverage: Coverage = field(default_factory=Coverage)
    spike: bool = False
    ambassador: bool = False
    own_account: str | None = None
    # Added later; every one has a default, so older JSON reads as before.
    content_warning: str = ""
    """A Mastodon content warning (``spoiler_text``): the list row shows this, not the text."""
    edited_at: datetime | None = None
    """When the author last edited the post (Mastodon ``edited_at``); ``None``: never."""
    date_unknown: bool = False
    """The source gave no usable date (none, unreadable, or absurd: year 1, 9999, epoch 0,
    far future).  ``published`` then holds when the item *arrived*, for sorting only."""
    also_seen_on: Sequence[SeenOn] = ()
    """Other sources that delivered the same link; their copies are folded into this item.

    Empty: the shared ``()``, not a list per item (nearly every item has none).  Never
    changed in place: a new sequence replaces it (a UI may be reading the one it holds)."""

    @classmethod
    def create(
        cls,
        *,
        platform: str,
        source: str,
        native_id: str | None,
        author: object,
        text: object,
        published: datetime | None,
        author_name: object = None,
        author_followers: object = None,
        url: object = None,
        language: object = None,
        engagement: Engagement | None = None,
        in_reply_to: object = None,
        title: object = None,
        fallback_key: str = "",
        content_warning: object = None,
        edited_at: datetime | None = None,
    ) -> Item:
        """Build an item from untrusted fields: clean, clip and default every one.

        ``published=None`` means the date is unknown: the item is flagged
        :attr:`date_unknown` and stamped with the time it arrived (for sorting only).
        """
        clean_author = one_line(author, limit=200) or "unknown"
        clean_title = one_line(title, limit=2048)
        clean_text = clean(text, limit=MAX_TEXT).strip()
        clean_url = safe_url(url)
        nid = one_line(native_id, limit=512) if native_id else ""
        if not nid:
            # No guid: a hash of what identifies the post, so re-polls map to one id.
            nid = "h:" + hashlib.sha1(
                "\x1f".join([clean_url or "", clean_title, clean_text[:500], fallback_key]).encode(
                    "utf-8", "surrogatepass"
                )
            ).hexdigest()[:20]
        return cls(
            id=stable_id(platform, nid, source=source),
            platform=platform,
            source=source,
            author=clean_author,
            author_name=(
                clean_author if author_name is None or author_name is author
                else one_line(author_name, limit=200) or clean_author
            ),
            author_followers=None if author_followers is None else _as_count(author_followers),
            text=clean_text or clean_title,
            url=clean_url,
            published=published or utcnow(),
            language=None if language is None else _language(language),
            engagement=engagement or NO_ENGAGEMENT,
            in_reply_to=None if in_reply_to is None else one_line(in_reply_to, limit=512) or None,
            title=clean_title,
            native_id=nid,
            content_warning=one_line(content_warning, limit=500) if content_warning else "",
            edited_at=edited_at,
            date_unknown=published is None,
        )

    @property
    def legacy_id(self) -> str:
        """The id this item had before identity was per source (``platform:native-id``)."""
        return legacy_id(self.platform, self.native_id)

    @property
    def edited(self) -> bool:
        """The author edited the post (the item holds the latest version we fetched)."""
        return self.edited_at is not None

    @property
    def published_known(self) -> datetime | None:
        """``published``, or ``None`` when the source gave no usable date: show
        :data:`DATE_UNKNOWN` where the time or age would be (the row still sorts by
        ``published``, which is then when the item arrived)."""
        return None if self.date_unknown else self.published

    @property
    def headline(self) -> str:
        """One line for a list row.

        A content warning (never the text behind it), else the title for articles, else
        the text; an item with none of them reads ``(no text) host`` (or ``(no text)``).
        """
        if self.content_warning:
            return one_line(f"CW: {self.content_warning}", limit=400)
        line = one_line(self.title or self.text, limit=400)
        if line:
            return line
        host = url_host(self.url) if self.url else ""
        return f"{NO_TEXT} {host}" if host else NO_TEXT

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform": self.platform,
            "source": self.source,
            "author": self.author,
            "author_name": self.author_name,
            "author_followers": self.author_followers,
            "text": self.text,
            "title": self.title or None,
            "url": self.url,
            "published": _iso_z(self.published),
            "language": self.language,
            "engagement": self.engagement.to_json(),
            "in_reply_to": self.in_reply_to,
            "native_id": self.native_id,
            "severity": _SEVERITY_LABELS[self.severity],
            "category": self.category.value,
            "reasons": list(self.reasons),
            "reach": self.reach.to_json(),
            "coverage": self.coverage.to_json(),
            "spike": self.spike,
            "ambassador": self.ambassador,
            "own_account": self.own_account,
            "content_warning": self.content_warning or None,
            "edited_at": None if self.edited_at is None else _iso_z(self.edited_at),
            "date_unknown": self.date_unknown,
            "also_seen_on": [s.to_json() for s in self.also_seen_on],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        """Rebuild an item from :meth:`to_json` output (or the skeleton fields alone).

        The input may come from a file a stranger wrote, so it goes through
        :meth:`create` again; triage fields are restored when present.
        """
        eng = data.get("engagement") or {}
        if not isinstance(eng, dict):
            eng = {}
        platform = one_line(data.get("platform"), limit=64) or "unknown"
        edited = data.get("edited_at")
        item = cls.create(
            platform=platform,
            source=one_line(data.get("source"), limit=128) or platform,
            native_id=data.get("native_id") or data.get("id"),
            author=data.get("author"),
            author_name=data.get("author_name"),
            author_followers=data.get("author_followers"),
            text=data.get("text"),
            title=data.get("title"),
            url=data.get("url"),
            published=parse_time_or_none(data.get("published")),
            language=data.get("language"),
            engagement=Engagement(
                reposts=_as_count(eng.get("reposts")),
                likes=_as_count(eng.get("likes")),
                replies=_as_count(eng.get("replies")),
            ),
            in_reply_to=data.get("in_reply_to"),
            content_warning=data.get("content_warning"),
            edited_at=None if edited in (None, "") else parse_time_or_none(edited),
        )
        if data.get("date_unknown") is True:
            item.date_unknown = True  # ``published`` is when it arrived, as stored
        seen_on = data.get("also_seen_on")
        if isinstance(seen_on, list) and seen_on:
            item.also_seen_on = [
                SeenOn(one_line(s.get("source"), limit=128), one_line(s.get("id"), limit=600))
                for s in seen_on[:50]
                if isinstance(s, dict) and s.get("source") and s.get("id")
            ]
        if isinstance(data.get("id"), str) and data["id"].startswith(platform + ":"):
            item.id = one_line(data["id"], limit=600)
        try:
            item.severity = Severity.parse(data.get("severity", "info"))
        except (KeyError, ValueError):
            pass
        try:
            item.category = Category(data.get("category", "other"))
        except ValueError:
            pass
        reasons = data.get("reasons")
        if isinstance(reasons, list):
            item.reasons = [one_line(r, limit=300) for r in reasons[:50]]
        reach = data.get("reach")
        if isinstance(reach, dict):
            item.reach = Reach(_as_count(reach.get("followers")), _as_count(reach.get("estimated_audience")))
        cov = data.get("coverage")
        if isinstance(cov, dict):
            item.coverage = Coverage(
                covered=bool(cov.get("covered", True)),
                shift=one_line(cov.get("shift"), limit=64) or None,
                on_call=one_line(cov.get("on_call"), limit=64) or None,
                weekend=bool(cov.get("weekend", False)),
                holiday=one_line(cov.get("holiday"), limit=64) or None,
            )
        item.spike = bool(data.get("spike", False))
        item.ambassador = bool(data.get("ambassador", False))
        item.own_account = one_line(data.get("own_account"), limit=200) or None
        return item


def dedupe(items: Iterable[Item]) -> list[Item]:
    """One item per id, in the order ids first appear.

    Of two versions of one post (a response listing a status and then its edit), the one
    with the later ``edited_at`` is kept; otherwise the first.
    """
    index: dict[str, int] = {}
    out: list[Item] = []
    for item in items:
        at = index.get(item.id)
        if at is None:
            index[item.id] = len(out)
            out.append(item)
        elif item.edited_at is not None:
            held = out[at].edited_at
            if held is None or item.edited_at > held:
                out[at] = item
    return out


_LANGUAGES: dict[str, str | None] = {}


def _language(value: object) -> str | None:
    """``'en-GB'``, ``'EN_us'`` -> ``'en'``; the few distinct values are remembered."""
    if type(value) is str:
        found = _LANGUAGES.get(value, "")
        if found != "":
            return found
    lang: str | None = one_line(value, limit=16).lower() or None
    if lang:
        lang = lang.replace("_", "-").split("-")[0] or None
    if type(value) is str and len(value) <= 64:
        if len(_LANGUAGES) >= 1000:
            _LANGUAGES.clear()
        _LANGUAGES[value] = lang
    return lang


def _iso_z(dt: datetime) -> str:
    """``2026-11-15T11:54:00Z``: ISO 8601 in UTC."""
    if dt.tzinfo is not timezone.utc:
        dt = dt.astimezone(timezone.utc)
    return dt.isoformat().replace("+00:00", "Z")


def stable_id(platform: str, native_id: str, *, source: str | None = None) -> str:
    """``platform:source:native-id``; the same post polled twice gets the same id.

    The source name is percent-encoded (``:``, spaces...), so no two sources can make the
    same id.  Without ``source``: the legacy form (:func:`legacy_id`).
    """
    if source is None:
        return legacy_id(platform, native_id)
    return f"{platform}:{_source_key(source)}:{native_id}"


@lru_cache(maxsize=1024)
def _source_key(source: str) -> str:
    return quote(source, safe="")


def legacy_id(platform: str, native_id: str) -> str:
    """``platform:native-id``, the id items had before identity was per source."""
    return f"{platform}:{native_id}"


def _as_count(value: object) -> int | None:
    """A non-negative int from whatever a server sent (``"1.2k"`` is not guessed at)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 10**15 else None  # 10**400 would overflow float maths
    if isinstance(value, float):
        if value != value or value < 0 or value > 1e15:
            return None
        return int(value)
    if isinstance(value, str):
        s = value.strip().replace(",", "").replace("_", "")
        # isascii: "²" and other digits int() refuses pass str.isdigit()
        if s.isascii() and s.isdigit() and len(s) < 16:
            return int(s)
    return None


_UTC = timezone.utc
_MIN_TIME = datetime(1990, 1, 1, tzinfo=_UTC)


def parse_iso(value: object) -> datetime | None:
    """One of our own ISO 8601 stamps read back (log entries, due times): aware UTC, or ``None``.

    Unlike :func:`parse_time_or_none`, which judges a stranger's date, any date is accepted,
    the future included (a post scheduled for next week); naive means UTC.
    """
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)


def parse_time(value: object, *, now: datetime | None = None) -> datetime:
    """Parse a timestamp from a stranger into an aware UTC datetime, or ``now``.

    :func:`parse_time_or_none`, with ``now`` (that very object, when given) in place of
    ``None``: impossible or absurd dates cannot overflow local-time conversion or sort
    above everything else.  Items use :func:`parse_time_or_none`, so that such a date is
    shown as unknown rather than as "now".
    """
    if now is None:
        now = utcnow()
    dt = parse_time_or_none(value, now=now)
    return now if dt is None else dt


def parse_time_or_none(value: object, *, now: datetime | None = None) -> datetime | None:
    """An aware UTC datetime from a stranger's timestamp, or ``None`` if there is no usable one.

    Accepts ISO 8601 strings, RFC 2822 strings, epoch seconds and aware/naive datetimes
    (naive is UTC).  Unreadable values and absurd dates (before 1990, so year 0001 and
    epoch 0; more than a day in the future, so year 9999) are ``None``.
    """
    dt: datetime | None = None
    if type(value) is str:
        # The common case first: an ISO 8601 string in UTC ('...+00:00' or '...Z').  Any
        # string this parses is read the same way by the general path below.
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if dt.tzinfo is _UTC:
                now = now or utcnow()
                if dt < _MIN_TIME or (dt - now).total_seconds() > 86400:
                    return None
                return dt
    now = now or utcnow()
    dt = None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            dt = datetime.fromtimestamp(float(value), timezone.utc)
        except (OverflowError, OSError, ValueError):
            dt = None
    elif isinstance(value, str) and value.strip():
        s = value.strip()
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                dt = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                dt = None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        dt = dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    if dt < _MIN_TIME or (dt - now).total_seconds() > 86400:
        return None
    return dt
