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

from aimark._api import label_image, label_media, label_text, scan, verify
from aimark._labeler import Labeler, LabelResult, LabelWarning
from aimark._verifier import Verifier
from aimark._version import __version__
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
    "label_image",
    "label_media",
    "label_text",
    "scan",
    "verify",
]
