"""Search over an archive of 50,000 items: the figures, printed (issue 19.3).

    .venv/bin/python bench/bench_search.py            # 50k items, 15 repetitions per query
    .venv/bin/python bench/bench_search.py --items 10000 --reps 5

What it does, in a temp dir, from a fixed seed:

1. fills a real :class:`~watchtower.core.record.archive.Archive` with N items (1000 per
   ``add``, as poll rounds would, in bigger batches) spread over seven days, six platforms
   and 5,000 authors (a few very busy ones), words drawn Zipf-like from a 3,000-word
   vocabulary in English and Dutch;
2. builds the search index on it (:class:`~watchtower.core.record.search.SearchIndex`: the FTS5
   table filled from the rows already there, the triggers, the author index);
3. runs each query ``--reps`` times through ``SearchIndex.search`` (what ``watchtower
   search`` and the TUI call), with 5,000 handover-log entries for the state of each hit,
   and prints the median, p95 and worst in ms and the number of matches;
4. measures what keeping the index costs the archive: ``Archive.add`` of a 50-item poll
   round with N stored, with the triggers and on a copy without them.

Goal: every query's median under 100 ms at 50,000 items.  Exit status 1 if one misses it
(``--no-fail``: always 0).  Times vary on a shared 2-core box: read the medians.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from watchtower.core.models import Item, Severity  # noqa: E402
from watchtower.core.record.archive import ARCHIVE_NAME, Archive  # noqa: E402
from watchtower.core.record.log import LogEntry  # noqa: E402
from watchtower.core.record.search import SearchIndex, SearchQuery  # noqa: E402

UTC = timezone.utc
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PLATFORMS = ["Mastodon", "Bluesky", "Reddit", "News", "Forum", "Instagram"]
COMMON = ("library opening hours closed today book loan fine card website app reading room wifi staff "
          "bibliotheek open gesloten vandaag boek lenen boete pas website app studieplek wifi medewerker "
          "great thanks love terrible slow broken refund queue parking event children story").split()
SEVERITIES = [Severity.INFO] * 60 + [Severity.LOW] * 20 + [Severity.MEDIUM] * 12 + [Severity.HIGH] * 6 + [Severity.CRITICAL] * 2


def vocabulary(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ren", "tos", "va", "bel", "dor", "sin", "gu", "pra", "het", "zon", "quir"]
    words = set(COMMON)
    while len(words) < 3000:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    ordered = list(COMMON) + sorted(words - set(COMMON))
    return ordered


def make_items(n: int, seed: int = 19) -> list[Item]:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    authors = [f"@reader{i}@social.example" for i in range(5000)]
    author_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(authors))]
    out = []
    for i in range(n):
        words = rng.choices(vocab, weights, k=rng.randint(8, 40))
        if i % 997 == 0:
            words.append("zeldzaamheid")  # a rare word: ~50 items
        published = NOW - timedelta(seconds=rng.uniform(0, 7 * 86400))
        it = Item.create(platform=rng.choice(PLATFORMS), source=f"src{i % 20}", native_id=f"n{i}",
                         author=rng.choices(authors, author_weights)[0], text=" ".join(words), published=published,
                         url=f"https://social.example/p/{i}")
        it.severity = rng.choice(SEVERITIES)
        out.append(it)
    return out


def log_entries(items: list[Item], n: int, seed: int = 7) -> list[LogEntry]:
    rng = random.Random(seed)
    kinds = ["seen"] * 5 + ["claimed"] * 2 + ["replied", "ignored", "note"]
    out = []
    for seq in range(1, n + 1):
        it = rng.choice(items)
        out.append(LogEntry(id=uuid.uuid4().hex, kind=rng.choice(kinds), operator=rng.choice(["ann", "sam", "bo"]),
                            os_user="u", ts=it.published + timedelta(minutes=5), item_id=it.id, platform=it.platform,
                            seq=seq))
    return out


def timed(fn, reps: int) -> list[float]:  # type: ignore[no-untyped-def]
    fn()  # warm: the first query pays for the page cache
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--budget-ms", type=float, default=100.0)
    ap.add_argument("--no-fail", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="wt-bench-search-"))
    try:
        data = tmp / "data"
        items = make_items(args.items)
        start = time.perf_counter()
        with Archive(data, retention_days=30) as archive:
            for i in range(0, len(items), 1000):
                archive.add(items[i : i + 1000])
        fill_s = time.perf_counter() - start
        plain = tmp / "plain"
        plain.mkdir()
        shutil.copy(data / ARCHIVE_NAME, plain / ARCHIVE_NAME)
        size_plain = (data / ARCHIVE_NAME).stat().st_size

        start = time.perf_counter()
        index = SearchIndex(data)
        build_s = time.perf_counter() - start
        assert index.indexed, index.problems
        # Checkpoint so the file size says what the index costs on disk.
        index._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        size_indexed = (data / ARCHIVE_NAME).stat().st_size
        entries = log_entries(items, 5000)
        busy_author = items[0].author
        counts: dict[str, int] = {}
        for it in items:
            counts[it.author] = counts.get(it.author, 0) + 1
        busiest = max(counts, key=counts.__getitem__)

        queries = [
            ("rare word", SearchQuery(words="zeldzaamheid")),
            ("common word", SearchQuery(words="library")),
            ("two words", SearchQuery(words="refund queue")),
            ("phrase", SearchQuery(words='"opening hours"')),
            ("prefix", SearchQuery(words="biblio*")),
            ("word -word", SearchQuery(words="library -closed")),
            ("no match", SearchQuery(words="xylofoonquiz")),
            ("author (busiest)", SearchQuery(author=busiest)),
            ("author + word", SearchQuery(words="library", author=busy_author)),
            ("platform+severity", SearchQuery(platform="mastodon", severity=Severity.HIGH)),
            ("since 1d + high", SearchQuery(severity=Severity.HIGH, since=NOW - timedelta(days=1))),
            ("word + state open", SearchQuery(words="refund", state="open")),
            ("state claimed", SearchQuery(state="claimed")),
            ("everything", SearchQuery()),
        ]
        print(f"search over {len(items):,} archived items; {len(entries):,} log entries for states; "
              f"{args.reps} repetitions; python {sys.version.split()[0]}, sqlite {__import__('sqlite3').sqlite_version}, "
              f"{os.cpu_count()} CPUs")
        print(f"archive filled in {fill_s:.1f} s; index built from the stored rows in {build_s * 1000:.0f} ms; "
              f"file {size_plain / 2**20:.1f} MiB without the index, {size_indexed / 2**20:.1f} MiB with it")
        print(f"{'query':<20} {'median':>8} {'p95':>8} {'worst':>8} {'matches':>8}  (ms; goal: median < {args.budget_ms:.0f})")
        missed = 0
        for name, q in queries:
            total = index.search(q, entries=entries, now=NOW).total
            samples = timed(lambda q=q: index.search(q, entries=entries, now=NOW), args.reps)
            med = statistics.median(samples)
            ok = med < args.budget_ms
            missed += not ok
            print(f"{name:<20} {med:8.1f} {p95(samples):8.1f} {max(samples):8.1f} {total:8d}  {'PASS' if ok else 'FAIL'}")
        index.close()

        def add_round(where: Path, n: int) -> list[float]:
            out = []
            with Archive(where, retention_days=30) as archive:
                for r in range(n):
                    batch = make_items(50, seed=1000 + r)
                    for it in batch:
                        it.id = f"{it.id}:r{r}"
                    t0 = time.perf_counter()
                    archive.add(batch)
                    out.append((time.perf_counter() - t0) * 1000)
            return out

        with_index = add_round(data, 20)
        without = add_round(plain, 20)
        print(f"Archive.add of a 50-item round with {len(items):,} stored: median {statistics.median(with_index):.1f} ms "
              f"with the index kept by triggers, {statistics.median(without):.1f} ms without")
        return 1 if missed and not args.no_fail else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
