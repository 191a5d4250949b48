"""The exceptions aimark raises, all rooted at :class:`AimarkError`.

An *outcome* is not an error: "no manifest", "not labelled" and "invalid signature" are
results in a :class:`~aimark.Report`. Exceptions are for misuse and for inputs that cannot be
worked on at all (you asked to label a file that is not an image)::

    AimarkError
    ├── InputError (ValueError)        the input cannot be used
    │   ├── EmptyInputError            0 bytes
    │   ├── UnsupportedFormatError     not a format aimark handles (sniffed from the bytes)
    │   ├── CorruptInputError          truncated or malformed data
    │   │   ├── XmpError               an XMP packet is malformed or unsafe (metadata.xmp)
    │   │   └── ExifError              existing EXIF cannot be parsed (metadata.exif)
    │   └── ImageTooLargeError         over the byte or pixel limit (decompression bombs)
    ├── CredentialsError               signing credentials or trust anchors unusable
    │   └── CredentialRuleError        the credential doctor found an error (``rule``)
    ├── WatermarkKeyError (ValueError) a watermark key is malformed or unreadable
    ├── SigningError                   the C2PA signer refused or failed
    ├── ManifestError                  a C2PA manifest could not be built or read
    ├── OutputError (OSError)          the destination cannot be written (nothing is lost)
    ├── MissingExtraError (ImportError) an optional extra is not installed
    │   └── MissingToolError           a program aimark runs (ffmpeg) is not installed
    ├── RepositoryError                the manifest repository failed (aimark.repository)
    └── Problem                        an HTTP error answer of the service (server.problems)

One warning, not an exception: :class:`aimark.LabelWarning` (a ``UserWarning``), issued when
a label layer could not be written while the others were.

Errors raised by c2pa-python are translated in one place, ``aimark.manifest._errors``.

Example:
    >>> import aimark
    >>> from aimark.media.source import read_source
    >>> try:
    ...     read_source(b"")
    ... except aimark.InputError as exc:
    ...     print(type(exc).__name__, "-", exc)
    EmptyInputError - the input is empty (0 bytes)
"""

from __future__ import annotations

__all__ = [
    "AimarkError",
    "CorruptInputError",
    "CredentialRuleError",
    "CredentialsError",
    "EmptyInputError",
    "ImageTooLargeError",
    "InputError",
    "ManifestError",
    "MissingExtraError",
    "OutputError",
    "SigningError",
    "UnsupportedFormatError",
    "WatermarkKeyError",
]


class AimarkError(Exception):
    """Root of every exception aimark raises on purpose.

    ``code`` is a short stable identifier (used in JSON output and by the CLI).
    """

    code = "aimark-error"


class InputError(AimarkError, ValueError):
    """The input (bytes, file, image) cannot be used."""

    code = "input-error"


class EmptyInputError(InputError):
    """The input has no bytes."""

    code = "empty-input"


class UnsupportedFormatError(InputError):
    """The bytes are not a format aimark supports (judged by content, not by file name)."""

    code = "unsupported-format"


class CorruptInputError(InputError):
    """The data is truncated or malformed."""

    code = "corrupt-input"


class ImageTooLargeError(InputError):
    """The input exceeds the configured byte or pixel limit (e.g. a decompression bomb)."""

    code = "too-large"


class CredentialsError(AimarkError):
    """Signing credentials or trust anchors could not be loaded or are unusable."""

    code = "credentials-error"


class CredentialRuleError(CredentialsError):
    """The credential doctor (:mod:`aimark.credential_doctor`) found an error in a signing
    certificate chain or key: ``rule`` names it (e.g. ``leaf-is-ca``), ``fix`` says what to
    change."""

    code = "credentials-rejected"

    def __init__(self, message: str, rule: str, fix: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.fix = fix


class WatermarkKeyError(AimarkError, ValueError):
    """A watermark key is malformed, missing or unreadable."""

    code = "key-error"


class SigningError(AimarkError):
    """The C2PA signer refused to sign or failed while signing."""

    code = "signing-error"


class ManifestError(AimarkError):
    """A C2PA manifest could not be built, or could not be read at all."""

    code = "manifest-error"


class OutputError(AimarkError, OSError):
    """The destination cannot be written. The source is never touched."""

    code = "output-error"


class MissingExtraError(AimarkError, ImportError):
    """An optional dependency is missing; the message names the ``pip install`` to run."""

    code = "missing-extra"
