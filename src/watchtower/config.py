"""The TOML configuration: strict models, one clear error per mistake.

Which file is read, by whom:

=============================  ==================================================
file                           read by
=============================  ==================================================
``--config PATH``              every command, first choice
``$WATCHTOWER_CONFIG``         every command, when ``--config`` is not given
``<user config dir>/config.toml``  (platformdirs) when neither is given
*(none of these)*              the TUI and ``fetch --demo`` run the built-in demo
``[triage] rules``             triage: extra keyword rules, relative to the config
``[replies] templates_dir``    the response panel: Jinja2 templates per language
=============================  ==================================================

A mistake (unknown key, wrong type, bad URL, missing file, TOML syntax) raises
:class:`ConfigError` naming the file, the key and what was expected; the CLI prints it and
exits 2.  No traceback reaches the user.

This module is not UI: it imports neither textual nor rich.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .schema import Field, Model, ValidationError

__all__ = [
    "Config",
    "ConfigError",
    "WatchtowerError",
    "load_config",
    "parse_config",
    "find_config",
    "SourceConfig",
    "PACKAGE_CONFIG_DIR",
]

#: The example config, default rules and templates shipped with the package.
PACKAGE_CONFIG_DIR = Path(__file__).resolve().parent / "data"


class WatchtowerError(Exception):
    """The root of watchtower's own errors; the CLI turns these into messages, not tracebacks."""


class ConfigError(WatchtowerError):
    """A config problem: which file, which key, what was expected."""

    def __init__(self, file: str | Path | None, key: str | None, expected: str) -> None:
        self.file = str(file) if file else "<config>"
        self.key = key or ""
        self.expected = expected
        where = f"{self.file}: {self.key}" if self.key else self.file
        super().__init__(f"{where}: {expected}")


class _Model(Model):
    """Strict, no unknown keys (see :mod:`watchtower.schema`)."""


_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")
_COLOURS = (
    "red", "green", "yellow", "blue", "magenta", "cyan", "white",
    "bright_red", "bright_green", "bright_yellow", "bright_blue", "bright_magenta", "bright_cyan",
)


def _check_http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ValueError(f"a http:// or https:// URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a http:// or https:// URL with a host")
    return value


def _check_env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError("the name of an environment variable (letters, digits, _), not the secret itself")
    return value


def _opt_url(value: str | None) -> str | None:
    return value if value is None else _check_http_url(value)


def _opt_env(value: str | None) -> str | None:
    return value if value is None else _check_env_name(value)


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


def _check_country(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    import holidays as _holidays

    if value.upper() not in _holidays.list_supported_countries():
        raise ValueError("a country code the 'holidays' package knows, such as \"NL\" or \"GB\"")
    return value.upper()


class Account(_Model):
    """One of the organisation's own accounts, always shown with the same colour and name."""

    platform: str = Field(min_length=1)
    """The platform name as used by the sources (for example ``"Mastodon"``)."""
    handle: str = Field(min_length=1)
    """The handle as it appears on items (``"@library@social.example"``, ``"library.bsky.social"``)."""
    name: str = ""
    """A display name for the header; defaults to the handle."""
    colour: Literal[_COLOURS] = "cyan"  # type: ignore[valid-type]
    """A fixed colour for this account, from the 16-colour palette."""
    token_env: str | None = Field(None, check=_opt_env)
    """Env var holding an API token for posting replies (Mastodon)."""
    password_env: str | None = Field(None, check=_opt_env)
    """Env var holding an app password for posting replies (Bluesky)."""
    api_url: str | None = Field(None, check=_opt_url)
    """The API base for posting (Mastodon instance, Bluesky PDS)."""


class Organisation(_Model):
    name: str = "Our organisation"
    timezone: str = Field("UTC", check=_check_timezone)
    """IANA time zone (``Europe/Amsterdam``); coverage is judged here, not in the server's zone."""
    qa_url: str | None = Field(None, check=_opt_url)
    """The public Q&A page that holding statements link to."""
    contact_email: str | None = None
    default_language: Literal["en", "nl"] = "en"
    post_languages: list[str] = Field(default_factory=lambda: ["en", "nl"])
    accounts: list[Account] = Field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class _SourceBase(_Model):
    name: str = Field(min_length=1, max_length=64)
    """A unique name for the source (used in logs and ``watchtower check``)."""
    platform: str = Field(min_length=1, max_length=32)
    """The pane this source feeds; several sources may share a platform."""
    interval: float = Field(default=120.0, ge=5, le=86400)
    """Seconds between polls."""
    weight: float = Field(default=1.0, ge=0, le=10)
    """Source weight in triage: a national news site outweighs a forum."""
    enabled: bool = True
    timeout: float = Field(default=30.0, gt=0, le=120)
    """Total deadline for one fetch, in seconds."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers (never secrets: use the *_env keys)."""


class RssSource(_SourceBase):
    kind: Literal["rss"]
    url: str = Field(check=_check_http_url)


class MastodonSource(_SourceBase):
    kind: Literal["mastodon"]
    url: str = Field(check=_check_http_url)
    """The instance base URL (``https://mastodon.social``)."""
    mode: Literal["tag", "search", "mentions"] = "tag"
    tag: str | None = None
    query: str | None = None
    token_env: str | None = Field(None, check=_opt_env)
    """Env var with an access token (needed for search and mentions)."""
    limit: int = Field(default=40, ge=1, le=40)

    def _check(self) -> None:
        if self.mode == "tag" and not self.tag:
            raise ValueError("mode 'tag' needs tag = \"yourtag\"")
        if self.mode == "search" and not self.query:
            raise ValueError("mode 'search' needs query = \"...\"")
        if self.mode == "mentions" and not self.token_env:
            raise ValueError("mode 'mentions' needs token_env naming the env var with a token")


class BlueskySource(_SourceBase):
    kind: Literal["bluesky"]
    url: str = Field("https://public.api.bsky.app", check=_check_http_url)
    """The AppView (public) or PDS base URL."""
    mode: Literal["search", "author"] = "search"
    query: str | None = None
    actor: str | None = None
    handle_env: str | None = Field(None, check=_opt_env)
    password_env: str | None = Field(None, check=_opt_env)
    auth_url: str = Field("https://bsky.social", check=_check_http_url)
    """Where ``createSession`` is called when handle/password are given."""
    limit: int = Field(default=50, ge=1, le=100)

    def _check(self) -> None:
        if self.mode == "search" and not self.query:
            raise ValueError("mode 'search' needs query = \"...\"")
        if self.mode == "author" and not self.actor:
            raise ValueError("mode 'author' needs actor = \"handle.bsky.social\"")


class RedditSource(_SourceBase):
    kind: Literal["reddit"]
    url: str = Field("https://www.reddit.com", check=_check_http_url)
    mode: Literal["search", "subreddit"] = "search"
    query: str | None = None
    subreddit: str | None = None
    limit: int = Field(default=50, ge=1, le=100)

    def _check(self) -> None:
        if self.mode == "search" and not self.query:
            raise ValueError("mode 'search' needs query = \"...\"")
        if self.mode == "subreddit" and not self.subreddit:
            raise ValueError("mode 'subreddit' needs subreddit = \"name\"")


class JsonMapping(_Model):
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


class JsonSource(_SourceBase):
    kind: Literal["json"]
    url: str = Field(check=_check_http_url)
    mapping: JsonMapping = Field(default_factory=JsonMapping)
    token_env: str | None = Field(None, check=_opt_env)
    """Env var with a bearer token, sent as ``Authorization: Bearer``."""


class InboxSource(_SourceBase):
    kind: Literal["inbox"]
    path: str
    """A directory of ``*.jsonl`` files that other tools drop in; each is read once."""
    mapping: JsonMapping = Field(default_factory=JsonMapping)


SourceConfig = Annotated[
    Union[RssSource, MastodonSource, BlueskySource, RedditSource, JsonSource, InboxSource],
    Field(discriminator="kind"),
]


class Shift(_Model):
    name: str = Field(min_length=1)
    days: list[Literal[_DAYS]] = Field(min_length=1)  # type: ignore[valid-type]
    start: str = Field(check=_check_time)
    end: str = Field(check=_check_time)
    """Exclusive; a shift whose end is not after its start crosses midnight."""
    on_call: str = ""


class Rota(_Model):
    holidays: str | None = Field(None, check=_check_country)
    """A country code for the ``holidays`` package (``"NL"``); on those days regular shifts do not apply."""
    subdivision: str | None = None
    shift: list[Shift] = Field(default_factory=list)


class Spike(_Model):
    window_minutes: float = Field(default=10, gt=0, le=1440)
    baseline_windows: int = Field(default=12, ge=2, le=1000)
    factor: float = Field(default=3.0, ge=1)
    min_count: int = Field(default=5, ge=1)


class Triage(_Model):
    online_fraction: float = Field(default=0.14, gt=0, le=1)
    """Share of followers online at once (the seed measured 14% at peak)."""
    rules: str | None = None
    """An extra rules file (TOML), relative to this config; merged over the defaults."""
    ambassadors: list[str] = Field(default_factory=list)
    """Trusted accounts (handles) whose posts are marked as ambassador posts."""
    spike: Spike = Field(default_factory=Spike)
    crisis_boost: int = Field(default=1, ge=0, le=2)
    """Severity levels added to medium-and-up items while crisis mode is on."""


class Replies(_Model):
    templates_dir: str | None = None
    """Directory with ``en/`` and ``nl/`` Jinja2 templates; defaults to the built-in ones."""
    reply_window_hours: float = Field(default=24, ge=0)
    """Warn before a second reply to the same author within this window."""
    correction_repost_hours: float = Field(default=3, gt=0)


class Alerts(_Model):
    min_severity: Literal["info", "low", "medium", "high", "critical"] = "high"
    """Alert on items at or above this severity, always."""
    uncovered_min_severity: Literal["info", "low", "medium", "high", "critical"] = "medium"
    """During uncovered hours, alert from this severity."""
    bell: bool = True
    desktop: bool = False
    """Desktop notifications through the terminal (OSC 777 and OSC 9); opt-in."""
    apprise_urls: list[str] = Field(default_factory=list)
    """Apprise URLs without secrets (``ntfy://ntfy.sh/topic``)."""
    apprise_url_envs: list[str] = Field(default_factory=list, check=lambda v: [_check_env_name(x) for x in v])
    """Env vars that each hold an Apprise URL with its secret."""
    cooldown_seconds: float = Field(default=300, ge=0)
    stale_after_intervals: int = Field(default=3, ge=1)
    cooldown_scope: Literal["global", "platform"] = "global"
    """Which alerts share a cooldown: all item alerts (``global``) or those of one platform."""
    remind_after_seconds: float = Field(default=0, ge=0)
    """Repeat a reminder for alerted items nobody acknowledged after this long; 0 = never."""


class Data(_Model):
    dir: str | None = None
    """Where the handover log and item archive live; default: the platformdirs user data dir."""
    group_shared: bool = False
    """Create files 0660 (for a team group on a shared box) instead of 0600."""
    retention_days: float = Field(default=7, gt=0)


class Ui(_Model):
    theme: str = "textual-dark"
    mouse: bool = True
    keymap: dict[str, str] = Field(default_factory=dict)
    """Binding id -> key, to remap keys (``{ "claim" = "ctrl+k" }``)."""


class Config(_Model):
    operator: str | None = None
    """Who you are in the log; default: ``--operator``, ``$WATCHTOWER_OPERATOR``, the OS user."""
    organisation: Organisation = Field(default_factory=Organisation)
    sources: list[SourceConfig] = Field(default_factory=list)
    rota: Rota = Field(default_factory=Rota)
    triage: Triage = Field(default_factory=Triage)
    replies: Replies = Field(default_factory=Replies)
    alerts: Alerts = Field(default_factory=Alerts)
    data: Data = Field(default_factory=Data)
    ui: Ui = Field(default_factory=Ui)

    # Not part of the file: where it came from, for relative paths and messages.
    path: Path | None = Field(default=None, exclude=True)
    demo: bool = Field(default=False, exclude=True)

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


def find_config(explicit: str | Path | None = None) -> Path | None:
    """The config file to use, or ``None`` for the demo.  An explicit path must exist."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("WATCHTOWER_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    candidate = Path(user_config_dir("watchtower")) / "config.toml"
    return candidate if candidate.is_file() else None


def _format_loc(loc: tuple[Any, ...], kinds: set[str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in kinds or str(part).startswith("function-after"):
            # The discriminated-union tag: not a key the user wrote.
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


_KINDS = {"rss", "mastodon", "bluesky", "reddit", "json", "inbox"}


def _expected(err: dict[str, Any]) -> str:
    etype = err.get("type", "")
    msg = str(err.get("msg", ""))
    if etype == "extra_forbidden":
        return "unknown key (check the spelling; see config/watchtower.example.toml)"
    if etype == "missing":
        return "required key is missing"
    if etype == "union_tag_invalid":
        return "kind must be one of: " + ", ".join(sorted(_KINDS))
    if etype == "union_tag_not_found":
        return "missing kind (one of: " + ", ".join(sorted(_KINDS)) + ")"
    if etype == "literal_error":
        return "expected " + msg.removeprefix("Input should be ")
    if msg.startswith("Value error, "):
        msg = msg.removeprefix("Value error, ")
        return "expected " + msg if msg.startswith(("a ", "an ", "the ")) else msg
    got = err.get("input")
    got_type = type(got).__name__ if got is not None else "nothing"
    return f"expected {msg.removeprefix('Input should be ').rstrip('.')} (got {got_type})"


def parse_config(data: dict[str, Any], *, path: Path | None = None) -> Config:
    """Validate an already-parsed TOML document."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = _format_loc(tuple(err.get("loc", ())), _KINDS)
        raise ConfigError(path, key, _expected(err)) from None
    cfg.path = path
    return cfg


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
    cfg = parse_config(data, path=p.resolve())
    rules = cfg.resolve(cfg.triage.rules)
    if rules is not None and not rules.is_file():
        raise ConfigError(p, "triage.rules", f"file not found: {rules}")
    tdir = cfg.resolve(cfg.replies.templates_dir)
    if tdir is not None and not tdir.is_dir():
        raise ConfigError(p, "replies.templates_dir", f"directory not found: {tdir}")
    return cfg
