"""An image input's pixels, decoded at most once, at the least size every reader needs.

The readers say what they need before anything is decoded: the key watermark detector the
luma at its analysis size, a PDQ fingerprint colour at about 512 px, the public watermark
detectors every pixel in colour. One decode then serves them all.

Example:
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (2048, 1536), "gray").save(buf, "JPEG")
    >>> px = Pixels(buf.getvalue(), luma=True, colour=True)
    >>> px.get().shape                       # reduced colour serves both readers
    (768, 1024, 3)
"""

from __future__ import annotations

from typing import Any

from aimark.errors import InputError, MissingExtraError
from aimark.media import image_io
from aimark.media.limits import Limits

__all__ = ["Pixels"]


class Pixels:
    """The pixels of one encoded image for the readers that asked: ``luma`` (a watermark
    detector), ``colour`` (a fingerprint: colour at about 512 px) and ``full`` (every pixel in
    colour: the public watermark detectors). :meth:`get` decodes on first use, once; a
    decoding error is kept and raised again to every reader."""

    def __init__(
        self,
        data: bytes,
        limits: Limits | None = None,
        *,
        luma: bool = False,
        colour: bool = False,
        full: bool = False,
    ) -> None:
        self._data = data
        self._limits = limits or Limits()
        self.luma, self.colour, self.full = luma, colour, full
        self._pixels: Any = None
        self._error: InputError | MissingExtraError | None = None
        self.decodes = 0

    @property
    def needed(self) -> bool:
        return self.luma or self.colour or self.full

    def get(self) -> Any:
        """The array (uint8 (H, W) luma, or (H, W, 3|4) colour; 16-bit images in full).

        Raises:
            InputError, MissingExtraError: the pixels cannot be decoded.
        """
        if self._error is not None:
            raise self._error
        if self._pixels is None:
            self.decodes += 1
            try:
                if self.full:
                    self._pixels = image_io.decode(self._data, self._limits).pixels
                elif self.colour:
                    self._pixels = image_io.decode_reduced(self._data, self._limits)
                else:
                    self._pixels = image_io.decode_luma(self._data, self._limits)
            except (InputError, MissingExtraError) as exc:
                self._error = exc
                raise
        return self._pixels
