"""Build a corpus of human-written English text from text shipped inside installed packages.

    python tools/build_text_corpus.py [--out build/text-corpus] [--min-words 8]

The text watermark benchmark measures false positives on it (windows of 200 tokens), so it
must be text no model generated with a watermark key: documentation written by people.
Sources, all read from the running interpreter's installation (nothing is downloaded):

- CPython's ``pydoc_data.topics`` (the language reference sections used by ``help()``);
- docstrings of every module, class and function in the standard library and in the
  installed site-packages (parsed with ``ast``, nothing imported);
- package descriptions (``*.dist-info/METADATA`` bodies), READMEs, LICENSE / COPYING /
  NOTICE files, ``.txt``/``.rst``/``.md`` files shipped inside packages;
- gensim's test corpora (``gensim/test/test_data``: news and Lee background texts) when
  gensim is installed.

Text is split into paragraphs; a paragraph is kept when it looks like prose (mostly letters,
at least ``--min-words`` words, no doctest/code markers), and every paragraph is kept once
(deduplicated on its lower-cased, whitespace-normalised form) across all sources. Paragraphs
of one source file form one document. Output (``build/`` is git-ignored):

- ``corpus.jsonl``: one ``{"source": ..., "text": ...}`` per document;
- ``stats.json``: documents, paragraphs, words and characters per source kind.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import site
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".txt", ".rst", ".md", ".cor"}
TEXT_NAMES = re.compile(r"^(README|LICENSE|LICENCE|COPYING|NOTICE|AUTHORS|CHANGES)", re.I)
MAX_FILE = 4_000_000
_WS = re.compile(r"\s+")
_CODE = re.compile(r"(>>>|\.\.\. |::$|^\s*[$#]|[{}]|=>|\bdef |\w+\(.*\)\s*$|^\s*\w+\s*=)")


def _paragraphs(text: str) -> Iterator[str]:
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        # keep a paragraph only if none of its lines looks like code, a table or a heading rule
        if any(_CODE.search(ln) or re.fullmatch(r"\s*[-=~^*+#|]{3,}.*", ln) for ln in lines):
            continue
        yield _WS.sub(" ", " ".join(ln.strip() for ln in lines)).strip()


def _is_prose(p: str, min_words: int) -> bool:
    words = p.split()
    if len(words) < min_words:
        return False
    letters = sum(c.isalpha() for c in p)
    nonspace = sum(not c.isspace() for c in p)
    if nonspace == 0 or letters / nonspace < 0.8:
        return False
    # mostly ASCII English words, not identifiers
    plain = sum(bool(re.fullmatch(r"[A-Za-z][a-z'’-]*[.,;:!?)]?", w)) for w in words)
    return plain / len(words) >= 0.7


def _docstrings(path: Path) -> Iterator[str]:
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield doc


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE:
            return ""
        return path.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError):
        return ""


def _metadata_body(text: str) -> str:
    # the long description follows the first blank line of the e-mail style header
    return text.split("\n\n", 1)[1] if "\n\n" in text else ""


def sources() -> Iterator[tuple[str, str, str]]:
    """(kind, source name, raw text) for every text found, in a fixed order."""
    try:
        from pydoc_data.topics import topics

        for name in sorted(topics):
            yield "pydoc-topics", f"pydoc_data.topics:{name}", topics[name]
    except ImportError:
        pass

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sitepkgs = sorted({Path(p) for p in site.getsitepackages() if Path(p).is_dir()})
    for path in sorted(stdlib.rglob("*.py")):
        if "site-packages" in path.parts:
            continue
        for i, doc in enumerate(_docstrings(path)):
            yield "stdlib-docstrings", f"{path.relative_to(stdlib)}#{i}", doc
    for sp in sitepkgs:
        for path in sorted(sp.rglob("*")):
            if not path.is_file():
                continue
            rel = str(path.relative_to(sp))
            if path.suffix == ".py":
                for i, doc in enumerate(_docstrings(path)):
                    yield "package-docstrings", f"{rel}#{i}", doc
            elif path.name == "METADATA" and path.parent.name.endswith(".dist-info"):
                yield "package-metadata", rel, _metadata_body(_read(path))
            elif "gensim/test/test_data" in rel and path.suffix in {".cor", ".txt", ""}:
                yield "gensim-test-data", rel, _read(path)
            elif path.suffix.lower() in TEXT_SUFFIXES or TEXT_NAMES.match(path.name):
                yield "package-text", rel, _read(path)


def build(out: Path, min_words: int = 8) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    seen: set[bytes] = set()
    docs: dict[str, tuple[str, list[str]]] = {}
    for kind, name, text in sources():
        if not text:
            continue
        # docstrings of one file are one document: group on the part before '#'
        doc_id = f"{kind}:{name.split('#', 1)[0]}"
        for p in _paragraphs(text):
            if not _is_prose(p, min_words):
                continue
            h = hashlib.blake2b(p.lower().encode(), digest_size=16).digest()
            if h in seen:
                continue
            seen.add(h)
            docs.setdefault(doc_id, (kind, []))[1].append(p)
    stats: dict[str, dict[str, int]] = {}
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for doc_id, (kind, paras) in docs.items():
            text = "\n\n".join(paras)
            f.write(json.dumps({"source": doc_id, "text": text}, ensure_ascii=False) + "\n")
            s = stats.setdefault(kind, {"documents": 0, "paragraphs": 0, "words": 0, "chars": 0})
            s["documents"] += 1
            s["paragraphs"] += len(paras)
            s["words"] += len(text.split())
            s["chars"] += len(text)
    total = {k: sum(s[k] for s in stats.values()) for k in ("documents", "paragraphs", "words")}
    result = {"python": sys.version.split()[0], "by_kind": stats, "total": total}
    (out / "stats.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "text-corpus")
    ap.add_argument("--min-words", type=int, default=8)
    args = ap.parse_args()
    result = build(args.out, args.min_words)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
