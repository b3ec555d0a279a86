"""Guarding every outgoing word (issue 18, points 4 to 8), with real config, templates and triage.

- reply once, also when the reply was made on the platform itself (point 4);
- the copy names the account: "post as <name> <handle> on <platform>" in its colour (5);
- while crisis mode is on, every outgoing text without the Q&A link asks first (6);
- disclaimers per account or platform, in the templates and in the length count (7);
- a grave own post preselects the formal apology, a harmless one the light one (8).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from watchtower.config import parse_config
from watchtower.core.models import Category, Item, Severity
from watchtower.core.record.log import HandoverLog
from watchtower.core.respond.playbooks import preselected_for, preselected_template, templates_for
from watchtower.core.respond.replies import (
    ReplyGuard,
    ReplyTemplates,
    check_reply_once,
    copy_target,
    disclaimer_for,
    platform_replies,
    post_as,
    previous_replies,
    qa_problem,
    replied_on_platform,
)
from watchtower.core.text.textlength import check as length_check
from watchtower.core.triage.engine import Triager

T0 = datetime(2026, 11, 3, 14, 2, tzinfo=timezone.utc)
QA = "https://bibliotheekzuidstad.nl/qa"


def make_config(**replies: object):  # type: ignore[no-untyped-def]
    return parse_config(
        {
            "organisation": {
                "name": "Bibliotheek Zuidstad",
                "timezone": "Europe/Amsterdam",
                "qa_url": QA,
                "accounts": [
                    {"platform": "Mastodon", "handle": "@bieb@social.example", "name": "Bieb Zuidstad", "colour": "green"},
                    {"platform": "X", "handle": "@bibzuidstad", "name": "Bibliotheek Zuidstad", "colour": "magenta",
                     "disclaimer": "Vragen? bibliotheekzuidstad.nl/contact (ma-vr 9-17)"},
                    {"platform": "Bluesky", "handle": "bibzuidstad.bsky.social", "colour": "blue"},
                ],
            },
            "replies": replies,
        }
    )


def post(native_id: str, author: str, text: str, *, minutes: int = 0, in_reply_to: str | None = None,
         platform: str = "Mastodon") -> Item:
    return Item.create(
        platform=platform, source="mastodon-tag", native_id=native_id, author=author, text=text,
        published=T0 + timedelta(minutes=minutes), in_reply_to=in_reply_to,
        url=f"https://social.example/@{author.split('@')[0]}/{native_id}",
    )


# -- 4: reply once, also when the reply was made on the platform ------------------------------


def test_our_reply_typed_on_the_platform_counts_as_our_reply() -> None:
    config = make_config()
    jan = post("100", "jan@other.example", "Waarom is de bieb dicht?!")
    ours = post("101", "bieb", "We zijn morgen weer open, sorry!", minutes=3, in_reply_to="100")  # local form of our handle
    piet = post("102", "piet@other.example", "Ja, waarom eigenlijk?", minutes=5, in_reply_to="100")
    items = [jan, ours, piet]
    [reply] = platform_replies(items, config)
    assert (reply.operator, reply.author, reply.thread, reply.on_platform) == ("@bieb@social.example", "jan@other.example", "100", True)
    guard = ReplyGuard(config)
    on_jan = guard.check(jan, [reply], now=T0 + timedelta(minutes=10), operator="ann")
    assert on_jan is not None and on_jan.reason == "thread"
    assert on_jan.message == (
        "Our account @bieb@social.example replied to @jan@other.example in this thread on Mastodon itself at 15:05. "
        "A second reply starts a discussion."
    )
    on_piet = guard.check(piet, [reply], now=T0 + timedelta(minutes=10), operator="ann")
    assert on_piet is not None and on_piet.reason == "thread"  # same thread, another author
    # The row state: jan's post is answered, on Mastodon itself.
    assert set(replied_on_platform(items, config)) == {jan.id}


def test_only_our_accounts_replies_count_and_only_replies() -> None:
    config = make_config()
    jan = post("100", "jan@other.example", "Waarom is de bieb dicht?!")
    stranger = post("101", "bieb@elsewhere.example", "Geen idee!", in_reply_to="100")  # not us: another instance's bieb
    our_news = post("103", "bieb@social.example", "Nieuwe openingstijden vanaf maandag.")  # ours, but no reply
    assert platform_replies([jan, stranger, our_news], config) == []
    assert check_reply_once(jan, platform_replies([jan, stranger, our_news], config), now=T0) is None


def test_the_guard_gets_the_log_and_the_platform_together(data_dir: Path) -> None:
    config = make_config()
    log = HandoverLog(data_dir)
    jan = post("100", "jan@other.example", "Waarom is de bieb dicht?!")
    ours = post("101", "bieb@social.example", "Morgen weer open.", minutes=3, in_reply_to="100")
    kees = post("200", "kees@other.example", "Catalogus stuk?")
    log.append("replied", "Klopt, we werken eraan.", operator="ann", item=kees,
               data={"author": kees.author, "thread": kees.id, "platform": "Mastodon"})
    log.append("posted", "Correctie.", operator="cron", data={"statement": True})  # a statement answers nobody
    previous = previous_replies(log.entries(), [jan, ours, kees], config)
    assert sorted((p.on_platform, p.thread) for p in previous) == [(False, kees.id), (True, "100")]
    guard = ReplyGuard(config)
    assert guard.check(kees, previous, now=T0, operator="ann").message.startswith("You replied to @kees@other.example")  # type: ignore[union-attr]
    assert guard.check(jan, previous, now=T0, operator="ann").previous.on_platform  # type: ignore[union-attr]


# -- 5: the copy names the account ------------------------------------------------------------


def test_copy_says_where_to_paste_in_the_accounts_colour() -> None:
    config = make_config()
    tweet = post("9", "jan", "Bieb dicht??", platform="X")
    label = copy_target(tweet, config)
    assert (label.text, label.colour) == ("post as Bibliotheek Zuidstad @bibzuidstad on X", "magenta")
    bsky = post_as(config.organisation.accounts[2])
    assert (bsky.text, bsky.colour) == ("post as bibzuidstad.bsky.social on Bluesky", "blue")  # no name: the handle once
    nowhere = copy_target(post("1", "jan", "x", platform="Facebook"), config)
    assert nowhere.colour is None and nowhere.text == "no account of ours on Facebook: post it from the right account by hand"


# -- 6: the Q&A link during a crisis ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "crisis", "kind", "expected"),
    [
        ("We kijken ernaar.", True, "grievance-public", f"Crisis mode is on: this text has no link to the Q&A page ({QA})."),
        ("We kijken ernaar: http://www.bibliotheekzuidstad.nl/qa/.", True, None, None),  # http, www. and a slash: the same page
        ("We kijken ernaar.", False, "grievance-public", None),
        ("We kijken ernaar.", False, "holding-statement",
         f"A holding-statement text should link the Q&A page: this text has no link to the Q&A page ({QA})."),
    ],
)
def test_while_crisis_mode_is_on_every_text_without_the_qa_link_asks_first(
    text: str, crisis: bool, kind: str | None, expected: str | None
) -> None:
    assert qa_problem(text, make_config(), crisis=crisis, kind=kind) == expected


def test_crisis_mode_without_a_qa_page_configured_says_so() -> None:
    config = parse_config({"organisation": {"name": "X"}})
    assert qa_problem("Update volgt.", config, crisis=True) == (
        "Crisis mode is on, and no Q&A page is configured (organisation.qa_url): nothing to link to."
    )


# -- 7: disclaimers ---------------------------------------------------------------------------------


def test_the_accounts_disclaimer_ends_the_public_templates_and_is_counted() -> None:
    config = make_config()
    templates = ReplyTemplates(config)
    tweet = post("9", "jan", "Bieb dicht??", platform="X")
    for language in ("en", "nl"):
        text = templates.render("grievance-public", tweet, language=language)
        assert text.endswith("\nVragen? bibliotheekzuidstad.nl/contact (ma-vr 9-17)"), text
    briefing = templates.render("staff-briefing", tweet)
    assert "Vragen? bibliotheekzuidstad.nl" not in briefing  # internal: no disclaimer
    # The counter counts it: a reply that fits alone is over the limit with it.
    body = "x" * (280 - 30)
    line = config.organisation.accounts[1].disclaimer
    assert length_check(body, "X").ok and not length_check(f"{body}\n{line}", "X").ok


def test_a_platform_disclaimer_serves_accounts_without_their_own() -> None:
    config = make_config(disclaimers={"Mastodon": "Dit account wordt 's nachts niet gelezen.", "X": "not used: the account has one"})
    masto, x, bsky = config.organisation.accounts
    assert disclaimer_for(config, "Mastodon", masto) == "Dit account wordt 's nachts niet gelezen."
    assert disclaimer_for(config, "X/Twitter", x) == "Vragen? bibliotheekzuidstad.nl/contact (ma-vr 9-17)"
    assert disclaimer_for(config, "Bluesky", bsky) == ""
    text = ReplyTemplates(config).render("thanks", post("1", "jan@other.example", "Top!"), language="nl")
    assert text == "Dank je wel, wat leuk om te horen! We geven het door aan het team.\nDit account wordt 's nachts niet gelezen."
    assert ReplyTemplates(config).render("thanks", post("1", "jan", "Top!", platform="Bluesky")).endswith("team.")


# -- 8: the apology fits the gravity ------------------------------------------------------------


def test_a_grave_own_post_preselects_the_formal_apology() -> None:
    config = parse_config({"organisation": {"name": "Bibliotheek Zuidstad",
                                            "accounts": [{"platform": "Mastodon", "handle": "@bieb@social.example"}]}})
    triager = Triager(config)
    slip = Item.create(platform="Mastodon", source="s", native_id="1", author="bieb@social.example",
                       text="Omg what a shitty fucking day, beers at mine tonight", published=T0)
    harmless = Item.create(platform="Mastodon", source="s", native_id="2", author="bieb@social.example",
                           text="Vanavond borrel bij mij thuis, neem wijn mee", published=T0)
    triager.triage([slip, harmless])
    assert (slip.category, harmless.category) == (Category.OWN_POST, Category.OWN_POST)
    assert slip.severity >= Severity.HIGH > harmless.severity
    assert preselected_for(slip) == "apology-serious"
    assert preselected_for(harmless) == "apology-light"
    assert templates_for(Category.OWN_POST, Severity.CRITICAL) == ["apology-serious", "apology-light"]
    assert preselected_template(Category.OWN_POST, Severity.HIGH, ["apology-light"]) == "apology-light"  # only what exists
    assert preselected_template(Category.ABUSE, Severity.CRITICAL) is None  # "ignore it": no reply
