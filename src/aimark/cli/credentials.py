"""``aimark credentials dev``: development-only signing credentials."""

from __future__ import annotations

import argparse
from pathlib import Path

from aimark.cli._common import Parser, UsageError
from aimark.credentials import SigningAlg, create_dev_credentials

__all__ = ["add_parser", "run_command"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``credentials`` to the CLI's sub-commands."""
    cred = sub.add_parser("credentials", help="signing credentials")
    cred_sub = cred.add_subparsers(dest="cred_command", metavar="SUBCOMMAND", parser_class=Parser)
    dev = cred_sub.add_parser(
        "dev",
        help="create DEVELOPMENT-ONLY credentials (root CA, intermediate, signer)",
        description="Create a development root CA, intermediate CA and signer that c2pa accepts. "
        "For development and tests only: never ship these.",
    )
    dev.add_argument("dir", help="folder to write them into")
    dev.add_argument("--alg", default="es256", choices=[a.value for a in SigningAlg])
    dev.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    dev.add_argument("--force", action="store_true", help="overwrite existing files")


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark credentials`` with parsed arguments; returns the exit code."""
    if args.cred_command != "dev":
        raise UsageError("usage: aimark credentials dev DIR")
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    dev = create_dev_credentials(args.dir, alg=args.alg, days=args.days, overwrite=args.force)
    print(f"""DEVELOPMENT ONLY credentials written to {Path(args.dir)}:
  {dev.cert_chain}   signer + intermediate certificate chain
  {dev.private_key}  signer private key (mode 0600; keep it private)
  {dev.root_cert}    development root CA (the trust anchor)

These are for development and tests. Content signed with them is NOT trusted by anyone
else; never ship them. Label with:
  aimark label IMAGE -o OUT --cert {dev.cert_chain} --key {dev.private_key} --model NAME
and verify with the development root as your trust anchor:
  aimark verify OUT --trust {dev.root_cert}""")
    return 0
