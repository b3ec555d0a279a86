"""The built-in demo: a scripted incident at a library, served over local HTTP.

With no config, ``watchtower`` starts a :class:`DemoServer` on ``127.0.0.1`` (a random free
port), builds :func:`demo_config` pointing at it and runs the **real** connectors and poller
against it.  So the demo exercises the same path as production: HTTP, conditional GETs
(ETag / 304), JSON and feed parsing, triage, coverage.

The organisation is the fictional *Bibliotheek Rivierstad* (a Dutch city library with an
English-speaking audience too).  The scenario acts out every situation in the two seed
texts: a post from the wrong account, incorrect information and its correction, prank
abuse, a proper grievance, spam, a hacked account ("gehackt"), a national news story about
a data breach, an ambassador who corrects someone, a 14-follower grumble, plus questions,
praise and ordinary mentions, in English and Dutch, spread over seven platforms.

Paths served (everything else is 404; only GET and HEAD):

=====================================================  =========================================
path                                                   shaped like
=====================================================  =========================================
``/x/mentions.json``                                   X API v2 ``data[]`` with an inlined author
``/facebook/mentions.json``                            Graph API ``data[]`` (posts and comments)
``/instagram/mentions.json``                           Graph API media ``data[]``
``/api/v1/timelines/tag/{tag}``                        Mastodon tag timeline: ``[Status]``
``/api/v2/search``                                     Mastodon search: ``{accounts, statuses, hashtags}``
``/xrpc/app.bsky.feed.searchPosts``                    Bluesky ``{posts: [postView]}``
``/xrpc/app.bsky.feed.getAuthorFeed``                  Bluesky ``{feed: [{post}]}``
``/xrpc/app.bsky.actor.getProfiles``                   Bluesky ``{profiles: [profileViewDetailed]}``
``/search.json``, ``/r/{sub}/new.json``                Reddit ``Listing`` of ``t3`` posts
``/news/dagblad.rss``                                  RSS 2.0, a national paper (weight 3)
``/news/forum.atom``                                   Atom 1.0, a local forum (weight 1)
``/qa``                                                the organisation's Q&A page (HTML)
=====================================================  =========================================

**The schedule.**  Scenario time is ``clock() * speed`` seconds (``clock`` is monotonic
seconds since :meth:`DemoServer.start`; ``speed`` defaults to 1).  At scenario time 0 every
*backlog* item is visible: what arrived overnight and earlier, with ``published`` on real
wall-clock dates (last weekend, yesterday evening 23:40, the most recent night 00:15–05:20
in Europe/Amsterdam, and a few minutes ago), so some are UNCOVERED under the demo rota.
Then one *live* item is revealed every ~5-6 s for the first ~2 minutes; each carries
``published`` = the wall-clock moment it is revealed.  After the script ends
(:data:`SCRIPT_END`), and only when ``loop=True`` (the default), a gentle trickle of
ordinary mentions follows: one every :data:`LOOP_PERIOD` scenario seconds, rotating over the
platforms, each with a fresh id (``demo-L1``, ``demo-L2``...).  The incidents are never
replayed, so alerts do not fire twice.  Every document is capped to its newest
:data:`MAX_PER_DOC` items.

Tests reveal everything at once with ``DemoServer(reveal_all=True)`` (all scripted items,
no loop items) or move a fake ``clock``.

Everything is deterministic given ``now`` (the wall-clock start) and the clock: fixed ids per
scenario item (``demo-17``; platform-shaped native ids derived from it), no randomness, no
network beyond 127.0.0.1 (every link in the content points at ``*.example`` hosts or at the
demo server).  This module is core: it imports neither textual nor rich.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo

from ..config import Config, parse_config

__all__ = [
    "DemoServer",
    "demo_config",
    "scenario_summary",
    "ORG_NAME",
    "TIMEZONE",
    "SCRIPT_END",
    "LOOP_PERIOD",
    "MAX_PER_DOC",
    "SITUATIONS",
]

ORG_NAME = "Bibliotheek Rivierstad"
TIMEZONE = "Europe/Amsterdam"
MASTODON_TAG = "biebrivierstad"
SUBREDDIT = "rivierstad"
#: Scenario seconds after which the script is over and the loop trickle (if any) starts.
SCRIPT_END = 130.0
#: Scenario seconds between two loop items.
LOOP_PERIOD = 20.0
#: The newest this many items are served per document.
MAX_PER_DOC = 60

#: Situation keys used in :func:`scenario_summary` (the seeds' cases, then the everyday ones).
SITUATIONS = (
    "wrong-account",
    "apology",
    "incorrect-info",
    "prank",
    "grievance",
    "spam",
    "hacked",
    "news",
    "ambassador",
    "grumble-14",
    "question",
    "praise",
    "mention",
)

# --------------------------------------------------------------------------------------
# The organisation's own accounts (the header shows them with these colours and names).

OWN_X = "BiebRivierstad"
OWN_FACEBOOK = "Bibliotheek Rivierstad"
OWN_INSTAGRAM = "biebrivierstad"
OWN_MASTODON = "bieb@rivierstad.example"
OWN_BLUESKY = "biebrivierstad.bsky.social"
AMBASSADOR_X = "boekenwurm_anne"
AMBASSADOR_MASTODON = "anne@boekensoc.example"
NEWS_X = "DagbladNL"


@dataclass(frozen=True)
class _Post:
    """One scripted item.

    ``at`` is when it happened:

    * ``"wknd HH:MM"``: the last weekend day on or before the evening below (weekend cover);
    * ``"eve HH:MM"``: the evening before the most recent night;
    * ``"night HH:MM"``: the most recent night (local, 00:00-06:00);
    * ``"ago M"``: M minutes before the demo started;
    * ``"live S"``: revealed S scenario seconds after start (published = that moment).
    """

    n: int
    platform: str
    situation: str
    lang: str
    author: str
    name: str
    followers: int | None
    text: str
    at: str
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    reply_to: int | None = None
    title: str = ""
    html: str | None = None
    feed: str = ""
    own: bool = False

    @property
    def demo_id(self) -> str:
        return f"demo-{self.n}"

    @property
    def live_at(self) -> float | None:
        kind, _, value = self.at.partition(" ")
        return float(value) if kind == "live" else None


def _p(*args: Any, **kw: Any) -> _Post:
    return _Post(*args, **kw)


# Ordered chronologically for every possible start time (see _published): weekend, evening,
# night, "ago", then live in reveal order.  Native ids are derived from ``n``, so keep ``n``
# increasing along this list: Mastodon's since_id relies on ids growing with time.
_SCRIPT: tuple[_Post, ...] = (
    # ---- last weekend -----------------------------------------------------------------
    _p(1, "Facebook", "praise", "nl", "Mariska Jansen", "Mariska Jansen", 310,
       "Wat een leuke voorleesmiddag vandaag bij Bibliotheek Rivierstad! Mijn dochter wil "
       "volgende week meteen weer 📚", "wknd 14:30", likes=42, replies=3),
    _p(2, "Instagram", "praise", "en", "layla.reads", "ليلى حسن", 2140,
       "Weekend storytime at Bibliotheek Rivierstad 👨‍👩‍👧 my kids didn't want to leave! "
       "#biebrivierstad #storytime", "wknd 15:10", likes=188, replies=11),
    # ---- yesterday evening ------------------------------------------------------------
    _p(3, "News", "mention", "nl", "Redactie Regio", "Redactie Regio", None,
       "Bibliotheek Rivierstad is in de examenperiode langer open: de studiezalen blijven "
       "op doordeweekse dagen tot 22:00 uur beschikbaar.", "eve 19:30",
       title="Bibliotheek Rivierstad verlengt openingstijden studiezalen",
       html="<p><strong>Bibliotheek Rivierstad</strong> is in de examenperiode langer open: "
            "de studiezalen blijven op doordeweekse dagen tot 22:00 uur beschikbaar.</p>",
       feed="dagblad"),
    _p(4, "X", "wrong-account", "nl", OWN_X, ORG_NAME, 8412,
       "Wat een KUTwedstrijd. Die scheids moet een bril kopen, godverdomme. Drie punten "
       "weggegeven 🤬⚽ #AJAFEY", "eve 23:40", likes=37, reposts=21, replies=14, own=True),
    _p(5, "X", "wrong-account", "en", "tomvdberg", "Tom van den Berg", 612,
       "@BiebRivierstad I think someone is on the wrong account 😂 the library has strong "
       "opinions about the ref tonight", "eve 23:47", likes=58, reposts=9, replies=2, reply_to=4),
    # ---- the most recent night (uncovered) --------------------------------------------
    _p(6, "X", "wrong-account", "nl", "Ruud_Kaaspers", "Ruud Kaaspers", 1204,
       "Haha, de bieb die vloekt over voetbal. Verkeerde account, @BiebRivierstad? "
       "Screenshot is al gemaakt hoor 📸", "night 00:15", likes=96, reposts=31, replies=7, reply_to=4),
    _p(7, "Reddit", "prank", "en", "throwaway_lmao_99", "throwaway_lmao_99", None,
       "Bibliotheek Rivierstad is trash. fuck your library and your stupid shit books lmao",
       "night 01:31", likes=2, replies=1, title="lol library"),
    _p(8, "X", "spam", "en", "BiebRivierstad_NL", "Bibliotheek Rivierstad 🎁", 48,
       "🎉 GIVEAWAY 🎉 Bibliotheek Rivierstad celebrates 10,000 members! Send 0.05 ETH and get "
       "0.5 ETH back instantly 👉 https://bieb-rivierstad-giveaway.example/claim #crypto #airdrop",
       "night 01:52", likes=3, reposts=5),
    _p(9, "Instagram", "spam", "nl", "crypto.queen.nl", "Crypto Queen 👑", 95,
       "🔥 Bibliotheek Rivierstad deelt GRATIS Bitcoin uit aan alle leden! Claim de jouwe via "
       "de link in mijn bio 💰🚀 #crypto #giveaway #biebrivierstad", "night 03:02", likes=4),
    _p(10, "Mastodon", "hacked", "nl", "jeroen@mastodon.example", "Jeroen Smit", 880,
       "Is @bieb@rivierstad.example gehackt? Ik kreeg vannacht een DM: 'Verifieer je "
       "bibliotheekpas binnen 24 uur' met een link naar bieb-rivierstad-login.example. "
       "Niet klikken! #biebrivierstad", "night 03:12", likes=14, reposts=22, replies=4),
    _p(11, "Bluesky", "hacked", "en", OWN_BLUESKY, ORG_NAME, 5230,
       "Important: verify your library login within 24 hours to keep your membership "
       "active → https://bieb-rivierstad-verify.example/login", "night 03:30",
       likes=2, reposts=1, replies=6, own=True),
    _p(12, "Bluesky", "hacked", "en", "mkowalski.bsky.social", "Marta Kowalski", 1930,
       "@biebrivierstad.bsky.social looks hacked: it is posting and DMing 'verify your login' "
       "phishing links. Do not enter your library card number anywhere!", "night 04:05",
       likes=61, reposts=40, replies=3, reply_to=11),
    _p(13, "X", "hacked", "nl", "lisa_bakt", "Lisa 🧁", 320,
       "@BiebRivierstad is jullie account gehackt? Ik kreeg een DM 'log opnieuw in om je pas "
       "te verifiëren'. Phishing dus, pas op allemaal.", "night 04:22", likes=12, reposts=8, replies=1),
    _p(14, "Mastodon", "question", "en", "wang.xiaoming@mastodon.example", "王小明", 267,
       "Does the study room at Bibliotheek Rivierstad open at 8 tomorrow? Asking for my exam "
       "week 📖 #biebrivierstad", "night 05:10", likes=1, replies=1),
    _p(15, "News", "question", "nl", "parkeerpiet", "parkeerpiet", None,
       "Weet iemand of de parkeergarage naast Bibliotheek Rivierstad op zaterdag nu gratis is? "
       "Bij de ingang staat iets anders dan op de site.", "night 05:20",
       title="Parkeren bij de bieb op zaterdag?", feed="forum"),
    # ---- this morning, minutes before the demo started --------------------------------
    _p(16, "Facebook", "incorrect-info", "nl", OWN_FACEBOOK, ORG_NAME, 6900,
       "Goed nieuws! Vanaf deze week zijn we op zondag open van 10:00 tot 17:00 uur. "
       "Tot zondag! ☀️", "ago 55", likes=86, reposts=12, replies=9, own=True),
    _p(17, "X", "apology", "nl", OWN_X, ORG_NAME, 8412,
       "Excuses voor onze tweet van gisteravond: die was voor een privéaccount bedoeld. We "
       "hebben hem verwijderd, maar doen niet alsof het niet gebeurd is. Sorry! 🙏",
       "ago 48", likes=112, reposts=6, replies=9, reply_to=4, own=True),
    _p(18, "Facebook", "incorrect-info", "nl", "Henk Verhoeven", "Henk Verhoeven", 180,
       "Op jullie website staat zondag 12:00 tot 17:00. Wat klopt er nu? Ik sta niet graag "
       "voor een dichte deur 🤔", "ago 41", likes=7, replies=1, reply_to=16),
    _p(19, "X", "incorrect-info", "en", "sarah_in_rivierstad", "Sarah O'Neill", 740,
       "@BiebRivierstad your Facebook says Sunday 10-17 but the sign on the door says 12-17. "
       "Which is right? Looks like wrong information somewhere.", "ago 33", likes=9, replies=2),
    _p(20, "Reddit", "question", "en", "pixel_pusher", "pixel_pusher", None,
       "Searching the Bibliotheek Rivierstad catalogue for Dune shows titles like [bold]Dune[/] "
       "with the brackets. Sometimes a lone [/] too. Anyone else? [@click=app.quit]x[/]",
       "ago 25", likes=14, replies=6, title="Catalogue search shows [bold]tags[/] literally?"),
    _p(21, "X", "prank", "nl", "xXgamerjoostXx", "joost", 23,
       "kutbieb, wie gaat daar nou heen 😂😂 @BiebRivierstad #saai", "ago 18", likes=1),
    _p(22, "Mastodon", "praise", "en", "r.okafor@toot.example", "Rachel Okafor", 1420,
       "Huge thanks to the @bieb@rivierstad.example staff for helping me print my visa forms "
       "& scanning everything. Heroes. #biebrivierstad", "ago 9", likes=48, reposts=6, replies=2,
       html='<p>Huge thanks to the <span class="h-card"><a href="https://rivierstad.example/@bieb" '
            'class="u-url mention">@<span>bieb</span></a></span> staff for helping me print my visa '
            'forms &amp; scanning everything. <strong>Heroes.</strong></p><p><a href="https://'
            'mastodon.example/tags/biebrivierstad" class="mention hashtag" rel="tag">#<span>'
            'biebrivierstad</span></a></p>'),
    # ---- live: revealed on a compressed schedule ---------------------------------------
    _p(23, "Bluesky", "grumble-14", "en", "sleepy-student.bsky.social", "sleepy student", 14,
       "the wifi at the library is slow again. can't even load my lecture slides 🙄", "live 5"),
    _p(24, "X", "grumble-14", "nl", "daan_b", "Daan", 14,
       "Wifi in de bieb is wéér traag. Elke dinsdag hetzelfde 😩 @BiebRivierstad", "live 10"),
    _p(25, "Facebook", "grievance", "en", "Priya Raman", "Priya Raman", 1640,
       "I was fined €25 for 'late' returns even though the return machine at Bibliotheek "
       "Rivierstad was broken that day (staff told me so themselves). I have emailed twice "
       "and nobody answers. This isn't fair and I would like it fixed.", "live 16",
       likes=64, reposts=5, replies=12),
    _p(26, "Mastodon", "grievance", "nl", "ingrid@toot.example", "Ingrid Bos ♿", 2310,
       "De lift bij de hoofdingang van @bieb@rivierstad.example is al drie weken kapot. Met "
       "mijn rolstoel kom ik niet meer bij de studiezalen. Twee keer gemeld, geen reactie. "
       "Zo sluit je mensen buiten. #toegankelijkheid #biebrivierstad", "live 22",
       likes=131, reposts=74, replies=18,
       html='<p>De lift bij de hoofdingang van <span class="h-card"><a href="https://'
            'rivierstad.example/@bieb" class="u-url mention">@<span>bieb</span></a></span> is al '
            'drie weken kapot. Met mijn rolstoel kom ik niet meer bij de studiezalen.<br>Twee '
            'keer gemeld, geen reactie.</p><p>Zo sluit je mensen buiten. <a href="https://'
            'toot.example/tags/toegankelijkheid" class="mention hashtag" rel="tag">#<span>'
            'toegankelijkheid</span></a> <a href="https://toot.example/tags/biebrivierstad" '
            'class="mention hashtag" rel="tag">#<span>biebrivierstad</span></a></p>'),
    _p(27, "Instagram", "praise", "nl", "boekenclub.rivierstad", "Boekenclub Rivierstad", 3400,
       "Wat een prachtige nieuwe jeugdafdeling 😍📚 Dank jullie wel @biebrivierstad!", "live 28",
       likes=245, replies=17),
    _p(28, "X", "ambassador", "en", AMBASSADOR_X, "Anne de Vries 📚", 4870,
       "@sarah_in_rivierstad It's 12:00-17:00 on Sundays. The Facebook post has a mistake, "
       "the website is right 👍", "live 34", likes=21, reposts=3, reply_to=19),
    _p(29, "Reddit", "question", "en", "newintown_2024", "newintown_2024", None,
       "Just moved here for a PhD. Can I get a card at Bibliotheek Rivierstad without a Dutch "
       "address yet? Do they accept a letter from the university?", "live 40", likes=11, replies=4,
       title="Library card at Bibliotheek Rivierstad without a Dutch address?"),
    _p(30, "News", "news", "nl", "Redactie Binnenland", "Redactie Binnenland", None,
       "Door een lek in het uitleensysteem van Bibliotheek Rivierstad konden onbevoegden "
       "maandenlang namen, adressen en de leengeschiedenis van zo'n 40.000 leden inzien.",
       "live 46", title="Datalek bij Bibliotheek Rivierstad: gegevens van 40.000 leden op straat",
       html="<p>Door een lek in het uitleensysteem van <strong>Bibliotheek Rivierstad</strong> "
            "konden onbevoegden maandenlang namen, adressen en de leengeschiedenis van zo'n "
            "40.000 leden inzien.</p><p>De bibliotheek heeft de Autoriteit Persoonsgegevens "
            "<em>nog niet</em> ingelicht, zo blijkt uit stukken in handen van deze krant.</p>",
       feed="dagblad"),
    _p(31, "X", "news", "nl", NEWS_X, "Dagblad Nederland", 250000,
       "Datalek bij Bibliotheek Rivierstad: namen, adressen en leengeschiedenis van 40.000 "
       "leden waren maandenlang in te zien. https://dagblad.example/binnenland/datalek-"
       "bibliotheek-rivierstad", "live 52", likes=730, reposts=412, replies=96),
    _p(32, "Bluesky", "news", "en", "dutchnewsdigest.bsky.social", "Dutch News Digest", 38500,
       "Data breach at Bibliotheek Rivierstad: personal details and borrowing history of "
       "40,000 library members exposed for months, national paper Dagblad reports.", "live 58",
       likes=220, reposts=140, replies=31),
    _p(33, "Mastodon", "mention", "nl", "kees@mastodon.example", "Kees", 450,
       "Hoor net dat de bieb in Rivierstad-Noord dichtgaat?! Schandalig. #biebrivierstad",
       "live 63", likes=5, reposts=3, replies=1),
    _p(34, "Reddit", "news", "en", "privacy_nerd_nl", "privacy_nerd_nl", None,
       "Dagblad reports names, addresses and borrowing history of ~40k members were exposed. "
       "Has anyone heard from the library itself? Nothing in my inbox.", "live 68",
       likes=1240, replies=318,
       title="Data breach at Bibliotheek Rivierstad: 40k members' addresses and borrowing history exposed"),
    _p(35, "Mastodon", "ambassador", "nl", AMBASSADOR_MASTODON, "Anne de Vries 📚", 3120,
       "@kees@mastodon.example Dat klopt niet hoor: filiaal Noord gaat niet dicht, het verhuist "
       "in maart naar het MFC. Staat gewoon op hun site. #biebrivierstad", "live 73",
       likes=19, reposts=6, reply_to=33),
    _p(36, "Facebook", "news", "nl", "Karin de Wit", "Karin de Wit", 420,
       "Ik lees net in de krant over het datalek. Waarom hoor ik dit als lid niet van jullie "
       "zelf?? Ik wil weten of mijn gegevens erbij zitten.", "live 78", likes=53, replies=8),
    _p(37, "Instagram", "news", "en", "privacy.watch.nl", "Privacy Watch NL", 12800,
       "Another public institution leaking personal data 😡 40,000 members exposed at "
       "Bibliotheek Rivierstad. Who is accountable? #datalek #privacy", "live 84",
       likes=960, replies=74),
    _p(38, "News", "news", "nl", "bezorgdlid", "bezorgdlid", None,
       "Ik ben lid van Bibliotheek Rivierstad en lees over het datalek. Moet ik mijn "
       "wachtwoord veranderen? Heeft iemand al iets van de bieb gehoord?", "live 89",
       title="Datalek bibliotheek: wat moet ik doen?",
       html="<p>Ik ben lid van Bibliotheek Rivierstad en lees over het datalek.</p>"
            "<ul><li>Moet ik mijn wachtwoord veranderen?</li><li>Heeft iemand al iets van de "
            "bieb gehoord?</li></ul>", feed="forum"),
    _p(39, "Mastodon", "question", "nl", "m.dekker@social.example", "Marloes Dekker", 690,
       "Heeft @bieb@rivierstad.example al een Q&A over het datalek? Ik wil weten wat ik moet "
       "doen. #biebrivierstad", "live 94", likes=8, reposts=4, replies=1),
    _p(40, "X", "prank", "en", "ratio_king_420", "ratio king 🤡", 31,
       "@BiebRivierstad lmao your library sucks, stupid shit books 🤡🤡", "live 99", likes=2),
    _p(41, "Bluesky", "hacked", "nl", "fleur.bsky.social", "Fleur", 760,
       "Ook ik kreeg een DM van de bieb met 'log in om je pas te verifiëren'. Zijn ze gehackt? "
       "Eerst een datalek en nu dit…", "live 104", likes=33, reposts=12, replies=2),
    _p(42, "X", "spam", "nl", "gratis_crypto_nl", "Gratis Crypto 💸", 12,
       "Bibliotheek Rivierstad compenseert het datalek met 0.1 BTC per lid! 👉 claim via "
       "https://bieb-compensatie.example #crypto", "live 109", reposts=3),
    _p(43, "Instagram", "mention", "en", "tulips_and_tomes", "Tulips & Tomes", 890,
       "Rainy day = library day 🌧️📚 #biebrivierstad", "live 114", likes=77, replies=2),
    _p(44, "Reddit", "mention", "nl", "boekenvriend", "boekenvriend", None,
       "Is die boekenmarkt van Bibliotheek Rivierstad dit weekend nog steeds? Vorig jaar heb "
       "ik er voor een tientje twintig boeken gescoord.", "live 119", likes=6, replies=3,
       title="Boekenmarkt bij de bieb dit weekend?"),
    _p(45, "Bluesky", "praise", "nl", "opa-gerrit.bsky.social", "Opa Gerrit", 95,
       "Vanochtend bij de computercursus in de bieb geleerd hoe ik met mijn kleinkinderen kan "
       "videobellen. Wat een geduldige mensen daar 👴💻", "live 124", likes=41, replies=5),
)

#: The loop trickle, after the script: ordinary mentions only, rotating over the platforms.
_LOOP_POOL: tuple[tuple[str, str, str, str, int | None, str, str], ...] = (
    ("X", "nl", "mvanleeuwen", "Mark van Leeuwen", 530,
     "Net mijn gereserveerde boeken opgehaald bij @BiebRivierstad, supersnel 👍", ""),
    ("Bluesky", "en", "quietreader.bsky.social", "quiet reader", 210,
     "The reading corner at the library is so cozy today ☕📖", ""),
    ("Mastodon", "nl", "hist.rivierstad@mastodon.example", "Historisch Rivierstad", 1180,
     "Mooie tentoonstelling over de stadsgeschiedenis in de bieb, nog tot eind van de maand. "
     "#biebrivierstad", ""),
    ("Instagram", "en", "bookstack.daily", "Bookstack Daily", 4300,
     "New haul from the library 📚✨ #biebrivierstad", ""),
    ("Facebook", "nl", "Joke Meijer", "Joke Meijer", 150,
     "Is Bibliotheek Rivierstad op Koningsdag open?", ""),
    ("Reddit", "en", "studybuddy_r", "studybuddy_r", None,
     "Looking for quiet places to study in Rivierstad. Is the library's top floor still silent?",
     "Quiet places to study?"),
    ("News", "nl", "Redactie Regio", "Redactie Regio", None,
     "Bibliotheek Rivierstad zoekt vrijwilligers voor het Taalcafé op woensdagavond.",
     "Bibliotheek zoekt vrijwilligers voor Taalcafé"),
)


# --------------------------------------------------------------------------------------
# Timing


def _local_dt(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=tz).astimezone(timezone.utc)


def _anchors(start: datetime, tz: ZoneInfo) -> tuple[date, date, date]:
    """(night date, evening date, weekend day) for a demo started at ``start``.

    The night is the most recent one whose 06:00 has passed (so every night item is in
    the past); the evening is the day before it; the weekend day is the last Saturday or
    Sunday on or before the evening (its items are in the afternoon, before the evening's),
    so the backlog stays in chronological order whatever the start time, and is never a
    week old (the archive's default retention).  Night items avoid 02:00-03:00, which does
    not exist on the night clocks go forward.
    """
    local = start.astimezone(tz)
    night = local.date() if local.hour >= 6 else local.date() - timedelta(days=1)
    evening = night - timedelta(days=1)
    weekend = evening
    while weekend.weekday() < 5:
        weekend -= timedelta(days=1)
    return night, evening, weekend


@dataclass(frozen=True)
class _Entry:
    """A post placed on the timeline: scripted (``post``) or a loop item."""

    key: str  # "demo-17", "demo-L3"
    seq: int  # grows with time; native ids derive from it
    platform: str
    situation: str
    lang: str
    author: str
    name: str
    followers: int | None
    text: str
    published: datetime
    reveal: float  # scenario seconds; 0 for the backlog
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    reply_to: str | None = None  # key of the parent
    title: str = ""
    html: str | None = None
    feed: str = ""
    own: bool = False


def _place(post: _Post, start: datetime, speed: float, tz: ZoneInfo) -> _Entry:
    night, evening, weekend = _anchors(start, tz)
    kind, _, value = post.at.partition(" ")
    reveal = 0.0
    if kind == "wknd":
        published = _local_dt(weekend, value, tz)
    elif kind == "eve":
        published = _local_dt(evening, value, tz)
    elif kind == "night":
        published = _local_dt(night, value, tz)
    elif kind == "ago":
        published = start - timedelta(minutes=float(value))
    elif kind == "live":
        reveal = float(value)
        published = start + timedelta(seconds=reveal / speed)
    else:  # pragma: no cover - a typo in the script
        raise ValueError(f"bad 'at' in demo-{post.n}: {post.at!r}")
    return _Entry(
        key=post.demo_id, seq=post.n, platform=post.platform, situation=post.situation,
        lang=post.lang, author=post.author, name=post.name, followers=post.followers,
        text=post.text, published=published.replace(microsecond=0), reveal=reveal,
        likes=post.likes, reposts=post.reposts, replies=post.replies,
        reply_to=f"demo-{post.reply_to}" if post.reply_to else None,
        title=post.title, html=post.html, feed=post.feed, own=post.own,
    )


def _loop_entry(k: int, start: datetime, speed: float) -> _Entry:
    platform, lang, author, name, followers, text, title = _LOOP_POOL[(k - 1) % len(_LOOP_POOL)]
    reveal = SCRIPT_END + k * LOOP_PERIOD
    return _Entry(
        key=f"demo-L{k}", seq=1000 + k, platform=platform, situation="mention", lang=lang,
        author=author, name=name, followers=followers, text=text,
        published=(start + timedelta(seconds=reveal / speed)).replace(microsecond=0),
        reveal=reveal, likes=k % 7, replies=k % 3, title=title,
        feed="dagblad" if platform == "News" else "",
    )


# --------------------------------------------------------------------------------------
# Platform-shaped ids and helpers


def _h(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


_B32 = "234567abcdefghijklmnopqrstuvwxyz"


def _b32(num: int, width: int) -> str:
    out = ""
    for _ in range(width):
        out = _B32[num % 32] + out
        num //= 32
    return out


def _b36(num: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        num, r = divmod(num, 36)
        out = digits[r] + out
        if not num:
            return out


def _x_id(seq: int) -> str:
    return str(1_790_000_000_000_000_000 + seq * 1000)


def _mastodon_id(seq: int) -> str:
    return str(113_500_000_000_000_000 + seq * 1000)


def _bsky_did(handle: str) -> str:
    return "did:plc:" + _b32(int(_h(handle, 30), 16), 24)


def _bsky_uri(e: _Entry) -> str:
    return f"at://{_bsky_did(e.author)}/app.bsky.feed.post/3l{_b32(1_000_000 + e.seq, 11)}"


def _bsky_cid(e: _Entry) -> str:
    return "bafyrei" + _b32(int(_h("cid" + e.key, 50), 16), 52)


def _reddit_id(seq: int) -> str:
    return "1e" + _b36(50_000 + seq)


def _iso_ms(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _iso_fb(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "post"


_MENTION_RE = re.compile(r"(?<![\w@])@([\w.]+@[\w.-]+\w|[\w.]+)|#(\w+)|(https?://\S+)")


def _mastodon_html(e: _Entry) -> str:
    """Mastodon renders plain text as HTML: paragraphs, h-card mentions, tag links."""
    if e.html:
        return e.html
    domain = e.author.split("@", 1)[1] if "@" in e.author else "mastodon.example"

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            acct = m.group(1)
            user, _, host = acct.partition("@")
            host = host or domain
            return (f'<span class="h-card"><a href="https://{html.escape(host)}/@{html.escape(user)}" '
                    f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>')
        if m.group(2):
            tag = m.group(2)
            return (f'<a href="https://{domain}/tags/{html.escape(tag.lower())}" class="mention hashtag" '
                    f'rel="tag">#<span>{html.escape(tag)}</span></a>')
        url = m.group(3)
        return f'<a href="{html.escape(url)}" rel="nofollow noopener noreferrer" target="_blank">{html.escape(url)}</a>'

    parts: list[str] = []
    pos = 0
    for m in _MENTION_RE.finditer(e.text):
        parts.append(html.escape(e.text[pos:m.start()], quote=False))
        parts.append(sub(m))
        pos = m.end()
    parts.append(html.escape(e.text[pos:], quote=False))
    return "<p>" + "".join(parts).replace("\n", "<br>") + "</p>"


# --------------------------------------------------------------------------------------
# Document renderers: one per platform, each shaped like the real API's response.


class _Docs:
    """Builds each platform's document from the entries visible now."""

    def __init__(self, entries: list[_Entry], by_key: dict[str, _Entry], base_url: str) -> None:
        self.entries = entries
        self.by_key = by_key
        self.base_url = base_url
        self.all_bluesky = [e for e in entries if e.platform == "Bluesky"]

    def _of(self, platform: str, feed: str | None = None) -> list[_Entry]:
        out = [e for e in self.entries if e.platform == platform and (feed is None or e.feed == feed)]
        out.sort(key=lambda e: (e.published, e.seq), reverse=True)
        return out[:MAX_PER_DOC]

    # ---- X (mapped JSON) ----
    def x(self) -> dict[str, Any]:
        data = []
        for e in self._of("X"):
            tid = _x_id(e.seq)
            tweet: dict[str, Any] = {
                "id": tid,
                "text": e.text,
                "created_at": _iso_ms(e.published),
                "lang": e.lang,
                "author_id": _h("x" + e.author, 10),
                "author": {
                    "id": _h("x" + e.author, 10),
                    "username": e.author,
                    "name": e.name,
                    "public_metrics": {"followers_count": e.followers, "following_count": 300},
                },
                "public_metrics": {
                    "retweet_count": e.reposts, "reply_count": e.replies,
                    "like_count": e.likes, "quote_count": e.reposts // 4,
                },
                "url": f"https://x.example/{e.author}/status/{tid}",
            }
            parent = self.by_key.get(e.reply_to or "")
            if parent is not None:
                tweet["in_reply_to_tweet_id"] = _x_id(parent.seq)
            data.append(tweet)
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        return {"data": data, "meta": meta}

    # ---- Facebook (mapped JSON) ----
    def facebook(self) -> dict[str, Any]:
        page = "104728391002"
        data = []
        for e in self._of("Facebook"):
            fid = f"{page}_{7_700_000 + e.seq}"
            post: dict[str, Any] = {
                "id": fid,
                "message": e.text,
                "created_time": _iso_fb(e.published),
                "from": {"id": _h("fb" + e.author, 15), "name": e.author, "followers_count": e.followers},
                "permalink_url": f"https://www.facebook.example/{page}/posts/{7_700_000 + e.seq}",
                "reactions": {"summary": {"total_count": e.likes}},
                "comments": {"summary": {"total_count": e.replies}},
                "shares": {"count": e.reposts},
            }
            parent = self.by_key.get(e.reply_to or "")
            if parent is not None:
                post["parent_id"] = f"{page}_{7_700_000 + parent.seq}"
            data.append(post)
        return {"data": data, "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}}

    # ---- Instagram (mapped JSON) ----
    def instagram(self) -> dict[str, Any]:
        data = []
        for e in self._of("Instagram"):
            code = _b32(int(_h("ig" + e.key, 20), 16), 11)
            data.append({
                "id": str(17_900_000_000_000_000 + e.seq),
                "caption": e.text,
                "media_type": "IMAGE",
                "timestamp": _iso_fb(e.published),
                "username": e.author,
                "owner": {"id": _h("ig" + e.author, 17), "name": e.name, "followers_count": e.followers},
                "permalink": f"https://www.instagram.example/p/{code}/",
                "like_count": e.likes,
                "comments_count": e.replies,
            })
        return {"data": data, "paging": {"cursors": {"before": "MTc5", "after": "MTc4"}}}

    # ---- Mastodon ----
    def mastodon_status(self, e: _Entry) -> dict[str, Any]:
        user, _, host = e.author.partition("@")
        sid = _mastodon_id(e.seq)
        acc_id = str(109_000_000_000_000_000 + int(_h("m" + e.author, 8), 16) % 1_000_000)
        parent = self.by_key.get(e.reply_to or "")
        mentions = [
            {"id": str(109_100_000_000_000_000 + i), "username": m.split("@")[0], "acct": m,
             "url": f"https://{m.split('@')[1]}/@{m.split('@')[0]}"}
            for i, m in enumerate(re.findall(r"(?<![\w@])@([\w.]+@[\w.-]+\w)", e.text))
        ]
        tags = [{"name": t.lower(), "url": f"https://{host}/tags/{t.lower()}"}
                for t in re.findall(r"#(\w+)", e.text)]
        return {
            "id": sid,
            "created_at": _iso_ms(e.published),
            "in_reply_to_id": _mastodon_id(parent.seq) if parent else None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": e.lang,
            "uri": f"https://{host}/users/{user}/statuses/{sid}",
            "url": f"https://{host}/@{user}/{sid}",
            "replies_count": e.replies,
            "reblogs_count": e.reposts,
            "favourites_count": e.likes,
            "edited_at": None,
            "content": _mastodon_html(e),
            "reblog": None,
            "application": None,
            "account": {
                "id": acc_id,
                "username": user,
                "acct": e.author,
                "display_name": e.name,
                "locked": False,
                "bot": False,
                "discoverable": True,
                "group": False,
                "created_at": "2022-11-08T00:00:00.000Z",
                "note": "",
                "url": f"https://{host}/@{user}",
                "avatar": f"https://{host}/avatars/original/missing.png",
                "avatar_static": f"https://{host}/avatars/original/missing.png",
                "header": f"https://{host}/headers/original/missing.png",
                "header_static": f"https://{host}/headers/original/missing.png",
                "followers_count": e.followers or 0,
                "following_count": 180,
                "statuses_count": 1200,
                "last_status_at": e.published.astimezone(timezone.utc).date().isoformat(),
                "emojis": [],
                "fields": [],
            },
            "media_attachments": [],
            "mentions": mentions,
            "tags": tags,
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def mastodon(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        entries = [e for e in self.entries if e.platform == "Mastodon"]
        entries.sort(key=lambda e: e.seq)

        def num(name: str) -> int | None:
            v = (query.get(name) or [""])[0]
            return int(v) if v.isdigit() else None

        since, min_id, max_id = num("since_id"), num("min_id"), num("max_id")
        limit = max(1, min(40, num("limit") or 20))
        lower = max(x for x in (since, min_id, -1) if x is not None)
        picked = [e for e in entries if int(_mastodon_id(e.seq)) > lower
                  and (max_id is None or int(_mastodon_id(e.seq)) < max_id)]
        # min_id pages forward from the oldest; since_id/none give the newest page.
        picked = picked[:limit] if min_id is not None else picked[-limit:]
        return [self.mastodon_status(e) for e in reversed(picked)]

    # ---- Bluesky ----
    def bsky_post(self, e: _Entry) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": e.text,
            "createdAt": _iso_ms(e.published),
            "langs": [e.lang],
        }
        parent = self.by_key.get(e.reply_to or "")
        if parent is not None:
            ref = {"uri": _bsky_uri(parent), "cid": _bsky_cid(parent)}
            record["reply"] = {"root": ref, "parent": ref}
        return {
            "uri": _bsky_uri(e),
            "cid": _bsky_cid(e),
            "author": {
                "did": _bsky_did(e.author),
                "handle": e.author,
                "displayName": e.name,
                "avatar": f"https://cdn.bsky.example/img/avatar/plain/{_bsky_did(e.author)}/x@jpeg",
                "labels": [],
                "createdAt": "2023-06-01T10:00:00.000Z",
            },
            "record": record,
            "replyCount": e.replies,
            "repostCount": e.reposts,
            "likeCount": e.likes,
            "quoteCount": e.reposts // 5,
            "indexedAt": _iso_ms(e.published),
            "labels": [],
        }

    def _bsky_limit(self, query: dict[str, list[str]], default: int) -> int:
        v = (query.get("limit") or [""])[0]
        return max(1, min(100, int(v))) if v.isdigit() else default

    def bsky_search(self, query: dict[str, list[str]]) -> dict[str, Any]:
        if query.get("cursor"):
            # Everything fits in the first page; a cursor means "older than that": none.
            return {"posts": [], "hitsTotal": 0}
        posts = self._of("Bluesky")[: self._bsky_limit(query, 25)]
        return {"posts": [self.bsky_post(e) for e in posts], "hitsTotal": len(posts)}

    def bsky_author_feed(self, query: dict[str, list[str]]) -> dict[str, Any]:
        actor = (query.get("actor") or [""])[0]
        posts = [e for e in self._of("Bluesky") if actor in (e.author, _bsky_did(e.author))]
        return {"feed": [{"post": self.bsky_post(e)} for e in posts[: self._bsky_limit(query, 50)]]}

    def bsky_profiles(self, query: dict[str, list[str]]) -> dict[str, Any]:
        actors = [a for v in query.get("actors", []) + query.get("actors[]", []) for a in v.split(",")]
        known: dict[str, _Entry] = {}
        for e in self.all_bluesky:
            known.setdefault(e.author, e)
            known.setdefault(_bsky_did(e.author), e)
        profiles = []
        for actor in actors[:25]:
            e = known.get(actor.strip())
            if e is None:
                continue  # the real API silently leaves out unknown actors
            profiles.append({
                "did": _bsky_did(e.author),
                "handle": e.author,
                "displayName": e.name,
                "description": "",
                "avatar": f"https://cdn.bsky.example/img/avatar/plain/{_bsky_did(e.author)}/x@jpeg",
                "followersCount": e.followers or 0,
                "followsCount": 150,
                "postsCount": 900,
                "indexedAt": "2024-01-01T00:00:00.000Z",
                "createdAt": "2023-06-01T10:00:00.000Z",
                "labels": [],
            })
        return {"profiles": profiles}

    # ---- Reddit ----
    def reddit(self, query: dict[str, list[str]]) -> dict[str, Any]:
        v = (query.get("limit") or [""])[0]
        limit = max(1, min(100, int(v))) if v.isdigit() else 25
        children = []
        for e in self._of("Reddit")[:limit]:
            rid = _reddit_id(e.seq)
            permalink = f"/r/{SUBREDDIT}/comments/{rid}/{_slug(e.title)}/"
            children.append({"kind": "t3", "data": {
                "id": rid,
                "name": f"t3_{rid}",
                "title": e.title,
                "selftext": e.text,
                "selftext_html": "&lt;!-- SC_OFF --&gt;&lt;div class=\"md\"&gt;&lt;p&gt;"
                                 + html.escape(html.escape(e.text)) + "&lt;/p&gt;&lt;/div&gt;",
                "author": e.author,
                "author_fullname": "t2_" + _h("r" + e.author, 8),
                "subreddit": SUBREDDIT,
                "subreddit_name_prefixed": f"r/{SUBREDDIT}",
                "permalink": permalink,
                "url": f"https://www.reddit.example{permalink}",
                "created_utc": float(int(e.published.timestamp())),
                "score": e.likes,
                "ups": e.likes,
                "upvote_ratio": 0.91,
                "num_comments": e.replies,
                "over_18": False,
                "is_self": True,
                "stickied": False,
                "link_flair_text": None,
            }})
        return {"kind": "Listing", "data": {
            "after": None, "before": None, "dist": len(children), "modhash": "",
            "geo_filter": "", "children": children,
        }}

    # ---- News ----
    def rss(self) -> str:
        items = []
        for e in self._of("News", "dagblad"):
            link = f"https://dagblad.example/regio/{_slug(e.title)}-{e.seq}"
            desc = e.html or html.escape(e.text)
            items.append(
                "    <item>\n"
                f"      <title>{xml_escape(e.title)}</title>\n"
                f"      <link>{xml_escape(link)}</link>\n"
                f"      <description>{xml_escape(desc)}</description>\n"
                f"      <dc:creator>{xml_escape(e.author)}</dc:creator>\n"
                f"      <pubDate>{format_datetime(e.published.astimezone(timezone.utc), usegmt=True)}</pubDate>\n"
                f'      <guid isPermaLink="false">dagblad-{e.key}</guid>\n'
                "    </item>\n"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom">\n'
            "  <channel>\n"
            "    <title>Dagblad Nederland - Binnenland</title>\n"
            "    <link>https://dagblad.example/binnenland</link>\n"
            f'    <atom:link href="{xml_escape(self.base_url)}/news/dagblad.rss" rel="self" '
            'type="application/rss+xml"/>\n'
            "    <description>Nieuws uit binnen- en buitenland</description>\n"
            "    <language>nl-nl</language>\n"
            + "".join(items)
            + "  </channel>\n</rss>\n"
        )

    def atom(self) -> str:
        entries = self._of("News", "forum")
        updated = _iso_ms(entries[0].published) if entries else "2024-01-01T00:00:00.000Z"
        out = []
        for e in entries:
            link = f"https://forum.rivierstad.example/t/{_slug(e.title)}/{e.seq}"
            content = e.html or f"<p>{html.escape(e.text)}</p>"
            out.append(
                "  <entry>\n"
                f"    <title>{xml_escape(e.title)}</title>\n"
                f'    <link rel="alternate" href="{xml_escape(link)}"/>\n'
                f"    <id>tag:forum.rivierstad.example,2024:{e.key}</id>\n"
                f"    <published>{_iso_ms(e.published)}</published>\n"
                f"    <updated>{_iso_ms(e.published)}</updated>\n"
                f"    <author><name>{xml_escape(e.author)}</name></author>\n"
                f'    <content type="html">{xml_escape(content)}</content>\n'
                "  </entry>\n"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="nl">\n'
            "  <title>Rivierstad Forum - Bibliotheek</title>\n"
            "  <id>tag:forum.rivierstad.example,2024:bibliotheek</id>\n"
            f'  <link rel="self" href="{xml_escape(self.base_url)}/news/forum.atom"/>\n'
            f"  <updated>{updated}</updated>\n"
            + "".join(out)
            + "</feed>\n"
        )


_QA_PAGE = """<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Q&amp;A datalek - Bibliotheek Rivierstad</title></head>
<body>
<h1>Vragen en antwoorden: datalek / Questions and answers: data breach</h1>
<p><em>Dit is de demo-Q&amp;A van watchtower. This is watchtower's demo Q&amp;A page.</em></p>
<h2>Wat is er gebeurd? / What happened?</h2>
<p>Door een fout in ons uitleensysteem waren gegevens van leden in te zien. We hebben het lek
gedicht en de Autoriteit Persoonsgegevens ingelicht.</p>
<p>A fault in our lending system exposed member details. We have closed the leak and informed
the Dutch Data Protection Authority.</p>
<h2>Moet ik iets doen? / Do I need to do anything?</h2>
<p>Wij vragen u nooit om in te loggen via een link in een DM. We ask you never to log in through
a link in a direct message: our accounts never send those.</p>
<p>Contact: <a href="mailto:webcare@bieb-rivierstad.example">webcare@bieb-rivierstad.example</a></p>
</body></html>
"""


# --------------------------------------------------------------------------------------
# The server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True
    demo: DemoServer

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # pragma: no cover - not every platform allows it
            pass
        with self._open_lock:
            self._open.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections, so a stopped server answers nothing more."""
        with self._open_lock:
            socks, self._open = list(self._open), set()
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Never print a traceback to stderr: the TUI owns the terminal.  A client that
        # disconnects mid-response is normal for a poller that is being stopped.
        self.demo.errors += 1


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "watchtower-demo/1"
    sys_version = ""
    timeout = 30  # an idle kept-alive connection frees its thread after this long

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: stderr belongs to the TUI

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._respond(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(head=True)

    def _other(self) -> None:
        self.close_connection = True  # the unread body must not be taken for the next request
        self._send(405, b'{"error":"method not allowed"}\n', "application/json", extra={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _other  # noqa: N815

    def _send(self, status: int, body: bytes, ctype: str, *, etag: str | None = None,
              head: bool = False, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        if etag:
            self.send_header("ETag", etag)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0" if status == 304 else str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)

    def _respond(self, *, head: bool) -> None:
        demo = self.server.demo
        demo.requests += 1
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=False)
        try:
            found = demo.render(parts.path, query)
        except Exception:  # a bug here must not kill the thread noisily
            demo.errors += 1
            self._send(500, b'{"error":"demo server error"}\n', "application/json", head=head)
            return
        if found is None:
            self._send(404, b'{"error":"not found"}\n', "application/json", head=head)
            return
        body, ctype = found
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        inm = self.headers.get("If-None-Match")
        if inm:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            if etag in tags or "*" in tags:
                demo.not_modified += 1
                self._send(304, b"", ctype, etag=etag, head=True)
                return
        self._send(200, body, ctype, etag=etag, head=head)


class DemoServer:
    """The scripted incident, served on ``127.0.0.1`` at a random free port.

    ``clock``: monotonic seconds since start (default: real time since :meth:`start`).
    ``speed``: scenario seconds per clock second (``1e9`` reveals the script at once).
    ``reveal_all``: every scripted item is visible from the start (no loop items).
    ``loop``: after the script, trickle ordinary mentions with fresh ids (see the module doc).
    ``now``: the wall-clock start (UTC), which dates the backlog; default: now.

    ``start()`` returns the base URL; ``stop()`` shuts down; ``with DemoServer() as demo:``
    starts and stops it (``demo.base_url``).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        speed: float = 1.0,
        reveal_all: bool = False,
        loop: bool = True,
        now: datetime | None = None,
        timezone_name: str = TIMEZONE,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)
        self.reveal_all = reveal_all
        self.loop = loop
        self._clock = clock
        self._t0: float | None = None
        self._now = now
        self.tz = ZoneInfo(timezone_name)
        self.start_wall: datetime = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.requests = 0
        self.not_modified = 0
        self.errors = 0
        self._build()

    def _build(self) -> None:
        # Revealed all at once, live items are published at the start, never in the future.
        speed = float("inf") if self.reveal_all else self.speed
        self._script = [_place(p, self.start_wall, speed, self.tz) for p in _SCRIPT]
        self._by_key = {e.key: e for e in self._script}

    # ---- lifecycle ----
    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        if self._now is None:
            # Date the backlog from the real start, not from construction.
            self.start_wall = datetime.now(timezone.utc)
            self._build()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.demo = self
        self._server = server
        host, port = server.server_address[:2]
        self.base_url = f"http://127.0.0.1:{port}"
        self._t0 = time.monotonic()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2},
            name="watchtower-demo-server", daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the timeline ----
    def scenario_time(self) -> float:
        """Scenario seconds elapsed (``clock() * speed``)."""
        if self._clock is not None:
            elapsed = float(self._clock())
        elif self._t0 is not None:
            elapsed = time.monotonic() - self._t0
        else:
            elapsed = 0.0
        return max(0.0, elapsed) * self.speed

    def visible(self, t: float | None = None) -> list[_Entry]:
        """The entries revealed at scenario time ``t`` (default: now), oldest first."""
        if t is None:
            t = self.scenario_time()
        if self.reveal_all:
            return list(self._script)
        out = [e for e in self._script if e.reveal <= t]
        if self.loop and t >= SCRIPT_END + LOOP_PERIOD:
            last = int((t - SCRIPT_END) // LOOP_PERIOD)
            first = max(1, last - MAX_PER_DOC * 2)  # older loop items fall off the documents anyway
            out.extend(_loop_entry(k, self.start_wall, self.speed) for k in range(first, last + 1))
        return out

    def urls(self) -> dict[str, str]:
        """Every document URL (for ``watchtower check`` and the tests)."""
        b = self.base_url
        return {
            "X": f"{b}/x/mentions.json",
            "Facebook": f"{b}/facebook/mentions.json",
            "Instagram": f"{b}/instagram/mentions.json",
            "Mastodon": f"{b}/api/v1/timelines/tag/{MASTODON_TAG}?limit=40",
            "Mastodon search": f"{b}/api/v2/search?q=rivierstad&type=statuses",
            "Bluesky": f"{b}/xrpc/app.bsky.feed.searchPosts?q=rivierstad&sort=latest",
            "Bluesky profiles": f"{b}/xrpc/app.bsky.actor.getProfiles?actors={quote(OWN_BLUESKY)}",
            "Reddit": f"{b}/search.json?q=rivierstad&sort=new",
            "Reddit subreddit": f"{b}/r/{SUBREDDIT}/new.json",
            "News (RSS)": f"{b}/news/dagblad.rss",
            "News (Atom)": f"{b}/news/forum.atom",
            "Q&A": f"{b}/qa",
        }

    def render(self, path: str, query: dict[str, list[str]]) -> tuple[bytes, str] | None:
        """The body and content type for ``path`` now, or ``None`` (404)."""
        path = path.rstrip("/") or "/"
        if path == "/qa":
            return _QA_PAGE.encode("utf-8"), "text/html; charset=utf-8"
        entries = self.visible()
        docs = _Docs(entries, {**self._by_key, **{e.key: e for e in entries}}, self.base_url)
        doc: Any
        if path == "/x/mentions.json":
            doc = docs.x()
        elif path == "/facebook/mentions.json":
            doc = docs.facebook()
        elif path == "/instagram/mentions.json":
            doc = docs.instagram()
        elif path.startswith("/api/v1/timelines/tag/"):
            tag = path.rsplit("/", 1)[1].lower()
            doc = docs.mastodon(query) if tag == MASTODON_TAG else []
        elif path == "/api/v2/search":
            doc = {"accounts": [], "statuses": docs.mastodon(query), "hashtags": []}
        elif path == "/xrpc/app.bsky.feed.searchPosts":
            doc = docs.bsky_search(query)
        elif path == "/xrpc/app.bsky.feed.getAuthorFeed":
            doc = docs.bsky_author_feed(query)
        elif path == "/xrpc/app.bsky.actor.getProfiles":
            doc = docs.bsky_profiles(query)
        elif path in ("/search.json", f"/r/{SUBREDDIT}/new.json", f"/r/{SUBREDDIT}/search.json"):
            doc = docs.reddit(query)
        elif path == "/news/dagblad.rss":
            return docs.rss().encode("utf-8"), "application/rss+xml; charset=utf-8"
        elif path == "/news/forum.atom":
            return docs.atom().encode("utf-8"), "application/atom+xml; charset=utf-8"
        else:
            return None
        return json.dumps(doc, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"


# --------------------------------------------------------------------------------------
# The config and the summary


def demo_config(base_url: str) -> Config:
    """A full, validated config for the demo, every source pointing at ``base_url``."""
    b = base_url.rstrip("/")
    data: dict[str, Any] = {
        "organisation": {
            "name": ORG_NAME,
            "timezone": TIMEZONE,
            "qa_url": f"{b}/qa",
            "contact_email": "webcare@bieb-rivierstad.example",
            "default_language": "nl",
            "post_languages": ["nl", "en"],
            "accounts": [
                {"platform": "X", "handle": "@" + OWN_X, "name": "Bieb Rivierstad (X)", "colour": "cyan"},
                {"platform": "Facebook", "handle": OWN_FACEBOOK, "name": "Bieb Rivierstad (FB)", "colour": "blue"},
                {"platform": "Instagram", "handle": "@" + OWN_INSTAGRAM, "name": "Bieb Rivierstad (IG)",
                 "colour": "magenta"},
                {"platform": "Mastodon", "handle": "@" + OWN_MASTODON, "name": "Bieb Rivierstad (Mastodon)",
                 "colour": "bright_magenta"},
                {"platform": "Bluesky", "handle": OWN_BLUESKY, "name": "Bieb Rivierstad (Bluesky)",
                 "colour": "bright_blue"},
            ],
        },
        "sources": [
            {"name": "X mentions", "platform": "X", "kind": "json", "url": f"{b}/x/mentions.json",
             "interval": 5, "timeout": 10,
             "mapping": {"items": "data", "id": "id", "author": "author.username",
                         "author_name": "author.name", "text": "text", "url": "url",
                         "published": "created_at", "followers": "author.public_metrics.followers_count",
                         "language": "lang", "reposts": "public_metrics.retweet_count",
                         "likes": "public_metrics.like_count", "replies": "public_metrics.reply_count",
                         "in_reply_to": "in_reply_to_tweet_id"}},
            {"name": "Facebook page", "platform": "Facebook", "kind": "json",
             "url": f"{b}/facebook/mentions.json", "interval": 5, "timeout": 10,
             "mapping": {"items": "data", "id": "id", "author": "from.name", "text": "message",
                         "url": "permalink_url", "published": "created_time",
                         "followers": "from.followers_count", "reposts": "shares.count",
                         "likes": "reactions.summary.total_count",
                         "replies": "comments.summary.total_count", "in_reply_to": "parent_id"}},
            {"name": "Instagram mentions", "platform": "Instagram", "kind": "json",
             "url": f"{b}/instagram/mentions.json", "interval": 5, "timeout": 10,
             "mapping": {"items": "data", "id": "id", "author": "username", "author_name": "owner.name",
                         "text": "caption", "url": "permalink", "published": "timestamp",
                         "followers": "owner.followers_count", "likes": "like_count",
                         "replies": "comments_count"}},
            {"name": "Mastodon #" + MASTODON_TAG, "platform": "Mastodon", "kind": "mastodon",
             "url": b, "mode": "tag", "tag": MASTODON_TAG, "interval": 5, "timeout": 10},
            {"name": "Bluesky search", "platform": "Bluesky", "kind": "bluesky", "url": b,
             "auth_url": b, "mode": "search", "query": "rivierstad", "interval": 5, "timeout": 10},
            {"name": "Reddit search", "platform": "Reddit", "kind": "reddit", "url": b,
             "mode": "search", "query": "Bibliotheek Rivierstad", "interval": 5, "timeout": 10},
            {"name": "Dagblad (national)", "platform": "News", "kind": "rss",
             "url": f"{b}/news/dagblad.rss", "weight": 3.0, "interval": 5, "timeout": 10},
            {"name": "Rivierstad Forum", "platform": "News", "kind": "rss",
             "url": f"{b}/news/forum.atom", "weight": 1.0, "interval": 5, "timeout": 10},
        ],
        "rota": {
            "holidays": "NL",
            "shift": [
                {"name": "Weekdays", "days": ["mon", "tue", "wed", "thu", "fri"],
                 "start": "08:00", "end": "18:00", "on_call": "Sam"},
                {"name": "Weekend", "days": ["sat", "sun"], "start": "10:00", "end": "16:00",
                 "on_call": "Robin"},
            ],
        },
        "triage": {"ambassadors": ["@" + AMBASSADOR_X, "@" + AMBASSADOR_MASTODON]},
    }
    cfg = parse_config(data)
    cfg.demo = True
    return cfg


def scenario_summary() -> list[dict[str, Any]]:
    """Every scripted item: id, platform, situation, language, author, followers, text, when.

    ``when`` is ``"backlog: ..."`` (``wknd``/``eve``/``night`` local times, or minutes ago)
    or ``"live +Ns"`` (scenario seconds after start).
    """
    out = []
    for p in _SCRIPT:
        live = p.live_at
        out.append({
            "id": p.demo_id,
            "platform": p.platform,
            "situation": p.situation,
            "lang": p.lang,
            "author": p.author,
            "author_name": p.name,
            "followers": p.followers,
            "own_account": p.own,
            "title": p.title,
            "text": p.text,
            "when": f"live +{live:g}s" if live is not None else f"backlog: {p.at}",
        })
    return out

