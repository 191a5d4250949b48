"""Recognise metadata that known generators leave behind (unsigned, easily forged or lost).

Example:
    >>> from aimark.metadata.markers import find_markers
    >>> [m.generator for m in find_markers({"parameters": "a cat\\nSteps: 20, Sampler: Euler"}, {})]
    ['AUTOMATIC1111/Forge']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Marker", "find_markers"]


@dataclass(frozen=True)
class Marker:
    """A generator's trace: which ``generator``, found ``where``, with a short ``detail``."""

    generator: str
    where: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"generator": self.generator, "where": self.where, "detail": self.detail}


_A1111 = re.compile(r"(?:^|\n)\s*Steps:\s*\d+.*Sampler:", re.S)


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return None


def _short(text: str, n: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _looks_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the stack allows
        return False
    return True


def find_markers(info: dict[str, Any], exif: dict[str, str]) -> list[Marker]:
    """Find generator markers in a Pillow ``info`` dict (PNG text chunks etc.) and EXIF fields."""
    found: list[Marker] = []
    texts = {k: t for k, v in info.items() if isinstance(k, str) and (t := _as_text(v)) is not None}

    params = texts.get("parameters")
    if params and _A1111.search(params):
        found.append(Marker("AUTOMATIC1111/Forge", "PNG text 'parameters'", _short(params)))
    comment = exif.get("UserComment")
    if comment and _A1111.search(comment):
        found.append(Marker("AUTOMATIC1111/Forge", "EXIF UserComment", _short(comment)))

    for key in ("prompt", "workflow"):
        value = texts.get(key)
        if value and _looks_json(value):
            found.append(Marker("ComfyUI", f"PNG text {key!r}", f"{len(value):,} bytes of JSON"))

    for key in ("invokeai_metadata", "invokeai_graph", "sd-metadata", "Dream"):
        if key in texts:
            found.append(Marker("InvokeAI", f"PNG text {key!r}", _short(texts[key])))

    software = texts.get("Software") or exif.get("Software") or ""
    if software.strip().lower().startswith("novelai"):
        detail = _short(texts.get("Comment") or texts.get("Description") or software)
        found.append(Marker("NovelAI", "Software", detail))
    return found
