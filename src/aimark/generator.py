"""Who made the content: the model (or system) named in labels.

Example:
    >>> from aimark import Generator
    >>> Generator.coerce("Stable Diffusion XL 1.0")
    Generator(name='Stable Diffusion XL', version='1.0')
    >>> Generator.coerce(("my-model", "2")).label
    'my-model 2'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

__all__ = ["Generator", "GeneratorLike"]

_TRAILING_VERSION = re.compile(r"^(?P<name>.+?)\s+v?(?P<version>\d[\w.\-+]*)$")


@dataclass(frozen=True)
class Generator:
    """The generative model or system that produced the content."""

    name: str
    version: str | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise ValueError("the generator needs a name (e.g. the model's name)")

    @property
    def label(self) -> str:
        """``name version`` (or just the name)."""
        return f"{self.name} {self.version}" if self.version else self.name

    @classmethod
    def coerce(cls, value: GeneratorLike) -> Generator:
        """Accept a Generator, ``(name, version)``, ``{"name":..., "version":...}`` or a string
        whose trailing number is taken as the version."""
        if isinstance(value, Generator):
            return value
        if isinstance(value, tuple):
            name, version = (*value, None)[:2]
            return cls(str(name), None if version is None else str(version))
        if isinstance(value, dict):
            version = value.get("version")
            return cls(str(value.get("name", "")), None if version is None else str(version))
        if isinstance(value, str):
            m = _TRAILING_VERSION.match(value.strip())
            if m:
                return cls(m["name"], m["version"])
            return cls(value.strip())
        raise TypeError(
            f"generator must be a str, (name, version) or Generator, not {type(value).__name__}"
        )


GeneratorLike = Union[Generator, str, tuple, dict]
