"""Metadata labels: IPTC Digital Source Type in XMP, EXIF fields, generator markers."""

from aimark.metadata.digital_source_type import AI_SOURCE_TYPES, DigitalSourceType

__all__ = ["AI_SOURCE_TYPES", "DigitalSourceType"]
