"""Which labelling requirements of the EU AI Act, China's GB 45438-2025 and California's
SB 942 a file's labels meet, from what :func:`aimark.verify` found in it.

This is technical evidence about the file, not legal advice: whether a law applies to a
provider, and whether its labels are enough, is for the provider and its counsel. See
docs/compliance.md for the clauses each requirement comes from.

Each regime is ``met`` (every requirement is), ``unconfirmed`` (none is missing, but some
could not be checked: e.g. the watermark, without the provider's key), ``partial`` (some
are), ``missing`` (none are), or ``not-determined`` (aimark cannot tell from the file alone,
e.g. a visible label drawn into pixels that no manifest records). A requirement is met
(True), not met (False) or not determined (None), with the evidence.

Example:
    >>> import aimark
    >>> report = aimark.verify(b"\\x89PNG\\r\\n\\x1a\\n")
    >>> [r.regime for r in report.compliance.regimes]
    ['eu-ai-act-50-2', 'gb-45438-implicit', 'gb-45438-explicit', 'ca-sb-942-latent']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aimark.metadata.digital_source_type import DigitalSourceType
from aimark.metadata.tc260 import LABEL_VALUES

if TYPE_CHECKING:
    from aimark.report import Report

__all__ = ["REGIMES", "STATUSES", "Compliance", "Regime", "Requirement", "assess"]

#: The regimes assessed, in report order.
REGIMES = ("eu-ai-act-50-2", "gb-45438-implicit", "gb-45438-explicit", "ca-sb-942-latent")
#: A regime's possible statuses.
STATUSES = ("met", "unconfirmed", "partial", "missing", "not-determined")


@dataclass(frozen=True)
class Requirement:
    """One requirement of a regime and whether the file meets it."""

    id: str
    text: str
    met: bool | None
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "met": self.met, "evidence": self.evidence}


@dataclass(frozen=True)
class Regime:
    """One regime's requirements for this file."""

    regime: str
    name: str
    clause: str
    requirements: tuple[Requirement, ...]

    @property
    def status(self) -> str:
        """``met``, ``unconfirmed`` (nothing is missing, but some requirements could not be
        checked), ``partial``, ``missing`` or ``not-determined``."""
        known = [r.met for r in self.requirements if r.met is not None]
        if not known:
            return "not-determined"
        if all(known):
            return "met" if len(known) == len(self.requirements) else "unconfirmed"
        return "partial" if any(known) else "missing"

    @property
    def missing(self) -> tuple[str, ...]:
        """The ids of the requirements not met."""
        return tuple(r.id for r in self.requirements if r.met is False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "regime": self.regime,
            "name": self.name,
            "clause": self.clause,
            "status": self.status,
            "missing": list(self.missing),
            "requirements": [r.to_dict() for r in self.requirements],
        }


@dataclass(frozen=True)
class Compliance:
    """The regimes, in a fixed order; see :func:`assess`."""

    regimes: tuple[Regime, ...] = ()

    def get(self, regime: str) -> Regime | None:
        """The regime with this id, e.g. ``"eu-ai-act-50-2"``."""
        return next((r for r in self.regimes if r.regime == regime), None)

    def line(self) -> str:
        """One line for people, e.g. ``EU AI Act 50(2): met · GB 45438 implicit: missing ...``."""
        return " · ".join(f"{_SHORT[r.regime]}: {r.status}" for r in self.regimes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "note": "technical evidence about this file, not legal advice",
            "regimes": [r.to_dict() for r in self.regimes],
        }


_SHORT = {
    "eu-ai-act-50-2": "EU AI Act 50(2)",
    "gb-45438-implicit": "GB 45438 implicit",
    "gb-45438-explicit": "GB 45438 explicit",
    "ca-sb-942-latent": "SB 942 latent",
}


def _signed_ai(report: Report) -> bool:
    c = report.c2pa
    return c.state.value in ("trusted", "valid-untrusted") and c.ai_declared


def _metadata_ai(report: Report) -> bool:
    return any(
        (t := DigitalSourceType.from_uri(u)) is not None and t.is_ai
        for u in report.metadata.digital_source_types
    )


def _watermark(report: Report) -> tuple[bool | None, str]:
    w = report.watermark
    if w.detected:
        return True, f"invisible watermark {w.scheme or ''} found (key {w.key_id})".replace(
            "  ", " "
        )
    if report.verdict.status.value == "labelled-recovered" and report.recovery is not None:
        return True, f"credentials recovered by {report.recovery.method}"
    if w.public_detected:
        return True, "public watermark found: " + ", ".join(w.public_detected)
    if report.media.kind == "text":
        if report.c2pa.text_watermark:
            return None, (
                "the manifest records a statistical text watermark: check the text with the "
                "key (aimark detect-text)"
            )
        return None, "not checked: text watermarks are found with aimark detect-text"
    if report.media.kind not in (None, "image", "audio", "video"):
        return None, f"aimark has no watermark for {report.media.kind}"
    if not w.checked and w.keys:
        return None, f"could not be checked: {w.status}"
    if not w.checked:
        return None, "not checked: give the provider's watermark key (--watermark-key)"
    return False, "no watermark of the keys given"


def _eu(report: Report) -> Regime:
    signed = _signed_ai(report)
    metadata = signed or _metadata_ai(report) or report.metadata.ai_declared
    if signed:
        meta_ev = f"signed C2PA manifest declaring {', '.join(report.c2pa.digital_source_types)}"
    elif metadata:
        meta_ev = "unsigned AI metadata only (XMP/EXIF/markers): easily removed or forged"
    else:
        meta_ev = "no machine-readable AI declaration in the file's metadata"
    wm, wm_ev = _watermark(report)
    return Regime(
        "eu-ai-act-50-2",
        "EU AI Act, machine-readable marking",
        "Art. 50(2); Code of Practice on marking and labelling of AI-generated content",
        (
            Requirement(
                "metadata", "AI origin declared in machine-readable metadata", metadata, meta_ev
            ),
            Requirement(
                "signed",
                "the declaration is cryptographically signed (robust, interoperable: C2PA)",
                signed,
                f"C2PA manifest: {report.c2pa.state.value}",
            ),
            Requirement("watermark", "an imperceptible watermark marks the content", wm, wm_ev),
        ),
    )


def _gb_implicit(report: Report) -> Regime:
    aigc = report.metadata.tc260_aigc or {}
    where = ", ".join(report.metadata.tc260_carriers) or "nowhere"
    present = bool(report.metadata.tc260_aigc)
    label = str(aigc.get("Label", "")).strip()

    def field(name: str, text: str) -> Requirement:
        value = str(aigc.get(name, "") or "").strip()
        return Requirement(
            name, text, bool(value) if present else False, value[:120] or f"no {name}"
        )

    reqs = [
        Requirement(
            "metadata",
            "an AIGC implicit label in the file's metadata",
            present,
            f"AIGC object in {where}" if present else "no AIGC object in the file's metadata",
        ),
        Requirement(
            "Label",
            "the content's AI-generation attribute (Label 1, 2 or 3)",
            label in LABEL_VALUES if present else False,
            f'Label "{label}"' + (f" ({LABEL_VALUES[label]})" if label in LABEL_VALUES else "")
            if label
            else "no Label",
        ),
        field("ContentProducer", "the generating service's name or code"),
        field("ProduceID", "the content's number"),
    ]
    return Regime(
        "gb-45438-implicit",
        "GB 45438-2025, implicit label (file metadata)",
        "GB 45438-2025, implicit labels in file metadata (its Annex E names the AIGC fields); "
        "Measures for Labelling AI-Generated Content, Art. 5",
        tuple(reqs),
    )


def _gb_explicit(report: Report) -> Regime:
    recorded = [
        a.description
        for a in report.c2pa.actions
        if a.description and "visible label" in a.description.lower()
    ]
    if report.media.kind == "text" or report.media.format == "text":
        met, evidence = _text_disclosure(report)
    elif recorded and report.c2pa.state.value in ("trusted", "valid-untrusted"):
        met, evidence = True, f"the signed manifest records it: {recorded[0]}"
    elif _recovered_badge(report):
        met, evidence = (
            None,
            (
                "the manifest recovered from the repository records a visible label drawn on the "
                "original; this copy may have lost it (a crop)"
            ),
        )
    elif report.c2pa.state.value == "invalid" and recorded:
        met, evidence = None, "a manifest records one, but it is invalid for this file"
    else:
        met, evidence = (
            None,
            (
                "aimark cannot see a visible label in the content itself, and no signed manifest "
                "records one"
            ),
        )
    return Regime(
        "gb-45438-explicit",
        "GB 45438-2025, explicit (visible) label",
        "GB 45438-2025, explicit labels; Measures for Labelling AI-Generated Content, Art. 4",
        (
            Requirement(
                "visible", "a label people can perceive, on or around the content", met, evidence
            ),
        ),
    )


def _recovered_badge(report: Report) -> bool:
    rec = report.recovery
    if rec is None or rec.status != "recovered" or rec.c2pa is None:
        return False
    return any(a.description and "visible label" in a.description.lower() for a in rec.c2pa.actions)


def _text_disclosure(report: Report) -> tuple[bool | None, str]:
    found = report.metadata.disclosure
    if found:
        return True, f"the text {found}"
    return False, "no disclosure at the start or the end of the text"


def _sb942(report: Report) -> Regime:
    c = report.c2pa
    valid = c.state.value in ("trusted", "valid-untrusted")
    provider = c.signer.issuer if valid and c.signer and c.signer.issuer else None
    agents = [
        a for a in c.actions if a.software_agent and a.action in ("c2pa.created", "c2pa.edited")
    ]
    system = agents[0].software_agent if valid and agents else None
    when = next((a.when for a in c.actions if a.when), None) if valid else None
    when = when or (c.signer.time if valid and c.signer else None)
    uid = (c.content_id or c.manifest) if valid else None
    aigc = report.metadata.tc260_aigc or {}
    if not provider and aigc.get("ContentProducer"):
        provider = f"{aigc['ContentProducer']} (unsigned AIGC metadata)"
    if not uid and report.watermark.content_id:
        uid = f"{report.watermark.content_id} (from the watermark)"
    version = bool(system and any(ch.isdigit() for ch in system.split()[-1]))
    wm, wm_ev = _watermark(report)
    ai = (
        "the signed C2PA manifest"
        if _signed_ai(report)
        else "unsigned metadata"
        if report.metadata.ai_declared
        else wm_ev
        if wm
        else None
    )
    return Regime(
        "ca-sb-942-latent",
        "California AI Transparency Act (SB 942), latent disclosure",
        "Cal. Bus. & Prof. Code § 22757.3(b) (SB 942, as amended by AB 853)",
        (
            Requirement(
                "ai",
                "it identifies the content as AI-generated or altered",
                ai is not None,
                ai or "nothing in the file says the content is AI-generated",
            ),
            Requirement(
                "provider",
                "the covered provider's name",
                bool(provider),
                provider or "no signer organisation in a valid manifest",
            ),
            Requirement(
                "system",
                "the generative AI system's name and version",
                bool(system) and version,
                system or "no software agent in a valid manifest",
            ),
            Requirement(
                "time",
                "the time and date of creation or alteration",
                bool(when),
                when or "no time in a valid manifest",
            ),
            Requirement("id", "a unique identifier", bool(uid), uid or "no content id"),
            Requirement(
                "detectable",
                "detectable by the provider's AI detection tool, hard to remove (a watermark)",
                wm,
                wm_ev,
            ),
        ),
    )


def assess(report: Report) -> Compliance:
    """The four regimes for ``report`` (also ``report.compliance``)."""
    if report.verdict.status.value == "error":
        undetermined = "the file could not be read"
        return Compliance(
            tuple(
                Regime(
                    rid, name, clause, (Requirement("file", "a readable file", None, undetermined),)
                )
                for rid, name, clause in (
                    ("eu-ai-act-50-2", "EU AI Act, machine-readable marking", "Art. 50(2)"),
                    ("gb-45438-implicit", "GB 45438-2025, implicit label", "implicit labels"),
                    ("gb-45438-explicit", "GB 45438-2025, explicit label", "explicit labels"),
                    ("ca-sb-942-latent", "SB 942, latent disclosure", "§ 22757.3(b)"),
                )
            )
        )
    return Compliance((_eu(report), _gb_implicit(report), _gb_explicit(report), _sb942(report)))
