"""``aimark scan``: the command-line side of batch scanning (registered by ``aimark.cli``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
from collections.abc import Iterator
from typing import Any

from aimark._options import add_verifier_options, verifier_from_args
from aimark.errors import MissingExtraError
from aimark.scanner.worker import KINDS

__all__ = ["add_parser", "run_command"]

EXIT_OK, EXIT_NOTHING, EXIT_INTERRUPTED = 0, 5, 130


def add_parser(sub: Any, usage_error: type[Exception]) -> None:
    """Add ``scan`` to the CLI's sub-commands."""
    p = sub.add_parser(
        "scan",
        help="scan folders or object stores for AI labels (parallel, resumable, with reports)",
        description="Scan files, folders (recursively) and fsspec URLs (s3://bucket/prefix) for "
        "AI labels: C2PA, metadata, and your watermarks. Files are chosen by their content, not "
        "their names. With -o, re-running the same command skips what is already reported. "
        "Exit code: 0 when the scan completed (files that could not be read are error records), "
        "4 input error (a path that does not exist), 5 nothing to scan (no media file found), "
        "64 usage error, 130 interrupted (the command to resume is printed).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders or URLs")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE.jsonl",
        help="JSON Lines output, one report per line; the scan resumes from it ('-' = stdout)",
    )
    p.add_argument("--csv", metavar="FILE", help="also write one CSV row per file")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    p.add_argument(
        "--restart", action="store_true", help="ignore (and replace) what -o already holds"
    )
    add_verifier_options(p)
    p.add_argument(
        "--kind",
        action="append",
        choices=KINDS,
        help="what to scan (default: all of them; keys, certificates, configuration files and "
        "unknown binaries are skipped as not media); repeatable",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes (default: one per core; 0: scan in this process)",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on a Dask cluster (scheduler address, or 'local' / 'local:N' for a "
        "LocalCluster of N workers on this machine); needs aimark[dask]",
    )
    p.add_argument("--include", action="append", default=[], metavar="GLOB", help="only these")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="leave out")
    p.add_argument("--hidden", action="store_true", help="also scan hidden files and folders")
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="follow symlinks out of the tree too (loops are still detected)",
    )
    p.add_argument(
        "--storage-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fsspec option for URLs (e.g. endpoint_url=http://127.0.0.1:9000, anon=true)",
    )
    p.add_argument(
        "--progress",
        choices=("auto", "bar", "lines", "none"),
        default="auto",
        help="how progress is shown on stderr: a self-rewriting bar, a log line at an interval "
        "(files done, rate, ETA), or nothing (default auto: the bar on a terminal, lines "
        "otherwise)",
    )
    p.add_argument(
        "--progress-interval",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds between two progress lines (--progress lines; default 10)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, no summary")


def _storage_options(items: list[str], usage_error: type[Exception]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise usage_error(f"--storage-option needs KEY=VALUE, not {item!r}")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


@contextlib.contextmanager
def _dask_client(address: str | None, usage_error: type[Exception]) -> Iterator[Any]:
    if address is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MissingExtraError("--dask needs distributed: pip install 'aimark[dask]'") from None
    if address == "local" or address.startswith("local:"):
        n = address.partition(":")[2]
        if n and not n.isdigit():
            raise usage_error("--dask local:N needs a number of workers")
        cluster = LocalCluster(
            n_workers=int(n) if n else None, threads_per_worker=1, dashboard_address=None
        )
        with cluster, Client(cluster) as client:
            yield client
    else:
        with Client(address, timeout="30s") as client:
            yield client


def _print_line(report: Any) -> None:
    print(f"{report.source}: {report.verdict.status.value} — {report.verdict.summary}")


def resume_hint(args: argparse.Namespace) -> str:
    """What an interrupted scan prints: the command that resumes it, or how to make it
    resumable (a scan resumes from its ``-o`` JSON Lines file unless ``--restart``)."""
    if not args.output or args.output == "-":
        return (
            "  nothing was saved to resume from: give -o FILE.jsonl to make a scan resumable "
            "(re-running it then skips what is already reported)"
        )
    argv = getattr(args, "argv", None) or ["scan", *args.paths, "-o", args.output]
    again = [a for a in argv if not (len(a) > 4 and "--restart".startswith(a))]
    return "  to resume (files already reported are skipped), run: " + shlex.join(
        ["aimark", *again]
    )


def run_command(args: argparse.Namespace, usage_error: type[Exception]) -> int:
    """Run ``aimark scan`` with parsed arguments; returns the exit code."""
    from aimark.scanner.run import ScanRun  # the run's processes and numpy: scanning only

    if args.workers is not None and args.workers < 0:
        raise usage_error("--workers must be 0 or more")
    if not args.progress_interval > 0:
        raise usage_error("--progress-interval must be a positive number of seconds")
    to_stdout = args.output == "-"
    verifier = verifier_from_args(args, usage_error)
    storage = _storage_options(args.storage_option, usage_error)
    with _dask_client(args.dask, usage_error) as client:
        run = ScanRun(
            args.paths,
            verifier=verifier,
            kinds=tuple(args.kind or KINDS),
            workers=args.workers,
            client=client,
            output=None if to_stdout else args.output,
            csv=args.csv,
            html=args.html,
            resume=not args.restart,
            include=args.include,
            exclude=args.exclude,
            hidden=args.hidden,
            follow_symlinks=args.follow_symlinks,
            storage_options=storage,
            progress=False if args.quiet or args.progress == "none" else sys.stderr,
            progress_style="auto" if args.progress == "none" else args.progress,
            progress_interval=args.progress_interval,
        )
        quiet_lines = args.output or args.csv or args.html
        interrupted = False
        try:
            for report in run:
                if to_stdout:
                    print(report.to_json(), flush=False)
                elif not quiet_lines:
                    _print_line(report)
        except KeyboardInterrupt:
            interrupted = True
    if not args.quiet:
        print("\n".join(run.summary.lines()), file=sys.stderr)
    if interrupted:
        print(resume_hint(args), file=sys.stderr)
    if not args.quiet:
        written = [f for f in (args.output, args.csv, args.html) if f and f != "-"]
        if written:
            print(f"  written: {', '.join(written)}", file=sys.stderr)
        if not args.trust:
            print(
                "  (no --trust anchors given: valid signatures count as untrusted)", file=sys.stderr
            )
    if interrupted:
        return EXIT_INTERRUPTED
    if run.summary.files == 0:
        skipped = sum(run.summary.skipped.values())
        print(
            "aimark: nothing to scan: no media file found under "
            + ", ".join(args.paths)
            + (f" ({skipped:,} file(s) skipped: not media, hidden or excluded)" if skipped else "")
            + f" (exit {EXIT_NOTHING})",
            file=sys.stderr,
        )
        return EXIT_NOTHING
    return EXIT_OK
