"""The command-line options of a verification, defined once: ``aimark verify`` and ``aimark
scan`` take the same flags for the same :class:`~aimark.Verifier` options (a new option is a
flag here and a parameter of the Verifier, nothing else), and every command that reads input
takes ``--max-pixels`` / ``--max-bytes``.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> add_verifier_options(p)
    >>> v = verifier_from_args(p.parse_args(["--max-pixels", "1000000"]), ValueError)
    >>> v.limits.max_pixels, v.public_watermarks
    (1000000, False)
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aimark.media.limits import Limits
from aimark.watermark.image._names import SCHEMES

if TYPE_CHECKING:
    from aimark._verifier import Verifier

__all__ = [
    "add_limit_options",
    "add_verifier_options",
    "add_watermark_scheme_option",
    "limits_from_args",
    "verifier_from_args",
]


def add_verifier_options(parser: argparse.ArgumentParser) -> None:
    """The flags of every :class:`~aimark.Verifier` option."""
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PEM",
        help="PEM file of trust anchors (root certificates), or 'c2pa' for the C2PA trust "
        "list shipped with aimark; repeatable",
    )
    parser.add_argument(
        "--watermark-key",
        action="append",
        default=[],
        metavar="KEYFILE",
        help="look for the invisible watermark of this key; repeatable",
    )
    parser.add_argument(
        "--public-watermarks",
        action="store_true",
        help="also look for public watermarks of other generators (Stable Diffusion)",
    )
    add_watermark_scheme_option(parser)
    add_limit_options(parser)
    parser.add_argument(
        "--repository",
        metavar="DB",
        help="for files without a manifest, look their watermark payload and fingerprint up in "
        "this manifest repository and validate the credentials it gives back",
    )
    parser.add_argument(
        "--detailed",
        action="store_true",
        help="show the whole manifest store: every manifest, its signature and timestamp, "
        "assertions and ingredients as a tree (in --json: c2pa.store)",
    )


def verifier_from_args(args: argparse.Namespace, usage_error: type[Exception]) -> Verifier:
    """The :class:`~aimark.Verifier` that :func:`add_verifier_options` described."""
    from aimark._verifier import Verifier  # the verification itself: only when one runs
    from aimark.keys import WatermarkKey

    return Verifier(
        trust=args.trust or None,
        limits=limits_from_args(args, usage_error),
        watermark_keys=[WatermarkKey.load(p) for p in args.watermark_key],
        public_watermarks=args.public_watermarks,
        watermark_schemes=tuple(args.watermark_scheme or SCHEMES),
        detailed=args.detailed,
        repository=args.repository,
    )


def add_watermark_scheme_option(parser: argparse.ArgumentParser) -> None:
    """``--watermark-scheme`` (repeatable), as ``verify`` and ``scan`` take it."""
    parser.add_argument(
        "--watermark-scheme",
        action="append",
        choices=SCHEMES,
        metavar="SCHEME",
        help="image watermark scheme to look for; repeatable (default: "
        + ", ".join(SCHEMES)
        + "; naming only the newer ones skips the 0.1 scheme's search)",
    )


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """``--max-pixels`` and ``--max-bytes``: the :class:`~aimark.Limits` of every command
    that reads input (verify, label, scan, repository import; serve has its own)."""
    parser.add_argument(
        "--max-pixels",
        type=int,
        metavar="N",
        help=f"largest image, width × height (default {Limits().max_pixels:,})",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        metavar="N",
        help=f"largest input file (default {Limits().max_bytes:,})",
    )


def limits_from_args(args: argparse.Namespace, usage_error: type[Exception]) -> Limits:
    """The :class:`~aimark.Limits` that :func:`add_limit_options` set."""
    try:
        return Limits(
            max_bytes=args.max_bytes or Limits().max_bytes,
            max_pixels=args.max_pixels or Limits().max_pixels,
        )
    except ValueError:
        raise usage_error("--max-pixels and --max-bytes must be positive") from None
