"""The TOML configuration: strict models, one clear error per mistake.

Which file is read, by whom:

=============================  ==================================================
file                           read by
=============================  ==================================================
``--config PATH``              every command, first choice
``$WATCHTOWER_CONFIG``         every command, when ``--config`` is not given
``<user config dir>/config.toml``  (platformdirs) when neither is given
*(none of these)*              the bare ``watchtower`` TUI runs the built-in demo;
                               every other command stops (exit 2) unless ``--demo``
                               (``log``/``handover`` also run with ``--data-dir``)
``[triage] rules``             triage: extra keyword rules, relative to the config
``[replies] templates_dir``    the response panel: Jinja2 templates per language
=============================  ==================================================

A mistake (unknown key, wrong type, bad URL, missing file, TOML syntax) raises
:class:`ConfigError` naming the file, the key and what was expected; the CLI prints it and
exits 2.  No traceback reaches the user.

This module is not UI: it imports neither textual nor rich.
"""

# No ``from __future__ import annotations`` here: msgspec would evaluate every annotation
# string (a compile each) on the first parse, about 5 ms of the start; real annotation
# objects cost nothing to read.
import os
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, Literal, Union
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

from .errors import ConfigError, NoConfigError, WatchtowerError  # defined there; still importable here

__all__ = [
    "Config",
    "ConfigError",
    "WatchtowerError",
    "load_config",
    "parse_config",
    "find_config",
    "require_config",
    "check_environment",
    "NoConfigError",
    "SourceConfig",
    "PACKAGE_CONFIG_DIR",
]

#: The example config, default rules and templates shipped with the package.
PACKAGE_CONFIG_DIR = Path(__file__).resolve().parent / "data"


# ----------------------------------------------------------------------------- models
#
# The models are msgspec Structs checked with ``msgspec.convert(data, Model, strict=True)``:
# no coercion (an int is accepted where a float goes and becomes one; a bool is neither),
# unknown keys are errors, bounds and lengths come from ``Annotated[T, Meta(...)]``.  What
# msgspec cannot say declaratively (a URL, a time zone, an env var name) is a
# ``Annotated[T, Check(func)]`` run from ``__post_init__``; rules across fields are
# ``_check``.  :func:`explain` turns msgspec's first error into the key and the words a user
# sees.


class Check:
    """``Annotated[T, Check(func)]``: after the type and bounds, ``func(value)`` returns the
    value to keep or raises ``ValueError("a ...")`` saying what was expected.  ``None`` (an
    optional field left out) is not checked."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func


class FieldProblem(ValueError):
    """A :class:`Check` failed: the field, and what was expected there."""

    def __init__(self, field: str, words: str) -> None:
        super().__init__(f"{field}: {words}")
        self.field = field
        self.words = words


_CHECKS: dict[type, tuple[tuple[str, Callable[[Any], Any]], ...]] = {}


def _checks_of(cls: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    checks = _CHECKS.get(cls)
    if checks is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        checks = tuple(
            (name, meta.func)
            for name in cls.__struct_fields__  # type: ignore[attr-defined]
            for meta in _check_marks(hints[name])
        )
        _CHECKS[cls] = checks
    return checks


def _check_marks(tp: Any) -> list[Check]:
    if typing.get_origin(tp) is Union or typing.get_origin(tp) is types.UnionType:  # ``Annotated[...] | None``
        return [mark for arg in typing.get_args(tp) for mark in _check_marks(arg)]
    return [mark for mark in getattr(tp, "__metadata__", ()) if isinstance(mark, Check)]


class _StrictMeta(msgspec.StructMeta):
    """Every model keyword-only with unknown keys rejected; constructors validate."""

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **options: Any) -> Any:
        options.setdefault("kw_only", True)
        options.setdefault("forbid_unknown_fields", True)
        return super().__new__(mcls, name, bases, namespace, **options)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if args:  # copy and pickle rebuild an already valid object from its field values
            return super().__call__(*args, **kwargs)
        # Keyword construction (tests, defaults) is checked like a document; ``kind=...``
        # is accepted too, and must match the class's tag.
        return msgspec.convert(kwargs, cls, strict=True)


class StrictModel(msgspec.Struct, metaclass=_StrictMeta):
    """A strict model with the few helpers the code uses: ``model_validate``, ``model_dump``,
    ``model_copy``.  Assigning to an attribute later is not checked."""

    def __post_init__(self) -> None:
        for name, check in _checks_of(type(self)):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                kept = check(value)
            except FieldProblem as exc:  # about one entry of a table (``headers.X-Trace``)
                raise FieldProblem(f"{name}.{exc.field}", exc.words) from None
            except ValueError as exc:
                raise FieldProblem(name, str(exc)) from None
            if kept is not value:
                setattr(self, name, kept)
        self._check()

    def _check(self) -> None:
        """Rules across fields; raise ``ValueError`` with the words to show."""

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        """A model from a parsed document, or :class:`msgspec.ValidationError`."""
        return msgspec.convert(data, cls, strict=True)

    def model_dump(self) -> dict[str, Any]:
        """Fields as plain data, nested models too (a source's ``kind`` included)."""
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Any:
        """A shallow copy with ``update`` applied; the update is not type-checked."""
        new = msgspec.structs.replace(self, **(update or {}))
        extra = getattr(self, "__dict__", None)  # Config's path and demo
        if extra:
            new.__dict__.update(extra)
        return new


# -- turning msgspec's first error into a key and plain words --------------------------

_AT = re.compile(r" - at `(\$[^`]*)`$")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|(\[\.\.\.\])")
_WORDS = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
          "array": "a list", "object": "a table"}
_COMPARE = {">=": "greater than or equal to", ">": "greater than", "<=": "less than or equal to", "<": "less than"}


def _unwrap(tp: Any, value: Any = None) -> Any:
    """``tp`` without ``Annotated`` and ``| None``; a tagged union narrowed by the value's tag."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
            found = [m for m in members if isinstance(value, dict) and _tag(m) is not None
                     and value.get(m.__struct_config__.tag_field) == _tag(m)]
            if len(found) != 1:
                return tp
            tp = found[0]
        else:
            return tp


def _tag(tp: Any) -> Any:
    config = getattr(tp, "__struct_config__", None)
    return None if config is None else config.tag


def _union_tags(tp: Any) -> tuple[str | None, list[str]]:
    """A tagged union's tag field and tags, or ``(None, [])``."""
    if typing.get_origin(tp) not in (Union, types.UnionType):
        return None, []
    members = [a for a in typing.get_args(tp) if _tag(a) is not None]
    if not members:
        return None, []
    return members[0].__struct_config__.tag_field, sorted(str(_tag(m)) for m in members)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _fits(value: Any, tp: Any) -> bool:
    try:
        msgspec.convert(value, tp, strict=True)
    except msgspec.ValidationError:
        return False
    return True


def _walk(model: type, data: Any, path: str) -> tuple[list[Any], Any, Any, Any]:
    """Follow msgspec's ``$.a[0].b`` through the document and the models.

    Returns the key parts, the value found there, its annotation and its parent's.  A dict
    value (``[...]`` in msgspec's path) is the dict's first entry that does not fit.
    """
    loc: list[Any] = []
    value: Any = data
    tp: Any = model
    parent: Any = None
    for name, index, any_key in _STEP.findall(path):
        parent = tp = _unwrap(tp, value)
        if index:
            i = int(index)
            loc.append(i)
            value = value[i] if isinstance(value, list) and i < len(value) else None
            tp = typing.get_args(tp)[0] if typing.get_origin(tp) is list else Any
        elif any_key:
            item_tp = typing.get_args(tp)[1] if typing.get_origin(tp) is dict else Any
            key = next((k for k, v in value.items() if not _fits(v, item_tp)), None) if isinstance(value, dict) else None
            loc.append(key if key is not None else "?")
            value = value.get(key) if isinstance(value, dict) else None
            tp = item_tp
        else:
            loc.append(name)
            value = value.get(name) if isinstance(value, dict) else None
            tp = typing.get_type_hints(tp, include_extras=True).get(name, Any) if _is_model(tp) else Any
    return loc, value, tp, parent


def _format_loc(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _expect(words: str) -> str:
    return "expected " + words if words.startswith(("a ", "an ", "the ")) else words


def _noun(tp: Any, msgspec_name: str) -> str:
    """What a value of this annotation is, in a user's words."""
    tp = _unwrap(tp)
    if typing.get_origin(tp) is Literal:
        shown = [repr(v) for v in typing.get_args(tp)]
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    for name in msgspec_name.split(" | "):  # "str | null": TOML has no null
        if name in _WORDS:
            return _WORDS[name]
    return f"`{msgspec_name}`"


def _number(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


def explain(exc: msgspec.ValidationError, data: Any, model: type, *, unknown_key: str) -> tuple[str, str]:
    """The key (``sources[0].url``) and the expected words for msgspec's error about ``data``."""
    message = str(exc)
    at = _AT.search(message)
    body = message[: at.start()] if at else message
    loc, value, tp, parent = _walk(model, data, at.group(1) if at else "$")
    cause = exc.__cause__
    if isinstance(cause, FieldProblem):  # a Check on one field
        return _format_loc([*loc, cause.field]), _expect(cause.words)
    if isinstance(cause, ValueError):  # a rule across fields, about the table at loc
        return _format_loc(loc), _expect(str(cause))
    tag_field, tags = _union_tags(_unwrap(tp, value))
    parent_tag_field, parent_tags = _union_tags(parent)
    if parent_tags and loc and loc[-1] == parent_tag_field:  # a bad ``kind``: name the table
        return _format_loc(loc[:-1]), f"{parent_tag_field} must be one of: {', '.join(parent_tags)}"
    if m := re.fullmatch(r"Object contains unknown field `(.*)`", body, re.S):
        name = m.group(1)
        model_here = _unwrap(tp, value)
        if isinstance(value, dict) and _is_model(model_here):
            known = set(model_here.__struct_fields__)
            known.add(model_here.__struct_config__.tag_field)
            name = next((k for k in value if k not in known), name)
        return _format_loc([*loc, name]), unknown_key
    if m := re.fullmatch(r"Object missing required field `(.*)`", body, re.S):
        if tags and m.group(1) == tag_field:
            return _format_loc(loc), f"missing {tag_field} (one of: {', '.join(tags)})"
        return _format_loc([*loc, m.group(1)]), "required key is missing"
    if body.startswith(("Invalid value ", "Invalid enum value ")):
        return _format_loc(loc), "expected " + _noun(tp, "")
    if m := re.fullmatch(r"Expected `([^`]*)`, got `([^`]*)`", body):
        got = type(value).__name__ if value is not None else m.group(2)
        return _format_loc(loc), f"expected {_noun(tp, m.group(1))} (got {got})"
    if m := re.fullmatch(r"Expected `([^`]*)` (>=|>|<=|<) (\S+)", body):
        bound = f"{_COMPARE[m.group(2)]} {_number(m.group(3))}"
        return _format_loc(loc), f"expected {_noun(tp, m.group(1))} {bound} (got {value!r})"
    if m := re.fullmatch(r"Expected `([^`]*)` of length (>=|<=) (\d+)", body):
        n = int(m.group(3))
        unit = ("character" if m.group(1) == "str" else "item") + ("" if n == 1 else "s")
        size = f" (got {len(value)})" if isinstance(value, (str, list, dict)) else ""
        most = "at least" if m.group(2) == ">=" else "at most"
        return _format_loc(loc), f"expected {_noun(tp, m.group(1))} of {most} {n} {unit}{size}"
    return _format_loc(loc), "expected " + body[:1].lower() + body[1:]


# ----------------------------------------------------------------------------- the config


_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")
_COLOURS = (
    "red", "green", "yellow", "blue", "magenta", "cyan", "white",
    "bright_red", "bright_green", "bright_yellow", "bright_blue", "bright_magenta", "bright_cyan",
)


_URL_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")


def _check_http_url(value: str) -> str:
    bad = _URL_BAD_CHARS.search(value)
    if bad is not None:
        what = "a space" if bad.group() == " " else f"the control character {bad.group()!r}"
        raise ValueError(f"a URL without spaces or control characters (found {what} at position {bad.start() + 1}; write a space as %20)")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ValueError(f"a http:// or https:// URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a http:// or https:// URL with a host")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        shown = parts.netloc.rpartition(":")[2]
        raise ValueError(f"a URL whose port is a number from 1 to 65535 (got {shown!r})")
    return value


#: RFC 9110 ``token``: what a header name may be made of.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Control characters other than tab: CR/LF would split the request (header injection).
_HEADER_VALUE_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _check_headers(value: dict[str, str]) -> dict[str, str]:
    for name, text in value.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(
                f"header names of letters, digits and !#$%&'*+-.^_`|~ only (got {name!r}: no spaces, CR or LF)"
            )
        bad = _HEADER_VALUE_BAD.search(text)
        if bad is not None:
            raise FieldProblem(name, f"a header value without CR, LF or other control characters (found {bad.group()!r})")
    return value


def _check_env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError("the name of an environment variable (letters, digits, _), not the secret itself")
    return value


def _check_env_names(value: list[str]) -> list[str]:
    for name in value:
        _check_env_name(name)
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("an IANA time zone name such as 'Europe/Amsterdam'") from None
    return value


def _check_time(value: str) -> str:
    if not _TIME_RE.match(value):
        raise ValueError("a time of day as \"HH:MM\" (24-hour), in quotes")
    return value


def _check_country(value: str) -> str | None:
    if value == "":
        return None
    import holidays as _holidays

    if value.upper() not in _holidays.list_supported_countries():
        raise ValueError("a country code the 'holidays' package knows, such as \"NL\" or \"GB\"")
    return value.upper()


HttpUrl = Annotated[str, Check(_check_http_url)]
EnvName = Annotated[str, Check(_check_env_name)]
NonEmpty = Annotated[str, Meta(min_length=1)]


class Account(StrictModel):
    """One of the organisation's own accounts, always shown with the same colour and name."""

    platform: NonEmpty
    """The platform name as used by the sources (for example ``"Mastodon"``)."""
    handle: NonEmpty
    """The handle as it appears on items (``"@library@social.example"``, ``"library.bsky.social"``)."""
    name: str = ""
    """A display name for the header; defaults to the handle."""
    colour: Literal[_COLOURS] = "cyan"  # type: ignore[valid-type]
    """A fixed colour for this account, from the 16-colour palette."""
    token_env: EnvName | None = None
    """Env var holding an API token for posting replies (Mastodon)."""
    password_env: EnvName | None = None
    """Env var holding an app password for posting replies (Bluesky)."""
    api_url: HttpUrl | None = None
    """The API base for posting (Mastodon instance, Bluesky PDS)."""
    disclaimer: Annotated[str, Meta(max_length=500)] = ""
    """A line the reply templates put under public posts from this account
    (``{{ disclaimer }}``); the length counter counts it.  Overrides ``[replies] disclaimers``."""


class Organisation(StrictModel):
    name: str = "Our organisation"
    timezone: Annotated[str, Check(_check_timezone)] = "UTC"
    """IANA time zone (``Europe/Amsterdam``); coverage is judged here, not in the server's zone."""
    qa_url: HttpUrl | None = None
    """The public Q&A page that holding statements link to."""
    contact_email: str | None = None
    staff_apprise_env: EnvName | None = None
    """Env var holding the Apprise URL the staff briefing is sent to (``mailto://...``, a
    Teams or Slack webhook); unset: the briefing is copied, not sent."""
    default_language: Literal["en", "nl"] = "en"
    post_languages: list[str] = msgspec.field(default_factory=lambda: ["en", "nl"])
    accounts: list[Account] = []

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class _SourceBase(StrictModel, tag_field="kind"):
    """One ``[[sources]]`` table; ``kind`` (the msgspec tag) picks the subclass."""

    name: Annotated[str, Meta(min_length=1, max_length=64)]
    """A unique name for the source (used in logs and ``watchtower check``)."""
    platform: Annotated[str, Meta(min_length=1, max_length=32)]
    """The pane this source feeds; several sources may share a platform."""
    interval: Annotated[float, Meta(ge=5, le=86400)] = 120.0
    """Seconds between polls."""
    weight: Annotated[float, Meta(ge=0, le=10)] = 1.0
    """Source weight in triage: a national news site outweighs a forum."""
    enabled: bool = True
    timeout: Annotated[float, Meta(gt=0, le=120)] = 30.0
    """Total deadline for one fetch, in seconds."""
    headers: Annotated[dict[str, str], Check(_check_headers)] = {}
    """Extra request headers (never secrets: use the *_env keys)."""

    @property
    def kind(self) -> str:
        """``rss``, ``mastodon``, ... (the ``kind`` key of the table)."""
        return type(self).__struct_config__.tag  # type: ignore[return-value]


class RssSource(_SourceBase, tag="rss"):
    url: HttpUrl


class MastodonSource(_SourceBase, tag="mastodon"):
    url: HttpUrl
    """The instance base URL (``https://mastodon.social``)."""
    mode: Literal["tag", "search", "mentions"] = "tag"
    tag: str | None = None
    query: str | None = None
    token_env: EnvName | None = None
    """Env var with an access token (needed for search and mentions)."""
    limit: Annotated[int, Meta(ge=1, le=40)] = 40

    def _check(self) -> None:
        if self.mode == "tag" and not self.tag:
            raise ValueError("mode 'tag' needs tag = \"yourtag\"")
        if self.mode == "search" and not self.query:
            raise ValueError("mode 'search' needs query = \"...\"")
        if self.mode == "mentions" and not self.token_env:
            raise ValueError("mode 'mentions' needs token_env naming the env var with a token")


class BlueskySource(_SourceBase, tag="bluesky"):
    url: HttpUrl = "https://public.api.bsky.app"
    """The AppView (public) or PDS base URL."""
    mode: Literal["search", "author"] = "search"
    query: str | None = None
    actor: str | None = None
    handle_env: EnvName | None = None
    password_env: EnvName | None = None
    auth_url: HttpUrl = "https://bsky.social"
    """Where ``createSession`` is called when handle/password are given."""
    limit: Annotated[int, Meta(ge=1, le=100)] = 50

    def _check(self) -> None:
        if self.mode == "search" and not self.query:
            raise ValueError("mode 'search' needs query = \"...\"")
        if self.mode == "author" and not self.actor:
            raise ValueError("mode 'author' needs actor = \"handle.bsky.social\"")


class RedditSource(_SourceBase, tag="reddit"):
    url: HttpUrl = "https://www.reddit.com"
    mode: Literal["search", "subreddit"] = "search"
    query: str | None = None
    subreddit: str | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 50

    def _check(self) -> None:
        if self.mode == "search" and not self.query:
            raise ValueError("mode 'search' needs query = \"...\"")
        if self.mode == "subreddit" and not self.subreddit:
            raise ValueError("mode 'subreddit' needs subreddit = \"name\"")


class JsonMapping(StrictModel):
    """Where the items are in a JSON document and which field is which.

    Paths are dotted (``data.items``, ``user.followers``); ``""`` means the root.
    """

    items: str = ""
    id: str = "id"
    author: str = "author"
    author_name: str | None = None
    text: str = "text"
    title: str | None = None
    url: str | None = "url"
    published: str | None = "published"
    followers: str | None = None
    language: str | None = None
    reposts: str | None = None
    likes: str | None = None
    replies: str | None = None
    in_reply_to: str | None = None
    html: bool | None = None
    """Text and title are HTML (``true``), plain (``false``); unset: obvious HTML is converted."""


class JsonSource(_SourceBase, tag="json"):
    url: HttpUrl
    mapping: JsonMapping = msgspec.field(default_factory=JsonMapping)
    token_env: EnvName | None = None
    """Env var with a bearer token, sent as ``Authorization: Bearer``."""


class InboxSource(_SourceBase, tag="inbox"):
    path: str
    """A directory of ``*.jsonl`` files that other tools drop in; each is read once."""
    mapping: JsonMapping = msgspec.field(default_factory=JsonMapping)


#: One ``[[sources]]`` table: the ``kind`` key picks the class.
SourceConfig = Union[RssSource, MastodonSource, BlueskySource, RedditSource, JsonSource, InboxSource]


class Shift(StrictModel):
    name: NonEmpty
    days: Annotated[list[Literal[_DAYS]], Meta(min_length=1)]  # type: ignore[valid-type]
    start: Annotated[str, Check(_check_time)]
    end: Annotated[str, Check(_check_time)]
    """Exclusive; a shift whose end is not after its start crosses midnight."""
    on_call: str = ""
    backup: str = ""
    """Who is alerted next when the on-call person does not acknowledge in time ([alerts.escalation])."""
    apprise_url_envs: Annotated[list[str], Check(_check_env_names)] = []
    """Env vars holding the Apprise URLs of this shift's own alert targets (a shift phone, a channel)."""


def _check_people(value: dict[str, list[str]]) -> dict[str, list[str]]:
    for name, envs in value.items():
        try:
            _check_env_names(envs)
        except ValueError as exc:
            raise FieldProblem(name, str(exc)) from None
    return value


class Rota(StrictModel):
    holidays: Annotated[str, Check(_check_country)] | None = None
    """A country code for the ``holidays`` package (``"NL"``); on those days regular shifts do not apply."""
    subdivision: str | None = None
    shift: list[Shift] = []
    people: Annotated[dict[str, list[str]], Check(_check_people)] = {}
    """Person -> env vars holding their Apprise URLs: an alert follows the person on call, overrides included."""


class Spike(StrictModel):
    window_minutes: Annotated[float, Meta(gt=0, le=1440)] = 10
    baseline_windows: Annotated[int, Meta(ge=2, le=1000)] = 12
    factor: Annotated[float, Meta(ge=1)] = 3.0
    min_count: Annotated[int, Meta(ge=1)] = 5


class Triage(StrictModel):
    online_fraction: Annotated[float, Meta(gt=0, le=1)] = 0.14
    """Share of followers online at once (the seed measured 14% at peak)."""
    rules: str | None = None
    """An extra rules file (TOML), relative to this config; merged over the defaults."""
    ambassadors: list[str] = []
    """Trusted accounts (handles) whose posts are marked as ambassador posts."""
    spike: Spike = msgspec.field(default_factory=Spike)
    crisis_boost: Annotated[int, Meta(ge=0, le=2)] = 1
    """Severity levels added to medium-and-up items while crisis mode is on."""
    model: bool = True
    """Read each post with the shipped triage model as well as the rules (``false``: the
    rules alone; see docs/triage-evaluation.md for what each gets right)."""


class Replies(StrictModel):
    templates_dir: str | None = None
    """Directory with ``en/`` and ``nl/`` Jinja2 templates; defaults to the built-in ones."""
    reply_window_hours: Annotated[float, Meta(ge=0)] = 24
    """Warn before a second reply to the same author within this window."""
    correction_repost_hours: Annotated[float, Meta(gt=0)] = 3
    disclaimers: dict[str, Annotated[str, Meta(max_length=500)]] = {}
    """Platform name -> the disclaimer line for our public posts there (``{{ disclaimer }}``),
    for accounts without a ``disclaimer`` of their own."""


class EscalateAfter(StrictModel):
    """Minutes per severity; 0 = that severity does not escalate."""

    critical: Annotated[float, Meta(ge=0, le=1440)] = 10
    high: Annotated[float, Meta(ge=0, le=1440)] = 30
    medium: Annotated[float, Meta(ge=0, le=1440)] = 0
    low: Annotated[float, Meta(ge=0, le=1440)] = 0
    info: Annotated[float, Meta(ge=0, le=1440)] = 0


class Escalation(StrictModel):
    after_minutes: EscalateAfter = msgspec.field(default_factory=EscalateAfter)
    """Per severity: minutes an alerted item may stay unacknowledged before the next step
    (the shift's backup, then the fallback); 0 = never."""
    fallback_url_envs: Annotated[list[str], Check(_check_env_names)] = []
    """Env vars with Apprise URLs alerted while nobody is on call, and as the last step.
    Empty: ``apprise_urls`` and ``apprise_url_envs`` of [alerts] are the fallback."""
    page_within_hours: Annotated[float, Meta(gt=0, le=720)] = 24
    """``watchtower escalate-due`` pages items published this recently that nobody was alerted about."""


class Alerts(StrictModel):
    min_severity: Literal["info", "low", "medium", "high", "critical"] = "high"
    """Alert on items at or above this severity, always."""
    uncovered_min_severity: Literal["info", "low", "medium", "high", "critical"] = "medium"
    """During uncovered hours, alert from this severity."""
    bell: bool = True
    desktop: bool = False
    """Desktop notifications through the terminal (OSC 777 and OSC 9); opt-in."""
    apprise_urls: list[str] = []
    """Apprise URLs without secrets (``ntfy://ntfy.sh/topic``)."""
    apprise_url_envs: Annotated[list[str], Check(_check_env_names)] = []
    """Env vars that each hold an Apprise URL with its secret."""
    cooldown_seconds: Annotated[float, Meta(ge=0)] = 300
    stale_after_intervals: Annotated[int, Meta(ge=1)] = 3
    cooldown_scope: Literal["global", "platform"] = "global"
    """Which alerts share a cooldown: all item alerts (``global``) or those of one platform."""
    remind_after_seconds: Annotated[float, Meta(ge=0)] = 0
    """Repeat a reminder for alerted items nobody acknowledged after this long; 0 = never."""
    escalation: Escalation = msgspec.field(default_factory=Escalation)
    """Routing to whoever is on call, and escalation of unacknowledged alerts (core/respond/escalation.py)."""


class Data(StrictModel):
    dir: str | None = None
    """Where the handover log and item archive live; default: the platformdirs user data dir."""
    group_shared: bool = False
    """Create files 0660 (for a team group on a shared box) instead of 0600."""
    retention_days: Annotated[float, Meta(gt=0)] = 7


class Ui(StrictModel):
    theme: str = "textual-dark"
    mouse: bool = True
    keymap: dict[str, str] = {}
    """Binding id -> key, to remap keys (``{ "claim" = "ctrl+k" }``)."""


class Config(StrictModel, dict=True):
    operator: str | None = None
    """Who you are in the log; default: ``--operator``, ``$WATCHTOWER_OPERATOR``, the OS user."""
    organisation: Organisation = msgspec.field(default_factory=Organisation)
    sources: list[SourceConfig] = []
    rota: Rota = msgspec.field(default_factory=Rota)
    triage: Triage = msgspec.field(default_factory=Triage)
    replies: Replies = msgspec.field(default_factory=Replies)
    alerts: Alerts = msgspec.field(default_factory=Alerts)
    data: Data = msgspec.field(default_factory=Data)
    ui: Ui = msgspec.field(default_factory=Ui)

    # Not keys of the file (``dict=True`` lets an instance set them): where it came from,
    # for relative paths and messages, and whether it is the built-in demo.
    path: ClassVar[Path | None] = None
    demo: ClassVar[bool] = False

    def _check(self) -> None:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"source names must be unique; '{source.name}' appears twice")
            seen.add(source.name)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else PACKAGE_CONFIG_DIR

    def resolve(self, relative: str | None) -> Path | None:
        """A path from the config, relative to the config file's folder."""
        if not relative:
            return None
        p = Path(os.path.expanduser(relative))
        return p if p.is_absolute() else self.base_dir / p

    @property
    def platforms(self) -> list[str]:
        """Pane names, in config order, each once."""
        out: list[str] = []
        for s in self.sources:
            if s.enabled and s.platform not in out:
                out.append(s.platform)
        return out


def user_config_path() -> Path:
    """``<user config dir>/config.toml`` (platformdirs), whether or not it exists."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("watchtower")) / "config.toml"


def require_config(explicit: str | Path | None = None, *, hint: str = "pass --config or --demo") -> Path:
    """Like :func:`find_config`, but no config is :class:`NoConfigError` naming where it looked."""
    path = find_config(explicit)
    if path is None:
        raise NoConfigError(f"no config found (looked in $WATCHTOWER_CONFIG (not set) and {user_config_path()}); {hint}")
    return path


def find_config(explicit: str | Path | None = None) -> Path | None:
    """The config file to use, or ``None`` for the demo.  An explicit path must exist."""
    if isinstance(explicit, str) and not explicit.strip():
        # ``--config "$CFG"`` with CFG unset: an error, not the demo in place of the config.
        raise ConfigError("--config", None, "expected the path of a config file, got an empty string")
    if explicit:
        return Path(explicit)
    env = os.environ.get("WATCHTOWER_CONFIG")
    if env:
        return Path(env)
    candidate = user_config_path()
    return candidate if candidate.is_file() else None


#: The env vars a source reads its secrets from, and what each should hold.
_SOURCE_SECRETS = (
    ("token_env", "an access token"),
    ("handle_env", "the Bluesky handle"),
    ("password_env", "a Bluesky app password"),
)


def check_environment(config: Config, env: "typing.Mapping[str, str] | None" = None) -> None:
    """Every env var an enabled source names is set, or :class:`ConfigError` names the first missing.

    Run before polling (``check``, ``fetch``): a missing secret is a mistake in the setup,
    exit 2, not a source that failed.
    """
    env = os.environ if env is None else env
    for index, source in enumerate(config.sources):
        if not source.enabled:
            continue
        for field, what in _SOURCE_SECRETS:
            name = getattr(source, field, None)
            if name and not env.get(name, "").strip():
                raise ConfigError(
                    config.path, f"sources[{index}].{field}",
                    f"environment variable {name} is not set (it should hold {what} for source '{source.name}')",
                )


#: How deep tables and arrays may nest; a real config needs four or five levels.
MAX_DEPTH = 32


def _too_deep(data: Any, limit: int = MAX_DEPTH) -> list[Any] | None:
    """The key of the first value nested deeper than ``limit``, or ``None`` (no recursion)."""
    stack: list[tuple[Any, list[Any]]] = [(data, [])]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, dict):
            children: Any = value.items()
        elif isinstance(value, list):
            children = enumerate(value)
        else:
            continue
        if len(loc) >= limit:
            return loc
        for key, child in children:
            stack.append((child, [*loc, key]))
    return None


def parse_config(data: dict[str, Any], *, path: Path | None = None) -> Config:
    """Validate an already-parsed TOML document."""
    deep = _too_deep(data)
    if deep is not None:
        raise ConfigError(path, _format_loc(deep), f"tables and arrays nested more than {MAX_DEPTH} levels deep (a config needs a few)")
    try:
        cfg: Config = msgspec.convert(data, Config, strict=True)
    except msgspec.ValidationError as exc:
        key, expected = explain(exc, data, Config, unknown_key=_UNKNOWN_KEY)
        raise ConfigError(path, key, expected) from None
    cfg.path = path
    return cfg


_UNKNOWN_KEY = "unknown key (check the spelling; see config/watchtower.example.toml)"


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(p, None, "file not found (pass --config PATH, or set WATCHTOWER_CONFIG)")
    if not p.is_file():
        raise ConfigError(p, None, "not a file")
    import tomllib  # here: the TUI started with a parsed config (tests, bench) never needs it

    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(p, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(p, None, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(p, None, f"TOML syntax error: {exc}") from None
    except RecursionError:
        raise ConfigError(
            p, None, f"tables or arrays nested too deeply to read (a config needs a few levels; at most {MAX_DEPTH})"
        ) from None
    cfg = parse_config(data, path=p.resolve())
    rules = cfg.resolve(cfg.triage.rules)
    if rules is not None and not rules.is_file():
        what = "expected a rules file (TOML), not a directory" if rules.is_dir() else "file not found"
        raise ConfigError(p, "triage.rules", f"{what}: {rules}")
    tdir = cfg.resolve(cfg.replies.templates_dir)
    if tdir is not None and not tdir.is_dir():
        what = "expected a directory, not a file" if tdir.exists() else "directory not found"
        raise ConfigError(p, "replies.templates_dir", f"{what}: {tdir}")
    return cfg
