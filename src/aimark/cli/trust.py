"""``aimark trust show`` and ``aimark trust update``: the C2PA trust lists."""

from __future__ import annotations

import argparse

from aimark.cli._common import Parser, UsageError

__all__ = ["add_parser", "run_command"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``trust`` to the CLI's sub-commands."""
    tr = sub.add_parser(
        "trust",
        help="the C2PA trust lists (show, update)",
        description="The C2PA conformance program's trust list, TSA trust list and "
        "conforming-products list: aimark ships a copy of each (CC-BY-4.0, C2PA); 'update' "
        "installs a newer one for this user ($AIMARK_TRUST_DIR or ~/.local/share/aimark/trust).",
    )
    tr_sub = tr.add_subparsers(dest="trust_command", metavar="SUBCOMMAND", parser_class=Parser)
    tr_sub.add_parser("show", help="what each list holds and where it comes from")
    upd = tr_sub.add_parser("update", help="install a new copy of a list from a file or URL")
    upd.add_argument(
        "source", metavar="FILE|URL", help="a PEM (or products JSON) file or https URL"
    )
    upd.add_argument(
        "--list",
        dest="kind",
        default="trust",
        choices=["trust", "tsa", "products"],
        help="which list (default: trust, the signers' trust list)",
    )


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark trust`` with parsed arguments; returns the exit code."""
    from aimark import trust

    if args.trust_command == "update":
        dest = trust.update(args.kind, args.source)
        info = trust.list_info(args.kind)
        count = info.products if args.kind == "products" else info.certificates
        noun = "products" if args.kind == "products" else "certificates"
        print(f"{args.kind} list: {count} {noun} installed in {dest}")
        return 0
    if args.trust_command != "show":
        raise UsageError("usage: aimark trust show | aimark trust update FILE|URL [--list ...]")
    for kind in trust.KINDS:
        info = trust.list_info(kind)
        shown = (
            f"{info.products} products"
            if kind == "products"
            else (f"{info.certificates} certificates")
        )
        snap = f", snapshot {info.snapshot}" if info.snapshot else ""
        print(f"{kind:9s} {shown} ({info.origin}{snap})")
    print(
        "Use with: aimark verify FILE --trust c2pa   (source: c2pa-org/conformance-public, "
        "CC-BY-4.0, © C2PA)"
    )
    return 0
