"""``aimark keys generate``: create a watermark key file."""

from __future__ import annotations

import argparse

from aimark.cli._common import Parser, UsageError
from aimark.keys import WatermarkKey

__all__ = ["add_parser", "run_command"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``keys`` to the CLI's sub-commands."""
    keys = sub.add_parser("keys", help="watermark keys")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="SUBCOMMAND", parser_class=Parser)
    gen = keys_sub.add_parser("generate", help="create a new 256-bit watermark key file (0600)")
    gen.add_argument("path", help="file to write")
    gen.add_argument("--force", action="store_true", help="overwrite an existing file")


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark keys`` with parsed arguments; returns the exit code."""
    if args.keys_command != "generate":
        raise UsageError("usage: aimark keys generate PATH")
    key = WatermarkKey.generate()
    key.save(args.path, overwrite=args.force)
    print(f"""watermark key {key.key_id} written to {args.path} (mode 0600; keep it secret:
anyone holding it can detect, and forge, your watermark).
Embed with:   aimark label IMAGE -o OUT ... --watermark-key {args.path}
Detect with:  aimark verify FILE... --watermark-key {args.path}""")
    return 0
