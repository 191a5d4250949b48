"""The one place where c2pa-python's exceptions become aimark's.

Example:
    >>> import c2pa
    >>> from aimark.manifest._errors import translate
    >>> type(translate(c2pa.C2paError.NotSupported("type is unsupported"))).__name__
    'UnsupportedFormatError'
"""

from __future__ import annotations

import c2pa

from aimark.errors import (
    AimarkError,
    CorruptInputError,
    CredentialsError,
    InputError,
    ManifestError,
    SigningError,
    UnsupportedFormatError,
)

__all__ = ["C2PA_ERRORS", "all_c2pa_error_types", "translate"]

_E = c2pa.C2paError

#: c2pa-python exception type -> aimark exception type. Tested to cover every subclass.
C2PA_ERRORS: dict[type[BaseException], type[AimarkError]] = {
    _E: ManifestError,  # the base class is also raised directly (e.g. "Remote: ...")
    _E.Assertion: ManifestError,
    _E.AssertionNotFound: ManifestError,
    _E.Decoding: CorruptInputError,
    _E.Encoding: ManifestError,
    _E.FileNotFound: InputError,
    _E.Io: CorruptInputError,
    _E.Json: ManifestError,
    _E.Manifest: ManifestError,
    _E.ManifestNotFound: ManifestError,
    _E.NotSupported: UnsupportedFormatError,
    _E.Other: ManifestError,
    _E.RemoteManifest: ManifestError,
    _E.ResourceNotFound: ManifestError,
    _E.Signature: SigningError,
    _E.UntrackedPointer: ManifestError,
    _E.Verify: ManifestError,
    _E.WrongPointerType: ManifestError,
}

_CERT_WORDS = ("certificate", "private key", "signing key", "pkcs8")


def all_c2pa_error_types() -> set[type[BaseException]]:
    """Every exception class c2pa-python defines: the base and all its subclasses."""
    seen: set[type[BaseException]] = set()
    todo: list[type[BaseException]] = [_E]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.add(cls)
            todo.extend(cls.__subclasses__())
    return seen


def message_of(exc: BaseException) -> str:
    """The c2pa message without its ``Type:`` prefix."""
    text = str(getattr(exc, "message", "") or exc)
    head, sep, rest = text.partition(": ")
    return rest if sep and head.replace(" ", "").isalnum() and len(head) < 24 else text


def translate(exc: BaseException, *, signing: bool = False) -> AimarkError:
    """Return the aimark exception for a c2pa exception (the caller raises it ``from exc``).

    While signing, errors about the certificate or key become :class:`CredentialsError`.
    """
    target: type[AimarkError] = ManifestError
    for cls in type(exc).__mro__:
        if cls in C2PA_ERRORS:
            target = C2PA_ERRORS[cls]
            break
    text = message_of(exc)
    if signing and any(w in text.lower() for w in _CERT_WORDS):
        target = CredentialsError
    if signing and target is ManifestError:
        target = SigningError
    return target(f"c2pa: {text}")
