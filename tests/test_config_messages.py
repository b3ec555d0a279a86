"""Config error messages, word for word, and the model API the rest of the code uses.

The config models are msgspec Structs (pydantic cost 130 ms of the start, bench P8);
``watchtower.config.explain`` turns msgspec's first error into the key and plain words.
The keys are those the pydantic version printed; the words were reworded for msgspec
("a number", "a table", "greater than or equal to 5 (got 1)").  A change here is a change
users see.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from msgspec import ValidationError

from watchtower.config import (
    Alerts,
    Config,
    ConfigError,
    JsonMapping,
    JsonSource,
    MastodonSource,
    RssSource,
    load_config,
    parse_config,
)

NAN = float("nan")

CASES = [
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'bogus': 1}]},
     'sources[0].bogus: unknown key (check the spelling; see config/watchtower.example.toml)'),
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'ftp://x/'}]},
     'sources[0].url: expected a http:// or https:// URL with a host'),
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'interval': 'fast'}]},
     'sources[0].interval: expected a number (got str)'),
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'interval': 1}]},
     'sources[0].interval: expected a number greater than or equal to 5 (got 1)'),
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'interval': NAN}]},
     'sources[0].interval: expected a number greater than or equal to 5 (got nan)'),
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'weight': True}]},
     'sources[0].weight: expected a number (got bool)'),
    ({'sources': [{'kind': 'rss', 'name': '', 'platform': 'p', 'url': 'http://x/'}]},
     'sources[0].name: expected a string of at least 1 character (got 0)'),
    ({'sources': [{'kind': 'rss', 'name': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'platform': 'p', 'url': 'http://x/'}]},
     'sources[0].name: expected a string of at most 64 characters (got 65)'),
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'headers': {'X-A': 1}}]},
     'sources[0].headers.X-A: expected a string (got int)'),
    ({'sources': [{'kind': 'myspace', 'name': 'n', 'platform': 'p', 'url': 'http://x/'}]},
     'sources[0]: kind must be one of: bluesky, inbox, json, mastodon, reddit, rss'),
    ({'sources': [{'name': 'n'}]},
     'sources[0]: missing kind (one of: bluesky, inbox, json, mastodon, reddit, rss)'),
    ({'sources': ['rss']},
     'sources[0]: expected a table (got str)'),
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p'}]},
     'sources[0].url: required key is missing'),
    ({'sources': [{'kind': 'mastodon', 'name': 'n', 'platform': 'p', 'url': 'http://x/'}]},
     'sources[0]: mode \'tag\' needs tag = "yourtag"'),
    ({'sources': [{'kind': 'mastodon', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'mode': 'mentions', 'token_env': 'MY TOKEN'}]},
     'sources[0].token_env: expected the name of an environment variable (letters, digits, _), not the secret itself'),
    ({'sources': [{'kind': 'bluesky', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'mode': 'author'}]},
     'sources[0]: mode \'author\' needs actor = "handle.bsky.social"'),
    ({'sources': [{'kind': 'reddit', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'limit': 0, 'query': 'q'}]},
     'sources[0].limit: expected an integer greater than or equal to 1 (got 0)'),
    ({'sources': [{'kind': 'json', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'mapping': {'items': 5}}]},
     'sources[0].mapping.items: expected a string (got int)'),
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'http://x/'}, {'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'http://x/'}]},
     "source names must be unique; 'n' appears twice"),
    ({'organisation': 5},
     'organisation: expected a table (got int)'),
    ({'organisation': {'timezone': 'Mars/Olympus'}},
     "organisation.timezone: expected an IANA time zone name such as 'Europe/Amsterdam'"),
    ({'organisation': {'default_language': 'fr'}},
     "organisation.default_language: expected 'en' or 'nl'"),
    ({'organisation': {'accounts': [{'platform': 'x'}]}},
     'organisation.accounts[0].handle: required key is missing'),
    ({'organisation': {'accounts': [{'platform': 'x', 'handle': 'h', 'colour': 'pink'}]}},
     "organisation.accounts[0].colour: expected 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white', 'bright_red', 'bright_green', 'bright_yellow', 'bright_blue', 'bright_magenta' or 'bright_cyan'"),
    ({'rota': {'shift': [{'name': 'a', 'days': [], 'start': '08:00', 'end': '09:00'}]}},
     'rota.shift[0].days: expected a list of at least 1 item (got 0)'),
    ({'rota': {'shift': [{'name': 'a', 'days': ['mon', 'xx'], 'start': '08:00', 'end': '09:00'}]}},
     "rota.shift[0].days[1]: expected 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun' or 'holiday'"),
    ({'rota': {'shift': [{'name': 'a', 'days': ['mon'], 'start': datetime.time(8, 0), 'end': '09:00'}]}},
     'rota.shift[0].start: expected a string (got time)'),
    ({'triage': {'online_fraction': 0}},
     'triage.online_fraction: expected a number greater than 0 (got 0)'),
    ({'triage': {'crisis_boost': 1.0}},
     'triage.crisis_boost: expected an integer (got float)'),
    ({'triage': {'spike': {'baseline_windows': 1}}},
     'triage.spike.baseline_windows: expected an integer greater than or equal to 2 (got 1)'),
    ({'alerts': {'min_severity': 'urgent'}},
     "alerts.min_severity: expected 'info', 'low', 'medium', 'high' or 'critical'"),
    ({'alerts': {'apprise_url_envs': ['ntfy://secret@host']}},
     'alerts.apprise_url_envs: expected the name of an environment variable (letters, digits, _), not the secret itself'),
    ({'ui': {'keymap': {'claim': 1}}},
     'ui.keymap.claim: expected a string (got int)'),
    ({'data': {'retention_days': 0}},
     'data.retention_days: expected a number greater than 0 (got 0)'),
    ({'bogus': {}},
     'bogus: unknown key (check the spelling; see config/watchtower.example.toml)'),
    ({'sources': [{'kind': 'rss', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'enabled': 'yes'}]},
     'sources[0].enabled: expected true or false (got str)'),
    ({'organisation': {'accounts': {}}},
     'organisation.accounts: expected a list (got dict)'),
    # Where the file came from and demo mode are set by the program, never by the file.
    ({'demo': True},
     'demo: unknown key (check the spelling; see config/watchtower.example.toml)'),
    ({'path': '/etc/passwd'},
     'path: unknown key (check the spelling; see config/watchtower.example.toml)'),
    ({'sources': [{'kind': 'json', 'name': 'n', 'platform': 'p', 'url': 'http://x/', 'mapping': {'itemz': 'data'}}]},
     'sources[0].mapping.itemz: unknown key (check the spelling; see config/watchtower.example.toml)'),
    ({'rota': {'holidays': 'XX'}},
     'rota.holidays: expected a country code the \'holidays\' package knows, such as "NL" or "GB"'),
]


@pytest.mark.parametrize(("doc", "message"), CASES)
def test_first_problem_is_reported_word_for_word(doc: dict, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(doc, path=Path("/etc/wt.toml"))
    assert str(exc.value) == f"/etc/wt.toml: {message}"


def test_toml_file_problem_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[alerts]\ncooldown_seconds = -1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(exc.value) == f"{path}: alerts.cooldown_seconds: expected a number greater than or equal to 0 (got -1)"
    assert exc.value.key == "alerts.cooldown_seconds"


def test_values_and_defaults() -> None:
    cfg = parse_config({
        "organisation": {"timezone": "Europe/Amsterdam"},
        "sources": [
            {"kind": "rss", "name": "a", "platform": "News", "url": "http://x/", "interval": 60},
            {"kind": "mastodon", "name": "m", "platform": "Mastodon", "url": "https://m.example", "tag": "lib"},
        ],
        "rota": {"holidays": ""},
    })
    rss = cfg.sources[0]
    assert isinstance(rss, RssSource) and isinstance(cfg.sources[1], MastodonSource)
    assert rss.interval == 60.0 and isinstance(rss.interval, float)  # an int where a float goes becomes one
    assert rss.timeout == 30.0 and rss.headers == {} and rss.enabled is True
    assert cfg.rota.holidays is None  # "" means none
    assert cfg.organisation.tz.key == "Europe/Amsterdam"
    assert cfg.platforms == ["News", "Mastodon"]
    assert cfg.path is None and cfg.demo is False
    assert cfg.triage.spike.window_minutes == 10  # defaults are kept as written


def test_constructors_validate_like_documents() -> None:
    spec = RssSource(kind="rss", name="gazette", platform="News", url="http://127.0.0.1:9/feed.xml", interval=30)
    assert spec.interval == 30.0
    mapping = JsonMapping(items="data", id="id")
    assert JsonSource(kind="json", name="j", platform="P", url="http://x/", mapping=mapping).mapping is mapping
    assert Alerts(min_severity="critical").min_severity == "critical"
    assert RssSource(name="gazette", platform="News", url="http://x/").kind == "rss"  # kind is the class
    with pytest.raises(ValidationError, match="^url: a http:// or https:// URL with a host"):
        RssSource(kind="rss", name="g", platform="News", url="file:///etc/passwd")
    with pytest.raises(ValidationError, match="Invalid value 'json'"):
        RssSource(kind="json", name="g", platform="News", url="http://x/")
    with pytest.raises(ValidationError):
        Alerts(min_severity="urgent")


def test_model_validate_dump_copy_and_equality() -> None:
    cfg = Config.model_validate({"operator": "ana", "data": {"dir": "/srv/wt"}})
    assert cfg.operator == "ana" and cfg.data.dir == "/srv/wt"
    dumped = cfg.model_dump()
    assert dumped["data"] == {"dir": "/srv/wt", "group_shared": False, "retention_days": 7}
    assert "path" not in dumped and "demo" not in dumped
    assert Config.model_validate(dumped) == cfg
    copy = cfg.model_copy(update={"operator": "ben"})
    assert copy.operator == "ben" and cfg.operator == "ana" and copy.data is cfg.data
    cfg.path = Path("/srv/wt/config.toml")
    assert cfg.model_copy().path == cfg.path and Config().path is None  # set by load_config, kept by copies
    assert Config() == Config() and Config() != cfg
    with pytest.raises(ValidationError):
        Config.model_validate(["not", "a", "table"])
    assert "Config(operator='ana'" in repr(cfg)


def test_toml_dates_are_not_strings() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"organisation": {"name": datetime.date(2026, 1, 1)}})
    assert str(exc.value) == "<config>: organisation.name: expected a string (got date)"


@pytest.mark.slow  # starts a process
def test_config_and_rules_need_no_pydantic(tmp_path: Path) -> None:
    """pydantic left the project: the config and the rules load with it unimportable."""
    import subprocess
    import sys

    bad = tmp_path / "c.toml"
    bad.write_text('[alerts]\ncooldown_seconds = "soon"\n', encoding="utf-8")
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pydantic', 'pydantic_core', 'pydantic_settings'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from watchtower.config import PACKAGE_CONFIG_DIR, ConfigError, load_config\n"
        "from watchtower.core.triage.rules import load_rules\n"
        "cfg = load_config(PACKAGE_CONFIG_DIR / 'watchtower.example.toml')\n"
        "assert load_rules(cfg).active_rules\n"
        "try:\n"
        f"    load_config({str(bad)!r})\n"
        "except ConfigError as exc:\n"
        "    print(exc.key, '|', exc.expected)\n"
        "print(sorted(m for m in sys.modules if m.startswith('pydantic')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["alerts.cooldown_seconds | expected a number (got str)", "[]"]
