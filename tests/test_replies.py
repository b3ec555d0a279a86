"""Reply templates, language choice, the Q&A-link check and the reply-once guard."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from watchtower.config import parse_config
from watchtower.core.models import Category, Item
from watchtower.core.respond.replies import (
    KINDS,
    PUBLIC_KINDS,
    PreviousReply,
    ReplyGuard,
    ReplyTemplates,
    TemplateError,
    account_for,
    check_reply_once,
    choose_language,
    missing_qa_link,
    thread_key,
)
from watchtower.core.text import textlength

NOW = datetime(2025, 3, 14, 13, 5, tzinfo=timezone.utc)


def make_config(tmp_path: Path | None = None, **replies: object):
    data = {
        "organisation": {
            "name": "Openbare Bibliotheek Zuidstad",
            "timezone": "Europe/Amsterdam",
            "qa_url": "https://www.bibliotheekzuidstad.nl/storing-vragen-en-antwoorden",
            "contact_email": "socialmedia@bibliotheekzuidstad.nl",
            "default_language": "nl",
            "accounts": [
                {"platform": "Mastodon", "handle": "@bieb@social.example", "name": "Bieb Zuidstad"},
                {"platform": "X/Twitter", "handle": "@bibzuidstad", "name": "Bibliotheek Zuidstad"},
                {"platform": "Bluesky", "handle": "bibzuidstad.bsky.social"},
            ],
        },
        "replies": dict(replies),
    }
    cfg = parse_config(data, path=(tmp_path / "config.toml") if tmp_path else None)
    return cfg


def make_item(text: str = "The library website has been down all morning", **kw: object) -> Item:
    fields: dict[str, object] = dict(
        platform="X",
        source="x-search",
        native_id="1900000000000000001",
        author="@jan_dejong",
        author_name="Jan de Jong",
        text=text,
        published=datetime(2025, 3, 14, 13, 2, tzinfo=timezone.utc),
        url="https://x.com/jan_dejong/status/1900000000000000001",
    )
    fields.update(kw)
    return Item.create(**fields)  # type: ignore[arg-type]


# --- templates ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_builtin_template_renders(kind: str, language: str) -> None:
    cfg = make_config()
    templates = ReplyTemplates(cfg)
    assert kind in templates.kinds(language)
    item = make_item()
    text = templates.render(kind, item, language=language, now=NOW)
    assert text and "{{" not in text and "{%" not in text
    assert "None" not in text and "Undefined" not in text
    # With operator input and a long topic, public replies still fit X's 280.
    full = templates.render(
        kind, item, language=language, now=NOW,
        extra={"topic": "the outage of our online catalogue", "details": "We open at 10:00 on Saturday."},
    )
    if kind in PUBLIC_KINDS:
        assert textlength.count(full, "X") <= 280, (kind, language, full)
        assert "\n" not in full
    else:  # the staff briefing is an email: longer, with paragraphs
        assert "\n\n" in full


def test_templates_render_without_any_config() -> None:
    # No organisation details: optional parts drop out, nothing undefined.
    text = ReplyTemplates().render("holding-statement", None, language="en")
    assert text == "We're aware of the reports and are looking into it now."


def test_variables_reach_the_templates() -> None:
    cfg = make_config()
    item = make_item(platform="Mastodon", author="jan@social.example", url="https://social.example/@jan/1")
    t = ReplyTemplates(cfg)
    assert t.render("holding-statement", item, language="en").endswith(
        "https://www.bibliotheekzuidstad.nl/storing-vragen-en-antwoorden"
    )
    assert "@bieb@social.example" in t.render("spam-notice", item, language="en")
    assert "socialmedia@bibliotheekzuidstad.nl" in t.render("grievance-public", item, language="nl")
    briefing = t.render("staff-briefing", item, language="en", now=NOW, extra={"topic": "the outage"})
    assert "Subject: Openbare Bibliotheek Zuidstad: what to say about the outage (2025-03-14)" in briefing
    assert "First seen: 14:02 on Mastodon (https://social.example/@jan/1)" in briefing  # Amsterdam time
    assert "\n\nWhat to do:\n" in briefing
    ctx = t.context(item, language="en", now=NOW)
    assert ctx["mention"] == "@jan@social.example" and ctx["now"] == "14:05"
    assert ctx["our_account"] == "@bieb@social.example"


def _user_templates(tmp_path: Path, files: dict[str, str]):
    tdir = tmp_path / "tpl"
    for name, body in files.items():
        (tdir / name).parent.mkdir(parents=True, exist_ok=True)
        (tdir / name).write_text(body, encoding="utf-8")
    return ReplyTemplates(make_config(tmp_path, templates_dir="tpl"))


def test_strict_undefined_in_a_user_template_names_the_file(tmp_path: Path) -> None:
    t = _user_templates(tmp_path, {"en/thanks.j2": "Thanks!\nSee {{ our_websit }} for more."})
    with pytest.raises(TemplateError) as err:
        t.render("thanks", make_item(), language="en")
    msg = str(err.value)
    assert "thanks.j2" in msg and "line 2" in msg
    assert "'our_websit' is undefined" in msg and "qa_url" in msg  # says what is available
    assert "Traceback" not in msg


def test_syntax_error_and_missing_kind_are_clear(tmp_path: Path) -> None:
    t = _user_templates(tmp_path, {"en/thanks.j2": "Thanks {% if %}"})
    with pytest.raises(TemplateError, match=r"thanks\.j2, line 1: template syntax error"):
        t.render("thanks", make_item(), language="en")
    with pytest.raises(TemplateError, match="no template 'nope' for language 'en'"):
        t.render("nope", make_item(), language="en")
    with pytest.raises(TemplateError, match="not a template kind"):
        t.render("../../etc/passwd", make_item(), language="en")


def test_user_templates_override_and_fall_back(tmp_path: Path) -> None:
    t = _user_templates(tmp_path, {"en/thanks.j2": "Cheers, {{ author_name }}!", "en/opening-hours.j2": "We open at 9."})
    assert t.render("thanks", make_item(), language="en") == "Cheers, Jan de Jong!"
    assert t.render("correction", make_item(), language="en").startswith("Correction:")  # built-in
    kinds = t.kinds("en")
    assert kinds[: len(KINDS)] == list(KINDS) and kinds[-1] == "opening-hours"


def test_sandbox_refuses_unsafe_attribute_access(tmp_path: Path) -> None:
    t = _user_templates(tmp_path, {"en/thanks.j2": "{{ author.__class__.__mro__[1].__subclasses__() }}"})
    with pytest.raises(TemplateError, match="thanks.j2"):
        t.render("thanks", make_item(), language="en")


@pytest.mark.parametrize(
    "payload",
    ["{{ 7*7 }}", "{% raw %}x{% endraw %}", "{% for x in range(10**9) %}{% endfor %}", "{{ config }}", "{#"],
)
def test_item_values_are_never_template_source(tmp_path: Path, payload: str) -> None:
    t = _user_templates(tmp_path, {"en/echo.j2": "{{ author_name }}|{{ item_text }}|{{ details }}"})
    item = make_item(text=f"look {payload} here", author_name=payload)
    out = t.render("echo", item, language="en", extra={"details": payload})
    assert out == f"{payload}|look {payload} here|{payload}"


def test_item_values_are_sanitised_to_one_line(tmp_path: Path) -> None:
    t = _user_templates(tmp_path, {"en/echo.j2": "[{{ author_name }}]"})
    item = make_item(author_name="Eve\x1b]0;pwned\x07\nnext\u202eline")
    assert t.render("echo", item, language="en") == "[Eve nextline]"


# --- language -----------------------------------------------------------------------


def test_language_from_the_feed_field() -> None:
    cfg = make_config()
    assert choose_language(make_item("The opening hours are wrong", language="nl"), cfg) == "nl"
    assert choose_language(make_item("De openingstijden kloppen niet", language="en-GB"), cfg) == "en"


def test_language_by_detection_with_our_own_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "watchtower.core.text.lang", None)  # import fails: fallback
    cfg = make_config()  # default nl
    assert choose_language(make_item("Why is the library not open today? It is a disgrace"), cfg) == "en"
    assert choose_language(make_item("Waarom is de bibliotheek vandaag niet open? Dit is echt een schande"), cfg) == "nl"
    assert choose_language(make_item("Wie geht es?", language="de"), cfg) == "nl"  # unsupported: default
    assert choose_language(make_item("👍"), make_config().model_copy(update={})) == "nl"
    assert choose_language(None, None) == "en"


def test_the_reply_language_comes_from_the_one_detector_triage_uses() -> None:
    """No item language: the reply's language is what text/lang.py detects (the detector
    triage uses), else the organisation's default; there is no second detector."""
    from watchtower.core.text.lang import detect_language

    samples = ["De bibliotheek is vandaag dicht en niemand heeft het gezegd",
               "The library is closed today and nobody said so", "ok", "Die Bibliothek ist heute geschlossen"]
    for text in samples:
        item = make_item(text)
        item.language = None
        assert choose_language(item, None) == (detect_language(text) or "en"), text
    dutch = make_item(samples[0])
    dutch.language = None
    assert choose_language(dutch, None) == "nl"


def test_account_for_matches_the_platform_loosely() -> None:
    cfg = make_config()
    assert account_for(make_item(platform="twitter"), cfg).handle == "@bibzuidstad"  # type: ignore[union-attr]
    assert account_for(make_item(platform="Bluesky"), cfg).handle == "bibzuidstad.bsky.social"  # type: ignore[union-attr]
    assert account_for(make_item(platform="Instagram"), cfg) is None


# --- Q&A link -----------------------------------------------------------------------


def test_missing_qa_link() -> None:
    cfg = make_config()
    qa = "https://www.bibliotheekzuidstad.nl/storing-vragen-en-antwoorden"
    assert missing_qa_link("holding-statement", "We're looking into it.", cfg)
    assert not missing_qa_link("holding-statement", f"We're looking into it: {qa}.", cfg)
    assert not missing_qa_link("holding-statement", "More: http://bibliotheekzuidstad.nl/storing-vragen-en-antwoorden/", cfg)
    assert missing_qa_link("hacked-notice", "We are on it", cfg)
    assert not missing_qa_link("thanks", "Thank you!", cfg)
    # A crisis reply of any kind needs it too.
    assert missing_qa_link("grievance-public", "Sorry, we'll be in touch.", cfg, category=Category.CRISIS)
    assert not missing_qa_link("grievance-public", f"Sorry. {qa}", cfg, category="crisis")
    # No Q&A page configured: a holding statement is always flagged.
    assert missing_qa_link("holding-statement", "anything https://x.example", parse_config({}))
    rendered = ReplyTemplates(cfg).render("holding-statement", make_item(), language="nl")
    assert not missing_qa_link("holding-statement", rendered, cfg)


# --- reply once ---------------------------------------------------------------------


def test_reply_once_same_thread_is_always_a_warning() -> None:
    item = make_item(in_reply_to="1899999999999999999")
    prev = [PreviousReply("alice", NOW - timedelta(days=3), author="@someone_else", thread="1899999999999999999", platform="X")]
    warning = check_reply_once(item, prev, now=NOW, window=24)
    assert warning is not None and warning.reason == "thread"
    assert "alice replied to @someone_else in this thread" in warning.message
    assert warning.message.endswith("A second reply starts a discussion.")
    # Replying to the item itself counts too, by its id.
    again = check_reply_once(make_item(), [PreviousReply("bob", NOW, thread=thread_key(make_item()))], now=NOW)
    assert again is not None and again.reason == "thread"


def test_reply_once_same_author_within_the_window() -> None:
    item = make_item(native_id="2")
    prev = [
        PreviousReply("alice", datetime(2025, 3, 14, 13, 2, tzinfo=timezone.utc), author="jan_dejong", thread="X:1", platform="Twitter"),
        PreviousReply("bob", NOW - timedelta(hours=5), author="@Jan_DeJong", thread="X:0", platform="X"),
    ]
    amsterdam = make_config().organisation.tz
    warning = check_reply_once(item, prev, now=NOW, window=timedelta(hours=24), tz=amsterdam, operator="alice")
    assert warning is not None and warning.reason == "author"
    assert warning.message == "You replied to @jan_dejong at 14:02. A second reply starts a discussion."


def test_reply_once_outside_the_window_or_elsewhere_is_quiet() -> None:
    item = make_item(native_id="2")
    old = [PreviousReply("alice", NOW - timedelta(hours=30), author="@jan_dejong", thread="X:1", platform="X")]
    assert check_reply_once(item, old, now=NOW, window=24) is None
    other_platform = [PreviousReply("alice", NOW, author="@jan_dejong", thread="Mastodon:1", platform="Mastodon")]
    assert check_reply_once(item, other_platform, now=NOW, window=24) is None
    other_author = [PreviousReply("alice", NOW, author="@piet", thread="X:9", platform="X")]
    assert check_reply_once(item, other_author, now=NOW, window=24) is None
    assert check_reply_once(item, [], now=NOW) is None


def test_reply_guard_and_log_adapter() -> None:
    cfg = make_config(reply_window_hours=2)
    guard = ReplyGuard(cfg)
    entry = PreviousReply.from_log(
        operator="alice", ts="2025-03-14T10:30:00Z", data={"author": "@jan_dejong", "thread": "X:1"}, platform="X"
    )
    assert entry.ts == datetime(2025, 3, 14, 10, 30, tzinfo=timezone.utc)
    item = make_item(native_id="2")
    assert guard.check(item, [entry], now=NOW) is None  # 2.5 h ago, window 2 h
    warning = guard.check(item, [entry], now=NOW - timedelta(hours=1))
    assert warning is not None and "at 11:30" in warning.message  # Amsterdam time
