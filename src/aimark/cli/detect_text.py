"""``aimark detect-text``: test texts for your statistical text watermark."""

from __future__ import annotations

import argparse
import json
import sys

from aimark.cli._common import EXIT_INPUT, UsageError
from aimark.errors import AimarkError, InputError
from aimark.keys import WatermarkKey
from aimark.media.limits import Limits
from aimark.media.source import read_source
from aimark.media.text_io import decode_text

__all__ = ["add_parser", "run_command"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``detect-text`` to the CLI's sub-commands."""
    dt = sub.add_parser(
        "detect-text",
        help="look for your statistical watermark in texts",
        description="Tokenize each text with the generating model's tokenizer and test it for "
        "the text watermark of each key (exact p-value; repeated token pairs count once). "
        "Exit code: 1 found, 2 not found or too short to tell, 4 input error (highest over "
        "files).",
    )
    dt.add_argument("paths", nargs="*", default=["-"], metavar="PATH", help="text files or -")
    dt.add_argument("--key", action="append", required=True, metavar="KEYFILE", help="repeatable")
    dt.add_argument(
        "--tokenizer",
        required=True,
        metavar="SPEC",
        help="tokenizer.json, a .gguf model file, a local model folder, or tiktoken:NAME",
    )
    dt.add_argument("--vocab-size", type=int, help="default: the tokenizer's size")
    dt.add_argument("--mode", choices=["bias", "gumbel"], default="bias")
    dt.add_argument("--context-width", type=int, default=1)
    dt.add_argument("--green-fraction", type=float, default=0.25)
    dt.add_argument("--fpr", type=float, default=1e-3, help="false-positive bound (1e-3)")
    dt.add_argument(
        "--spans", action="store_true", help="also find watermarked stretches in mixed text"
    )
    dt.add_argument("--window", type=int, default=50, help="span window in tokens (50)")
    dt.add_argument("--json", action="store_true", help="print one JSON object per file")


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark detect-text`` with parsed arguments; returns the exit code."""
    from aimark.watermark.text import TextWatermark
    from aimark.watermark.text.tokenize import (
        detect_text,
        find_text_spans,
        load_tokenizer,
        vocab_size_of,
    )

    if not 0 < args.fpr < 1:
        raise UsageError("--fpr must be between 0 and 1")
    tokenizer = load_tokenizer(args.tokenizer)
    vocab = args.vocab_size or vocab_size_of(tokenizer)
    if not vocab:
        raise UsageError("the tokenizer does not say its vocabulary size: give --vocab-size")
    try:
        marks = [
            TextWatermark(
                WatermarkKey.load(k),
                vocab,
                mode=args.mode,
                context_width=args.context_width,
                green_fraction=args.green_fraction,
            )
            for k in args.key
        ]
    except ValueError as exc:
        if isinstance(exc, AimarkError):
            raise
        raise UsageError(str(exc)) from None
    worst = 0
    for name in args.paths:
        try:
            limits = Limits()
            if name == "-":
                data = sys.stdin.buffer.read(limits.max_bytes + 1)
                if len(data) > limits.max_bytes:
                    raise InputError(f"over the limit of {limits.max_bytes:,} bytes")
            else:
                data = read_source(name, limits).data
            text = decode_text(data, limits)
            results = [(wm, detect_text(text, wm, tokenizer, fpr=args.fpr)) for wm in marks]
            spans = {
                wm.key_id: find_text_spans(text, wm, tokenizer, window=args.window, fpr=args.fpr)
                for wm in marks
                if args.spans
            }
        except (OSError, AimarkError, ValueError) as exc:
            msg = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if args.json:
                print(json.dumps({"source": name, "error": {"message": msg}}))
            else:
                print(f"{name}: error — {msg}")
            worst = max(worst, EXIT_INPUT)
            continue
        found = any(d.detected for _, d in results)
        worst = max(worst, 1 if found else 2)
        if args.json:
            print(
                json.dumps(
                    {
                        "source": name,
                        "watermarked": found,
                        "detections": [
                            {
                                **d.to_dict(),
                                "spans": [s.to_dict() for s in spans.get(wm.key_id, [])],
                            }
                            for wm, d in results
                        ],
                    }
                )
            )
            continue
        for wm, d in results:
            head = {
                "watermarked": "WATERMARKED",
                "not-watermarked": "not watermarked",
                "too-short": "too short to tell",
            }[d.verdict.value]
            print(
                f"{name}: {head} (key {wm.key_id}, {wm.mode.value}) p={d.p_value:.3g} "
                f"z={d.z_score:.2f}, {d.tokens_scored} of {d.tokens_total} tokens scored"
                + (f", need {d.min_tokens}" if d.too_short else "")
            )
            for s in spans.get(wm.key_id, []):
                where = f"chars {s.start_char}-{s.end_char}" if s.start_char is not None else ""
                print(f"    span tokens {s.start}-{s.end} {where} p={s.p_value:.3g}")
        sys.stdout.flush()
    return worst
