"""Triage: the seeds' scenarios, word matching, own accounts, spikes, crisis mode, the CLI hook."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from watchtower.config import ConfigError, parse_config
from watchtower.core.models import Category, Engagement, Item, Severity
from watchtower.core.triage.engine import SpikeDetector, Triager, triage_json_lines
from watchtower.core.triage.rules import Matcher, Rule, load_rules

UTC = timezone.utc
# Wednesday 5 March 2025, 12:00 UTC = 13:00 in Amsterdam: inside the day shift below.
NOW = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)

CONFIG = {
    "organisation": {
        "name": "Stadsbibliotheek Haarlem",
        "timezone": "Europe/Amsterdam",
        "post_languages": ["nl", "en"],
        "accounts": [
            {"platform": "Mastodon", "handle": "@bieb@social.example", "name": "Stadsbibliotheek Haarlem"},
            {"platform": "Bluesky", "handle": "stadsbieb.bsky.social", "name": "Stadsbieb"},
        ],
    },
    "rota": {
        "holidays": "NL",
        "shift": [
            {"name": "day", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00", "on_call": "Ada"},
            {"name": "weekend", "days": ["sat", "sun"], "start": "10:00", "end": "16:00", "on_call": "Bo"},
        ],
    },
    "triage": {"ambassadors": ["@trouwe_lezer@social.example"], "spike": {"window_minutes": 10, "baseline_windows": 6}},
    "sources": [
        {"name": "nos", "kind": "rss", "platform": "News", "url": "https://nos.example/rss", "weight": 3},
        {"name": "forum", "kind": "rss", "platform": "News", "url": "https://forum.example/rss", "weight": 0.5},
        {"name": "masto", "kind": "mastodon", "platform": "Mastodon", "url": "https://social.example", "tag": "bieb"},
        {"name": "sky", "kind": "bluesky", "platform": "Bluesky", "query": "stadsbieb"},
    ],
}


@pytest.fixture
def config():
    return parse_config(json.loads(json.dumps(CONFIG)))


@pytest.fixture
def triager(config) -> Triager:
    return Triager(config, model=False)  # the rules alone: the model is tests/test_triage_model.py


def make(
    text: str,
    *,
    followers: int | None = 300,
    author: str = "@someone@social.example",
    author_name: str = "Some One",
    platform: str = "Mastodon",
    source: str = "masto",
    published: datetime = NOW,
    title: str = "",
    engagement: Engagement | None = None,
    native_id: str | None = None,
) -> Item:
    return Item.create(
        platform=platform,
        source=source,
        native_id=native_id,
        author=author,
        author_name=author_name,
        author_followers=followers,
        text=text,
        title=title,
        published=published,
        engagement=engagement,
        fallback_key=f"{author}{published.isoformat()}",
    )


def one(triager: Triager, item: Item, **kw) -> Item:
    return triager.triage([item], now=kw.pop("now", NOW), **kw)[0]


# -- the seeds -------------------------------------------------------------------------

GRUMBLE = "Third time this month the library is closed when the website says it's open. Really disappointed."


def test_fourteen_follower_grumble_is_low(triager: Triager) -> None:
    item = one(triager, make(GRUMBLE, followers=14))
    assert item.category in (Category.GRIEVANCE, Category.WRONG_INFO)
    assert item.severity == Severity.LOW
    assert item.reach.followers == 14 and item.reach.estimated_audience == 2
    assert "about 2 people likely to see this" in item.reasons
    assert "author has 14 followers" in item.reasons


def test_same_complaint_at_fifty_thousand_followers_is_high(triager: Triager) -> None:
    item = one(triager, make(GRUMBLE, followers=50_000))
    assert item.severity == Severity.HIGH
    assert item.reach.estimated_audience == 7000
    assert "about 7,000 people likely to see this" in item.reasons


def test_dutch_grumble_from_fourteen_followers(triager: Triager) -> None:
    item = one(triager, make("Alweer dicht op dinsdag. Ik ben het zat, echt teleurgesteld.", followers=14))
    assert (item.category, item.severity) == (Category.GRIEVANCE, Severity.LOW)
    assert item.language == "nl"


def test_online_fraction_is_configurable(config) -> None:
    config.triage.online_fraction = 0.5
    item = one(Triager(config, model=False), make(GRUMBLE, followers=14))
    assert item.reach.estimated_audience == 7
    assert "about 7 people likely to see this" in item.reasons


def test_prank_abuse_is_low_but_a_grievance_with_swearing_is_not_ignored(triager: Triager) -> None:
    prank = one(triager, make("lol this library sucks, bunch of idiots", followers=80))
    assert prank.category == Category.ABUSE and prank.severity <= Severity.LOW
    grievance = one(triager, make("You idiots charged me a late fee twice for a book I returned. Unacceptable.", followers=300))
    assert grievance.category == Category.GRIEVANCE
    assert grievance.severity == Severity.MEDIUM
    assert any("not a prank" in r for r in grievance.reasons)


def test_threat_is_high_whatever_the_reach(triager: Triager) -> None:
    item = one(triager, make("Ik weet waar je woont. Pas maar op.", followers=3))
    assert item.severity >= Severity.HIGH


def test_data_breach_article_from_weight_3_news_is_at_the_top(triager: Triager) -> None:
    article = make(
        "Persoonsgegevens van 20.000 leden van de Stadsbibliotheek lagen maandenlang open op internet.",
        title="Datalek bij Stadsbibliotheek Haarlem",
        followers=None,
        platform="News",
        source="nos",
        author="NOS",
        author_name="NOS",
    )
    others = [
        make(GRUMBLE, followers=50_000, native_id="a"),
        make("Is de bieb open op tweede paasdag?", followers=400, native_id="b"),
        make("Thanks for the lovely storytime this morning!", followers=900, native_id="c"),
        make("Forum: heeft iemand ervaring met de leesclub?", followers=None, platform="News", source="forum", native_id="d"),
    ]
    items = triager.triage(others + [article], now=NOW)
    assert article.category == Category.SECURITY
    assert article.severity >= Severity.HIGH
    assert "source weight 3 (nos)" in article.reasons
    assert any(r.startswith("keyword 'datalek'") for r in article.reasons)
    ranked = sorted(items, key=lambda i: i.severity, reverse=True)
    assert ranked[0] is article
    assert article.severity == Severity.CRITICAL


def test_forum_weight_lowers_a_grievance(triager: Triager) -> None:
    item = one(triager, make("Slechte service bij de balie, echt teleurgesteld", followers=None, platform="News", source="forum"))
    assert item.severity == Severity.LOW
    assert "source weight 0.5 (forum)" in item.reasons


def test_engagement_amplifies(triager: Triager) -> None:
    quiet = one(triager, make("The library gave out wrong information about the exam dates", followers=300))
    loud = one(
        triager,
        make(
            "The library gave out wrong information about the exam dates",
            followers=300,
            engagement=Engagement(reposts=120, likes=400, replies=30),
            native_id="loud",
        ),
    )
    assert loud.severity == quiet.severity + 1
    assert "engagement: 120 reposts, 400 likes, 30 replies" in loud.reasons


# -- words -------------------------------------------------------------------------------

def test_words_never_match_inside_other_words(triager: Triager) -> None:
    for text in ("What a class act, the new reading room", "Classic novels on the shelf, passing by", "Assessment week at the library"):
        item = one(triager, make(text))
        assert item.category != Category.ABUSE, text
    assert one(triager, make("kiss my ass")).category == Category.ABUSE


def test_case_accents_and_dutch_word_forms(triager: Triager) -> None:
    for text in ("Jullie account is GEHACKT", "jullie site is gehacked??", "Wéér een DATALEK bij jullie", "Over die datalekken van vorig jaar"):
        assert one(triager, make(text)).category == Category.SECURITY, text
    # "brand" is a fire in Dutch, a logo in English.
    assert one(triager, make("Er is brand in de bibliotheek, iedereen moet naar buiten")).category == Category.CRISIS
    assert one(triager, make("Love the new library brand and the colours of the logo")).category == Category.PRAISE


def test_matcher_stems_phrases_and_boundaries() -> None:
    rule = Rule(category="security", terms=["hack*", "*lek", "data breach", "*phish*"])
    m = Matcher([rule])
    assert m.find(["they", "hacked", "us"], None)[0].text == "hacked"
    assert m.find(["groot", "privacylek"], None)[0].text == "privacylek"
    assert m.find(["a", "data", "breach"], None)[0].text == "data breach"
    assert m.find(["antiphishing"], None)
    assert not m.find(["a", "data", "center", "breach"], None)
    assert not m.find(["shack"], None)


def test_every_item_gets_reasons(triager: Triager) -> None:
    item = one(triager, make("Mooie tentoonstelling", followers=None))
    assert item.reasons
    item = one(triager, make("random text about nothing", followers=None))
    assert item.category == Category.OTHER and "no keywords matched" in item.reasons


# -- own accounts, look-alikes, ambassadors ------------------------------------------------

def test_routine_own_post_is_info(triager: Triager) -> None:
    item = one(triager, make("Vanaf maandag zijn we weer open tot 20:00. Welkom!", author="@bieb@social.example"))
    assert item.category == Category.OWN_POST
    assert item.own_account == "@bieb@social.example"
    assert item.severity == Severity.INFO


def test_own_account_swearing_at_23_sunday_is_raised(triager: Triager) -> None:
    # Sunday 9 March 2025 23:00 Amsterdam = 22:00 UTC: nobody on shift.
    sunday = datetime(2025, 3, 9, 22, 0, tzinfo=UTC)
    item = one(
        triager,
        make("omg this fucking train again, so done with today", author="bieb@social.example", published=sunday),
        now=sunday + timedelta(minutes=2),
    )
    assert item.category == Category.OWN_POST
    assert item.severity >= Severity.HIGH
    assert "own account posted while nobody on shift: wrong account or compromised?" in item.reasons
    assert not item.coverage.covered and item.coverage.weekend


def test_own_account_posting_off_shift_alone_is_flagged_but_not_alarming(triager: Triager) -> None:
    # Scheduled posts and night-time outage updates are routine: the reason says it, the
    # level does not rise for it alone.
    night = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
    item = one(triager, make("Onze nieuwe tentoonstelling opent vandaag!", author="@bieb@social.example", published=night), now=night)
    assert item.severity == Severity.INFO
    assert "own account posted while nobody on shift: wrong account or compromised?" in item.reasons


def test_own_account_crypto_link_and_foreign_language(triager: Triager) -> None:
    item = one(
        triager,
        make("Gagnez des bitcoins avec nous, c'est très facile: https://free-crypto.example/claim", author="stadsbieb.bsky.social", platform="Bluesky", source="sky"),
    )
    # Crypto from our own account: the account may be taken over, a security matter.
    assert item.category == Category.SECURITY
    assert item.own_account == "stadsbieb.bsky.social"
    assert item.severity == Severity.CRITICAL
    assert any("language we don't post in" in r for r in item.reasons)
    assert any("compromised" in r for r in item.reasons)


def test_our_handle_on_another_platform_is_not_ours(triager: Triager) -> None:
    item = one(triager, make("Vanaf maandag open", author="stadsbieb.bsky.social", platform="Mastodon"))
    assert item.own_account is None


def test_lookalike_account_is_flagged_as_impersonation(triager: Triager) -> None:
    by_name = one(
        triager,
        make("Win een jaarabonnement! Log in via onze pagina", author="@stadsbibliotheek_haarlem@evil.example", author_name="Stadsbibliotheek Haarlem"),
    )
    assert by_name.category == Category.SECURITY and by_name.severity >= Severity.HIGH
    assert by_name.own_account is None
    assert "impersonation" in by_name.reasons[0]
    by_handle = one(triager, make("Nieuwe openingstijden!", author="stadsb1eb.bsky.social", author_name="Bieb", platform="Bluesky", source="sky"))
    assert by_handle.category == Category.SECURITY
    assert any("looks like our stadsbieb.bsky.social" in r for r in by_handle.reasons)
    fan = one(triager, make("Fijne middag gehad in de bieb", author="@lezer@social.example", author_name="Lezer"))
    assert fan.category != Category.SECURITY


def test_ambassador_is_marked_and_lowered(triager: Triager) -> None:
    item = one(
        triager,
        make("Dat gerucht klopt niet: de bieb in Noord gaat niet dicht, zie hun site.", author="@Trouwe_Lezer@social.example", followers=2000),
    )
    assert item.ambassador
    assert item.category == Category.WRONG_INFO
    assert item.severity == Severity.LOW
    assert any("ambassador" in r for r in item.reasons)


# -- coverage, spikes, crisis mode -----------------------------------------------------------

def test_coverage_is_filled_in(triager: Triager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        item = one(triager, make("Hoe laat gaan jullie open?"))
        assert item.coverage.covered and item.coverage.shift == "day" and item.coverage.on_call == "Ada"
        night = datetime(2025, 3, 5, 23, 30, tzinfo=UTC)
        late = one(triager, make("Hoe laat gaan jullie open?", published=night, native_id="n"), now=night)
        assert not late.coverage.covered
        assert "arrived while nobody was on shift" in late.reasons
    finally:
        monkeypatch.undo()
        time.tzset()


def test_spike_on_a_synthetic_burst(triager: Triager) -> None:
    start = NOW - timedelta(minutes=70)
    # A quiet hour before the current window: one mention every 10 minutes.
    for k in range(6):
        at = start + timedelta(minutes=10 * k + 3)
        triager.triage([make("Leuke activiteit vandaag", published=at, native_id=f"q{k}")], now=at)
    quiet = triager.spike_status("Mastodon", NOW)
    assert not quiet.active and quiet.count == 0 and quiet.baseline == pytest.approx(1.0)
    burst = [make("Jullie website ligt eruit", published=NOW - timedelta(minutes=9 - k * 0.5), native_id=f"b{k}", followers=400) for k in range(12)]
    triager.triage(burst, now=NOW)
    status = triager.spike_status("Mastodon", NOW)
    assert status.active and status.count == 12
    assert status.ratio >= 6
    assert all(i.spike for i in burst)
    assert burst[0].severity == Severity.HIGH  # medium grievance + spike
    assert any(r.startswith("12 mentions in 10 min, 12x baseline") for r in burst[0].reasons)
    vol = triager.volume("Mastodon", NOW, buckets=7)
    assert len(vol) == 7 and vol[-1] == 12 and sum(vol[:-1]) == 6
    assert not triager.spike_status("Bluesky", NOW).active
    # Re-triaging the same items does not count them twice.
    triager.triage(burst, now=NOW)
    assert triager.spike_status("Mastodon", NOW).count == 12


def test_spike_detector_clamps_absurd_dates() -> None:
    det = SpikeDetector(window_minutes=10, baseline_windows=4, factor=3, min_count=3)
    assert det.add("x", datetime(2999, 1, 1, tzinfo=UTC), NOW)  # future: counts as now
    assert not det.add("x", datetime(1990, 1, 1, tzinfo=UTC), NOW)  # far past: ignored
    assert det.volume("x", NOW, buckets=3) == [0, 0, 1]


def test_crisis_mode_raises_medium_and_up_only(triager: Triager) -> None:
    normal = one(triager, make("Ik heb een klacht over de balie", native_id="c1"))
    crisis = one(triager, make("Ik heb een klacht over de balie", native_id="c2"), crisis=True)
    assert normal.severity == Severity.MEDIUM and crisis.severity == Severity.HIGH
    assert "crisis mode: +1 level" in crisis.reasons
    praise = one(triager, make("Bedankt voor de hulp!", native_id="c3"), crisis=True)
    assert praise.severity == Severity.INFO
    big = one(triager, make("Brand in de bibliotheek, ontruiming bezig", native_id="c4", followers=90_000), crisis=True)
    assert big.severity == Severity.CRITICAL


# -- user rules --------------------------------------------------------------------------------

def test_user_rules_are_merged(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        """
[reach]
lower_below = 50

[category.praise]
max = "medium"

[[rule]]
id = "praise"
enabled = false

[[rule]]
category = "crisis"
severity = "critical"
terms = ["bibliobus*"]
""",
        encoding="utf-8",
    )
    cfg = parse_config({**json.loads(json.dumps(CONFIG)), "triage": {"rules": str(rules)}})
    ruleset = load_rules(cfg)
    assert ruleset.reach.lower_below == 50 and ruleset.reach.raise_at == 1000
    assert ruleset.settings_for(Category.PRAISE).max == "medium"
    assert not [r for r in ruleset.active_rules if r.id == "praise"]
    t = Triager(cfg, model=False)
    assert one(t, make("De bibliobussen rijden niet")).category == Category.CRISIS
    assert one(t, make("Bedankt!")).category == Category.OTHER


def test_bad_user_rules_name_the_key(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\ncategory = "panic"\nterms = ["x"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_rules(extra=rules)
    assert "rule[" in str(exc.value) and "category" in str(exc.value)
    rules.write_text("[reach]\nraise_att = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="reach.raise_att"):
        load_rules(extra=rules)


def test_default_rules_load_and_cover_both_languages() -> None:
    ruleset = load_rules()
    cats = {r.category for r in ruleset.active_rules}
    assert cats >= {c.value for c in Category} - {"other"}


# -- CLI hook ----------------------------------------------------------------------------------

def test_triage_json_lines_reports_bad_lines(config) -> None:
    good = make("Jullie website is gehackt!").to_json()
    lines = [json.dumps(good), "", "{not json", "[1, 2]", json.dumps({"text": "Thanks!", "platform": "Mastodon"})]
    out = list(triage_json_lines(config, lines, now=NOW))
    assert len(out) == 4
    first = json.loads(out[0])
    assert first["category"] == "security" and first["severity"] == "high" and first["reasons"]
    assert first["reach"]["estimated_audience"] == 42
    assert out[1][0] == 3 and "not JSON" in out[1][1]
    assert out[2][0] == 4 and "object" in out[2][1]
    assert json.loads(out[3])["category"] == "praise"


def test_triage_is_deterministic_given_now(config) -> None:
    a = Triager(config).triage([make(GRUMBLE, followers=900)], now=NOW)[0].to_json()
    b = Triager(config).triage([make(GRUMBLE, followers=900)], now=NOW)[0].to_json()
    assert a == b


@pytest.mark.parametrize("text", [
    "Great service as always 🙄",
    "Love waiting an hour in the queue /s",
    "Wat een geweldige service weer 🙃",
])
def test_praise_said_with_an_eye_roll_is_a_grievance(triager: Triager, text: str) -> None:
    item = triager.triage_one(make(text), now=NOW)
    assert item.category is Category.GRIEVANCE
    assert any("sarcasm" in r for r in item.reasons)


@pytest.mark.parametrize("text", [
    "Great service as always!",
    "Love the new reading room, see https://x.example/s/photos",
])
def test_praise_without_an_eye_roll_stays_praise(triager: Triager, text: str) -> None:
    assert triager.triage_one(make(text), now=NOW).category is Category.PRAISE
