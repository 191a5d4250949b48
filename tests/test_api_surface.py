"""The public surface, the exception tree, the c2pa error mapping and the layering rules."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import c2pa
import pytest

import aimark
from aimark import errors
from aimark.manifest._errors import C2PA_ERRORS, all_c2pa_error_types, translate

SRC = Path(aimark.__file__).parent


def test_all_is_sorted_and_is_exactly_the_public_names():
    """``aimark.__all__`` is the public surface: every public name the package holds (its
    submodules aside) is listed, and every listed name exists. The package loads its names on
    first use (PEP 562), so they are collected through ``dir()`` and resolved, not read from
    ``vars()``, which holds only those used so far."""
    assert list(aimark.__all__) == sorted(aimark.__all__)
    public = {
        name
        for name in dir(aimark)
        if not name.startswith("_") and not isinstance(getattr(aimark, name), types.ModuleType)
    }
    assert set(aimark.__all__) - {"__version__"} == public
    assert hasattr(aimark, "__version__") and "__version__" in aimark.__all__


def _public_exception_classes() -> dict[str, type]:
    """Every exception or warning class a public module of aimark defines and lists in
    ``__all__``, and every one the package itself exports."""
    exported = [getattr(aimark, n) for n in aimark.__all__ if isinstance(getattr(aimark, n), type)]
    found = {}
    for info in pkgutil.walk_packages(aimark.__path__, "aimark."):
        if ".integrations." in info.name or info.name.endswith("__main__"):
            continue  # optional extras (torch, ComfyUI); their errors are aimark's below
        private = any(part.startswith("_") for part in info.name.split(".")[1:])
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name, None)
            is_exception = isinstance(value, type) and issubclass(value, BaseException)
            public = not private or any(value is e for e in exported)
            if is_exception and public and value.__module__ == module.__name__:
                found[f"{info.name}.{name}"] = value
    return found


def test_every_error_roots_at_aimark_error():
    classes = _public_exception_classes()
    assert {"aimark.errors.InputError", "aimark.metadata.xmp.XmpError"} <= set(classes)
    warnings = {name for name, cls in classes.items() if issubclass(cls, Warning)}
    assert warnings == {"aimark._labeler.LabelWarning"}  # the one warning, documented
    for name, cls in classes.items():
        if name in warnings:
            continue
        assert issubclass(cls, errors.AimarkError), name
        assert cls.__doc__, name
        assert cls.__name__ in errors.__doc__, name  # the tree in the docstring draws it
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.AimarkError) and cls.code and cls.__doc__
    assert "LabelWarning" in errors.__doc__


def test_every_c2pa_error_is_mapped():
    defined = all_c2pa_error_types()
    assert len(defined) >= 18  # base + every typed subclass c2pa-python defines
    missing = {cls.__name__ for cls in defined} - {cls.__name__ for cls in C2PA_ERRORS}
    assert not missing, f"unmapped c2pa errors: {missing}"
    for cls in defined:
        err = translate(cls("Other: something"))
        assert isinstance(err, errors.AimarkError)


def test_signing_errors_about_certificates_become_credentials_errors():
    err = translate(c2pa.C2paError.Other("Other: the certificate is invalid"), signing=True)
    assert isinstance(err, errors.CredentialsError)
    assert isinstance(translate(c2pa.C2paError.NotSupported("x")), errors.UnsupportedFormatError)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_layering(path):
    rel = path.relative_to(SRC).parts
    imports = _imports(path)
    if rel[0] != "manifest":
        assert not any(i == "c2pa" or i.startswith("c2pa.") for i in imports), (
            "only aimark.manifest may import c2pa"
        )
    if rel[0] not in ("cli", "__main__.py"):
        assert "aimark.cli" not in imports
    if rel[0] in ("media", "metadata", "manifest"):
        assert not any(i in ("aimark._labeler", "aimark._verifier", "aimark._api") for i in imports)
    # nothing below the entry points reaches up into the scanner (the api's scan() wrapper and
    # the CLI are the entry points that may)
    if rel[0] not in ("scanner", "cli", "_api.py"):
        assert not any(i.startswith("aimark.scanner") for i in imports), "scanner is on top"
    # the service is on top too; the modules the CLI loads to build its parser, and the worker
    # the forkserver preloads, import nothing of the server extra
    if rel[0] not in ("server", "cli"):
        assert not any(i.startswith("aimark.server") for i in imports), "server is on top"
    if rel[0] == "server" and rel[-1] in (
        "__init__.py",
        "cli.py",
        "config.py",
        "limits.py",
        "_worker.py",
    ):
        assert not any(
            i.split(".")[0] in ("starlette", "uvicorn", "python_multipart", "anyio", "httpx")
            for i in _top_level_imports(path)
        )
    # Pillow (decoding, encoding, drawing) only where docs/architecture.md says: media/, the
    # badge (visible.py), the scan's thumbnails, the integrations, and the Labeler, which
    # accepts PIL images
    pillow_allowed = ("media", "visible.py", "scanner/thumbnail.py", "integrations", "_labeler.py")
    if not any("/".join(rel).startswith(place) for place in pillow_allowed):
        assert not any(i == "PIL" or i.startswith("PIL.") for i in imports), (
            "Pillow stays in media/"
        )
    # the scanner verifies through the Verifier, and its optional extras are imported lazily
    if rel[0] == "scanner":
        assert not any(
            i.split(".")[0] in ("distributed", "dask", "fsspec", "s3fs")
            for i in _top_level_imports(path)
        )


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path, modules: set[str]) -> set[str]:
    """aimark modules ``path`` imports when it runs, lazy imports in functions included;
    imports under ``if TYPE_CHECKING:`` are annotations, not imports, and are left out."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for n in ast.walk(block)
    }
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != here and target.startswith("aimark"):
                found.add(target)
    return found


def test_the_import_graph_has_no_cycles():
    """No module imports (at run time, lazily or not) one that imports it back, directly or
    around a longer loop: the layers of docs/architecture.md are a directed acyclic graph."""
    paths = {_module_name(p): p for p in SRC.rglob("*.py")}
    modules = set(paths)
    graph = {m: _runtime_imports(p, modules) for m, p in paths.items()}
    # a package's __init__ importing its own submodules is how packages work: leave those out
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"
    # and the check sees imports at all (a broken parser would pass every graph)
    assert "aimark.trust" in graph["aimark._verifier"]
    assert "aimark.compliance" in graph["aimark.report"]


def _top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_scanning_without_extras_imports_none_of_them():
    code = (
        "import sys, aimark; from aimark.scanner import run, walk, worker, cli;"
        "print(sorted(m for m in ('distributed', 'dask', 'fsspec', 's3fs') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


_BLOCK_SERVER_EXTRA = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("starlette", "uvicorn", "python_multipart"):
            raise ImportError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
"""


def test_the_server_extra_is_needed_only_to_serve():
    code = _BLOCK_SERVER_EXTRA + (
        "import aimark, aimark.server\n"
        "from aimark.cli import main\n"
        "extra = ('starlette', 'uvicorn', 'python_multipart')\n"
        "print(sorted(m for m in extra if m in sys.modules))\n"
        "sys.exit(main(['serve', '--port', '0']))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
    assert out.returncode == 4, out.stderr
    assert "pip install 'aimark[server]'" in out.stderr and "Traceback" not in out.stderr


_VERIFY_AND_LIST = """
import runpy, sys
sys.argv = ["aimark", "verify", sys.argv[1]]
try:
    runpy.run_module("aimark", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
heavy = ("numpy", "cryptography", "urllib.request", "aimark._labeler", "aimark.repository",
         "aimark.scanner.run", "aimark.watermark.image._api", "aimark.watermark.public")
print(sorted(m for m in heavy if m in sys.modules), code)
"""


def test_import_aimark_loads_nothing_but_the_package():
    """The public names load on first use (PEP 562): ``import aimark`` alone is cheap."""
    code = "import sys, aimark; print(sorted(m for m in sys.modules if m.startswith('aimark')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['aimark', 'aimark._version']"


def test_verifying_an_unlabelled_jpeg_loads_only_what_it_needs(tmp_path):
    """``aimark verify`` of a JPEG without keys reads C2PA, the metadata and the header: it
    loads neither numpy, cryptography, the watermark detectors, the labeller, the repository
    nor the scan's processes (the start-up cost of benchmarks/bench_startup.py)."""
    from PIL import Image

    path = tmp_path / "plain.jpg"
    Image.new("RGB", (64, 48), "gray").save(path)
    code = _VERIFY_AND_LIST
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[] 2", out.stdout + out.stderr
