"""Reply templates, language choice, the Q&A-link check and the reply-once guard.

Templates
---------
One Jinja2 file per kind and language: ``{templates_dir}/{language}/{kind}.j2``.  The
built-in set lives in ``config/templates`` (:data:`~watchtower.config.PACKAGE_CONFIG_DIR`);
``[replies] templates_dir`` points at the organisation's own, and a kind missing there
falls back to the built-in one.  Kinds shipped: :data:`KINDS`.

They are rendered in an ``ImmutableSandboxedEnvironment`` with ``StrictUndefined`` and no
autoescaping (the output is plain text for a social post).  Item fields are passed as
*values* in the context, cleaned with :func:`~watchtower.core.text.safetext.one_line`; they are
never part of template source, so a post saying ``{{ 7*7 }}`` renders as exactly that.
Every problem (a syntax error, an undefined variable, a missing file, a sandbox refusal)
raises :class:`TemplateError` whose message names the file and line.

Variables every template can use (all strings, ``""`` when unknown):

=================  ==========================================================
``author``         the item's author handle, as on the item (``bob@social.example``)
``mention``        that handle as a mention (``@bob@social.example``)
``author_name``    the author's display name
``platform``       the item's platform (``"Mastodon"``)
``our_account``    our handle on that platform (see :func:`account_for`)
``our_account_name``  its display name
``organisation``   the organisation's name
``qa_url``         the Q&A page (``[organisation] qa_url``)
``contact_email``  the public contact address
``item_text``      the item's text on one line, clipped to 500 characters
``item_excerpt``   the same, clipped to 80 characters
``item_url``       the item's link
``item_time``      when the item was published, organisation time (``14:02``)
``now`` / ``time`` the local time now (``14:05``)
``today``          the local date (``2025-03-14``)
``language``       ``"en"`` or ``"nl"``
``topic``          what it is about, from ``extra`` (default ``""``)
``details``        free text from the operator, from ``extra`` (default ``""``)
``disclaimer``     the disclaimer line for our account on that platform
                   (``disclaimer`` of the account, else ``[replies]
                   disclaimers``; ``""`` when none): the public templates end
                   with it, so the length counter counts it
=================  ==========================================================

``extra`` may add or override string values (keys must be identifiers); they are cleaned
like item fields.

Reply once
----------
The Dutch seed (docs/product.md): "Als je zelf reageert op berichten, doe je dat maar
1 keer. Een tweede, of erger, derde antwoord is een discussie."  :func:`check_reply_once`
takes the replies we already sent as plain :class:`PreviousReply` values (the UI adapts
log entries with :meth:`PreviousReply.from_log`) and says so when the item is in a thread
we replied in, or from an author we replied to within ``[replies] reply_window_hours``.

A reply typed on the platform itself (in the web app, on a phone) counts too: our own
accounts' posts that the sources deliver, in reply to something, are replies
(:func:`platform_replies`); :func:`previous_replies` gives the log's and those together,
and :func:`replied_on_platform` says which items they answer (the row state).

Before anything goes out
------------------------
:func:`post_as` is the account line every copy and post shows ("post as Riverside
Library @riverside@mastodon.example on Mastodon", in the account's colour): on X, Facebook
and Instagram the paste into a browser is where the wrong-account slip happens.
:func:`qa_problem` is the crisis-mode check: while crisis mode is on, every outgoing text
(post, schedule, copy) without the Q&A URL asks for a confirmation first.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from ...config import PACKAGE_CONFIG_DIR
from ...errors import TemplateError
from ..models import Category, Item, stable_id, utcnow
from ..text.lang import detect_language
from ..text.safetext import clean, one_line
from ..text.textlength import platform_key

if TYPE_CHECKING:
    from ...config import Account, Config

__all__ = [
    "KINDS",
    "PUBLIC_KINDS",
    "QA_LINK_KINDS",
    "SUPPORTED_LANGUAGES",
    "TemplateError",
    "ReplyTemplates",
    "choose_language",
    "account_for",
    "missing_qa_link",
    "PreviousReply",
    "ReplyWarning",
    "ReplyGuard",
    "check_reply_once",
    "thread_key",
    "BUILTIN_TEMPLATES_DIR",
    "AccountLabel",
    "post_as",
    "copy_target",
    "disclaimer_for",
    "qa_problem",
    "platform_replies",
    "previous_replies",
    "replied_on_platform",
]

#: Every reply kind shipped, in both languages.
KINDS: tuple[str, ...] = (
    "apology-light",
    "apology-serious",
    "correction",
    "correction-repost",
    "grievance-public",
    "holding-statement",
    "spam-notice",
    "hacked-notice",
    "staff-briefing",
    "thanks",
)
#: Kinds that are posted publicly (and so must fit the platform's length limit).
PUBLIC_KINDS: frozenset[str] = frozenset(KINDS) - {"staff-briefing"}
#: Kinds that must carry the Q&A link.
QA_LINK_KINDS: frozenset[str] = frozenset({"holding-statement", "hacked-notice"})
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "nl")
BUILTIN_TEMPLATES_DIR = PACKAGE_CONFIG_DIR / "templates"

_KIND_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class ReplyTemplates:
    """The reply templates for one config.  Cheap to build; templates are cached by Jinja2
    and reloaded when their file changes (operators edit them in place)."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config
        user_dir = config.resolve(config.replies.templates_dir) if config is not None else None
        self.directory: Path = user_dir if user_dir is not None else BUILTIN_TEMPLATES_DIR
        """Where the organisation's templates are read from (the built-ins if not configured)."""
        self.search_path: list[Path] = [self.directory]
        if self.directory.resolve() != BUILTIN_TEMPLATES_DIR.resolve():
            self.search_path.append(BUILTIN_TEMPLATES_DIR)
        self._env = ImmutableSandboxedEnvironment(
            loader=jinja2.FileSystemLoader([str(p) for p in self.search_path], encoding="utf-8"),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            # No trim_blocks: a newline after {% endif %} in a briefing is meant.
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=True,
        )

    # -- discovery ---------------------------------------------------------------------

    def kinds(self, language: str = "en") -> list[str]:
        """The kinds available in ``language``: shipped ones first, then the organisation's own."""
        found: set[str] = set()
        for base in self.search_path:
            folder = base / language
            if folder.is_dir():
                found.update(p.stem for p in folder.glob("*.j2") if _KIND_RE.match(p.stem))
        return [k for k in KINDS if k in found] + sorted(found - set(KINDS))

    def path(self, kind: str, language: str = "en") -> Path:
        """The file that :meth:`render` would read for this kind (for "edit template")."""
        _check_names(kind, language)
        for base in self.search_path:
            candidate = base / language / f"{kind}.j2"
            if candidate.is_file():
                return candidate
        return self.directory / language / f"{kind}.j2"

    # -- rendering ---------------------------------------------------------------------

    def context(
        self,
        item: Item | None,
        *,
        language: str = "en",
        account: Account | None = None,
        extra: Mapping[str, object] | None = None,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The variables a template sees (see the module docstring)."""
        config = self.config
        org = config.organisation if config is not None else None
        tz = _tz(config)
        now_local = (now or utcnow()).astimezone(tz)
        if account is None and item is not None and config is not None:
            account = account_for(item, config)
        author = one_line(item.author, limit=200) if item else ""
        ctx: dict[str, str] = {
            "author": author,
            "mention": _mention(author),
            "author_name": one_line(item.author_name, limit=200) if item else "",
            "platform": one_line(item.platform, limit=64) if item else "",
            "our_account": one_line(account.handle, limit=200) if account else "",
            "our_account_name": one_line(account.name or account.handle, limit=200) if account else "",
            "organisation": one_line(org.name, limit=200) if org else "",
            "qa_url": one_line(org.qa_url, limit=2048) if org and org.qa_url else "",
            "contact_email": one_line(org.contact_email, limit=320) if org and org.contact_email else "",
            "item_text": one_line(item.text, limit=500) if item else "",
            "item_excerpt": one_line(item.text, limit=80) if item else "",
            "item_url": one_line(item.url, limit=2048) if item and item.url else "",
            "item_time": item.published.astimezone(tz).strftime("%H:%M") if item else "",
            "now": now_local.strftime("%H:%M"),
            "time": now_local.strftime("%H:%M"),
            "today": now_local.strftime("%Y-%m-%d"),
            "language": language,
            "topic": "",
            "details": "",
            "disclaimer": one_line(
                disclaimer_for(config, account.platform if account else item.platform if item else None, account),
                limit=500,
            ),
        }
        for key, value in (extra or {}).items():
            if not isinstance(key, str) or not _VAR_RE.match(key):
                raise TemplateError(None, f"extra variable name {key!r} is not an identifier")
            # Operator text may span lines (a staff briefing); item text never does.
            ctx[key] = clean(value if value is not None else "", limit=4000).strip()
        return ctx

    def render(
        self,
        kind: str,
        item: Item | None,
        *,
        language: str = "en",
        account: Account | None = None,
        extra: Mapping[str, object] | None = None,
        now: datetime | None = None,
    ) -> str:
        """Render the ``kind`` template for ``item``; raises :class:`TemplateError` only."""
        _check_names(kind, language)
        name = f"{language}/{kind}.j2"
        ctx = self.context(item, language=language, account=account, extra=extra, now=now)
        try:
            template = self._env.get_template(name)
        except jinja2.TemplateNotFound:
            where = " or ".join(str(p / language) for p in self.search_path)
            raise TemplateError(self.path(kind, language), f"no template '{kind}' for language '{language}' in {where}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(exc.filename or self.path(kind, language), f"template syntax error: {exc.message}", line=exc.lineno) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(self.path(kind, language), f"cannot be read: {exc}") from None
        try:
            text = template.render(ctx)
        except jinja2.UndefinedError as exc:
            known = ", ".join(sorted(ctx))
            raise TemplateError(
                template.filename, f"{exc.message} (variables you can use: {known})", line=_template_line(exc, template.filename)
            ) from None
        except SecurityError as exc:
            raise TemplateError(template.filename, f"not allowed in a template: {exc}", line=_template_line(exc, template.filename)) from None
        except jinja2.TemplateError as exc:
            raise TemplateError(template.filename, f"template error: {exc}", line=_template_line(exc, template.filename)) from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            raise TemplateError(
                template.filename, f"template error: {type(exc).__name__}: {exc}", line=_template_line(exc, template.filename)
            ) from None
        return _tidy(text)


def _check_names(kind: str, language: str) -> None:
    # Both become path parts: no "../", no separators.
    if not _KIND_RE.match(kind or ""):
        raise TemplateError(None, f"not a template kind: {kind!r}")
    if not _KIND_RE.match(language or ""):
        raise TemplateError(None, f"not a language code: {language!r}")


def _template_line(exc: BaseException, filename: str | None) -> int | None:
    """The template line an error came from (Jinja2 rewrites tracebacks to point at it)."""
    if not filename:
        return None
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


_BLANK_RUN = re.compile(r"\n{3,}")
_TRAILING_WS = re.compile(r"[ \t]+\n")


def _tidy(text: str) -> str:
    text = clean(text, limit=None)
    text = _TRAILING_WS.sub("\n", text)
    return _BLANK_RUN.sub("\n\n", text).strip()


def _tz(config: Config | None) -> ZoneInfo | timezone:
    if config is None:
        return timezone.utc
    try:
        return config.organisation.tz
    except Exception:  # noqa: BLE001 - a bad zone was already reported by the config check
        return timezone.utc


def _mention(author: str) -> str:
    if not author or author == "unknown":
        return ""
    return author if author.startswith("@") else "@" + author


# --- language ---------------------------------------------------------------------------

def choose_language(item: Item | None, config: Config | None = None) -> Literal["en", "nl"]:
    """The template language for a reply: the feed's language if we have templates for it,
    else a light detection on the text, else ``[organisation] default_language``."""
    default: str = config.organisation.default_language if config is not None else "en"
    if item is not None:
        lang = (item.language or "").lower().split("-")[0]
        if lang in SUPPORTED_LANGUAGES:
            return lang  # type: ignore[return-value]
        detected = detect_language(item.text or item.title or "")  # the one detector (text/lang.py)
        if detected in SUPPORTED_LANGUAGES:
            return detected  # type: ignore[return-value]
    return default if default in SUPPORTED_LANGUAGES else "en"  # type: ignore[return-value]


# --- accounts and the Q&A link ---------------------------------------------------------


def account_for(item: Item, config: Config) -> Account | None:
    """Our account on the item's platform: the seed's "answer on the platform where it
    started".  ``None`` when we have no account there (copy the text and reply by hand)."""
    want = platform_key(item.platform) or item.platform.casefold().strip()
    for account in config.organisation.accounts:
        have = platform_key(account.platform) or account.platform.casefold().strip()
        if have == want:
            return account
    return None


@dataclass(frozen=True, slots=True)
class AccountLabel:
    """Where a text goes out: "post as <name> <handle> on <platform>", in the account's colour.

    ``account`` None: we have no account on that platform; ``text`` says so and ``colour``
    is None (show it as a warning).
    """

    text: str
    colour: str | None
    platform: str
    account: Account | None = None
    name: str = ""
    handle: str = ""


def post_as(account: Account | None, platform: str | None = None) -> AccountLabel:
    """The account line for a confirmation or a copy: ``post as Riverside Library
    @riverside@mastodon.example on Mastodon`` and the account's fixed colour."""
    where = one_line(platform or (account.platform if account else ""), limit=40) or "this platform"
    if account is None:
        return AccountLabel(
            f"no account of ours on {where}: post it from the right account by hand", None, where
        )
    handle = one_line(account.handle, limit=100)
    name = one_line(account.name, limit=100)
    who = f"{name} {handle}" if name and name != handle else handle
    return AccountLabel(f"post as {who} on {where}", account.colour, where, account, name or handle, handle)


def copy_target(item: Item, config: Config) -> AccountLabel:
    """Where to paste a copied reply to ``item``: our account on its platform (:func:`post_as`)."""
    return post_as(account_for(item, config), item.platform)


def disclaimer_for(config: Config | None, platform: str | None, account: Account | None = None) -> str:
    """The disclaimer line for our public posts: the account's own ``disclaimer``, else
    ``[replies] disclaimers`` for the platform (matched like :func:`account_for`), else ``""``."""
    if account is not None and account.disclaimer:
        return account.disclaimer
    if config is None or not platform:
        return ""
    if account is None:
        account = _account_on(platform, config)
        if account is not None and account.disclaimer:
            return account.disclaimer
    want = platform_key(platform) or platform.casefold().strip()
    for name, line in config.replies.disclaimers.items():
        if (platform_key(name) or name.casefold().strip()) == want:
            return line
    return ""


def _account_on(platform: str, config: Config) -> Account | None:
    want = platform_key(platform) or platform.casefold().strip()
    for account in config.organisation.accounts:
        if (platform_key(account.platform) or account.platform.casefold().strip()) == want:
            return account
    return None


def _norm_url(url: str) -> str:
    url = url.strip().rstrip("/")
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.casefold()
    host, slash, path = rest.partition("/")
    host = host.casefold().removeprefix("www.")
    return f"{host}{slash}{path}"


def missing_qa_link(
    kind: str,
    text: str,
    config: Config | None,
    *,
    category: Category | str | None = None,
    crisis: bool = False,
) -> bool:
    """True when a reply that should link the Q&A page doesn't.

    Holding statements and hacked notices always should, and during a crisis (crisis mode
    on, ``crisis``, or an item in the crisis ``category``) so should every outgoing text.
    Also true when the text needs the link but no ``qa_url`` is configured.  ``http`` vs
    ``https``, ``www.`` and a trailing slash don't matter.
    """
    needs = crisis or kind in QA_LINK_KINDS or (category is not None and str(category) == Category.CRISIS.value)
    if not needs:
        return False
    qa_url = config.organisation.qa_url if config is not None else None
    if not qa_url:
        return True
    want = _norm_url(qa_url)
    tokens = (token.rstrip(".,;:!?)]}'\"…") for token in re.findall(r"\S+", text))
    return not any(_norm_url(token).startswith(want) for token in tokens)


def qa_problem(
    text: str,
    config: Config | None,
    *,
    crisis: bool,
    kind: str | None = None,
    category: Category | str | None = None,
) -> str | None:
    """Why ``text`` needs a confirmation before it goes out (post, schedule or copy), or ``None``.

    While crisis mode is on (``crisis``) every outgoing text should link the Q&A page, so
    answers stay consistent and nobody is drawn into a discussion; holding statements and
    hacked notices always should.  The message is one line, ready for a confirmation.
    """
    if not missing_qa_link(kind or "", text, config, category=category, crisis=crisis):
        return None
    why = "Crisis mode is on" if crisis else f"A {kind or 'crisis'} text should link the Q&A page"
    qa_url = config.organisation.qa_url if config is not None else None
    if not qa_url:
        return f"{why}, and no Q&A page is configured (organisation.qa_url): nothing to link to."
    return f"{why}: this text has no link to the Q&A page ({one_line(qa_url, limit=200)})."


# --- reply once -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreviousReply:
    """A reply we already sent, as the reply-once guard needs it.

    ``thread`` is :func:`thread_key` of the item we replied to; ``author`` is that item's
    author.  The handover log stores replied/posted entries with
    ``data={"author": ..., "thread": ...}``: build these with :meth:`from_log`.
    """

    operator: str
    ts: datetime
    author: str | None = None
    thread: str | None = None
    platform: str | None = None
    on_platform: bool = False
    """Made on the platform itself (seen as our account's post), not through watchtower;
    ``operator`` is then our account's handle."""
    url: str | None = None

    @classmethod
    def from_log(
        cls,
        *,
        operator: object,
        ts: datetime | str | float,
        data: Mapping[str, object] | None = None,
        platform: object = None,
    ) -> PreviousReply:
        """Adapt a log entry (``operator``, ``ts``, ``data={"author", "thread", "platform"}``)."""
        from ..models import parse_time

        data = data or {}
        when = ts if isinstance(ts, datetime) else parse_time(ts)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return cls(
            operator=one_line(operator, limit=64) or "someone",
            ts=when,
            author=one_line(data.get("author"), limit=200) or None,
            thread=one_line(data.get("thread"), limit=600) or None,
            platform=one_line(platform or data.get("platform"), limit=64) or None,
        )


@dataclass(frozen=True, slots=True)
class ReplyWarning:
    """Why a second reply would start a discussion; ``message`` is ready to show."""

    message: str
    reason: Literal["thread", "author"]
    previous: PreviousReply


def thread_key(item: Item) -> str:
    """What identifies the conversation an item belongs to: the post it replies to, or
    the item itself.  Store this as ``thread`` when you log a reply."""
    return item.in_reply_to or item.id


def _item_threads(item: Item) -> set[str]:
    keys = {item.id, item.native_id, thread_key(item)}
    if item.in_reply_to:
        # The id the post replied to has (or had, before ids were per source: the first).
        keys.add(f"{item.platform}:{item.in_reply_to}")
        keys.add(stable_id(item.platform, item.in_reply_to, source=item.source))
    return {k for k in keys if k}


def _norm_author(author: str | None) -> str:
    return (author or "").strip().lstrip("@").casefold()


def _same_platform(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return True  # unknown: don't let a missing field hide a warning
    return (platform_key(a) or a.casefold()) == (platform_key(b) or b.casefold())


def check_reply_once(
    item: Item,
    previous: Iterable[PreviousReply],
    *,
    now: datetime | None = None,
    window: timedelta | float = 24.0,
    tz: ZoneInfo | timezone | None = None,
    operator: str | None = None,
) -> ReplyWarning | None:
    """A warning if replying to ``item`` would be our second word, else ``None``.

    - same thread (the item, or the post it replies to, is a thread we replied in): always;
    - same author on the same platform, within ``window`` (a timedelta, or hours) before ``now``.

    The most recent matching reply is reported.  ``operator`` is the person about to reply,
    so the message says "You" for their own earlier reply.
    """
    now = now or utcnow()
    span = window if isinstance(window, timedelta) else timedelta(hours=float(window))
    threads = _item_threads(item)
    author = _norm_author(item.author)
    by_thread: PreviousReply | None = None
    by_author: PreviousReply | None = None
    for prev in previous:
        if not _same_platform(prev.platform, item.platform):
            continue
        if prev.thread and prev.thread in threads:
            if by_thread is None or prev.ts > by_thread.ts:
                by_thread = prev
        elif author and _norm_author(prev.author) == author and now - prev.ts <= span:
            if by_author is None or prev.ts > by_author.ts:
                by_author = prev
    hit = by_thread or by_author
    if hit is None:
        return None
    reason: Literal["thread", "author"] = "thread" if by_thread else "author"
    who = "You" if operator and operator.casefold() == hit.operator.casefold() else hit.operator
    when = hit.ts.astimezone(tz or timezone.utc)
    at = when.strftime("%H:%M") if now - hit.ts < timedelta(hours=20) else when.strftime("%Y-%m-%d %H:%M")
    target = _mention(one_line(hit.author, limit=200)) if hit.author else "this author"
    place = " in this thread" if reason == "thread" else ""
    if hit.on_platform:
        where = f" on {one_line(hit.platform, limit=40)} itself" if hit.platform else " on the platform itself"
        who = f"Our account {one_line(hit.operator, limit=100)}"
        if not hit.author:
            target = "this thread" if reason == "thread" else target
            place = ""
        message = f"{who} replied to {target}{place}{where} at {at}. A second reply starts a discussion."
    else:
        message = f"{who} replied to {target}{place} at {at}. A second reply starts a discussion."
    return ReplyWarning(message=message, reason=reason, previous=hit)


class ReplyGuard:
    """:func:`check_reply_once` with the window and time zone from the config."""

    def __init__(self, config: Config | None = None) -> None:
        self.window = timedelta(hours=config.replies.reply_window_hours if config is not None else 24.0)
        self.tz = _tz(config)

    def check(
        self,
        item: Item,
        previous: Iterable[PreviousReply],
        *,
        now: datetime | None = None,
        operator: str | None = None,
    ) -> ReplyWarning | None:
        return check_reply_once(item, previous, now=now, window=self.window, tz=self.tz, operator=operator)


# --- replies made on the platform itself ---------------------------------------------------


def _ours(item: Item, config: Config) -> Account | None:
    """Our account that posted ``item`` (triage's ``own_account``, or the author's handle)."""
    author = _norm_author(item.author)
    own = _norm_author(item.own_account)
    for account in config.organisation.accounts:
        if not _same_platform(account.platform, item.platform) or not account.platform:
            continue
        handle = _norm_author(account.handle)
        if handle in (author, own) or ("@" not in author and author == handle.split("@")[0]):
            return account
    return None


def platform_replies(items: Iterable[Item], config: Config) -> list[PreviousReply]:
    """Our accounts' own posts among ``items`` that reply to something, as replies.

    Somebody answered in the app or on a phone: that is our word in the thread as much as
    a reply sent from here.  ``thread`` is the post it answers (so the guard matches that
    post and every other reply to it); ``author`` is that post's author when it is among
    ``items``.
    """
    pool = list(items)
    by_native: dict[tuple[str, str], Item] = {}
    for it in pool:
        if it.native_id:
            by_native[(platform_key(it.platform) or it.platform.casefold(), it.native_id)] = it
    out: list[PreviousReply] = []
    for it in pool:
        if not it.in_reply_to:
            continue
        account = _ours(it, config)
        if account is None:
            continue
        parent = by_native.get((platform_key(it.platform) or it.platform.casefold(), it.in_reply_to))
        out.append(
            PreviousReply(
                operator=one_line(account.handle, limit=100),
                ts=it.published,
                author=parent.author if parent is not None and _ours(parent, config) is None else None,
                thread=it.in_reply_to,
                platform=it.platform,
                on_platform=True,
                url=it.url,
            )
        )
    return out


def previous_replies(
    entries: Iterable[Any], items: Iterable[Item], config: Config
) -> list[PreviousReply]:
    """Every reply the guard should know: the log's ``replied``/``posted`` entries and our
    accounts' replies on the platforms (:func:`platform_replies`)."""
    logged = [
        PreviousReply.from_log(operator=e.operator, ts=e.ts, data=e.data, platform=e.platform)
        for e in entries
        if e.kind in ("replied", "posted") and (e.data.get("thread") or e.data.get("author"))
    ]
    return logged + platform_replies(items, config)


def replied_on_platform(items: Iterable[Item], config: Config) -> dict[str, PreviousReply]:
    """``item id -> our reply`` for items our accounts answered on the platform itself
    (the row state "replied on <platform>"); the latest reply when there are several."""
    pool = list(items)
    replies = platform_replies(pool, config)
    out: dict[str, PreviousReply] = {}
    for it in pool:
        keys = {it.native_id, f"{it.platform}:{it.native_id}"} - {""}
        for reply in replies:
            if reply.thread in keys and _same_platform(reply.platform, it.platform):
                if it.id not in out or reply.ts > out[it.id].ts:
                    out[it.id] = reply
    return out

