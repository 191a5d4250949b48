"""The IPTC Digital Source Type vocabulary (the values C2PA and XMP use).

Example:
    >>> from aimark import DigitalSourceType
    >>> DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA.uri
    'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia'
    >>> DigitalSourceType.parse("compositeWithTrainedAlgorithmicMedia").is_ai
    True
"""

from __future__ import annotations

import enum

__all__ = ["AI_SOURCE_TYPES", "DigitalSourceType"]

_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"


class DigitalSourceType(str, enum.Enum):
    """IPTC NewsCodes digital source types (value = the code, ``uri`` = the full URI)."""

    TRAINED_ALGORITHMIC_MEDIA = "trainedAlgorithmicMedia"
    COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = "compositeWithTrainedAlgorithmicMedia"
    COMPOSITE_SYNTHETIC = "compositeSynthetic"
    ALGORITHMIC_MEDIA = "algorithmicMedia"
    ALGORITHMICALLY_ENHANCED = "algorithmicallyEnhanced"
    DATA_DRIVEN_MEDIA = "dataDrivenMedia"
    DIGITAL_CAPTURE = "digitalCapture"
    COMPUTATIONAL_CAPTURE = "computationalCapture"
    NEGATIVE_FILM = "negativeFilm"
    POSITIVE_FILM = "positiveFilm"
    PRINT = "print"
    HUMAN_EDITS = "humanEdits"
    DIGITAL_CREATION = "digitalCreation"
    SCREEN_CAPTURE = "screenCapture"
    VIRTUAL_RECORDING = "virtualRecording"
    COMPOSITE = "composite"
    COMPOSITE_CAPTURE = "compositeCapture"

    @property
    def uri(self) -> str:
        """The full IPTC URI, as written in XMP and C2PA."""
        return _BASE + self.value

    @property
    def is_ai(self) -> bool:
        """True for types that declare content made (wholly or partly) by a trained model."""
        return self in AI_SOURCE_TYPES

    @classmethod
    def parse(cls, value: str | DigitalSourceType) -> DigitalSourceType:
        """Accept a code (``trainedAlgorithmicMedia``), a full URI or a member."""
        if isinstance(value, cls):
            return value
        member = cls.from_uri(value)
        if member is None:
            known = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown IPTC digital source type {value!r} (known: {known})")
        return member

    @classmethod
    def from_uri(cls, uri: str) -> DigitalSourceType | None:
        """Return the member for ``uri`` (or a code) or None if it is not an IPTC value."""
        if isinstance(uri, cls):
            return uri
        code = str(uri).strip()
        code = code.removeprefix(_BASE).removeprefix(
            "https://cv.iptc.org/newscodes/digitalsourcetype/"
        )
        # a dict, and no exception for unknown values: an XMP packet can list 100,000 of them
        return _BY_CODE.get(code.lower())


#: lower-cased code and member name -> member
_BY_CODE = {k.lower(): m for m in DigitalSourceType for k in (m.value, m.name)}

AI_SOURCE_TYPES = frozenset(
    {
        DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
        DigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    }
)
