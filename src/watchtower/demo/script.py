"""The demo's scripted incident: the organisation, its accounts, every post with when it
appears, the schedule that reveals them, and the config that watches them.

Deterministic given the wall-clock start: fixed ids, no randomness.  See
:mod:`watchtower.demo` for the whole story.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from ..config import Config, parse_config

__all__ = ["ORG_NAME", "TIMEZONE", "SCRIPT_END", "LOOP_PERIOD", "MAX_PER_DOC", "SITUATIONS", "demo_config", "scenario_summary"]

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

