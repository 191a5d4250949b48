"""The public surface, the exception tree, the c2pa error mapping and the layering rules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import c2pa
import pytest

import aimark
from aimark import errors
from aimark.manifest._errors import C2PA_ERRORS, all_c2pa_error_types, translate

SRC = Path(aimark.__file__).parent


def test_all_is_sorted_and_importable():
    assert list(aimark.__all__) == sorted(aimark.__all__)
    for name in aimark.__all__:
        assert hasattr(aimark, name), name
    assert {
        "label_image",
        "verify",
        "Labeler",
        "Verifier",
        "Report",
        "Credentials",
        "create_dev_credentials",
        "AimarkError",
    } <= set(aimark.__all__)


def test_every_error_roots_at_aimark_error():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.AimarkError)
        assert cls.code and cls.__doc__
        assert name in errors.__doc__  # the tree drawn in the docstring names every class


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
    # the scanner verifies through the Verifier, and its optional extras are imported lazily
    if rel[0] == "scanner":
        assert not any(
            i.split(".")[0] in ("distributed", "dask", "fsspec", "s3fs")
            for i in _top_level_imports(path)
        )


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
