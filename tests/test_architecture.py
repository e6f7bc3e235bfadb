"""ARCHITECTURE.md stays true when code moves: every module is on the map, under its package,
and the map names no module that is gone."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "ccswitch"


def mapped_modules() -> set[str]:
    """`package/module.py` for each module listed under a "`package/`" heading (ground floor: no package;
    a subpackage has its own heading, "`package/sub/`")."""
    text = (REPO / "ARCHITECTURE.md").read_text()
    section = text.split("## Every module", 1)[1].split("\n## ", 1)[0]
    found, package = set(), ""
    for line in section.splitlines():
        heading = re.match(r"`(\w+(?:/\w+)*)/`", line)
        if heading:
            package = heading.group(1) + "/"
        elif line.startswith("Ground floor"):
            package = ""
        item = re.match(r"- `(\w+\.py)`", line)
        if item:
            found.add(package + item.group(1))
    return found


def test_every_module_is_on_the_map_and_nothing_else() -> None:
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    assert mapped_modules() == modules


def test_every_package_says_what_it_may_import() -> None:
    for init in PACKAGE.glob("**/__init__.py"):
        if init.parent == PACKAGE:
            continue
        assert "May import" in init.read_text(), init


def test_every_section_the_code_cites_exists() -> None:
    cited = set()
    for path in [*PACKAGE.rglob("*.py"), *(REPO / "tests").rglob("*.py")]:
        cited |= set(re.findall(r'(docs/[\w-]+\.md), "([^"]+)"', path.read_text()))
    assert cited
    for page, section in cited:
        headings = re.findall(r"^#+ (.+)$", (REPO / page).read_text(), re.M)
        assert section in headings, f"{page} has no section {section!r}"
