"""``aimark credentials dev``: development-only signing credentials; ``aimark credentials
check``: the credential doctor (why c2pa would refuse a certificate chain and key)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from aimark.cli._common import Parser, UsageError, read_option_file
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
    check = cred_sub.add_parser(
        "check",
        help="diagnose a signing certificate chain and key (the credential doctor)",
        description="Check a signing certificate chain (and its private key) against what "
        "c2pa demands, naming each defect (leaf-is-ca, no-eku, reversed-chain, ...) and its fix. "
        "Exit status: 0 when c2pa will accept the signer (warnings allowed), 1 when any error "
        "was found, 4 when a trust list cannot be read, 64 on a usage error (a file missing).",
    )
    check.add_argument("--cert", required=True, metavar="CHAIN", help="PEM chain, signer first")
    check.add_argument("--key", metavar="KEY", help="PEM private key of the signer")
    check.add_argument(
        "--key-password-env",
        metavar="VAR",
        help="name of the environment variable holding the key's password",
    )
    check.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PEM",
        help="also check that the chain leads to these trust anchors: a PEM file, or 'c2pa' "
        "for the C2PA trust list shipped with aimark (as aimark verify --trust); repeatable",
    )
    check.add_argument("--json", action="store_true", help="print the findings as JSON")


def _check(args: argparse.Namespace) -> int:
    from aimark.credential_doctor import check_credentials
    from aimark.trust import TrustAnchors

    chain = read_option_file("--cert", args.cert)
    key = read_option_file("--key", args.key) if args.key else None
    password = None
    if args.key_password_env:
        value = os.environ.get(args.key_password_env)
        if value is None:
            raise UsageError(f"${args.key_password_env} is not set")
        password = value.encode()
    trust = TrustAnchors.from_files(*args.trust) if args.trust else None
    result = check_credentials(chain, key, password=password, trust=trust)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        sys.stdout.write("".join(line + "\n" for line in result.lines()))
    return 0 if result.ok else 1


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark credentials`` with parsed arguments; returns the exit code."""
    if args.cred_command == "check":
        return _check(args)
    if args.cred_command != "dev":
        raise UsageError("usage: aimark credentials dev DIR | credentials check --cert CHAIN")
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
