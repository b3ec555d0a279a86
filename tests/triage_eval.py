"""Score triage against labelled posts, through ``watchtower triage --config ORG.toml POSTS``.

A labelled set is a directory per organisation with ``org.toml`` (a watchtower config:
its accounts, time zone, rota and sources with their weights) and ``posts.jsonl`` (item
lines as ``watchtower fetch --json`` prints them, each with a ``label`` object written by
someone who never saw the rules: ``category``, ``severity``, ``severity_band`` [min, max],
``tiny_reach_grumble``, ``lang``).  See docs/triage-evaluation.md for how the sets were
made and which may be tuned on.

The figures are the ones the triage issue sets goals for:

- category right;
- severity within the acceptable band;
- recall of posts labelled high or critical (given high or critical);
- tiny-reach grumbles and pranks kept at low or below.

Run it as a script to print the figures and every miss::

    .venv/bin/python tests/triage_eval.py tests/fixtures/eval_frozen
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

LEVELS = ["info", "low", "medium", "high", "critical"]
RANK = {name: i for i, name in enumerate(LEVELS)}


@dataclass
class Miss:
    org: str
    id: str
    text: str
    label: dict
    got_category: str
    got_severity: str
    reasons: list[str]


@dataclass
class Score:
    posts: int = 0
    category_right: int = 0
    severity_in_band: int = 0
    severity_exact: int = 0
    high_labelled: int = 0
    high_found: int = 0
    tiny: int = 0
    tiny_kept_low: int = 0
    misses: list[Miss] = field(default_factory=list)

    def count(self, label: dict, category: str, severity: str) -> bool:
        """Count one post: ``label`` as written by its author, ``category`` and ``severity``
        as given (by triage, or by a second reader).  True when both are right."""
        self.posts += 1
        want_sev = RANK[label["severity"]]
        lo, hi = (RANK[x] for x in label["severity_band"])
        got_sev = RANK[severity]
        ok_cat = category == label["category"]
        ok_band = lo <= got_sev <= hi
        self.category_right += ok_cat
        self.severity_in_band += ok_band
        self.severity_exact += got_sev == want_sev
        if want_sev >= RANK["high"]:
            self.high_labelled += 1
            self.high_found += got_sev >= RANK["high"]
        if label.get("tiny_reach_grumble"):
            self.tiny += 1
            self.tiny_kept_low += got_sev <= RANK["low"]
        return ok_cat and ok_band

    def figures(self) -> dict[str, tuple[int, int]]:
        """(right, out of) for each figure the triage issue sets a goal for."""
        return {
            "category right": (self.category_right, self.posts),
            "severity within the band": (self.severity_in_band, self.posts),
            "recall of high/critical": (self.high_found, self.high_labelled),
            "tiny-reach grumbles kept low": (self.tiny_kept_low, self.tiny),
        }

    def add(self, other: Score) -> None:
        for name in ("posts", "category_right", "severity_in_band", "severity_exact", "high_labelled",
                     "high_found", "tiny", "tiny_kept_low"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses += other.misses

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    @property
    def category(self) -> float:
        return self._ratio(self.category_right, self.posts)

    @property
    def band(self) -> float:
        return self._ratio(self.severity_in_band, self.posts)

    @property
    def exact(self) -> float:
        return self._ratio(self.severity_exact, self.posts)

    @property
    def recall(self) -> float:
        return self._ratio(self.high_found, self.high_labelled)

    @property
    def tiny_low(self) -> float:
        return self._ratio(self.tiny_kept_low, self.tiny)

    def table(self) -> str:
        return "\n".join([
            "| figure | measured |",
            "|---|---|",
            f"| category right | {self.category:.1%} ({self.category_right}/{self.posts}) |",
            f"| severity within the acceptable band | {self.band:.1%} ({self.severity_in_band}/{self.posts}) |",
            f"| severity exact | {self.exact:.1%} ({self.severity_exact}/{self.posts}) |",
            f"| recall of high/critical | {self.recall:.1%} ({self.high_found}/{self.high_labelled}) |",
            f"| tiny-reach grumbles kept low | {self.tiny_low:.1%} ({self.tiny_kept_low}/{self.tiny}) |",
        ])


def set_digest(root: Path) -> str:
    """SHA-256 over every org's ``org.toml`` and ``posts.jsonl``, in name order: the freeze."""
    h = hashlib.sha256()
    for org in sorted(p for p in root.iterdir() if p.is_dir()):
        for name in ("org.toml", "posts.jsonl"):
            h.update(f"{org.name}/{name}\0".encode())
            h.update((org / name).read_bytes())
    return h.hexdigest()


def triage_lines(org_dir: Path) -> list[dict]:
    """Run ``watchtower triage --config org.toml posts.jsonl`` (in process, through click)."""
    from click.testing import CliRunner

    from watchtower.cli import cli

    result = CliRunner().invoke(
        cli, ["triage", "--config", str(org_dir / "org.toml"), str(org_dir / "posts.jsonl")],
        catch_exceptions=False,
    )
    if result.exit_code != 0:
        raise RuntimeError(f"watchtower triage failed on {org_dir}: {result.output[-2000:]}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def score_org(org_dir: Path) -> Score:
    posts = [json.loads(line) for line in (org_dir / "posts.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    out = triage_lines(org_dir)
    if len(out) != len(posts):
        raise RuntimeError(f"{org_dir}: {len(posts)} posts in, {len(out)} lines out")
    score = Score()
    for post, got in zip(posts, out):
        label = post["label"]
        if not score.count(label, got["category"], got["severity"]):
            score.misses.append(Miss(org_dir.name, str(post["id"]), post.get("text") or post.get("title") or "",
                                     label, got["category"], got["severity"], list(got.get("reasons") or [])))
    return score


def score_sets(root: Path) -> dict[str, Score]:
    """Per organisation, plus ``"all"``."""
    scores = {org.name: score_org(org) for org in sorted(p for p in root.iterdir() if p.is_dir())}
    total = Score()
    for s in scores.values():
        total.add(s)
    scores["all"] = total
    return scores


def main(argv: list[str]) -> int:
    for arg in argv or ["tests/fixtures/eval_frozen"]:
        root = Path(arg)
        scores = score_sets(root)
        print(f"## {root} (sha256 {set_digest(root)[:16]})")
        for name, s in scores.items():
            print(f"\n### {name}\n{s.table()}")
        print("\n### misses")
        for m in scores["all"].misses:
            print(f"- {m.org}/{m.id}: want {m.label['category']}/{m.label['severity']} "
                  f"{m.label['severity_band']}, got {m.got_category}/{m.got_severity}: {m.text[:110]!r} "
                  f"[{'; '.join(m.reasons)[:160]}]")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    raise SystemExit(main(sys.argv[1:]))
