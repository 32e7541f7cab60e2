"""The documentation runs as written: every ```python block of README.md and docs/*.md.

Each block is executed on its own, in a fresh namespace, in an empty temporary working
directory. The one file a block may assume beyond what the package ships is `mnist/`: an
MNIST IDX folder, which the test makes there from the first 640 real digits of
../shared/data/mnist (tests/conftest.py `small_mnist`) for a block that names it. A block
that cannot run offline is preceded by `<!-- not run: why -->` and skipped with that reason.
Every relative link in those files must point at a file that exists.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.+?)\s*-->")
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
ANY_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def python_blocks() -> list[tuple[str, str, str]]:
    """(id "file:line", code, reason to skip or "") of every ```python block."""
    blocks = []
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
            skip = NOT_RUN.search(before)
            blocks.append((f"{doc.relative_to(ROOT)}:{line}", match.group(1),
                           skip.group(1) if skip else ""))
    return blocks


BLOCKS = python_blocks()


def test_the_docs_have_python_blocks_and_few_are_skipped():
    assert len(BLOCKS) >= 10, [b[0] for b in BLOCKS]
    assert sum(1 for *_, reason in BLOCKS if reason) <= 2


@pytest.mark.parametrize(("where", "code", "reason"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_python_block_runs_as_written(where, code, reason, tmp_path, monkeypatch, request):
    if reason:
        pytest.skip(f"{where}: not run: {reason}")
    monkeypatch.chdir(tmp_path)
    if "mnist/" in code:
        request.getfixturevalue("small_mnist")  # makes tmp_path / "mnist"
    # A module of its own, in sys.modules as dataclasses expect of a class's module.
    module = types.ModuleType(f"readme_block_{BLOCKS.index((where, code, reason))}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, where, "exec"), module.__dict__)  # noqa: S102 - our own docs


def anchors(doc: Path) -> set[str]:
    """GitHub's ids of a markdown file's headings: "## Precision and speed" ->
    "precision-and-speed" (lower case, punctuation dropped, spaces to hyphens)."""
    text = ANY_FENCE.sub("", doc.read_text())
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_relative_links_point_at_files_and_headings_that_exist(doc):
    missing = []
    for target in LINK.findall(doc.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = doc.parent / path if path else doc
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
            missing.append(target)
    assert not missing, f"{doc.name}: links to missing files or headings: {missing}"
