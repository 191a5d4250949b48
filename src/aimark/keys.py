"""Watermark keys: 256-bit secrets that embed and detect watermarks. There is no default key.

Example:
    >>> import tempfile, os, aimark
    >>> key = aimark.WatermarkKey.generate()
    >>> path = os.path.join(tempfile.mkdtemp(), "wm.key")
    >>> key.save(path)
    >>> aimark.WatermarkKey.load(path) == key
    True
    >>> len(key.key_id)
    16
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from aimark.errors import InputError, WatermarkKeyError
from aimark.media.source import read_config_file

__all__ = ["WatermarkKey", "content_id_for", "payload_for"]

_HEADER = "aimark-watermark-key-v1"

# hashlib, hmac and secrets are imported where a key is used: loading OpenSSL's hashes is a
# few milliseconds that ``aimark verify`` without keys does not spend


class WatermarkKey:
    """A 256-bit watermark secret. Compare with ``==``; ``repr`` shows only the public id.

    Keys are made with :meth:`generate` and kept with :meth:`save` (file mode 0600) or in an
    environment variable (:meth:`to_text` / :meth:`from_env`).
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, (bytes, bytearray)) or len(secret) != 32:
            raise WatermarkKeyError("a watermark key is exactly 32 bytes (256 bits)")
        self._secret = bytes(secret)

    @classmethod
    def generate(cls) -> WatermarkKey:
        """A fresh key from the operating system's CSPRNG."""
        import secrets

        return cls(secrets.token_bytes(32))

    @property
    def key_id(self) -> str:
        """A short public identifier (16 hex digits); reveals nothing about the secret."""
        import hashlib

        return hashlib.sha256(b"aimark key id\x00" + self._secret).hexdigest()[:16]

    def derive(self, label: str, n: int) -> bytes:
        """``n`` pseudo-random bytes for ``label`` (SHAKE-256 of an HMAC of the secret).

        Stable across platforms and versions: watermark patterns depend on it.
        """
        import hashlib
        import hmac

        seed = hmac.new(self._secret, label.encode(), hashlib.sha256).digest()
        return hashlib.shake_256(seed).digest(n)

    def to_text(self) -> str:
        """``aimark-watermark-key-v1:<base64>`` (for files and environment variables)."""
        return f"{_HEADER}:{base64.b64encode(self._secret).decode()}"

    @classmethod
    def from_text(cls, text: str) -> WatermarkKey:
        """Parse :meth:`to_text` output."""
        head, sep, body = text.strip().partition(":")
        if head != _HEADER or not sep:
            raise WatermarkKeyError(f"not an aimark watermark key (expected '{_HEADER}:...')")
        try:
            return cls(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            raise WatermarkKeyError("the watermark key is not valid base64") from None

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the key to ``path`` with mode 0600 (refuses to overwrite unless asked)."""
        p = Path(path)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        try:
            fd = os.open(p, flags, 0o600)
        except FileExistsError:
            raise WatermarkKeyError(f"{p} exists; refusing to overwrite") from None
        with os.fdopen(fd, "w") as f:
            f.write(self.to_text() + "\n")
        os.chmod(p, 0o600)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> WatermarkKey:
        """Read a key written by :meth:`save`."""
        try:
            text = read_config_file(path, "watermark key").decode()
        except (OSError, UnicodeDecodeError, InputError) as exc:
            raise WatermarkKeyError(f"cannot read watermark key {path}: {exc}") from None
        return cls.from_text(text)

    @classmethod
    def from_env(cls, name: str = "AIMARK_WATERMARK_KEY") -> WatermarkKey:
        """Read a key from environment variable ``name`` (the :meth:`to_text` form)."""
        value = os.environ.get(name)
        if not value:
            raise WatermarkKeyError(f"environment variable {name} is not set")
        return cls.from_text(value)

    def __eq__(self, other: object) -> bool:
        import hmac

        return isinstance(other, WatermarkKey) and hmac.compare_digest(self._secret, other._secret)

    def __hash__(self) -> int:
        return hash(self.key_id)

    def __repr__(self) -> str:
        return f"WatermarkKey(key_id={self.key_id!r})"


def content_id_for(payload: int) -> str:
    """The content id a watermark payload stands for (and can be recovered from pixels).

    Example:
        >>> content_id_for(0x1234)
        'urn:aimark:0000000000001234'
    """
    return f"urn:aimark:{payload:016x}"


def payload_for(content_id: str | None) -> int:
    """A fresh random 64-bit payload, or the one a content id names (``urn:aimark:<16 hex>``)
    or is hashed to (any other id).

    Example:
        >>> payload_for("urn:aimark:0000000000001234") == 0x1234
        True
    """
    if content_id is None:
        import secrets

        return secrets.randbits(64)
    if content_id.startswith("urn:aimark:") and len(content_id) == 27:
        try:
            return int(content_id[11:], 16)
        except ValueError:
            pass
    import hashlib

    return int.from_bytes(hashlib.sha256(content_id.encode()).digest()[:8], "big")
