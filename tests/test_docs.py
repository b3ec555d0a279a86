"""The project explains itself: code cites docs/ in this repository, and what it cites exists.

Comments and docstrings used to point at notes outside the repository (a HAZARDS file, a
style guide, the seed texts).  Now they point at docs/threat-model.md (sections T1...),
docs/architecture.md and docs/product.md.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: What the code may cite, per file: the sections that exist in it.
SECTION = re.compile(r"^## (T\d+)\.", re.MULTILINE)
#: A citation of a note that is not in the repository.
OUTSIDE = re.compile(r"shared/|HAZARDS(?:\.md)?\s*(?:§|section)|HAZARDS\.md|STYLE\.md|\.\./shared")
CITED_DOC = re.compile(r"docs/([\w-]+\.md)")
#: ``docs/threat-model.md, T2``, ``docs/threat-model.md T4, T5 and T2``, ``T6 and T7``, ``T1-T5``.
THREAT_REFS = re.compile(r"docs/threat-model\.md[,:]?\s*((?:T\d+(?:-T\d+)?(?:,\s*|\s+and\s+|\s*)?)+)")


def _sources() -> list[Path]:
    files: list[Path] = []
    for top in ("src", "tests", "bench"):
        files += [p for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts]
    files.append(ROOT / "README.md")
    files += sorted(DOCS.glob("*.md"))
    return [p for p in files if p.exists() and p != Path(__file__)]


def test_nothing_cites_notes_outside_the_repository() -> None:
    found = []
    for path in _sources():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []


def test_every_cited_doc_and_threat_section_exists() -> None:
    sections = set(SECTION.findall((DOCS / "threat-model.md").read_text(encoding="utf-8")))
    assert sections == {f"T{i}" for i in range(1, 11)}
    missing = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for name in CITED_DOC.findall(text):
            if not (DOCS / name).is_file():
                missing.append(f"{path.relative_to(ROOT)}: docs/{name}")
        for refs in THREAT_REFS.findall(text):
            for a, b in re.findall(r"T(\d+)(?:-T(\d+))?", refs):
                for i in range(int(a), int(b or a) + 1):
                    if f"T{i}" not in sections:
                        missing.append(f"{path.relative_to(ROOT)}: threat-model T{i}")
    assert missing == []


def test_the_architecture_page_names_every_package_and_the_contracts() -> None:
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    src = ROOT / "src" / "watchtower"
    for pkg in sorted(p.name for p in src.iterdir() if (p / "__init__.py").exists()):
        assert f"{pkg}/" in page, pkg
    assert ".importlinter" in page and "errors.py" in page
