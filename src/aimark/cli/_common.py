"""What the sub-commands share: exit codes, the usage error, the parser class, the signing
options of ``label`` and ``label-text``, and the paths a verb expands folders into."""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from aimark.errors import InputError
from aimark.media.formats import media_kind
from aimark.media.source import read_config_file
from aimark.report import Status
from aimark.scanner.walk import FileRef, WalkOptions, walk

if TYPE_CHECKING:  # loaded by the commands that sign, not by the parser
    from aimark.credentials import Credentials
    from aimark.metadata.digital_source_type import DigitalSourceType
    from aimark.metadata.tc260 import TC260Label

__all__ = [
    "EXIT",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_NOTHING",
    "EXIT_USAGE",
    "Parser",
    "UsageError",
    "add_signing_args",
    "expand_paths",
    "load_credentials",
    "read_option_file",
    "tc260_label",
    "what_made_it",
]

EXIT = {
    Status.LABELLED_TRUSTED: 0,
    Status.LABELLED_WATERMARK: 1,
    Status.LABELLED_RECOVERED: 1,
    Status.LABELLED_UNTRUSTED: 1,
    Status.LABELLED_UNSIGNED: 1,
    Status.NOT_LABELLED: 2,
    Status.INVALID: 3,
    Status.ERROR: 4,
}
EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 4, 64, 70
EXIT_NOTHING = 5  # verify / scan: the folders named hold no media file (nothing was checked)


class UsageError(Exception):
    """Bad arguments: ``main`` prints the message and exits 64."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors raise :class:`UsageError` (exit 64, not 2)."""

    def error(self, message: str) -> NoReturn:  # argparse would exit 2: "not labelled"
        self.print_usage(sys.stderr)
        raise UsageError(message)


def add_signing_args(
    p: argparse.ArgumentParser, noun: str, verb: str, *, source_type_help: str = ""
) -> None:
    """Credentials, model and declaration options shared by ``label`` and ``label-text``."""
    p.add_argument(
        "--cert",
        default=os.environ.get("AIMARK_CERT"),
        help="PEM certificate chain, signer first (default: $AIMARK_CERT)",
    )
    p.add_argument(
        "--key", default=os.environ.get("AIMARK_KEY"), help="PEM private key (default: $AIMARK_KEY)"
    )
    p.add_argument(
        "--key-password-env",
        metavar="VAR",
        help="name of the environment variable holding the key's password",
    )
    p.add_argument("--tsa-url", help="RFC 3161 timestamp authority URL (optional)")
    p.add_argument("--model", required=True, help=f"name of the model that {verb} the {noun}")
    p.add_argument("--model-version", help="version of the model")
    p.add_argument(
        "--source-type",
        default="trainedAlgorithmicMedia",
        help="IPTC digital source type "
        + (source_type_help or "(default trainedAlgorithmicMedia)"),
    )
    train = p.add_mutually_exclusive_group()
    train.add_argument(
        "--no-training",
        dest="allow_training",
        action="store_false",
        default=None,
        help=f"declare that the {noun} may not be used for AI training or data mining",
    )
    train.add_argument(
        "--allow-training",
        dest="allow_training",
        action="store_true",
        help="declare that AI training and data mining are allowed",
    )
    p.add_argument(
        "--tc260-producer",
        metavar="NAME",
        help="also write China's GB 45438-2025 implicit label (the AIGC object) with this "
        "ContentProducer (the service's name or code)",
    )
    p.add_argument(
        "--tc260-produce-id",
        metavar="ID",
        help="its ProduceID (default: the content id aimark gives the file)",
    )


def what_made_it(args: argparse.Namespace) -> tuple[tuple[str, str | None], DigitalSourceType]:
    """The generator (``--model``, ``--model-version``) and the digital source type
    (``--source-type``) that :func:`add_signing_args` set."""
    from aimark.metadata.digital_source_type import DigitalSourceType

    try:
        source_type = DigitalSourceType.parse(args.source_type)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return (args.model, args.model_version or None), source_type


def load_credentials(args: argparse.Namespace) -> Credentials:
    """The signing credentials that --cert, --key and --key-password-env name."""
    if not args.cert or not args.key:
        raise UsageError(
            "label needs --cert and --key (or $AIMARK_CERT / $AIMARK_KEY); "
            "for development: aimark credentials dev ./dev-credentials"
        )
    cert = read_option_file("--cert", args.cert)
    key = read_option_file("--key", args.key)
    if b"PRIVATE KEY-----" in cert and b"CERTIFICATE-----" in key:
        raise UsageError(
            f"--cert {args.cert} holds a private key and --key {args.key} a certificate: "
            "did you swap --cert and --key?"
        )
    if b"PRIVATE KEY-----" in cert:
        raise UsageError(
            f"--cert {args.cert} looks like a private key, not a PEM certificate chain; "
            "did you swap --cert and --key?"
        )
    if b"CERTIFICATE-----" in key and b"PRIVATE KEY-----" not in key:
        raise UsageError(
            f"--key {args.key} holds a certificate, not a private key; "
            "did you swap --cert and --key?"
        )
    password = None
    if args.key_password_env:
        value = os.environ.get(args.key_password_env)
        if value is None:
            raise UsageError(f"${args.key_password_env} is not set")
        password = value.encode()
    from aimark.credentials import Credentials

    return Credentials.from_pem(cert, key, password=password, tsa_url=args.tsa_url)


def read_option_file(option: str, path: str) -> bytes:
    """The bytes of a file named by a command-line option; errors name the option."""
    try:
        return read_config_file(path, option.lstrip("-").replace("-", " "))
    except InputError as exc:
        raise UsageError(f"{option} {exc}") from None
    except FileNotFoundError:
        raise UsageError(f"{option} {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{option} {path}: is a folder, not a file") from None
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot read it ({exc.strerror})") from None


def tc260_label(args: argparse.Namespace) -> TC260Label | None:
    """The GB 45438 label that --tc260-producer and --tc260-produce-id ask for, if any."""
    if not args.tc260_producer:
        if args.tc260_produce_id:
            raise UsageError("--tc260-produce-id needs --tc260-producer")
        return None
    from aimark.metadata.tc260 import TC260Label

    try:
        return TC260Label(producer=args.tc260_producer, produce_id=args.tc260_produce_id or "")
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def expand_paths(
    paths: Sequence[str], skipped: list[Path], *, stores: bool = False
) -> Iterator[Path]:
    """The files to verify: those named, and the media files of the folders named, walked by
    :func:`aimark.scanner.walk.walk` (as ``aimark scan`` walks them: hidden names left out,
    symlinks followed only within the folder) in name order, each folder's files before its
    subfolders. Keys, certificates, configuration files and unknown binaries in a folder go
    to ``skipped``; so do sidecar manifest stores unless ``stores`` (a file with a sidecar
    beside it is verified whatever it is)."""
    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            yield p  # verify reports a missing or unreadable file
            continue
        files = (f.path for f in walk([str(p)], WalkOptions()) if isinstance(f, FileRef))
        for _, in_folder in itertools.groupby(files, key=os.path.dirname):
            for name in sorted(in_folder):  # the walk lists a folder in directory order
                path = Path(name)
                if _is_media_file(path, stores):
                    yield path
                else:
                    skipped.append(path)


def _is_media_file(path: Path, stores: bool = False) -> bool:
    from aimark.manifest.sidecar import find_sidecar, is_manifest_store

    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return True  # verify reports why it cannot be read
    if is_manifest_store(head):
        return stores
    return bool(head) and (media_kind(head, path.name) is not None or bool(find_sidecar(path)))
