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
        code = str(value).strip()
        code = code.removeprefix(_BASE).removeprefix(
            "https://cv.iptc.org/newscodes/digitalsourcetype/"
        )
        for member in cls:
            if member.value.lower() == code.lower() or member.name.lower() == code.lower():
                return member
        known = ", ".join(m.value for m in cls)
        raise ValueError(f"unknown IPTC digital source type {value!r} (known: {known})")

    @classmethod
    def from_uri(cls, uri: str) -> DigitalSourceType | None:
        """Return the member for ``uri`` or None if it is not an IPTC value."""
        try:
            return cls.parse(uri)
        except ValueError:
            return None


AI_SOURCE_TYPES = frozenset(
    {
        DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
        DigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    }
)
