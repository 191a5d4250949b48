"""``aimark repository init|stats|import``: the manifest repository."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aimark._options import add_limit_options, limits_from_args
from aimark.cli._common import Parser, UsageError, expand_paths

__all__ = ["add_parser", "run_command"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``repository`` to the CLI's sub-commands."""
    rep = sub.add_parser(
        "repository",
        help="the manifest repository (init, stats, import)",
        description="A manifest repository keeps signed manifests with their soft bindings "
        "(watermark payloads, PDQ fingerprints): an SQLite file, or a postgresql:// URL.",
    )
    rep_sub = rep.add_subparsers(dest="repo_command", metavar="SUBCOMMAND", parser_class=Parser)
    r_init = rep_sub.add_parser("init", help="create (or migrate) a repository")
    r_init.add_argument("db", metavar="DB")
    r_stats = rep_sub.add_parser("stats", help="what a repository holds")
    r_stats.add_argument("db", metavar="DB")
    r_stats.add_argument("--json", action="store_true")
    r_imp = rep_sub.add_parser(
        "import", help="file the manifests of signed images (JPEG, PNG, WebP) into a repository"
    )
    r_imp.add_argument("db", metavar="DB")
    r_imp.add_argument("paths", nargs="+", metavar="PATH", help="signed images or folders")
    add_limit_options(r_imp)


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark repository`` with parsed arguments; returns the exit code."""
    from aimark.repository import open_repository

    if args.repo_command not in ("init", "stats", "import"):
        raise UsageError("usage: aimark repository init|stats|import DB ...")
    repo = open_repository(args.db)
    try:
        if args.repo_command == "init":
            print(f"{args.db}: manifest repository, schema version {repo.stats().schema_version}")
        elif args.repo_command == "import":
            from aimark.repository.importer import import_file

            limits = limits_from_args(args, UsageError)
            skipped: list[Path] = []
            filed = 0
            for path in expand_paths(args.paths, skipped, stores=True):
                try:
                    outcome = import_file(repo, path, limits=limits)
                except OSError as exc:
                    outcome = f"skipped: cannot read it ({exc.strerror or exc})"
                print(f"{path}: {outcome}")
                filed += outcome.startswith("filed")
            print(f"{filed} manifest(s) filed in {args.db}", file=sys.stderr)
        else:
            st = repo.stats()
            if args.json:
                print(json.dumps(st.to_dict()))
            else:
                print(
                    f"{args.db}: {st.manifests:,} manifests, {st.bindings:,} bindings, "
                    f"{st.fingerprints:,} fingerprints, schema {st.schema_version}"
                    + (f", {st.bytes:,} bytes" if st.bytes is not None else "")
                )
    finally:
        repo.close()
    return 0
