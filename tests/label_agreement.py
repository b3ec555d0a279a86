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
sys.path.insert(0, str(HERE))
from triage_eval import Score  # noqa: E402


def main() -> int:
    from watchtower.config import load_config
    from watchtower.core.triage.engine import triage_json_lines

    human, rules = Score(), Score()
    for org_dir in sorted(p for p in SECOND.iterdir() if p.is_dir()):
        posts = {json.loads(line)["id"]: line for line in (DEV / org_dir.name / "posts.jsonl").open(encoding="utf-8")}
        seconds = [json.loads(line) for line in (org_dir / "labels.jsonl").open(encoding="utf-8")]
        config = load_config(DEV / org_dir.name / "org.toml")
        lines = [posts[s["id"]] for s in seconds]
        for second, out in zip(seconds, triage_json_lines(config, lines), strict=True):
            assert isinstance(out, str), out
            triaged = json.loads(out)
            label = triaged["label"]
            human.count(label, second["category"], second["severity"])
            rules.count(label, triaged["category"], triaged["severity"])
    h, r = human.figures(), rules.figures()
    print(f"| figure ({human.posts} dev posts) | second labeller | the rules (tuned on these sets) |")
    print("|---|---|---|")
    for name in h:
        (hr, hn), (rr, rn) = h[name], r[name]
        print(f"| {name} | {hr / hn:.1%} ({hr}/{hn}) | {rr / rn:.1%} ({rr}/{rn}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
