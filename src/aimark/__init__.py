"""aimark: label AI-generated content so people and machines can tell.

C2PA Content Credentials signed with your X.509 credentials, IPTC/EXIF metadata labels, and
verification with clear trust results.

Example:
    >>> import tempfile, aimark
    >>> from PIL import Image
    >>> creds = aimark.create_dev_credentials(tempfile.mkdtemp()).credentials()
    >>> signed = aimark.label_image(Image.new("RGB", (64, 64)), credentials=creds,
    ...                             generator=("my-model", "1.0"), format="png")
    >>> aimark.verify(signed.data).verdict.ai_generated
    True
"""

import importlib as _importlib
import typing as _typing

from aimark._version import __version__

if _typing.TYPE_CHECKING:  # what the names below resolve to; imported on first use (PEP 562)
    from aimark._api import label_image, label_media, label_text, scan, verify
    from aimark._labeler import Labeler, LabelResult, LabelWarning
    from aimark._verifier import Verifier
    from aimark.credentials import (
        Credentials,
        DevCredentials,
        SigningAlg,
        create_dev_credentials,
    )
    from aimark.errors import (
        AimarkError,
        CorruptInputError,
        CredentialsError,
        EmptyInputError,
        ImageTooLargeError,
        InputError,
        ManifestError,
        MissingExtraError,
        OutputError,
        SigningError,
        UnsupportedFormatError,
        WatermarkKeyError,
    )
    from aimark.generator import Generator
    from aimark.keys import WatermarkKey
    from aimark.media.formats import MediaFormat
    from aimark.media.limits import Limits
    from aimark.media.sniff import ImageFormat
    from aimark.metadata.digital_source_type import DigitalSourceType
    from aimark.metadata.tc260 import TC260Label
    from aimark.platforms.ingest import Ingester, IngestResult, ingest
    from aimark.platforms.processing import Processing as IngestProcessing
    from aimark.report import (
        Action,
        Backing,
        C2paResult,
        C2paState,
        Failure,
        FileInfo,
        MediaInfo,
        MetadataResult,
        Report,
        Signer,
        Status,
        Verdict,
    )
    from aimark.trust import AnchorSet, TrustAnchors

# each public name and the module that defines it: ``import aimark`` loads none of them, so a
# command that verifies a JPEG does not pay for numpy, cryptography or the watermark
_LAZY = {
    "Action": "aimark.report",
    "AimarkError": "aimark.errors",
    "AnchorSet": "aimark.trust",
    "Backing": "aimark.report",
    "C2paResult": "aimark.report",
    "C2paState": "aimark.report",
    "CorruptInputError": "aimark.errors",
    "Credentials": "aimark.credentials",
    "CredentialsError": "aimark.errors",
    "DevCredentials": "aimark.credentials",
    "DigitalSourceType": "aimark.metadata.digital_source_type",
    "EmptyInputError": "aimark.errors",
    "Failure": "aimark.report",
    "FileInfo": "aimark.report",
    "Generator": "aimark.generator",
    "ImageFormat": "aimark.media.sniff",
    "ImageTooLargeError": "aimark.errors",
    "IngestProcessing": "aimark.platforms.processing",
    "IngestResult": "aimark.platforms.ingest",
    "Ingester": "aimark.platforms.ingest",
    "InputError": "aimark.errors",
    "LabelResult": "aimark._labeler",
    "LabelWarning": "aimark._labeler",
    "Labeler": "aimark._labeler",
    "Limits": "aimark.media.limits",
    "ManifestError": "aimark.errors",
    "MediaFormat": "aimark.media.formats",
    "MediaInfo": "aimark.report",
    "MetadataResult": "aimark.report",
    "MissingExtraError": "aimark.errors",
    "OutputError": "aimark.errors",
    "Report": "aimark.report",
    "Signer": "aimark.report",
    "SigningAlg": "aimark.credentials",
    "SigningError": "aimark.errors",
    "Status": "aimark.report",
    "TC260Label": "aimark.metadata.tc260",
    "TrustAnchors": "aimark.trust",
    "UnsupportedFormatError": "aimark.errors",
    "Verdict": "aimark.report",
    "Verifier": "aimark._verifier",
    "WatermarkKey": "aimark.keys",
    "WatermarkKeyError": "aimark.errors",
    "create_dev_credentials": "aimark.credentials",
    "ingest": "aimark.platforms.ingest",
    "label_image": "aimark._api",
    "label_media": "aimark._api",
    "label_text": "aimark._api",
    "scan": "aimark._api",
    "verify": "aimark._api",
}

__all__ = [
    "Action",
    "AimarkError",
    "AnchorSet",
    "Backing",
    "C2paResult",
    "C2paState",
    "CorruptInputError",
    "Credentials",
    "CredentialsError",
    "DevCredentials",
    "DigitalSourceType",
    "EmptyInputError",
    "Failure",
    "FileInfo",
    "Generator",
    "ImageFormat",
    "ImageTooLargeError",
    "IngestProcessing",
    "IngestResult",
    "Ingester",
    "InputError",
    "LabelResult",
    "LabelWarning",
    "Labeler",
    "Limits",
    "ManifestError",
    "MediaFormat",
    "MediaInfo",
    "MetadataResult",
    "MissingExtraError",
    "OutputError",
    "Report",
    "Signer",
    "SigningAlg",
    "SigningError",
    "Status",
    "TC260Label",
    "TrustAnchors",
    "UnsupportedFormatError",
    "Verdict",
    "Verifier",
    "WatermarkKey",
    "WatermarkKeyError",
    "__version__",
    "create_dev_credentials",
    "ingest",
    "label_image",
    "label_media",
    "label_text",
    "scan",
    "verify",
]


def _lazy_names(
    package: str,
    namespace: _typing.MutableMapping[str, _typing.Any],
    lazy: _typing.Mapping[str, str],
    public: _typing.Sequence[str],
) -> tuple[_typing.Callable[[str], _typing.Any], _typing.Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` (PEP 562; its ``namespace`` is
    ``globals()``): ``lazy`` maps a public name to the module that defines it, imported on
    first use; a submodule not imported yet resolves as an attribute. aimark.scanner and
    aimark.watermark.image use it too (it lives here: ``import aimark`` loads nothing else)."""

    def getattr_(name: str) -> _typing.Any:
        module = lazy.get(name)
        if module is not None:
            value = getattr(_importlib.import_module(module), name)
            namespace[name] = value  # resolved once
            return value
        if not name.startswith("__"):
            try:
                return _importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted({*namespace, *public})

    return getattr_, dir_


__getattr__, __dir__ = _lazy_names(__name__, globals(), _LAZY, __all__)
