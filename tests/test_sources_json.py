"""Mapped JSON APIs and the inbox directory, plus the JSON hazards every API connector shares."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from watchtower.config import InboxSource as InboxSpec
from watchtower.config import JsonMapping, JsonSource
from watchtower.core.fetch.http import HttpFetcher
from watchtower.core.pipeline.poller import Poller
from watchtower.core.sources import build_source
from watchtower.core.sources.base import SourceError, SourceState
from watchtower.core.sources.inbox import InboxSource
from watchtower.core.sources.jsonapi import MappedJsonSource, dig, load_json

FIX = Path(__file__).parent / "fixtures" / "sources"

MAPPING = JsonMapping(
    items="data.posts",
    id="id",
    author="user.handle",
    author_name="user.name",
    text="body",
    url="link",
    published="ts",
    followers="user.followers",
    language="lang",
    reposts="stats.shares",
    likes="stats.likes",
    replies="stats.comments",
)


def _json_source(url: str, env: dict[str, str] | None = None, **kw: object) -> MappedJsonSource:
    spec = JsonSource(kind="json", name="forum", platform="Forum", url=url, mapping=kw.pop("mapping", MAPPING), **kw)
    src = build_source(spec, env={"FORUM_TOKEN": "tok-123"} if env is None else env)
    assert isinstance(src, MappedJsonSource)
    return src


async def test_mapped_json_document(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api", headers={"Authorization": "Bearer tok-123"}).respond_with_data(
        (FIX / "mapped.json").read_bytes(), content_type="application/json"
    )
    state = SourceState()
    async with HttpFetcher() as http:
        items = await _json_source(httpserver.url_for("/api"), token_env="FORUM_TOKEN").fetch(http, state)
    assert [i.native_id for i in items] == ["9001", "9002"]
    good, odd = items
    assert good.id == "Forum:forum:9001" and good.author == "@watcher" and good.author_name == "The Watcher"
    assert good.author_followers == 2500 and good.text == "Library wifi down again"
    assert good.url == "https://forum.example/t/9001" and good.language == "en"
    assert (good.engagement.reposts, good.engagement.likes, good.engagement.replies) == (4, 10, 2)
    assert good.published.isoformat() == "2024-01-02T11:00:00+00:00"
    # Lists and objects where strings/numbers were expected become "missing", not str(list).
    assert odd.author == "unknown" and odd.author_followers is None and odd.url is None
    assert odd.published.isoformat() == "2024-01-02T11:00:00+00:00"
    assert odd.engagement.likes is None
    # The record with no id/text and the bare string are skipped and counted.
    assert state.last_skipped == 2


async def test_missing_token_env_names_the_variable_only(httpserver: HTTPServer) -> None:
    src = _json_source(httpserver.url_for("/api"), token_env="NOT_SET_ANYWHERE", env={})
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await src.fetch(http, SourceState())
    assert "NOT_SET_ANYWHERE" in str(err.value) and "is not set" in str(err.value)
    assert len(httpserver.log) == 0


async def test_html_where_json_was_expected(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data((FIX / "login.html").read_bytes(), content_type="text/html")
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await _json_source(httpserver.url_for("/api")).fetch(http, SourceState())
    assert str(err.value) == "expected JSON, got HTML"


async def test_deep_nesting_is_a_clear_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/deep").respond_with_data(b"[" * 100_000 + b"]" * 100_000, content_type="application/json")
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await _json_source(httpserver.url_for("/deep")).fetch(http, SourceState())
    assert str(err.value) == "JSON nested too deeply to read"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"data": {"posts": {"not": "a list"}}}', "expected a list at 'data.posts', got an object"),
        (b'{"data": {}}', "no 'data.posts' in the JSON document"),
        (b'{"data": ', "invalid JSON"),
        (b"", "empty response"),
        (b"\xff\xfe\xfa", "not UTF-8 text"),
        (b'"just a string"', "no 'data.posts'"),
    ],
)
async def test_wrong_shapes_are_clear_errors(httpserver: HTTPServer, body: bytes, words: str) -> None:
    httpserver.expect_request("/api").respond_with_data(body, content_type="application/json")
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await _json_source(httpserver.url_for("/api")).fetch(http, SourceState())
    assert words in str(err.value)


async def test_root_list_and_single_object(httpserver: HTTPServer) -> None:
    mapping = JsonMapping(items="", id="id", text="text", author="who")
    httpserver.expect_request("/list").respond_with_json([{"id": 1, "text": "a", "who": "x"}, {"id": 2, "text": "b"}])
    httpserver.expect_request("/one").respond_with_json({"id": 3, "text": "c"})
    async with HttpFetcher() as http:
        listed = await _json_source(httpserver.url_for("/list"), mapping=mapping).fetch(http, SourceState())
        single = await _json_source(httpserver.url_for("/one"), mapping=mapping).fetch(http, SourceState())
    assert [i.text for i in listed] == ["a", "b"] and [i.text for i in single] == ["c"]


async def test_json_304_with_etag(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api").respond_with_data(
        (FIX / "mapped.json").read_bytes(), headers={"ETag": 'W/"7"'}, content_type="application/json"
    )
    httpserver.expect_ordered_request("/api", headers={"If-None-Match": 'W/"7"'}).respond_with_data("", status=304)
    poller = Poller([_json_source(httpserver.url_for("/api"))])
    try:
        first, second = await poller.poll("forum"), await poller.poll("forum")
    finally:
        await poller.aclose()
    assert len(first.items) == 2 and second.not_modified and second.items == []


def test_dig_and_load_json_helpers() -> None:
    doc = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert dig(doc, "a.b.1.c") == 2
    assert dig(doc, "") is doc
    assert dig(doc, "a.x") is not None and dig(doc, "a.b.9.c") is dig(doc, "a.x")  # both missing
    assert load_json(b'\xef\xbb\xbf{"ok": true}') == {"ok": True}
    with pytest.raises(SourceError, match="got XML or HTML"):
        load_json(b"<?xml version='1.0'?><error/>")


# ------------------------------------------------------------------------ inbox


def _inbox(path: Path, mapping: JsonMapping | None = None) -> InboxSource:
    spec = InboxSpec(kind="inbox", name="drops", platform="Tips", path=str(path),
                     mapping=mapping or JsonMapping(id="id", author="author", text="text", url="url", published="published"))
    src = build_source(spec, env={})
    assert isinstance(src, InboxSource)
    return src


async def test_inbox_reads_each_file_once_and_counts_bad_lines(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    lines = [
        json.dumps({"id": "t1", "author": "tipster", "text": "Heard the library is closing", "published": "2024-01-02T10:00:00Z"}),
        "{not json",
        "",
        json.dumps({"id": "t2", "author": "anon", "text": "\x1b[2Jescape attempt", "url": "https://x.example/2"}),
        json.dumps(["a list"]),
        "[" * 5000 + "]" * 5000,
        json.dumps({"id": "t1", "text": "duplicate"}),
    ]
    (inbox / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (inbox / ".partial.jsonl").write_text(json.dumps({"id": "hidden", "text": "x"}) + "\n")
    (inbox / "notes.txt").write_text("ignored")
    (inbox / "link.jsonl").symlink_to(inbox / "a.jsonl")
    src = _inbox(inbox)
    state = SourceState()
    async with HttpFetcher() as http:
        first = await src.fetch(http, state)
        assert [i.native_id for i in first] == ["t1", "t2"]
        assert first[1].text == "escape attempt"
        assert state.last_skipped == 3
        # Nothing changed: nothing read.
        assert await src.fetch(http, state) == [] and state.last_skipped == 0
        (inbox / "b.jsonl").write_text(json.dumps({"id": "t3", "text": "new file"}) + "\n")
        os.utime(inbox / "b.jsonl", ns=(2_000_000_000_000_000_000, 2_000_000_000_000_000_000))
        assert [i.native_id for i in await src.fetch(http, state)] == ["t3"]
    # Files are left where they were.
    assert sorted(p.name for p in inbox.iterdir()) == [".partial.jsonl", "a.jsonl", "b.jsonl", "link.jsonl", "notes.txt"]
    assert set(state.cursor["files"]) == {"a.jsonl", "b.jsonl"}


async def test_inbox_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    poller = Poller([_inbox(tmp_path / "nope")])
    try:
        result = await poller.poll("drops")
    finally:
        await poller.aclose()
    assert not result.ok and result.error is not None and result.error.startswith("inbox directory not found")


async def test_inbox_forgets_deleted_files(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text(json.dumps({"id": "1", "text": "x"}) + "\n")
    src = _inbox(tmp_path)
    state = SourceState()
    async with HttpFetcher() as http:
        await src.fetch(http, state)
        (tmp_path / "x.jsonl").unlink()
        await src.fetch(http, state)
    assert state.cursor["files"] == {}
