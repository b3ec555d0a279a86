"""How far a second, blind labeller agrees with the authors' labels (the ceiling for triage).

    .venv/bin/python tests/label_agreement.py

A second labeller, who saw neither the authors' labels nor the rules, labelled 40 posts
from each of three development sets (``tests/fixtures/eval_second_labels/<org>/labels.jsonl``)
with the authors' labelling guide.  Their labels are scored against the authors' labels with
the figures ``tests/triage_eval.py`` gives the rules, and the rules are scored on the same
120 posts beside them.  See docs/triage-evaluation.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
SECOND = HERE / "fixtures" / "eval_second_labels"
DEV = HERE / "fixtures" / "eval_dev"
LEVELS = ("info", "low", "medium", "high", "critical")


def _figures(pairs: list[tuple[dict, str, str]]) -> dict[str, tuple[int, int]]:
    """(right, out of) per figure, for (author's label, category, severity) triples."""
    out = {"category right": [0, 0], "severity within the band": [0, 0],
           "recall of high/critical": [0, 0], "tiny-reach grumbles kept low": [0, 0]}
    for label, category, severity in pairs:
        lo, hi = (LEVELS.index(x) for x in label["severity_band"])
        level = LEVELS.index(severity)
        out["category right"][0] += category == label["category"]
        out["severity within the band"][0] += lo <= level <= hi
        out["category right"][1] += 1
        out["severity within the band"][1] += 1
        if label["severity"] in ("high", "critical"):
            out["recall of high/critical"][1] += 1
            out["recall of high/critical"][0] += level >= LEVELS.index("high")
        if label.get("tiny_reach_grumble"):
            out["tiny-reach grumbles kept low"][1] += 1
            out["tiny-reach grumbles kept low"][0] += level <= LEVELS.index("low")
    return {k: (v[0], v[1]) for k, v in out.items()}


def main() -> int:
    from watchtower.config import load_config
    from watchtower.core.triage.engine import triage_json_lines

    human: list[tuple[dict, str, str]] = []
    rules: list[tuple[dict, str, str]] = []
    for org_dir in sorted(p for p in SECOND.iterdir() if p.is_dir()):
        posts = {json.loads(line)["id"]: line for line in (DEV / org_dir.name / "posts.jsonl").open(encoding="utf-8")}
        seconds = [json.loads(line) for line in (org_dir / "labels.jsonl").open(encoding="utf-8")]
        config = load_config(DEV / org_dir.name / "org.toml")
        lines = [posts[s["id"]] for s in seconds]
        for second, out in zip(seconds, triage_json_lines(config, lines), strict=True):
            assert isinstance(out, str), out
            triaged = json.loads(out)
            label = triaged["label"]
            human.append((label, second["category"], second["severity"]))
            rules.append((label, triaged["category"], triaged["severity"]))
    h, r = _figures(human), _figures(rules)
    print(f"| figure ({len(human)} dev posts) | second labeller | the rules (tuned on these sets) |")
    print("|---|---|---|")
    for name in h:
        (hr, hn), (rr, rn) = h[name], r[name]
        print(f"| {name} | {hr / hn:.1%} ({hr}/{hn}) | {rr / rn:.1%} ({rr}/{rn}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
