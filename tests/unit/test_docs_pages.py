"""The docs describe the software as it is: benchmarks.md is the method and the latest runs (no history),
and every relative link in README.md and docs/ resolves to a file (and a heading, for #anchors)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_benchmarks_page_is_the_method_and_the_latest_runs() -> None:
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    assert len(text.splitlines()) <= 250
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert "The latest side-by-side runs" in headings
    assert not [h for h in headings if re.search(r"session|earlier|recorded|issue \d", h, re.I)], headings
    assert len(re.findall(r"^Conveyor vs Celery vs RQ — (\d{4}-\d\d-\d\d)", text, re.M)) >= 1


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md":
            anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", linked.read_text(), re.M)}
            if anchor not in anchors:
                broken.append(target)
    assert not broken, f"{page.name}: {broken}"
