"""Documentation that runs: every docstring example in the package, and every ```python block
in docs/*.md and README.md (executed in order, in a scratch folder)."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re

import pytest

import aimark
from conftest import REPO

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(aimark.__path__, "aimark.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_public_functions_have_examples():
    for name in ("label_image", "verify", "create_dev_credentials"):
        assert (
            "Example" in (getattr(aimark, name).__doc__ or "") or name == "create_dev_credentials"
        )
    for cls in (aimark.Labeler, aimark.Verifier):
        assert "Example" in cls.__doc__


BLOCK = re.compile(r"```python\n(.*?)```", re.S)
DOCS = [
    p
    for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    if BLOCK.search(p.read_text())
]


def test_api_docs_have_examples():
    assert {"README.md", "python-api.md"} <= {p.name for p in DOCS}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_markdown_python_blocks_run(doc, tmp_path, monkeypatch):
    blocks = BLOCK.findall(doc.read_text())
    monkeypatch.chdir(tmp_path)
    os.environ.setdefault("AIMARK_SAMPLES", str(REPO / "samples"))
    namespace: dict = {"__name__": "__docs__"}
    for block in blocks:
        exec(compile(block, str(doc), "exec"), namespace)


def test_the_architecture_lists_every_module():
    """docs/architecture.md's module table names every module of src/aimark, and nothing
    that is not there."""
    text = (REPO / "docs" / "architecture.md").read_text()
    section = text[text.index("## Modules") : text.index("## Decisions")]
    listed = set(re.findall(r"^\| `([^`]+\.py)` \|", section, flags=re.M))
    src = REPO / "src" / "aimark"
    actual = {p.relative_to(src).as_posix() for p in src.rglob("*.py")}
    assert not actual - listed, f"modules missing from docs/architecture.md: {actual - listed}"
    assert not listed - actual, f"docs/architecture.md lists what is gone: {listed - actual}"
