"""Every relative link of README.md and of the Markdown pages under docs/ resolves.

A link's path must exist (file or folder, relative to the page), and a ``#fragment``
pointing into a Markdown page must name one of its headings (GitHub's anchors). Links in
fenced code blocks and inline code are not links; web links are not followed.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _outside_fences(text):
    """The lines of a Markdown text outside fenced code blocks."""
    kept, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return kept


def _prose(text):
    """The text outside fenced code blocks, with inline code replaced by a placeholder."""
    return re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", "code", "\n".join(_outside_fences(text)),
                  flags=re.S)


def _anchors(page):
    """GitHub's heading anchors of a Markdown page."""
    anchors, seen = set(), {}
    for line in _outside_fences(page.read_text()):
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        title = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1))
        title = re.sub(r"[*`]", "", title).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(page):
    for target in _LINK.findall(_prose(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        yield target


LINKS = [(page, target) for page in PAGES for target in _links(page)]


def test_pages_have_links():
    assert (ROOT / "docs").is_dir()
    linked = {target.split("#")[0] for page, target in LINKS if page.name == "README.md"}
    for name in ("training", "datasets", "model", "performance", "results", "tuning",
                 "export"):
        assert f"docs/{name}.md" in linked, f"README.md does not link docs/{name}.md"


def test_anchor_rules():
    anchors = _anchors(ROOT / "docs" / "results.md")  # as GitHub makes them
    assert "the-α-search" in anchors
    assert "the-previous-shipped-model-pretrainedsmall" in anchors  # ( : ) dropped
    assert "the-shipped-model-issue-21" in anchors
    assert "linear-probe-on-quick-draw-seen-and-unseen-classes" in anchors


@pytest.mark.parametrize("page,target", LINKS,
                         ids=[f"{p.relative_to(ROOT).as_posix()}:{t}" for p, t in LINKS])
def test_link_resolves(page, target):
    path, _, fragment = target.partition("#")
    resolved = (page.parent / path).resolve() if path else page
    where = f"{page.relative_to(ROOT)}: link {target!r}"
    assert resolved.exists(), f"{where}: {resolved} does not exist"
    if fragment and resolved.suffix == ".md":
        assert fragment in _anchors(resolved), (
            f"{where}: no heading with anchor #{fragment} in {resolved.name} "
            f"(has {sorted(_anchors(resolved))})")
