"""The benchmark runner's pieces import and one tiny metric runs and prints its line.

No timed assertions here (figures belong to ``python bench/run.py``); this only proves
the suite that CI runs can start, and pins the line format others may parse.
"""

from __future__ import annotations

import importlib
import sys
import urllib.request
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(autouse=True)
def _bench_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))


@pytest.mark.parametrize("module", ["run", "bench_common", "feedserver", "bench_ingest", "bench_store_metrics", "bench_net", "bench_ui"])
def test_modules_import(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.slow  # starts a process
def test_environment_line_names_the_versions() -> None:
    run = importlib.import_module("run")
    env = run.environment()
    for key in ("python", "platform", "cpus", "textual", "httpx", "feedparser", "fastfeedparser", "tinydb"):
        assert key in env


def test_one_tiny_metric_runs_and_prints_the_line_format() -> None:
    common = importlib.import_module("bench_common")
    ingest = importlib.import_module("bench_ingest")
    feeds = importlib.import_module("feedserver")
    body = feeds.rss_feed(0, 20)
    assert len(ingest.reference_extract(body)) == 20
    assert ingest.our_ingest(body) == 20
    ref = common.repeat(lambda: ingest.reference_extract(body), 2, warmup=0)
    ours = common.repeat(lambda: ingest.our_ingest(body), 2, warmup=0)
    m = common.compare("P1a", "ingest-rss-20", "ms", ours, "lxml+xpath", ref, 1.0)
    line = common.format_line(m)
    match = common.LINE_RE.match(line)
    assert match, line
    assert match["id"] == "P1a" and match["status"] in ("PASS", "FAIL")
    skipped = common.format_line(common.skipped("P9b", "warm-vs-newsboat", "newsboat not installed"))
    assert common.LINE_RE.match(skipped), skipped


def test_feed_server_answers_304_for_its_etag() -> None:
    feeds = importlib.import_module("feedserver")
    with feeds.FeedServer(feeds=2, items=3) as server:
        url = server.urls()[1]
        with urllib.request.urlopen(url, timeout=5) as resp:
            etag = resp.headers["ETag"]
            assert b"<feed" in resp.read()
        req = urllib.request.Request(url, headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=5)
        assert info.value.code == 304
        assert server.not_modified == 1


def test_runner_help_runs() -> None:
    run = importlib.import_module("run")
    with pytest.raises(SystemExit) as info:
        run.main(["--help"])
    assert info.value.code == 0
    assert sys.modules["run"] is run
