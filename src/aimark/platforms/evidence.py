"""What an upload's verification report says about its origin, as a platform republishes it:
the GB 45438 ``Label`` its copy carries, and the evidence behind it.

GB 45438-2025 (6.3) asks a distribution platform to check the file's implicit label (the
``AIGC`` metadata) and, where there is one, to keep it and add its own propagator fields;
where there is none but the uploader declares the content AI-generated, to label it
**possibly** AI-generated (``Label`` ``"2"``); and where there is neither but the platform
detects traces of generation, **suspected** (``"3"``). aimark maps what it verifies onto
that:

- ``"1"`` (or the upload's own ``Label``): the upload's implicit label is present (its
  ``AIGC`` metadata), or its signed C2PA manifest declares an AI digital source type and
  validates (a signed label is at least as strong as the metadata one);
- ``"2"``: neither, but the uploader declares it (``declared_ai=True``);
- ``"3"``: neither, but the platform finds other evidence: the invisible watermark of a key
  it holds, credentials recovered from a manifest repository, unsigned AI metadata (IPTC
  digital source type, a generator's parameters), or a public watermark;
- None: nothing says AI (no GB 45438 label is written).

Example:
    >>> from aimark.report import Report, Verdict, Status, Backing
    >>> r = Report("x", Verdict(Status.NOT_LABELLED, False, Backing.NONE, "none"))
    >>> judge(r, declared_ai=True).label
    '2'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aimark.report import C2paState, Report

__all__ = ["Judgement", "judge"]

_VALID = (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED)


@dataclass(frozen=True)
class Judgement:
    """The GB 45438 ``Label`` for the platform's copy (None: not AI), the upload's own
    ``AIGC`` fields (kept), whether a signed manifest declares AI, the digital source type
    to keep in XMP, and the evidence (for the platform's manifest when there is no signed
    declaration)."""

    label: str | None
    signed: bool
    source_type: str | None
    upload_aigc: dict[str, Any] | None
    evidence: tuple[dict[str, Any], ...]
    producer: str | None = None  # ContentProducer: the upload's, or the signed generator's

    @property
    def meaning(self) -> str:
        from aimark.metadata.tc260 import LABEL_VALUES

        return LABEL_VALUES.get(self.label or "", "not AI-generated as far as the upload shows")


def _evidence(report: Report, declared_ai: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    wm = report.watermark
    if wm.detected:
        out.append(
            {
                "kind": "watermark",
                "scheme": wm.scheme,
                "key_id": wm.key_id,
                "payload": wm.payload,
                "content_id": wm.content_id,
            }
        )
    rec = report.recovery
    if rec is not None and rec.status == "recovered" and rec.c2pa.ai_declared:
        out.append(
            {
                "kind": "recovered-credentials",
                "method": rec.method,
                "manifest": rec.manifest_id,
                "state": rec.c2pa.state.value,
                "signer": rec.c2pa.signer.common_name if rec.c2pa.signer else None,
            }
        )
    meta = report.metadata
    if meta.ai_declared:
        what = [*meta.digital_source_types]
        what += [f"{m.generator} in {m.where}" for m in meta.markers]
        if meta.ai_system:
            what.append(f"AI system {meta.ai_system}")
        if meta.tc260_aigc:
            what.append("GB 45438 AIGC label")
        out.append({"kind": "unsigned-metadata", "what": what})
    if wm.public_detected:
        out.append({"kind": "public-watermark", "names": list(wm.public_detected)})
    if declared_ai:
        out.append({"kind": "uploader-declaration"})
    return out


def judge(report: Report, *, declared_ai: bool = False) -> Judgement:
    """The GB 45438 label and evidence for an upload, from its verification ``report``
    (see the module docstring for the rules)."""
    c = report.c2pa
    signed = c.state in _VALID and c.ai_declared
    aigc = report.metadata.tc260_aigc or None
    source_type = None
    if signed:
        parent = c.declared_by
        types = parent.digital_source_types if parent is not None else c.digital_source_types
        source_type = types[0] if types else None
    elif report.metadata.digital_source_types:
        source_type = report.metadata.digital_source_types[0]
    evidence = tuple(_evidence(report, declared_ai)) if not signed else ()
    label: str | None
    if aigc and str(aigc.get("Label", "")).strip() in ("1", "2", "3"):
        label = str(aigc["Label"]).strip()
    elif signed:
        label = "1"
    elif declared_ai:
        label = "2"
    elif any(e["kind"] != "uploader-declaration" for e in evidence):
        label = "3"
    else:
        label = None
    producer = None
    if aigc and aigc.get("ContentProducer"):
        producer = str(aigc["ContentProducer"])
    elif signed:
        agents = c.declared_by.software_agents if c.declared_by else c.software_agents
        producer = agents[0] if agents else c.claim_generator
    return Judgement(label, signed, source_type, aigc, evidence, producer)
