"""The README stays an introduction, and the manual in docs/ stays reachable.

The site itself is built by `make docs` (mkdocs --strict, in CI), which fails on broken
links and anchors; these checks are what it cannot see: the README's size and commands,
the README's links (it is read on its own, outside the site), and pages left out of the nav.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_BYTES = 8 * 1024
# A Markdown link's target: [text](target), without a scheme.
LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")


def nav_pages(config: str) -> set[str]:
    """The pages listed under `nav:` in mkdocs.yml (read as text: its YAML has a Python tag)."""
    nav = config.split("\nnav:\n", 1)[1]
    lines = []
    for line in nav.splitlines():
        if line and not line.startswith((" ", "-", "#")):
            break  # the next top-level key
        lines.append(line)
    return set(re.findall(r"([\w./-]+\.md)\s*$", "\n".join(lines), flags=re.MULTILINE))


def test_the_readme_is_short_and_names_the_two_commands() -> None:
    text = README.read_text()
    assert len(README.read_bytes()) <= README_MAX_BYTES
    assert "make run" in text
    assert "make test" in text


def test_the_readme_links_lead_to_files() -> None:
    targets = [match.group(1) for match in LINK.finditer(README.read_text())]
    assert any(target.startswith("docs/") for target in targets)
    missing = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page() -> None:
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    listed = nav_pages((ROOT / "mkdocs.yml").read_text())
    assert pages - listed == set(), "pages missing from the nav of mkdocs.yml"
    assert listed - pages == set(), "nav entries without a page"


def test_the_nav_reader_sees_nested_entries() -> None:
    config = "site_name: x\nnav:\n  - Home: index.md\n  - API:\n      - A: api/a.md\nextra: {}\n"
    assert nav_pages(config) == {"index.md", "api/a.md"}
