"""The verification report: one per file, frozen, with a stable JSON form.

``Report.to_dict()`` follows schema version :data:`SCHEMA_VERSION`; fields are only ever added
within a version. ``docs/python-api.md`` documents every field.

Example:
    >>> import aimark
    >>> report = aimark.verify(b"\\x00\\x01 neither an image nor text")
    >>> report.verdict.status
    <Status.ERROR: 'error'>
    >>> report.to_dict()["schema_version"]
    1
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aimark._display import json_text
from aimark._version import __version__
from aimark.compliance import Compliance, assess
from aimark.metadata.digital_source_type import DigitalSourceType
from aimark.metadata.markers import Marker

if TYPE_CHECKING:  # an annotation only: the public watermark's detector loads numpy
    from aimark.watermark.public import PublicDetection

__all__ = [
    "INCONCLUSIVE_REASONS",
    "SCHEMA_VERSION",
    "Action",
    "Backing",
    "C2paResult",
    "C2paState",
    "Failure",
    "FileInfo",
    "MediaInfo",
    "MetadataResult",
    "Recovery",
    "Report",
    "Signer",
    "Status",
    "Verdict",
    "WatermarkResult",
]

SCHEMA_VERSION = 1


class C2paState(str, enum.Enum):
    """What the C2PA layer found.

    ``TRUSTED``: valid, and the signer chains to one of *your* trust anchors.
    ``VALID_UNTRUSTED``: the signature and bindings are valid but the signer is not anchored
    in your trust list (or you gave none). ``INVALID``: the manifest fails validation
    (tampered, broken signature, expired signer, or unreadable). ``REMOTE``: the manifest is
    stored at a URL and was not fetched. ``ABSENT``: no manifest.
    """

    TRUSTED = "trusted"
    VALID_UNTRUSTED = "valid-untrusted"
    INVALID = "invalid"
    REMOTE = "remote"
    ABSENT = "absent"


class Backing(str, enum.Enum):
    """How strongly an AI-generated declaration is backed, strongest first. ``WATERMARK``: an
    invisible watermark of one of *your* keys was found (the label survived stripping).
    ``RECOVERED_CREDENTIALS``: the file carries no manifest, but its perceptual fingerprint
    matches one that a manifest repository holds, and that manifest validates."""

    TRUSTED_SIGNATURE = "trusted-signature"
    WATERMARK = "watermark"
    RECOVERED_CREDENTIALS = "recovered-credentials"
    UNTRUSTED_SIGNATURE = "untrusted-signature"
    UNSIGNED_METADATA = "unsigned-metadata"
    PUBLIC_WATERMARK = "public-watermark"
    NONE = "none"


class Status(str, enum.Enum):
    """The one-word outcome of verifying a file."""

    LABELLED_TRUSTED = "labelled-trusted"
    LABELLED_WATERMARK = "labelled-watermark"
    LABELLED_RECOVERED = "labelled-recovered"
    LABELLED_UNTRUSTED = "labelled-untrusted"
    LABELLED_UNSIGNED = "labelled-unsigned"
    NOT_LABELLED = "not-labelled"
    INVALID = "invalid"
    ERROR = "error"


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Failure:
    """A C2PA validation status code with its explanation."""

    code: str
    explanation: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "explanation": self.explanation}


@dataclass(frozen=True)
class Signer:
    """Who signed the active manifest, as the certificate says."""

    common_name: str | None = None
    issuer: str | None = None
    alg: str | None = None
    serial: str | None = None
    time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("common_name", "issuer", "alg", "serial", "time")}


@dataclass(frozen=True)
class Action:
    """One C2PA action (``c2pa.created`` ...)."""

    action: str
    digital_source_type: str | None = None
    software_agent: str | None = None
    when: str | None = None
    description: str | None = None  # the action's description (or parameters.description)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "digital_source_type": self.digital_source_type,
            "software_agent": self.software_agent,
            "when": self.when,
            "description": self.description,
        }


@dataclass(frozen=True)
class Ingredient:
    """An ingredient of the active manifest that carries its own manifest (e.g. the
    generator's manifest inside a platform's, after :func:`aimark.ingest`).

    ``state`` is ``"trusted"`` (its signer chains to your anchors), ``"valid"``, or
    ``"invalid"`` (``failures`` says why), as c2pa validates it now, inside this file.
    ``digital_source_types`` and ``software_agents`` are those its own actions declare.
    """

    title: str | None
    relationship: str | None
    manifest: str | None
    state: str
    signer: str | None = None
    issuer: str | None = None
    digital_source_types: tuple[str, ...] = ()
    software_agents: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()
    depth: int = 1  # 1: an ingredient of the active manifest; 2: of that ingredient, ...

    @property
    def ai_declared(self) -> bool:
        """True if its actions declare an AI digital source type."""
        return any(
            (t := DigitalSourceType.from_uri(u)) is not None and t.is_ai
            for u in self.digital_source_types
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "relationship": self.relationship,
            "manifest": self.manifest,
            "state": self.state,
            "signer": self.signer,
            "issuer": self.issuer,
            "digital_source_types": list(self.digital_source_types),
            "software_agents": list(self.software_agents),
            "failures": list(self.failures),
            "depth": self.depth,
            "ai_declared": self.ai_declared,
        }


@dataclass(frozen=True)
class C2paResult:
    """The C2PA layer: the active manifest and its validation.

    For plain text: ``text_wrapper`` says what was found where the manifest lives (``"found"``,
    ``"duplicated"``, ``"truncated"``, ``"malformed"``; None when there is no wrapper, and for
    images) and ``text_watermark`` holds the statistical text watermark parameters the manifest
    records (key id, mode, ...), if any.

    ``identity``: the CAWG identity assertions (``cawg.identity``) of the active manifest, one
    dict each: ``subject``, ``issuer`` (X.509 names), ``not_before``, ``not_after``, ``roles``,
    ``referenced_assertions``, ``state`` (``"trusted"`` only when its chain leads to anchors you
    gave, else ``"valid"`` or ``"invalid"``) and c2pa's ``codes`` for it. Their codes are not in
    ``failures``: an untrusted identity does not make the claim untrusted.
    """

    state: C2paState = C2paState.ABSENT
    manifest: str | None = None
    manifests: int = 0
    title: str | None = None
    claim_generator: str | None = None
    software_agents: tuple[str, ...] = ()
    digital_source_types: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    signer: Signer | None = None
    failures: tuple[Failure, ...] = ()
    content_id: str | None = None
    training_mining: dict[str, str] | None = None
    remote_url: str | None = None
    error: str | None = None
    soft_bindings: tuple[tuple[str, str], ...] = ()
    text_wrapper: str | None = None
    text_watermark: dict[str, Any] | None = None
    trusted_by: str | None = None  # the anchor set that made the signer trusted
    trust_note: str | None = None  # e.g. that set holds certificates that are not root CAs
    conforming_product: dict[str, Any] | None = None  # the C2PA conforming-products record
    store: tuple[dict[str, Any], ...] = ()  # every manifest, with verify(detailed=True)
    # ingredients that carry manifests (a platform's manifest over the generator's, ...)
    ingredients: tuple[Ingredient, ...] = ()
    # what a platform recorded when it republished the content (aimark.ingest)
    ingest: dict[str, Any] | None = None
    # CAWG identity assertions: subject, issuer, not_before, not_after, state, codes, ...
    identity: tuple[dict[str, Any], ...] = ()
    sidecar: str | None = None  # the file name of the sidecar the manifest was read from

    @property
    def present(self) -> bool:
        """True if the file carries (or points to) a manifest."""
        return self.state is not C2paState.ABSENT

    @property
    def ai_declared(self) -> bool:
        """True if an action declares an AI digital source type: one of the active
        manifest's, or one of a parent ingredient that validates (:attr:`declared_by`)."""
        return self.own_ai_declared or self.declared_by is not None

    @property
    def own_ai_declared(self) -> bool:
        """True if the active manifest's own actions declare an AI digital source type."""
        return any(
            (t := DigitalSourceType.from_uri(u)) is not None and t.is_ai
            for u in self.digital_source_types
        )

    @property
    def declared_by(self) -> Ingredient | None:
        """The nearest parent ingredient whose manifest validates and declares AI, when the
        active manifest itself does not (a platform's manifest over the generator's); every
        ingredient between them must be a validating parent too."""
        if self.own_ai_declared:
            return None
        for ing in self.ingredients:  # the parent chain comes first, nearest first
            if ing.relationship != "parentOf":
                continue
            if ing.state == "invalid":
                return None
            if ing.ai_declared:
                return ing
        return None

    @property
    def ai_trusted(self) -> bool:
        """True if the AI declaration is backed by trusted signers: the active manifest's
        signer, and the declaring ingredient's signer when the declaration is inherited."""
        if self.state is not C2paState.TRUSTED:
            return False
        ing = self.declared_by
        return self.own_ai_declared or (ing is not None and ing.state == "trusted")

    def to_dict(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "state": self.state.value,
            "ai_declared": self.ai_declared,
            "manifest": self.manifest,
            "manifests": self.manifests,
            "title": self.title,
            "claim_generator": self.claim_generator,
            "software_agents": list(self.software_agents),
            "digital_source_types": list(self.digital_source_types),
            "actions": _plain(self.actions),
            "signer": _plain(self.signer),
            "failures": _plain(self.failures),
            "content_id": self.content_id,
            "training_mining": self.training_mining,
            "remote_url": self.remote_url,
            "error": self.error,
            "soft_bindings": [{"alg": a, "value": v} for a, v in self.soft_bindings],
            "text_wrapper": self.text_wrapper,
            "text_watermark": self.text_watermark,
            "trusted_by": self.trusted_by,
            "trust_note": self.trust_note,
            "conforming_product": self.conforming_product,
            "store": list(self.store),
            "ingredients": _plain(self.ingredients),
            "ingest": self.ingest,
            "identity": [dict(i) for i in self.identity],
            "sidecar": self.sidecar,
        }


@dataclass(frozen=True)
class MetadataResult:
    """Unsigned metadata: IPTC Digital Source Type (XMP), EXIF text fields, generator markers."""

    digital_source_types: tuple[str, ...] = ()
    exif: dict[str, str] = field(default_factory=dict)
    creator_tool: str | None = None
    ai_system: str | None = None
    document_id: str | None = None
    data_mining: str | None = None
    tc260_aigc: dict[str, Any] | None = None
    tc260_carriers: tuple[str, ...] = ()  # where it was found: xmp, exif, png-text, front-matter
    disclosure: str | None = None  # texts: where a visible disclosure is ("starts with ...")
    markers: tuple[Marker, ...] = ()
    problems: tuple[str, ...] = ()
    id3: dict[str, str] = field(default_factory=dict)  # ID3 text frames (MP3, WAV)

    @property
    def ai_declared(self) -> bool:
        """True if any unsigned metadata says the content is AI-generated."""
        if any(
            (t := DigitalSourceType.from_uri(u)) is not None and t.is_ai
            for u in self.digital_source_types
        ):
            return True
        if self.markers or self.ai_system:
            return True
        tc = self.tc260_aigc or {}
        return str(tc.get("Label", "")).strip() in ("1", "2", "3")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ai_declared": self.ai_declared,
            "digital_source_types": list(self.digital_source_types),
            "exif": dict(self.exif),
            "id3": dict(self.id3),
            "creator_tool": self.creator_tool,
            "ai_system": self.ai_system,
            "document_id": self.document_id,
            "data_mining": self.data_mining,
            "tc260_aigc": self.tc260_aigc,
            "tc260_carriers": list(self.tc260_carriers),
            "disclosure": self.disclosure,
            "markers": _plain(self.markers),
            "problems": list(self.problems),
        }


#: Why a watermark answer can be inconclusive, in words (the CLI, the page and the reasons).
INCONCLUSIVE_REASONS: dict[str, str] = {
    "too-small": "the picture is too small to carry the mark",
    "too-flat": "the picture has almost no detail: it cannot carry a mark, or has lost it",
    "payload-unreadable": "the key's sync pattern is there, but the payload could not be read",
}


@dataclass(frozen=True)
class WatermarkResult:
    """The invisible-watermark layer, checked with the keys the caller gave.

    ``status`` is "detected", "not-detected" (the picture could carry the mark and does not),
    "inconclusive" (it cannot be told: ``reason`` says why, one of
    :data:`INCONCLUSIVE_REASONS`), "no keys given", "undecodable: ...", "not-checked", or why
    the layer does not apply (text, video).

    ``to_dict(include_scores=False)`` leaves out every graded number (the raw sync
    ``score``, ``p_value`` and ``confidence``, and the public detectors' matched bits and
    p-values), keeping the yes/no answers, so that a public service does not hand out a
    detector oracle that an attacker could climb to strip a watermark.
    """

    checked: bool = False
    keys: tuple[str, ...] = ()  # ids of the keys tried
    detected: bool = False
    key_id: str | None = None
    scheme: str | None = None
    payload: str | None = None  # 16 hex digits
    content_id: str | None = None
    p_value: float | None = None
    confidence: float | None = None
    threshold: float | None = None
    score: float | None = None
    status: str = "not-checked"
    public: tuple[PublicDetection, ...] = ()
    reason: str | None = None  # why an "inconclusive" status (see INCONCLUSIVE_REASONS)
    # where the mark was found when only part of the picture carries it (a collage):
    # (left, top, right, bottom) fractions of the picture; None for the whole picture
    region: tuple[float, float, float, float] | None = None
    # audio and video: where in time the mark was found, (start, end) in seconds
    time_range: tuple[float, float] | None = None

    @property
    def public_detected(self) -> tuple[str, ...]:
        """Names of the public watermarks found (e.g. Stable Diffusion's)."""
        return tuple(p.name for p in self.public if p.detected)

    def to_dict(self, *, include_scores: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "checked": self.checked,
            "status": self.status,
            "reason": self.reason,
            "keys": list(self.keys),
            "detected": self.detected,
            "key_id": self.key_id,
            "scheme": self.scheme,
            "payload": self.payload,
            "content_id": self.content_id,
            "p_value": self.p_value,
            "confidence": self.confidence,
            "threshold": self.threshold,
            "public": [p.to_dict() for p in self.public],
            "score": self.score,
            "region": None if self.region is None else list(self.region),
            "time_range": None if self.time_range is None else list(self.time_range),
        }
        if not include_scores:
            for graded in ("p_value", "confidence", "score"):
                del d[graded]
            d["public"] = [
                {"name": p.name, "detected": p.detected, "channel_order": p.channel_order}
                for p in self.public
            ]
        return d


@dataclass(frozen=True)
class MediaInfo:
    """What the bytes are: format, size, and structural problems (e.g. truncation)."""

    format: str | None = None
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    bytes: int = 0
    problems: tuple[str, ...] = ()
    kind: str | None = None  # image, video, audio, document, archive, text

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "kind": self.kind,
            "mime": self.mime,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "bytes": self.bytes,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class FileInfo:
    """Where a scanned file's bytes came from, as they were when read: its ``size`` in bytes,
    its modification time (``mtime_ns``, nanoseconds since the epoch) and, for object stores,
    its ``etag``. A scan uses these to skip files already reported when it is resumed."""

    size: int
    mtime_ns: int | None = None
    etag: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "etag": self.etag}


@dataclass(frozen=True)
class Verdict:
    """The overall answer: does the file declare itself AI-generated, how strongly is that
    backed, and why."""

    status: Status
    ai_generated: bool
    backing: Backing
    summary: str
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "ai_generated": self.ai_generated,
            "backing": self.backing.value,
            "summary": self.summary,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Recovery:
    """Credentials a manifest repository gave back for a file without a manifest.

    ``method``: ``watermark`` (the payload of your watermark is a soft binding of a stored
    manifest) or ``fingerprint`` (the file's PDQ fingerprint is within ``distance`` bits of a
    stored one). ``status``: ``recovered``; ``mismatch`` when the watermark points at a
    manifest whose picture is far from this one (a copied or forged mark: not recovered);
    ``invalid`` when the stored manifest does not validate; ``unavailable`` when the
    repository could not be used (``note`` says why).
    ``c2pa``: the stored manifest as validated by c2pa against this file (signature and trust
    from the verifier's anchors, never from the repository); its hard binding never matches a
    re-encoded copy, which ``hard_binding`` says.
    """

    method: str
    status: str
    manifest_id: str
    repository: str
    c2pa: C2paResult
    distance: int | None = None
    hard_binding: str = "does not match this file (it was re-encoded or edited)"
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "status": self.status,
            "manifest_id": self.manifest_id,
            "repository": self.repository,
            "distance": self.distance,
            "hard_binding": self.hard_binding,
            "note": self.note,
            "c2pa": self.c2pa.to_dict(),
        }


@dataclass(frozen=True)
class Report:
    """Everything verify found about one input."""

    source: str
    verdict: Verdict
    media: MediaInfo = field(default_factory=MediaInfo)
    c2pa: C2paResult = field(default_factory=C2paResult)
    metadata: MetadataResult = field(default_factory=MetadataResult)
    error: dict[str, str] | None = None
    trust_anchors: int = 0
    watermark: WatermarkResult = field(default_factory=WatermarkResult)
    file: FileInfo | None = None  # set by aimark.scan
    recovery: Recovery | None = None  # credentials a manifest repository gave back

    @classmethod
    def from_error(
        cls,
        source: str,
        code: str,
        message: str,
        *,
        size: int = 0,
        media: MediaInfo | None = None,
        file: FileInfo | None = None,
        trust_anchors: int = 0,
    ) -> Report:
        """The report on an input that could not be verified at all (verdict ``error``): the
        one way aimark builds one, for the Verifier, the scanner and the service alike.

        Example:
            >>> r = Report.from_error("a.png", "empty-input", "the input is empty (0 bytes)")
            >>> r.verdict.status.value, r.error["code"]
            ('error', 'empty-input')
        """
        verdict = Verdict(
            status=Status.ERROR,
            ai_generated=False,
            backing=Backing.NONE,
            summary=f"cannot verify: {message}",
            reasons=(message,),
        )
        media = media or MediaInfo()
        media = dataclasses.replace(media, bytes=file.size if file else size, problems=(message,))
        return cls(
            source=source,
            verdict=verdict,
            media=media,
            error={"code": code, "message": message},
            trust_anchors=trust_anchors,
            file=file,
        )

    @functools.cached_property
    def compliance(self) -> Compliance:
        """Which labelling requirements (EU AI Act Art. 50(2), GB 45438-2025 implicit and
        explicit, California SB 942) this file's labels meet: technical evidence, not legal
        advice (:mod:`aimark.compliance`)."""
        return assess(self)

    def to_dict(self, *, include_scores: bool = True) -> dict[str, Any]:
        """A JSON-ready dict; keys and meanings are stable within ``schema_version``.

        ``include_scores=False`` leaves out the watermark layer's graded numbers (see
        :class:`WatermarkResult`): the form a public service should answer with.
        """
        return {
            "schema": "aimark.report",
            "schema_version": SCHEMA_VERSION,
            "aimark_version": __version__,
            "source": self.source,
            "verdict": self.verdict.to_dict(),
            "media": self.media.to_dict(),
            "c2pa": self.c2pa.to_dict(),
            "metadata": self.metadata.to_dict(),
            "trust_anchors": self.trust_anchors,
            "error": dict(self.error) if self.error else None,
            "watermark": self.watermark.to_dict(include_scores=include_scores),
            "file": self.file.to_dict() if self.file else None,
            "recovery": self.recovery.to_dict() if self.recovery else None,
            "compliance": self.compliance.to_dict(),
        }

    def to_json(self, *, indent: int | None = None, include_scores: bool = True) -> str:
        """The report as JSON text."""
        d = self.to_dict(include_scores=include_scores)
        return json_text(d, indent=indent, sort_keys=False)
