"""Hostile configs: one clear line naming the file, the key and what was expected; exit 2.

A deeply nested TOML gave a traceback; port 99999, spaces in URLs and CR/LF in header
names and values passed validation; a missing token env var was "a source failed"
(exit 1).  Issue 15, point 12 (second part).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watchtower.cli import cli
from watchtower.config import ConfigError, load_config, parse_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _rss(url: str, extra: str = "") -> str:
    return f'[[sources]]\nname = "n"\nplatform = "News"\nkind = "rss"\nurl = "{url}"\n{extra}'


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _one_clean_line(result: Result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for part in parts:
        assert part in err, (part, err)


# -- nesting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 10_000 + "]" * 10_000 + "\n",
        "a = " + "{b = " * 10_000 + "1" + "}" * 10_000 + "\n",
        "[sources]\nx = " + "[" * 10_000 + "]" * 10_000 + "\n",
        "[" + ".".join(["a"] * 10_000) + "]\nx = 1\n",
    ],
    ids=["arrays", "inline-tables", "under-a-key", "dotted-table"],
)
def test_ten_thousand_levels_of_nesting_is_one_line_and_exit_2(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(path) in str(exc.value) and "nested" in str(exc.value) and "32" in str(exc.value)
    _one_clean_line(run("check", "--config", str(path)), str(path), "nested")


def test_nesting_deeper_than_a_config_needs_names_the_key(tmp_path: Path) -> None:
    # 100 levels parse as TOML; the model's walk and explain() must never see them.
    path = _write(tmp_path, _rss("http://127.0.0.1:9/f", "[sources.headers]\nx = " + "[" * 100 + "]" * 100 + "\n"))
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert exc.value.key.startswith("sources[0].headers.x[0][0]")
    assert "nested more than 32 levels deep" in str(exc.value) and str(path.resolve()) in str(exc.value)
    with pytest.raises(ConfigError, match="nested more than 32 levels"):
        deep: object = "x"
        for _ in range(40):
            deep = [deep]
        parse_config({"ui": {"keymap": {"k": deep}}})


# -- URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (_rss("http://example.com:99999/feed"), "sources[0].url", "port is a number from 1 to 65535 (got '99999')"),
        (_rss("https://example.com:0/feed"), "sources[0].url", "port is a number from 1 to 65535 (got '0')"),
        (_rss("https://example.com:http/feed"), "sources[0].url", "port is a number from 1 to 65535"),
        (_rss("http://exa mple.com/feed"), "sources[0].url", "without spaces or control characters (found a space"),
        (_rss("http://example.com/our feed.xml"), "sources[0].url", "found a space at position 23"),
        (_rss("http://example.com/feed\\r\\nX: y"), "sources[0].url", "found the control character '\\r'"),
        (_rss(" http://example.com/feed"), "sources[0].url", "found a space at position 1"),
        (_rss("http://127.0.0.1:9/f") + '[[sources]]\nname = "m"\nplatform = "Bluesky"\nkind = "bluesky"\n'
         'query = "x"\nauth_url = "https://bsky.social:70000"\n', "sources[1].auth_url", "1 to 65535"),
        ('[organisation]\nqa_url = "https://example.org/q a"\n', "organisation.qa_url", "without spaces"),
    ],
    ids=["port-99999", "port-0", "port-word", "space-in-host", "space-in-path", "crlf", "leading-space",
         "bluesky-auth-url", "qa-url"],
)
def test_bad_urls_name_the_file_the_key_and_what_was_expected(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert exc.value.key == key
    assert str(exc.value).startswith(f"{path.resolve()}: {key}: expected a URL ")
    assert words in str(exc.value)
    _one_clean_line(run("check", "--config", str(path)), f"{path.resolve()}: {key}: ", words)


def test_good_urls_still_pass() -> None:
    for url in ("http://127.0.0.1:9/f", "https://example.com:443/a%20b?q=1#x", "http://[::1]:8080/", "https://example.com"):
        parse_config({"sources": [{"kind": "rss", "name": "n", "platform": "News", "url": url}]})


# -- headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "key", "words"),
    [
        ('"X-Trace" = "a\\r\\nInjected: 1"', "sources[0].headers.X-Trace", "a header value without CR, LF or other control characters (found '\\r')"),
        ('"X-Trace" = "a\\nb"', "sources[0].headers.X-Trace", "(found '\\n')"),
        ('"X-A\\r\\nInjected" = "v"', "sources[0].headers", "header names of letters, digits and"),
        ('"X A" = "v"', "sources[0].headers", "(got 'X A'"),
        ('"" = "v"', "sources[0].headers", "header names"),
    ],
    ids=["crlf-value", "lf-value", "crlf-name", "space-name", "empty-name"],
)
def test_cr_lf_in_header_names_and_values_is_refused(tmp_path: Path, headers: str, key: str, words: str) -> None:
    path = _write(tmp_path, _rss("http://127.0.0.1:9/f", f"[sources.headers]\n{headers}\n"))
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert exc.value.key == key
    assert str(exc.value).startswith(f"{path.resolve()}: {key}: ")
    assert words in str(exc.value)
    result = run("check", "--config", str(path))
    _one_clean_line(result, f"{path.resolve()}: {key}: ", words)
    assert "\r" not in result.stderr


def test_ordinary_headers_still_pass() -> None:
    cfg = parse_config({"sources": [{"kind": "rss", "name": "n", "platform": "News", "url": "http://127.0.0.1:9/f",
                                     "headers": {"User-Agent": "watchtower/1 (+mailto:web@example.org)", "X-Tab": "a\tb"}}]})
    assert cfg.sources[0].headers["X-Tab"] == "a\tb"


# -- secrets in the environment -------------------------------------------------------

MASTODON = '[[sources]]\nname = "masto"\nplatform = "Mastodon"\nkind = "mastodon"\nurl = "{url}"\nmode = "mentions"\ntoken_env = "WT_TEST_MASTO_TOKEN"\n'
JSON = '[[sources]]\nname = "api"\nplatform = "Web"\nkind = "json"\nurl = "{url}"\ntoken_env = "WT_TEST_API_TOKEN"\n'
BLUESKY = ('[[sources]]\nname = "sky"\nplatform = "Bluesky"\nkind = "bluesky"\nurl = "{url}"\nauth_url = "{url}"\n'
           'query = "x"\nhandle_env = "WT_TEST_SKY_HANDLE"\npassword_env = "WT_TEST_SKY_PASSWORD"\n')


@pytest.mark.parametrize(
    ("sources", "env", "key", "var"),
    [
        ([MASTODON], {}, "sources[0].token_env", "WT_TEST_MASTO_TOKEN"),
        ([JSON, MASTODON], {"WT_TEST_API_TOKEN": "t"}, "sources[1].token_env", "WT_TEST_MASTO_TOKEN"),
        ([JSON], {"WT_TEST_API_TOKEN": "   "}, "sources[0].token_env", "WT_TEST_API_TOKEN"),
        ([BLUESKY], {"WT_TEST_SKY_HANDLE": "me.bsky.social"}, "sources[0].password_env", "WT_TEST_SKY_PASSWORD"),
    ],
    ids=["mastodon", "second-source", "blank", "bluesky-password"],
)
@pytest.mark.parametrize("command", [["check"], ["fetch", "--json"]])
def test_a_missing_token_env_var_is_exit_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver, sources: list[str], env: dict[str, str],  # type: ignore[no-untyped-def]
    key: str, var: str, command: list[str],
) -> None:
    for name in ("WT_TEST_MASTO_TOKEN", "WT_TEST_API_TOKEN", "WT_TEST_SKY_HANDLE", "WT_TEST_SKY_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    url = httpserver.url_for("/")
    path = _write(tmp_path, "".join(s.format(url=url) for s in sources))
    result = run(*command, "--config", str(path))
    _one_clean_line(result, f"{path.resolve()}: {key}: environment variable {var} is not set")
    assert result.stdout == ""  # stopped before probing or polling
    assert httpserver.log == []


def test_a_disabled_source_needs_no_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("WT_TEST_API_TOKEN", raising=False)
    httpserver.expect_request("/feed").respond_with_data("<rss version='2.0'><channel><title>t</title></channel></rss>",
                                                         content_type="application/rss+xml")
    text = JSON.format(url="http://127.0.0.1:9/") + "enabled = false\n" + _rss(httpserver.url_for("/feed")).replace('"n"', '"feed"')
    result = run("check", "--config", str(_write(tmp_path, text)))
    assert result.exit_code == 0, result.output
