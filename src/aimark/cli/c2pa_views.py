"""``aimark verify --tree / --certs / --info``: c2patool's three views of a file's C2PA data.

``--tree`` draws the manifest store (active manifest, assertions, ingredients and the
manifests they carry) from the report's ``c2pa.store``; ``--certs`` prints the active
manifest's signing chain as PEM, read from the COSE signature; ``--info`` sums the store up
(size, manifests, active label, validation, where it is kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aimark.errors import AimarkError
from aimark.manifest.cose import cert_chain, to_pem
from aimark.manifest.jumbf import active_manifest_label
from aimark.manifest.sidecar import find_sidecar, is_manifest_store, read_store
from aimark.report import C2paState, Report, Status

__all__ = ["VIEWS", "add_view_options", "chosen", "render", "show", "store_bytes"]

#: the views, as their ``args`` attribute names
VIEWS = ("tree", "certs", "info")


def add_view_options(parser: argparse.ArgumentParser) -> None:
    """``--tree``, ``--certs`` and ``--info`` (one at most), as ``verify`` takes them."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--tree",
        action="store_true",
        help="print only the manifest store as a tree, like c2patool --tree",
    )
    group.add_argument(
        "--certs",
        action="store_true",
        help="print only the active manifest's signing certificate chain as PEM, like "
        "c2patool --certs",
    )
    group.add_argument(
        "--info",
        action="store_true",
        help="print only a summary of the C2PA data (store size, manifests, active manifest, "
        "validation, where it is stored), like c2patool --info",
    )


def chosen(args: argparse.Namespace) -> str | None:
    """The view asked for, or None."""
    return next((v for v in VIEWS if getattr(args, v, False)), None)


def store_bytes(path: Path, report: Report) -> bytes | None:
    """The manifest store the report's C2PA layer was read from: the sidecar, the file itself
    (a bare store), or the one embedded in the file (a text's wrapper included); None when it
    was remote or cannot be found again."""
    c = report.c2pa
    if c.sidecar:
        side = find_sidecar(path)
        return read_store(side) if side is not None else None
    data = path.read_bytes()
    if is_manifest_store(data):
        return data
    from aimark.media import containers
    from aimark.media.sniff import sniff
    from aimark.repository.importer import jumbf_stores

    fmt = sniff(data)
    try:
        found = containers.manifest_store(data, fmt) if fmt is not None else None
    except AimarkError:  # a damaged container: look for a store lying whole in the bytes
        found = None
    stores = [found] if found else jumbf_stores(data)
    if not stores and report.media.format == "text":
        from aimark.manifest.text import find_wrappers

        text = data.decode("utf-8", "replace")
        stores = [w.store for w in find_wrappers(text) if w.store]
    matching = [s for s in stores if active_manifest_label(s) == c.manifest]
    pick = matching or stores
    return pick[-1] if pick else None


def _where(report: Report, path: Path) -> str:
    c = report.c2pa
    if c.sidecar:
        return f"sidecar {c.sidecar}"
    if c.remote_url:
        return f"remote {c.remote_url}"
    if report.media.format == "c2pa":
        return f"manifest store file {path.name}"
    return f"embedded in {path.name}"


def _info(path: Path, report: Report) -> list[str]:
    c = report.c2pa
    size = path.stat().st_size
    lines = [f"Information for {path}"]
    store = None if c.state is C2paState.REMOTE else store_bytes(path, report)
    if store is not None and (c.sidecar or report.media.format == "c2pa"):
        lines.append(f"Manifest store size = {len(store)} (held apart; file size {size})")
    elif store is not None:
        share = 100 * len(store) / size if size else 0.0
        lines.append(f"Manifest store size = {len(store)} ({share:.2f}% of file size {size})")
    else:
        lines.append(f"Manifest store size = unknown (file size {size})")
    lines.append(f"Stored: {_where(report, path)}")
    if c.state is C2paState.REMOTE:
        lines.append(f"Not validated: {c.error or 'the remote manifest was not fetched'}")
    elif c.state is C2paState.INVALID:
        lines.append("Validation issues:")
        lines.extend(f"   {code}" for code in [f.code for f in c.failures] or [c.error or "?"])
    elif c.state is C2paState.TRUSTED:
        lines.append(f"Validated (signer trusted{f' by {c.trusted_by}' if c.trusted_by else ''})")
    else:
        lines.append("Validated (signer not trusted: no --trust anchor it chains to)")
    if c.manifests:
        lines.append("One manifest" if c.manifests == 1 else f"{c.manifests} manifests")
    if c.manifest:
        lines.append(f"Active manifest: {c.manifest}")
    return lines


def show(path: Path, report: Report, view: str) -> None:
    """Print ``view`` of one verified file: the view on stdout, what stops it on stderr (on
    stdout for --tree and --info when the file has no C2PA data, as c2patool says it)."""
    out, err = render(path, report, view)
    if not report.c2pa.present and view != "certs" and report.verdict.status is not Status.ERROR:
        out, err = err, out
    if out:
        print("\n".join(out))
    if err:
        print("\n".join(err), file=sys.stderr)


def render(path: Path, report: Report, view: str) -> tuple[list[str], list[str]]:
    """(view lines, problem lines) of ``view`` for one verified file."""
    c = report.c2pa
    if report.verdict.status is Status.ERROR:
        return [], [f"{path}: error — {report.verdict.summary}"]
    if not c.present:
        return [], [f"{path}: no C2PA manifest (file size {path.stat().st_size} bytes)"]
    if view == "info":
        return _info(path, report), []
    if view == "tree":
        from aimark.manifest.store import compact_tree

        if not c.store:
            return [], [f"{path}: the manifest store could not be read ({c.error or c.state})"]
        return compact_tree(c.store, path.name), []
    store = None if c.state is C2paState.REMOTE else store_bytes(path, report)
    chain = cert_chain(store) if store else []
    if not chain:
        return [], [f"{path}: no signing certificate chain found in the active manifest"]
    return ["".join(to_pem(der) for der in chain).rstrip("\n")], []
