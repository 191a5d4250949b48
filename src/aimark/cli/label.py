"""``aimark label``: sign an image, video, audio file or document as AI-generated."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from aimark._options import add_limit_options, limits_from_args
from aimark.cli._common import (
    UsageError,
    add_signing_args,
    load_credentials,
    read_option_file,
    tc260_label,
    what_made_it,
)
from aimark.errors import AimarkError, InputError, UnsupportedFormatError
from aimark.keys import WatermarkKey
from aimark.media.formats import media_kind
from aimark.media.output import same_file
from aimark.media.sniff import sniff
from aimark.media.text_io import is_text_prefix

__all__ = ["add_parser", "run_command"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``label`` to the CLI's sub-commands."""
    lab = sub.add_parser(
        "label",
        help="label an image, video, audio file or document as AI-generated (signed C2PA, "
        "XMP/EXIF)",
        description="Label a file as AI-generated: a signed C2PA manifest, the IPTC digital "
        "source type in XMP and EXIF Software/UserComment for images, XMP for SVG, MP4, MOV, "
        "M4A and WAV. Video, audio and documents (MP4, MOV, M4A, AVI, WAV, MP3, FLAC, PDF, "
        "SVG, JPEG XL, Office, EPUB, OpenDocument) are signed as they are, never re-encoded.",
    )
    lab.add_argument("src", help="file to label (never modified)")
    out = lab.add_mutually_exclusive_group()
    out.add_argument(
        "-o", "--output", help="where to write the labelled file (with --sidecar: the sidecar)"
    )
    out.add_argument(
        "--in-place",
        action="store_true",
        help="replace SRC (atomically: SRC is untouched if anything fails)",
    )
    lab.add_argument(
        "--sidecar",
        action="store_true",
        help="leave SRC untouched and write the signed manifest beside it, to SRC.c2pa (any "
        "file: an Office/EPUB file that must keep its bytes, camera RAW, archives)",
    )
    add_signing_args(
        lab,
        "image",
        "made",
        source_type_help="(default trainedAlgorithmicMedia; e.g. "
        "compositeWithTrainedAlgorithmicMedia)",
    )
    lab.add_argument(
        "--identity-cert",
        metavar="CHAIN",
        help="PEM certificate chain of the person or organisation behind the file (leaf "
        "first): signs a CAWG identity assertion (X.509) into the manifest; needs "
        "--identity-key",
    )
    lab.add_argument("--identity-key", metavar="KEY", help="PEM private key of --identity-cert")
    lab.add_argument("--thumbnail", action="store_true", help="embed a C2PA thumbnail")
    add_limit_options(lab)
    lab.add_argument(
        "--watermark-key",
        metavar="KEYFILE",
        help="also embed the invisible watermark of this key (aimark keys generate)",
    )
    lab.add_argument(
        "--watermark-strength",
        type=float,
        default=1.0,
        metavar="X",
        help="watermark amplitude multiplier (default 1: about 40 dB PSNR)",
    )
    lab.add_argument(
        "--visible",
        nargs="?",
        const=True,
        default=False,
        metavar="TEXT",
        help='draw a visible badge on the image (default text "AI-generated"); the manifest '
        "records the edit",
    )
    lab.add_argument(
        "--visible-position",
        default="bottom-right",
        choices=["top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom"],
        help="where the badge goes (default bottom-right)",
    )
    lab.add_argument(
        "--visible-font",
        metavar="FONT",
        help="TrueType/OpenType font file for the badge (needed for CJK text such as AI生成)",
    )
    lab.add_argument(
        "--repository",
        metavar="DB",
        help="also keep the signed manifest in this manifest repository (an SQLite file, "
        "created if missing, or a postgresql:// URL), filed under its watermark payload and "
        "the image's PDQ fingerprint, so stripped copies can get their credentials back",
    )
    lab.add_argument("--json", action="store_true", help="print the result as JSON")


def _identity(args: argparse.Namespace) -> Any:
    """The CAWG identity credentials --identity-cert and --identity-key name, or None."""
    if not args.identity_cert and not args.identity_key:
        return None
    if not args.identity_cert or not args.identity_key:
        raise UsageError("--identity-cert and --identity-key go together")
    from aimark.credentials import Credentials
    from aimark.errors import CredentialsError

    cert = read_option_file("--identity-cert", args.identity_cert)
    key = read_option_file("--identity-key", args.identity_key)
    try:
        return Credentials.from_pem(cert, key)
    except CredentialsError as exc:
        raise CredentialsError(f"identity credentials: {exc}") from None


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark label`` with parsed arguments; returns the exit code."""
    creds = load_credentials(args)
    identity = _identity(args)
    generator, source_type = what_made_it(args)
    if args.watermark_key:
        read_option_file("--watermark-key", args.watermark_key)
    wm_key = WatermarkKey.load(args.watermark_key) if args.watermark_key else None
    tc260 = tc260_label(args)
    from aimark._labeler import Labeler  # numpy, Pillow, the watermark: labelling only

    labeler = Labeler(
        creds,
        generator=generator,
        source_type=source_type,
        allow_training=args.allow_training,
        thumbnail=args.thumbnail,
        limits=limits_from_args(args, UsageError),
        watermark_key=wm_key,
        watermark_strength=args.watermark_strength,
        repository=args.repository,
        identity=identity,
    )
    if not args.watermark_strength > 0:
        raise UsageError("--watermark-strength must be positive")
    dst = args.src if args.in_place else args.output
    if not Path(args.src).is_file():
        raise AimarkError(f"{args.src}: no such file")
    if args.sidecar:
        return _label_sidecar(labeler, args)
    if dst is None:
        raise UsageError("give -o OUTPUT, --in-place, or --sidecar")
    if not args.in_place and same_file(args.src, dst):
        raise AimarkError(f"-o {dst} is the source file; use --in-place to replace it (atomically)")
    if not args.in_place and Path(dst).is_dir():
        example = Path(dst) / f"labelled{Path(args.src).suffix}"
        raise AimarkError(
            f"-o names the output file; {dst} is a folder — give a file name such as {example}"
        )
    kind = _file_kind(args.src)
    if kind == "text":
        raise UnsupportedFormatError(
            f"{args.src} is a text file: label it with aimark label-text (a signed manifest "
            "in the text itself)"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported below from result.warnings
        try:
            if kind == "media":
                if args.visible:
                    raise UsageError(
                        "--visible draws on raster images; video, audio and documents are "
                        "signed as they are"
                    )
                result = labeler.label_media(args.src, dst, overwrite=args.in_place, tc260=tc260)
            else:
                result = labeler.label_image(
                    args.src,
                    dst,
                    overwrite=args.in_place,
                    tc260=tc260,
                    visible=args.visible,
                    visible_position=args.visible_position,
                    visible_font=args.visible_font,
                )
        except InputError as exc:
            hint = ""
            if isinstance(exc, UnsupportedFormatError) and kind != "text":
                hint = (
                    f" (aimark label {args.src} --sidecar signs it without changing it: the "
                    f"manifest goes to {args.src}.c2pa)"
                )
            raise type(exc)(f"{args.src}: {exc}{hint}") from None
    if args.json:
        print(
            json.dumps(
                {
                    "path": str(result.path),
                    "format": None if result.format is None else result.format.value,
                    "content_id": result.content_id,
                    "layers": list(result.layers),
                    "bytes": len(result.data),
                    "warnings": list(result.warnings),
                    "watermark": None
                    if result.watermark_payload is None
                    else {
                        "content_id": result.content_id,
                        "check": None
                        if result.watermark_check is None
                        else result.watermark_check.to_dict(),
                        **_timed(result.watermark_mark),
                    },
                }
            )
        )
    else:
        print(
            f"{result.path}: labelled ({', '.join(result.layers)}) · content id {result.content_id}"
        )
        for w in result.warnings:
            print(f"aimark: note: {w}", file=sys.stderr)
    return 0


def _label_sidecar(labeler: Any, args: argparse.Namespace) -> int:
    """``--sidecar``: SRC is never modified; the manifest goes to SRC.c2pa (or -o)."""
    if args.in_place:
        raise UsageError("--sidecar leaves SRC untouched: drop --in-place")
    if args.visible or args.watermark_key:
        raise UsageError("--sidecar leaves SRC untouched: no --visible badge or watermark")
    try:
        result = labeler.label_sidecar(args.src, args.output)
    except InputError as exc:
        raise type(exc)(f"{args.src}: {exc}") from None
    if args.json:
        print(
            json.dumps(
                {
                    "path": str(result.path),
                    "asset": args.src,
                    "format": None if result.format is None else result.format.value,
                    "content_id": result.content_id,
                    "layers": list(result.layers),
                    "bytes": len(result.data),
                    "warnings": list(result.warnings),
                }
            )
        )
    else:
        print(
            f"{result.path}: sidecar manifest for {args.src} ({', '.join(result.layers)}) · "
            f"content id {result.content_id}"
        )
    return 0


def _timed(mark: Any) -> dict[str, Any]:
    """The JSON of an audio or video watermark written: scheme, time range, quality."""
    if mark is None:
        return {}
    return {
        "scheme": mark.scheme,
        "time_range": [mark.start_s, mark.end_s],
        "quality": dict(mark.quality),
    }


def _file_kind(path: str) -> str:
    """How ``label`` takes a file: ``image`` (pixels: label_image), ``media`` (a container
    signed as it is: video, audio, documents, SVG, JPEG XL) or ``text`` (label-text's job).

    :func:`~aimark.media.formats.media_kind` decides, with two things it does not say: SVG and
    JPEG XL are images to it but containers here, and a key or certificate (not media to a
    folder walk) is text here, so ``label`` points to label-text. Anything else (an empty file,
    an unknown binary) goes to label_image, which says why it cannot label it."""
    with open(path, "rb") as f:
        head = f.read(65536)
    kind = media_kind(head)
    if kind == "image" and sniff(head) is not None:
        return "image"
    if kind not in (None, "text"):
        return "media"
    return "text" if head.strip() and is_text_prefix(head) else "image"
