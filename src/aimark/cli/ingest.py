"""``aimark ingest``: publish a platform's processed copy of an upload, provenance kept."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from aimark._options import add_verifier_options, verifier_from_args
from aimark.cli._common import UsageError, load_credentials

if TYPE_CHECKING:
    from aimark.platforms.ingest import IngestResult

__all__ = ["add_parser", "run_command"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``ingest`` to the CLI's sub-commands."""
    p = sub.add_parser(
        "ingest",
        help="publish a platform's processed copy of an upload with its provenance kept",
        description="Verify an upload, apply the platform's processing (resize, re-encode, "
        "strip private metadata; audio/video passed through or transcoded) and sign the copy "
        "as the platform: the upload (and the generator's manifest in it) becomes the parent "
        "ingredient, the IPTC digital source type and the GB 45438 label are kept with the "
        "propagator fields filled, and the watermark is reported. Exit code 0 when the copy "
        "verifies as AI-generated, 2 when nothing said it was, 4 on an input error. "
        "See docs/platforms.md.",
    )
    p.add_argument("src", help="the upload (never modified)")
    p.add_argument("-o", "--output", required=True, help="where to write the platform's copy")
    p.add_argument(
        "--platform", required=True, help="the platform's name or code (GB 45438 propagator)"
    )
    p.add_argument(
        "--cert",
        default=os.environ.get("AIMARK_CERT"),
        help="the platform's PEM certificate chain, signer first (default: $AIMARK_CERT)",
    )
    p.add_argument(
        "--key",
        default=os.environ.get("AIMARK_KEY"),
        help="the platform's PEM private key (default: $AIMARK_KEY)",
    )
    p.add_argument("--key-password-env", metavar="VAR", help="variable holding the key password")
    p.add_argument("--tsa-url", help="RFC 3161 timestamp authority URL (optional)")
    p.add_argument("--propagate-id", help="the platform's id for this copy (GB 45438 PropagateID)")
    p.add_argument(
        "--declared-ai",
        action="store_true",
        help="the uploader declared the content AI-generated (GB 45438 Label 2 where nothing "
        "stronger is found)",
    )
    p.add_argument("--max-side", type=int, default=2048, help="long side in pixels (0: keep)")
    p.add_argument(
        "--image-format",
        default="jpeg",
        choices=["jpeg", "webp", "avif", "keep"],
        help="what images are published as (default jpeg)",
    )
    p.add_argument("--quality", type=int, default=85, help="lossy quality (default 85)")
    p.add_argument(
        "--keep-exif",
        action="store_true",
        help="keep the upload's EXIF whole (default: only rights and capture time; GPS and "
        "other private fields go)",
    )
    p.add_argument(
        "--av",
        choices=["copy", "transcode"],
        default="copy",
        help="audio and video: publish as uploaded (default) or transcode with ffmpeg",
    )
    p.add_argument("--video-height", type=int, default=720, help="transcoded height (720)")
    p.add_argument("--video-crf", type=int, default=28, help="transcoded H.264 CRF (28)")
    p.add_argument("--audio-bitrate", default="128k", help="transcoded audio rate (128k)")
    add_verifier_options(p)
    p.add_argument("--json", action="store_true", help="print the ingest summary as JSON")


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark ingest`` with parsed arguments; returns the exit code."""
    from aimark.platforms.ingest import Ingester
    from aimark.platforms.processing import Processing

    if not args.cert or not args.key:
        raise UsageError(
            "ingest needs the platform's --cert and --key (or $AIMARK_CERT / $AIMARK_KEY); "
            "for development: aimark credentials dev ./platform-credentials"
        )
    try:
        processing = Processing(
            max_side=args.max_side or None,
            image_format=None if args.image_format == "keep" else args.image_format,
            quality=args.quality,
            strip_private=not args.keep_exif,
            av=args.av,
            video_height=args.video_height,
            video_crf=args.video_crf,
            audio_bitrate=args.audio_bitrate,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    ingester = Ingester(
        load_credentials(args),
        platform=args.platform,
        processing=processing,
        verifier=verifier_from_args(args, UsageError),
    )
    result = ingester.ingest(
        args.src, args.output, propagate_id=args.propagate_id, declared_ai=args.declared_ai
    )
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        for line in _lines(result):
            print(line)
    for note in result.notes:
        print(f"aimark: note: {note}", file=sys.stderr)
    return 0 if result.output.verdict.ai_generated else 2


def _lines(result: IngestResult) -> list[str]:
    d = result.to_dict()
    out = d["output"]
    lines = [
        f"{d['path']}: {d['format']} ({d['bytes']:,} bytes), signed by {out['signer']} "
        f"({out['c2pa']})",
        f"    actions: {', '.join(d['actions'])}",
        f"    upload: {d['upload']['status']} — {d['upload']['summary']}",
        f"    copy: {out['status']} — {out['summary']}",
    ]
    for ing in out["ingredients"]:
        lines.append(
            f"    ingredient {ing['title']!r}: manifest signed by {ing['signer']} "
            f"({ing['issuer']}), {ing['state']}" + (", declares AI" if ing["ai_declared"] else "")
        )
    gb = d["gb45438"]
    if gb:
        lines.append(
            f"    GB 45438: Label {gb['Label']}, propagator {gb['ContentPropagator']}, "
            f"PropagateID {gb['PropagateID']}"
        )
    else:
        lines.append("    GB 45438: no label (nothing says the upload is AI-generated)")
    if d["evidence"]:
        lines.append("    evidence: " + ", ".join(e["kind"] for e in d["evidence"]))
    wm = d["watermark"]
    if wm["before"]:
        lines.append(
            "    watermark: "
            + ("still decodes after the processing" if wm["after"] else "LOST in the processing")
        )
    return lines
