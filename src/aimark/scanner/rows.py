"""One flat row per report: the CSV columns, also used by the HTML report and the summary.

A row is derived from a report's JSON form (``Report.to_dict()``), so it can be rebuilt from a
JSON Lines file written by an earlier run. Every cell is :func:`readable` text: whatever a file
name or a manifest holds, a row can be written as UTF-8 and read as one line.

Example:
    >>> import aimark
    >>> from aimark.scanner.rows import row_for
    >>> row = row_for(aimark.verify(b"GIF89a").to_dict())
    >>> row["verdict"], row["error"]
    ('error', 'GIF data that cannot be parsed')
"""

from __future__ import annotations

from typing import Any

from aimark._display import readable

__all__ = ["COLUMNS", "compliance_of", "generator_of", "layers_of", "readable", "row_for"]

#: CSV columns, in order.
COLUMNS = (
    "path",
    "type",
    "verdict",
    "ai_generated",
    "backing",
    "layers",
    "generator",
    "signer",
    "trust",
    "watermark_payload",
    "content_id",
    "size",
    "compliance",
    "error",
    "summary",
    "watermark_time",
)


def layers_of(report: dict[str, Any]) -> list[str]:
    """The labelling layers found in a report, e.g. ``["c2pa", "xmp-dst", "watermark"]``."""
    layers = []
    c2pa = report.get("c2pa") or {}
    meta = report.get("metadata") or {}
    wm = report.get("watermark") or {}
    if c2pa.get("present"):
        layers.append("c2pa")
    if meta.get("digital_source_types"):
        layers.append("xmp-dst")
    if meta.get("ai_system"):
        layers.append("xmp-ai-system")
    if meta.get("tc260_aigc"):
        layers.append("tc260")
    if meta.get("disclosure"):
        layers.append("disclosure")
    for m in meta.get("markers") or ():
        if f"marker:{m['generator']}" not in layers:
            layers.append(f"marker:{m['generator']}")
    if wm.get("detected"):
        layers.append("watermark")
    layers.extend(
        f"public-watermark:{p['name']}" for p in wm.get("public") or () if p.get("detected")
    )
    return layers


def generator_of(report: dict[str, Any]) -> str:
    """The best name for what generated the content, or ``""`` if nothing names it."""
    c2pa = report.get("c2pa") or {}
    meta = report.get("metadata") or {}
    if c2pa.get("state") in ("trusted", "valid-untrusted") and c2pa.get("software_agents"):
        return str(c2pa["software_agents"][0])
    markers = meta.get("markers") or ()
    if markers:
        return str(markers[0]["generator"])
    if meta.get("ai_system"):
        return str(meta["ai_system"])
    if c2pa.get("software_agents"):
        return str(c2pa["software_agents"][0])
    return ""


def compliance_of(report: dict[str, Any]) -> str:
    """Each regime's status, e.g. ``eu-ai-act-50-2=met;gb-45438-implicit=missing;...``
    (``""`` for a report from before aimark 0.2, which had none)."""
    regimes = (report.get("compliance") or {}).get("regimes") or ()
    return ";".join(f"{r.get('regime')}={r.get('status')}" for r in regimes if isinstance(r, dict))


def row_for(report: dict[str, Any]) -> dict[str, str]:
    """Flatten one report (its ``to_dict()`` form) into the CSV row (every cell
    :func:`readable`)."""
    verdict = report.get("verdict") or {}
    media = report.get("media") or {}
    c2pa = report.get("c2pa") or {}
    wm = report.get("watermark") or {}
    signer = c2pa.get("signer") or {}
    err = report.get("error") or {}
    fmt = media.get("format") or ""
    row = {
        "path": str(report.get("source", "")),
        "type": "text" if fmt == "text" else (str(media.get("kind") or "image") if fmt else ""),
        "verdict": str(verdict.get("status", "")),
        "ai_generated": "yes" if verdict.get("ai_generated") else "no",
        "backing": str(verdict.get("backing", "")),
        "layers": ";".join(layers_of(report)),
        "generator": generator_of(report),
        "signer": str(signer.get("common_name") or signer.get("issuer") or ""),
        "trust": str(c2pa.get("state", "")),
        "watermark_payload": str(wm.get("payload") or ""),
        "content_id": str(wm.get("content_id") or c2pa.get("content_id") or ""),
        "size": str(media.get("bytes", "")),
        "compliance": compliance_of(report),
        # an error, or else what is wrong with the file (e.g. truncated) though it was read
        "error": str(err.get("message") or "; ".join(media.get("problems") or ())),
        "summary": str(verdict.get("summary", "")),
        # audio and video: where in the clip the watermark was found, "start-end" seconds
        "watermark_time": "-".join(f"{t:.1f}" for t in wm.get("time_range") or ()),
    }
    return {name: readable(value) for name, value in row.items()}
