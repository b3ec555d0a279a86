"""Triage that holds on posts nobody tuned it to (issue 17, points 1-5).

The organisation here is one no rule names (a hospital, "Rivierland Ziekenhuis"), and the
posts are written for these tests: what is checked is the mechanism (reach sets a floor,
an incident vocabulary on stems and compound parts, harmless alarm words in company only,
look-alike accounts named in a post, questions put to us, spam and rumour markers), not
the words of one post.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from watchtower.config import parse_config
from watchtower.core.models import Category, Engagement, Item, Severity
from watchtower.core.triage.engine import Triager

NOW = datetime(2026, 5, 6, 10, 0, tzinfo=timezone.utc)  # a Wednesday, 12:00 in Amsterdam: on shift

CONFIG = {
    "organisation": {
        "name": "Rivierland Ziekenhuis",
        "timezone": "Europe/Amsterdam",
        "qa_url": "https://www.rivierland.example/vragen",
        "contact_email": "webcare@rivierland.example",
        "post_languages": ["nl", "en"],
        "accounts": [
            {"platform": "X", "handle": "@rivierland", "name": "Rivierland Ziekenhuis"},
            {"platform": "Instagram", "handle": "@rivierland.zorg", "name": "Rivierland Zorg"},
        ],
    },
    "rota": {"shift": [{"name": "day", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00", "on_call": "Ada"}]},
    "sources": [
        {"name": "x", "kind": "rss", "platform": "X", "url": "https://feeds.example/x.rss"},
        {"name": "omroep", "kind": "rss", "platform": "News", "url": "https://feeds.example/omroep.rss", "weight": 3},
        {"name": "vakblad", "kind": "rss", "platform": "News", "url": "https://feeds.example/vakblad.rss", "weight": 0.5},
    ],
}


@pytest.fixture(scope="module")
def triager() -> Triager:
    return Triager(parse_config(json.loads(json.dumps(CONFIG))), model=False)  # the rules alone


_N = iter(range(10**6))


def post(
    triager: Triager,
    text: str,
    *,
    followers: int | None = 400,
    author: str = "@iemand",
    author_name: str = "Iemand",
    title: str = "",
    source: str = "x",
    platform: str = "X",
    in_reply_to: str | None = None,
    engagement: Engagement | None = None,
) -> Item:
    item = Item.create(
        platform=platform, source=source, native_id=str(next(_N)), author=author, author_name=author_name,
        author_followers=followers, text=text, title=title, published=NOW, in_reply_to=in_reply_to, engagement=engagement,
    )
    return triager.triage_one(item, now=NOW)


# -- 1. reach sets a floor ----------------------------------------------------------------

def test_unclassified_news_with_a_huge_audience_is_at_least_high(triager: Triager) -> None:
    item = post(triager, "De afdeling spoedzorg gaat vanaf morgen anders werken, meldt de directie.",
                title="Rivierland Ziekenhuis verandert werkwijze", followers=2_000_000, platform="News", source="vakblad")
    assert item.category is Category.OTHER
    assert item.severity >= Severity.HIGH
    assert "unclassified, large audience: look" in item.reasons


def test_about_ten_thousand_people_is_at_least_medium(triager: Triager) -> None:
    item = post(triager, "Rivierland Ziekenhuis gaat een nieuwe parkeergarage bouwen.", followers=80_000)
    assert item.category is Category.OTHER and item.severity == Severity.MEDIUM
    assert "unclassified, large audience: look" in item.reasons


def test_a_weighty_news_source_is_at_least_medium(triager: Triager) -> None:
    item = post(triager, "Het ziekenhuis stelt een nieuwe bestuurder aan.", followers=None, platform="News", source="omroep")
    assert item.severity >= Severity.MEDIUM


def test_the_fourteen_follower_grumble_stays_low(triager: Triager) -> None:
    item = post(triager, "Alweer een uur gewacht bij de poli, echt belachelijk", followers=14)
    assert item.category is Category.GRIEVANCE and item.severity == Severity.LOW


def test_other_from_a_small_account_stays_info(triager: Triager) -> None:
    item = post(triager, "Vandaag langs Rivierland gefietst, mooi weer", followers=300)
    assert item.severity == Severity.INFO


# -- 2. an incident vocabulary, on stems and compound parts --------------------------------

@pytest.mark.parametrize(
    "text, category",
    [
        ("The whole ward was evacuated this morning", Category.CRISIS),
        ("They are evacuating the east wing right now", Category.CRISIS),
        ("Hele vleugel ontruimd vanochtend", Category.CRISIS),
        ("Ontruiming van de poli bezig", Category.CRISIS),
        ("Asbestos found in the old building, the wing is closed", Category.CRISIS),
        ("Er is asbest gevonden in de kelder", Category.CRISIS),
        ("Two nurses injured after a fall in the stairwell", Category.CRISIS),
        ("Staking bij het ziekenhuis: de poli's zijn dicht", Category.CRISIS),
        ("Nurses at Rivierland go on strike on Monday", Category.CRISIS),
        ("De directeur treedt af na kritiek", Category.CRISIS),
        ("The CEO resigned after the report", Category.CRISIS),
        ("Patiënten klagen het ziekenhuis aan, rechtszaak volgt", Category.CRISIS),
        ("Regulator opens investigation into Rivierland", Category.CRISIS),
        ("Legionella aangetroffen in de waterleiding", Category.CRISIS),
        ("Groot datalek: patiëntgegevens lagen op straat", Category.SECURITY),
        ("Gegevenslek bij het ziekenhuis, duizenden dossiers", Category.SECURITY),
        ("Over die datalekken van vorig jaar is nog niks bekend", Category.SECURITY),
        ("Their systems were hacked last night", Category.SECURITY),
        ("Ransomware-aanval legt systemen plat", Category.SECURITY),
        ("Weer een phishingmail ontvangen, pas op", Category.SECURITY),
        ("Er is een nepaccount actief dat zich voordoet als het ziekenhuis", Category.SECURITY),
        ("Watch out, scam texts in the hospital's name are going around", Category.SECURITY),
    ],
)
def test_incident_words_in_their_everyday_forms(triager: Triager, text: str, category: Category) -> None:
    item = post(triager, text)
    assert item.category is category, item.reasons
    assert item.severity >= Severity.MEDIUM


@pytest.mark.parametrize(
    "text",
    [
        "this new album is fire 🔥 listening while I wait at Rivierland",
        "killer deal on parking at the Rivierland garage this week",
        "dit nummer is echt bom 💣 draai het al de hele dag",
        "brandend actueel boek over de zorg, aanrader",
        "the second half was an absolute explosion, what a game",
        "mijn telefoon ging dood in de wachtkamer haha",
    ],
)
def test_harmless_alarm_words_do_not_fire(triager: Triager, text: str) -> None:
    item = post(triager, text)
    assert item.category is not Category.CRISIS, item.reasons
    assert item.severity <= Severity.LOW


@pytest.mark.parametrize(
    "text",
    [
        "Fire at the Rivierland parking garage, smoke everywhere",
        "Brand in de keuken van het ziekenhuis, brandweer is er",
        "Explosion reported near the hospital, police on site",
    ],
)
def test_alarm_words_in_context_do_fire(triager: Triager, text: str) -> None:
    item = post(triager, text)
    assert item.category is Category.CRISIS and item.severity >= Severity.HIGH, item.reasons


def test_a_leak_of_water_is_no_data_leak(triager: Triager) -> None:
    assert post(triager, "Lekkage in de wachtkamer, emmers overal").category is Category.GRIEVANCE
    assert post(triager, "Thanks to the porter who fixed the leak in our room so fast").category is Category.PRAISE
    assert post(triager, "Patient data leaked: names and dates of birth online").category is Category.SECURITY


def test_a_handle_is_not_the_words_of_a_post(triager: Triager) -> None:
    # "@rivierland_storing" would otherwise read as "storing" (an outage).
    item = post(triager, "Chapeau voor de monteurs van @rivierland_storing, helden!")
    assert item.category is Category.PRAISE


# -- 3. impersonation ---------------------------------------------------------------------

def test_a_lookalike_account_named_in_a_post(triager: Triager) -> None:
    item = post(triager, "Is @rivierland_klantenservice echt van jullie? Ze vragen om mijn DigiD")
    assert item.category is Category.SECURITY
    assert any("@rivierland_klantenservice named in the post looks like our @rivierland" in r for r in item.reasons)
    assert item.severity >= Severity.HIGH  # a look-alike and a request for a DigiD: two signs


def test_our_own_accounts_named_in_a_post_are_no_lookalikes(triager: Triager) -> None:
    item = post(triager, "Goed bericht van @rivierland.zorg over de nieuwe poli, dank!")
    assert item.category is Category.PRAISE


def test_our_name_on_someone_elses_address(triager: Triager) -> None:
    by_mail = post(triager, "Mail gehad van rivierland@patientportaal-nl.com, ze willen mijn BSN. Klopt dit?")
    assert by_mail.category is Category.SECURITY
    assert any("uses our name on another domain" in r for r in by_mail.reasons)
    by_site = post(triager, "Link in the text goes to rivierland-vergoeding.com to claim a refund")
    assert by_site.category is Category.SECURITY
    assert any("rivierland-vergoeding.com borrows our name" in r for r in by_site.reasons)
    ours = post(triager, "Alles staat op https://www.rivierland.example/bezoek, handig")
    assert ours.category is not Category.SECURITY


def test_a_lookalike_author_is_high_whatever_its_reach(triager: Triager) -> None:
    item = post(triager, "Win een gratis behandeling! Vul je gegevens in via de link in bio",
                author="@rivierland.winactie", author_name="Rivierland Winactie", followers=40)
    assert item.category is Category.SECURITY and item.severity >= Severity.HIGH
    assert "impersonation" in item.reasons[0]


def _org_triager(name: str, x_handle: str, linkedin: str) -> Triager:
    """The rules for an organisation with an X handle and a LinkedIn page of its own."""
    config = json.loads(json.dumps(CONFIG))
    config["organisation"]["name"] = name
    config["organisation"]["accounts"] = [
        {"platform": "X", "handle": x_handle, "name": name},
        {"platform": "LinkedIn", "handle": linkedin, "name": name},
    ]
    return Triager(parse_config(config), model=False)


def test_the_kind_of_place_we_are_is_not_our_name() -> None:
    """Handles universiteit-eemland and @UniEemland share "eemland": @Universiteit (what
    we are, not who) is somebody else; a copy of our name is still a look-alike."""
    uni = _org_triager("Universiteit Eemland", "@UniEemland", "universiteit-eemland")
    generic = post(uni, "Open dag bij @Universiteit Utrecht en daarna bij Universiteit Eemland, wie gaat er mee?")
    assert generic.category is not Category.SECURITY
    assert not any("impersonation" in r or "looks like ours" in r for r in generic.reasons), generic.reasons
    copied = post(uni, "Kreeg een DM van @UniEemIand_support over mijn studiefinanciering, ze willen mijn DigiD")
    assert copied.category is Category.SECURITY
    assert any("@UniEemIand_support" in r for r in copied.reasons), copied.reasons
    # A first part that is our name ("kruidhof" of the shared "kruidhofapo") stays one.
    apo = _org_triager("Kruidhof Apotheken", "@KruidhofApo", "kruidhof-apotheken")
    posing = post(apo, "Let op: @kruidhof_official vraagt via DM om je BSN voor een gratis pakket")
    assert posing.category is Category.SECURITY
    assert any("@kruidhof_official" in r for r in posing.reasons), posing.reasons


def test_our_own_account_posting_a_giveaway_is_taken_over(triager: Triager) -> None:
    item = post(triager, "🚀 GIVEAWAY: send 0.1 ETH and get 0.5 ETH back! rivierland-eth.io", author="@rivierland",
                author_name="Rivierland Ziekenhuis", followers=9000)
    assert item.category is Category.SECURITY
    assert item.own_account == "@rivierland"
    assert item.severity >= Severity.HIGH
    assert any("taken over" in r for r in item.reasons)


# -- 4. a question only when it is put to us ---------------------------------------------------

@pytest.mark.parametrize(
    "text, reply",
    [
        ("@rivierland hoe laat begint het bezoekuur?", None),
        ("Rivierland, kan ik mijn afspraak online verzetten?", None),
        ("Hoi Rivierland, waar moet ik parkeren?", None),
        ("Moet ik nuchter komen voor de bloedafname?", "12345"),
        ("Kunnen jullie mijn afspraak verzetten?", None),
    ],
)
def test_a_question_put_to_us(triager: Triager, text: str, reply: str | None) -> None:
    assert post(triager, text, in_reply_to=reply).category is Category.QUESTION


@pytest.mark.parametrize(
    "text",
    [
        "Anyone know a good place to park near Rivierland?",
        "Iemand ervaring met de poli dermatologie van Rivierland?",
        "Weet iemand of het restaurant in Rivierland open is?",
        "Rivierland or the academic hospital for a knee operation? Any experiences?",
    ],
)
def test_a_question_to_friends_is_not_one_to_us(triager: Triager, text: str) -> None:
    item = post(triager, text)
    assert item.category is not Category.QUESTION, item.reasons


# -- 5. spam and wrong information ------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "Boost your page!! 5K real followers for only $15, DM now",
        "🚀 BTC giveaway: send 0.05 and receive double, limited time only",
        "Verdien €300 per dag vanuit huis met crypto, info in mijn bio",
        "#zorg #f4f #follow4follow #likeforlike #crypto",
    ],
)
def test_spam_that_holds_across_organisations(triager: Triager, text: str) -> None:
    item = post(triager, text, followers=50)
    assert item.category is Category.SPAM and item.severity <= Severity.LOW


@pytest.mark.parametrize(
    "text",
    [
        "Het bezoekuur is afgeschaft las ik, vanaf nu mag niemand meer op bezoek",
        "From monday apparently you need a referral for everything at Rivierland",
        "I heard that Rivierland is closing its maternity ward next month",
        "Heb het van iemand die er werkt: de spoedeisende hulp gaat dicht. Deel dit!",
    ],
)
def test_rumours_stated_as_fact_are_wrong_info(triager: Triager, text: str) -> None:
    assert post(triager, text).category is Category.WRONG_INFO


def test_our_information_contradicting_itself_is_wrong_info(triager: Triager) -> None:
    item = post(triager, "@rivierland your website says visiting hours end at 8, the letter says 7. Which one is it?")
    assert item.category is Category.WRONG_INFO


# -- how a post is put to us ------------------------------------------------------------------

def test_a_mention_that_opens_the_post_speaks_to_us_one_inside_it_only_names_us(triager: Triager) -> None:
    to_us = post(triager, "@rivierland how long is the wait at the emergency department now? asking for my dad")
    assert to_us.category is Category.QUESTION
    about_us = post(triager, "gonna bring 20 friends to the @rivierland lobby and see how long it takes them, who's in?")
    assert about_us.category is not Category.QUESTION


def test_a_greeting_opens_a_question_to_us_but_not_one_to_everyone(triager: Triager) -> None:
    assert post(triager, "Hello, is there a parking garage for visitors?").category is Category.QUESTION
    assert post(triager, "Hallo allemaal, weet iemand een goede fysio in de buurt?").category is not Category.QUESTION


def test_the_name_all_our_handles_share_is_our_name(config_with_shared_name: Triager) -> None:
    # @LindenHofSG, @sghetlindenhof, @het-lindenhof-school: people write "Lindenhof".
    item = post(config_with_shared_name, "Lindenhof, is er morgen gewoon school?")
    assert item.category is Category.QUESTION and any("by name" in r for r in item.reasons)
    fake = post(config_with_shared_name, "Let op: @lindenhof_official is niet van de school, ze vragen om je wachtwoord")
    assert fake.category is Category.SECURITY


@pytest.fixture(scope="module")
def config_with_shared_name() -> Triager:
    cfg = json.loads(json.dumps(CONFIG))
    cfg["organisation"]["name"] = "Scholengemeenschap Het Lindenhof"
    cfg["organisation"]["accounts"] = [
        {"platform": "X", "handle": "@LindenhofSG", "name": "SG Het Lindenhof"},
        {"platform": "Instagram", "handle": "@sghetlindenhof", "name": "Het Lindenhof"},
        {"platform": "LinkedIn", "handle": "@het-lindenhof-school", "name": "Scholengemeenschap Het Lindenhof"},
    ]
    return Triager(parse_config(cfg), model=False)


# -- words that only look like alarm or spam ------------------------------------------------------

def test_everyday_phrases_keep_alarm_words_quiet(triager: Triager) -> None:
    item = post(triager, "Saw three porters on a smoke break at once, they should all be fired")
    assert item.category is not Category.CRISIS, item.reasons


def test_a_link_to_a_shop_domain_is_spam(triager: Triager) -> None:
    item = post(triager, "Sneakers nu €39,99!! op=op 👉 kicks-outlet-sale.top #rivierland #sale", followers=3)
    assert item.category is Category.SPAM


def test_our_own_giveaway_or_scam_warning_is_no_takeover(triager: Triager) -> None:
    own = dict(author="@rivierland", author_name="Rivierland Ziekenhuis", followers=9000)
    warning = post(triager, "Let op: tickets voor het open huis koop je alleen via rivierland.example. Pas op voor doorverkopers.", **own)
    assert warning.category is Category.OWN_POST and warning.severity <= Severity.LOW
    giveaway = post(triager, "Giveaway! Win a tour of our new wing: like and share this post.", **own)
    assert giveaway.category is Category.OWN_POST


def test_english_and_dutch_words_only_meet_in_their_own_language(triager: Triager) -> None:
    # "storing" (Dutch: an outage) is no English "store"; "quits" is no Dutch "quitte".
    assert post(triager, "Do you sell gift cards in store or only online?", in_reply_to="1").category is Category.QUESTION
    assert post(triager, "Weer een storing bij de poli, niks werkt").category is Category.GRIEVANCE


def test_a_name_that_only_shares_ours_is_no_lookalike(triager: Triager) -> None:
    """Our name is often a place's: the town's paper or a union branch shares it, and says
    what it is; an impostor adds little ("_official", "klantenservice", digits)."""
    for author in ("@rivierlander_dagblad", "@fnv-zorg-rivierland", "@rivierland.confessions"):
        item = post(triager, "Nieuwe parkeerregels bij de poli vanaf maandag", author=author, author_name=author)
        assert not any("impersonation" in r for r in item.reasons), author
    for author in ("@rivierland_official", "@rivierland2", "@rivierland.zorg.helpdesk", "@rivierIand"):
        item = post(triager, "Nieuwe parkeerregels bij de poli vanaf maandag", author=author, author_name=author)
        assert any("impersonation" in r for r in item.reasons), author
