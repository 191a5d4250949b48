"""``aimark label-text``: append a signed C2PA manifest to a UTF-8 text."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

from aimark.cli._common import (
    UsageError,
    add_signing_args,
    load_credentials,
    tc260_label,
    what_made_it,
)
from aimark.errors import AimarkError, InputError
from aimark.media.output import same_file, write_atomic
from aimark.media.source import read_source
from aimark.media.text_io import decode_text

__all__ = ["add_parser", "run_command"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``label-text`` to the CLI's sub-commands."""
    lt = sub.add_parser(
        "label-text",
        help="label a text as AI-generated (signed C2PA manifest in the text)",
        description="Append a signed C2PA manifest to a UTF-8 text, in the C2PA "
        "unstructured-text wrapper (invisible characters). The text is signed in Unicode NFC. "
        "Reads stdin and writes stdout by default.",
    )
    lt.add_argument("src", nargs="?", default="-", help="UTF-8 text file, or - for stdin")
    out = lt.add_mutually_exclusive_group()
    out.add_argument("-o", "--output", default="-", help="where to write (default -: stdout)")
    out.add_argument(
        "--in-place",
        action="store_true",
        help="replace SRC (atomically: SRC is untouched if anything fails)",
    )
    add_signing_args(lt, "text", "wrote")
    lt.add_argument(
        "--replace",
        action="store_true",
        help="the text already has a C2PA manifest: sign it anew (the old one is dropped)",
    )
    lt.add_argument(
        "--disclosure",
        nargs="?",
        const=True,
        default=False,
        metavar="TEXT",
        help='add a visible disclosure (default "AI-generated content.") to the text',
    )
    lt.add_argument(
        "--disclosure-position",
        choices=["prefix", "suffix"],
        default="prefix",
        help="before (default) or after the text",
    )
    lt.add_argument(
        "--json", action="store_true", help="print the result as JSON (needs -o FILE or --in-place)"
    )


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark label-text`` with parsed arguments; returns the exit code."""
    to_stdout = not args.in_place and args.output == "-"
    if args.in_place and args.src == "-":
        raise UsageError("--in-place needs a file, not stdin")
    if args.json and to_stdout:
        raise UsageError("--json needs -o FILE or --in-place (stdout carries the text)")
    creds = load_credentials(args)
    generator, source_type = what_made_it(args)
    from aimark._labeler import Labeler  # numpy, Pillow, the watermark: labelling only

    labeler = Labeler(
        creds, generator=generator, source_type=source_type, allow_training=args.allow_training
    )
    dst = args.src if args.in_place else args.output
    name = "<stdin>" if args.src == "-" else args.src
    if args.src != "-":
        if not Path(args.src).is_file():
            raise AimarkError(f"{args.src}: no such file")
        if not to_stdout and not args.in_place and same_file(args.src, dst):
            raise AimarkError(f"destination {dst} is the source; use --in-place to replace it")
    content_id = f"urn:uuid:{uuid.uuid4()}"
    try:
        if args.src == "-":
            data = sys.stdin.buffer.read(labeler.limits.max_bytes + 1)
        else:
            data = read_source(args.src, labeler.limits).data
        text = decode_text(data, labeler.limits)
        out = labeler.label_text(
            text,
            content_id=content_id,
            replace=args.replace,
            tc260=tc260_label(args),
            disclosure=args.disclosure,
            disclosure_position=args.disclosure_position,
        )
    except InputError as exc:
        raise type(exc)(f"{name}: {exc}") from None
    encoded = out.encode("utf-8")
    if to_stdout:
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:  # pragma: no cover - a text-only stdout
            sys.stdout.write(out)
        else:
            sys.stdout.flush()
            stream.write(encoded)
        sys.stdout.flush()
        return 0
    write_atomic(dst, encoded)
    if args.json:
        print(
            json.dumps(
                {
                    "path": str(dst),
                    "content_id": content_id,
                    "layers": ["c2pa"] + (["tc260"] if args.tc260_producer else []),
                    "bytes": len(encoded),
                }
            )
        )
    else:
        print(f"{dst}: labelled (c2pa) · content id {content_id}")
    return 0
