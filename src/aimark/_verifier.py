"""Verifier: bytes in → sniff → guard limits → each layer → one Report.

Content problems (empty, unsupported, truncated, bombs, broken manifests) are outcomes in the
report; only an unreadable *path* raises.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np

from aimark.disclosure import find_disclosure
from aimark.errors import (
    AimarkError,
    CorruptInputError,
    EmptyInputError,
    ImageTooLargeError,
    InputError,
    MissingExtraError,
    UnsupportedFormatError,
)
from aimark.keys import WatermarkKey, content_id_for
from aimark.manifest.c2pa_io import ManifestReader
from aimark.manifest.text import read_text
from aimark.media import containers, image_io
from aimark.media.formats import MediaFormat, sniff_media
from aimark.media.limits import Limits
from aimark.media.sniff import ImageFormat, sniff
from aimark.media.source import SourceLike, read_source
from aimark.media.structure import check_structure, unsupported_by_c2pa
from aimark.media.text_io import TEXT_MIME, check_text, decode_text, is_text
from aimark.metadata.digital_source_type import DigitalSourceType
from aimark.metadata.exif import read_exif
from aimark.metadata.markers import find_markers
from aimark.metadata.media_meta import find_xmp_packet, id3_markers, read_id3, riff_id3
from aimark.metadata.tc260 import check_fields, parse_aigc, read_front_matter
from aimark.metadata.xmp import read_xmp
from aimark.report import (
    Backing,
    C2paResult,
    C2paState,
    MediaInfo,
    MetadataResult,
    Recovery,
    Report,
    Status,
    Verdict,
    WatermarkResult,
)
from aimark.trust import TrustAnchors, TrustLike
from aimark.watermark.image import DEFAULT_THRESHOLD, SCHEMES, detect_batch
from aimark.watermark.public import PublicDetection, detect_public

__all__ = ["Verifier"]

_TIFF_XMP, _TIFF_TEXT_TAGS = (
    700,
    {305: "Software", 271: "Make", 272: "Model", 315: "Artist", 270: "ImageDescription"},
)


class Verifier:
    """Verifies files with one configuration (trust anchors, limits). Reusable.

    Example:
        >>> import aimark
        >>> v = aimark.Verifier()          # no trust anchors: nothing is ever "trusted"
        >>> v.verify(b"GIF89a").verdict.status.value
        'error'
    """

    def __init__(
        self,
        *,
        trust: TrustLike = None,
        limits: Limits | None = None,
        watermark_keys: Iterable[WatermarkKey] = (),
        watermark_threshold: float = DEFAULT_THRESHOLD,
        public_watermarks: bool = False,
        watermark_schemes: Iterable[str] = SCHEMES,
        detailed: bool = False,
        repository: Any = None,
    ) -> None:
        self.trust = TrustAnchors.coerce(trust)
        self.detailed = detailed
        self.repository = repository  # a path, a URL, or an open repository (opened lazily)
        self._repo: Any = None
        self.limits = limits or Limits()
        self.watermark_keys = tuple(watermark_keys)
        for k in self.watermark_keys:
            if not isinstance(k, WatermarkKey):
                raise TypeError("watermark_keys must be aimark.WatermarkKey objects")
        self.watermark_threshold = watermark_threshold
        self.public_watermarks = public_watermarks
        self.watermark_schemes = tuple(watermark_schemes)
        unknown = [x for x in self.watermark_schemes if x not in SCHEMES]
        if unknown or not self.watermark_schemes:
            raise ValueError(
                f"watermark_schemes must name some of {', '.join(SCHEMES)} (got {unknown})"
            )
        self._reader = ManifestReader(self.trust, detailed=detailed)

    def __getstate__(self) -> dict[str, Any]:
        # picklable (for worker processes): the C2PA reader holds native handles; rebuild it
        state = self.__dict__.copy()
        del state["_reader"]
        state["_repo"] = None  # reopened in the worker
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reader = ManifestReader(self.trust, detailed=self.__dict__.get("detailed", False))

    def verify(self, src: SourceLike) -> Report:
        """Verify one input; see :func:`aimark.verify`."""
        if isinstance(src, str) and _is_text_str(src):
            return self.verify_text(src)
        try:
            source = read_source(src, self.limits)
        except InputError as exc:
            if isinstance(src, (str, os.PathLike)):
                name = os.fspath(src)
            else:
                name = str(getattr(src, "name", "<bytes>"))
            return self._error_report(name, exc, size=0)
        return self.verify_bytes(source.data, name=source.name)

    def verify_text(self, text: str, *, name: str = "<text>") -> Report:
        """Verify a text held as a ``str`` (its C2PA manifest in the text wrapper)."""
        try:
            data = check_text(text, self.limits)
        except InputError as exc:
            return self._error_report(name, exc, size=len(text))
        return self._text_report(text, data, name)

    def verify_bytes(self, data: bytes, *, name: str = "<bytes>") -> Report:
        """Verify bytes already in memory (e.g. an upload): an image, or UTF-8 text."""
        try:
            if not data:
                raise EmptyInputError("the input is empty (0 bytes)")
            if len(data) > self.limits.max_bytes:
                raise ImageTooLargeError(
                    f"input is over the limit of {self.limits.max_bytes:,} bytes"
                )
            if sniff(data) is None:
                media_format = sniff_media(data)
                if media_format is not None:
                    return self._media_report(data, media_format, name)
                if is_text(data):
                    return self._text_report(decode_text(data, self.limits), data, name)
            info = image_io.probe(data, self.limits)
        except (InputError, MissingExtraError) as exc:
            return self._error_report(name, exc, size=len(data))
        problems: list[str] = []
        try:
            embedded = containers.read_metadata(data, info.format)
        except InputError as exc:
            problems.append(str(exc))
            embedded = containers.Embedded()
        c2pa_result = self._reader.read(data, info.format.mime)
        if (
            c2pa_result.state is C2paState.INVALID
            and c2pa_result.manifest is None
            and not containers.may_carry_c2pa(data)
        ):  # c2pa failed on the file itself (e.g. a cut PNG) and there is no manifest store in
            # it: that is a damaged file without Content Credentials, not invalid credentials
            problems.append(f"the C2PA reader could not parse the file: {c2pa_result.error}")
            c2pa_result = C2paResult(state=C2paState.ABSENT)
        media = MediaInfo(
            format=info.format.value,
            kind="image",
            mime=info.format.mime,
            width=info.size[0],
            height=info.size[1],
            frames=info.frames,
            bytes=len(data),
            problems=tuple(problems),
        )
        metadata = _metadata_layer(info, embedded)
        watermark = self._watermark_layer(data)
        recovery = None
        if self.repository is not None and c2pa_result.state is C2paState.ABSENT:
            recovery = self._recover(data, info.format.mime, watermark)
        return self._report(name, media, c2pa_result, metadata, watermark, recovery)

    # ------------------------------------------------------------------ repository

    def _open_repository(self) -> Any:
        if self._repo is None:
            from aimark.repository import open_repository

            self._repo = open_repository(self.repository, create=False)  # never creates one
        return self._repo

    def _recover(self, data: bytes, mime: str, wm: WatermarkResult) -> Recovery | None:
        """Look the file up in the repository by its watermark payload, then by its PDQ
        fingerprint; validate what comes back against this file. Never raises for the
        repository's faults: they become a note."""
        from aimark.repository import RepositoryError
        from aimark.repository.fingerprint import MATCH_DISTANCE, PDQ_ALG, distance, fingerprint
        from aimark.repository.fingerprint import available as pdq_available

        repo_name = (
            str(self.repository)
            if isinstance(self.repository, (str, os.PathLike))
            else (type(self.repository).__name__)
        )
        try:
            repo = self._open_repository()
            fp = None
            if pdq_available():
                try:
                    got = fingerprint(image_io.decode(data, self.limits).pixels)
                    fp = got if got.usable else None
                except (InputError, MissingExtraError):
                    fp = None
            method, match_id, dist = None, None, None
            if wm.detected and wm.payload and wm.scheme:
                hits = repo.by_binding(wm.scheme, wm.payload)
                if hits:
                    method, match_id = "watermark", hits[0].manifest_id
            if match_id is None and fp is not None:
                hits = repo.by_fingerprint(PDQ_ALG, fp.value, MATCH_DISTANCE)
                if hits:
                    method, match_id, dist = "fingerprint", hits[0].manifest_id, hits[0].distance
            if match_id is None:
                return None
            record = repo.manifest(match_id)
        except RepositoryError as exc:
            return Recovery(
                method="none",
                status="unavailable",
                manifest_id="",
                repository=repo_name,
                c2pa=C2paResult(),
                note=f"the repository could not be used: {exc}",
            )
        if record is None:
            return None
        stored = {f.alg: f.value for f in record.fingerprints}
        if method == "watermark" and fp is not None and PDQ_ALG in stored:
            try:
                dist = distance(stored[PDQ_ALG], fp.value)
            except ValueError:
                dist = None
        result, _ = self._reader.read_manifest_data(
            record.store, data, ignore=_is_hard_binding_failure, fmt=mime
        )
        signed_fp = dict(result.soft_bindings).get(PDQ_ALG)
        valid = result.state is not C2paState.INVALID
        if method == "watermark" and dist is None and fp is not None and signed_fp and valid:
            # the manifest itself records its picture's fingerprint (what a remote API does
            # not expose), signed: compare with it
            try:
                dist = distance(signed_fp, fp.value)
            except ValueError:
                dist = None
        status, note = "recovered", None
        if method == "watermark" and dist is not None and dist > MATCH_DISTANCE:
            status = "mismatch"
            note = (
                "the watermark's payload belongs to a stored manifest whose picture is "
                f"{dist} of 256 fingerprint bits away from this one: a copied or forged "
                "watermark, not this picture's credentials"
            )
        elif result.state is C2paState.INVALID:
            status = "invalid"
            note = "the repository gave back a manifest that does not validate: " + (
                ", ".join(f.code for f in result.failures) or str(result.error)
            )
        return Recovery(
            method=method or "none",
            status=status,
            manifest_id=record.manifest_id,
            repository=repo_name,
            c2pa=result,
            distance=dist,
            note=note,
        )

    def _report(
        self,
        name: str,
        media: MediaInfo,
        c2pa_result: C2paResult,
        metadata: MetadataResult,
        watermark: WatermarkResult,
        recovery: Recovery | None = None,
    ) -> Report:
        return Report(
            source=name,
            verdict=_verdict(c2pa_result, metadata, media, watermark, recovery),
            media=media,
            c2pa=c2pa_result,
            metadata=metadata,
            trust_anchors=len(self.trust.subjects),
            watermark=watermark,
            recovery=recovery,
        )

    def _media_report(self, data: bytes, fmt: MediaFormat, name: str) -> Report:
        """A container aimark does not decode (video, audio, documents, SVG, JPEG XL): its
        framing checked, the C2PA layer, XMP and ID3 where present; no watermark."""
        try:
            problems = check_structure(data, fmt)
            why = unsupported_by_c2pa(data, fmt)
        except InputError as exc:
            return self._error_report(name, exc, size=len(data), fmt=fmt)
        if why:
            return self._error_report(
                name, UnsupportedFormatError(f"cannot verify {why}"), size=len(data), fmt=fmt
            )
        c2pa_result = self._reader.read(data, fmt.mime)
        if (
            c2pa_result.state is C2paState.INVALID
            and c2pa_result.manifest is None
            and not containers.may_carry_c2pa(data)
        ):  # c2pa cannot parse the container and there is no manifest store in it: aimark
            # decodes nothing else of these formats, so the file is damaged, not "unlabelled"
            detail = "; ".join([*problems, str(c2pa_result.error or "")]).strip("; ")
            return self._error_report(
                name,
                CorruptInputError(f"{fmt.label} that cannot be parsed ({detail})"),
                size=len(data),
                fmt=fmt,
            )
        media = MediaInfo(
            format=fmt.value,
            kind=fmt.kind,
            mime=fmt.mime,
            bytes=len(data),
            problems=tuple(problems),
        )
        metadata = _media_metadata(data, fmt)
        watermark = WatermarkResult()
        if self.watermark_keys or self.public_watermarks:
            watermark = WatermarkResult(
                status=f"not applicable to this media type ({fmt.label}): aimark's watermark "
                "is for raster images"
            )
        return self._report(name, media, c2pa_result, metadata, watermark)

    def _text_report(self, text: str, data: bytes, name: str) -> Report:
        problems = []
        if not unicodedata.is_normalized("NFC", text):
            problems.append(
                "the text is not in Unicode NFC (aimark signs NFC text; normalising a signed "
                "text to another form breaks its hard binding)"
            )
        media = MediaInfo(
            format="text", kind="text", mime=TEXT_MIME, bytes=len(data), problems=tuple(problems)
        )
        c2pa_result = read_text(self._reader, text, data)
        watermark = WatermarkResult()
        if self.watermark_keys:  # image watermark keys: nothing to decode in a text
            watermark = WatermarkResult(status="not checked: image watermarks do not apply to text")
        aigc, carriers, aigc_problems = _tc260_layer({"front-matter": read_front_matter(text)})
        metadata = MetadataResult(
            disclosure=find_disclosure(text),
            tc260_aigc=aigc,
            tc260_carriers=carriers,
            problems=aigc_problems,
        )
        return self._report(name, media, c2pa_result, metadata, watermark)

    def _watermark_layer(self, data: bytes) -> WatermarkResult:
        """Decode the pixels once; look for the watermark of every key given, and for the
        public watermarks of other generators when asked."""
        if not self.watermark_keys and not self.public_watermarks:
            return WatermarkResult()
        ids = tuple(k.key_id for k in self.watermark_keys)
        try:
            if self.public_watermarks:
                pixels = image_io.decode(data, self.limits).pixels
            else:  # only as many pixels as the detectors use (JPEG: DCT-domain scaling)
                pixels = image_io.decode_luma(data, self.limits)
        except (InputError, MissingExtraError) as exc:
            return WatermarkResult(checked=False, keys=ids, status=f"undecodable: {exc}")
        public: tuple[PublicDetection, ...] = ()
        if self.public_watermarks and pixels.ndim == 3 and pixels.dtype == np.uint8:
            public = tuple(detect_public(pixels))
        if not self.watermark_keys:
            return WatermarkResult(checked=True, status="no keys given", public=public)
        found = detect_batch(
            [pixels],
            list(self.watermark_keys),
            threshold=self.watermark_threshold,
            schemes=self.watermark_schemes,
        )
        best_i = min(range(len(found)), key=lambda i: (not found[i].detected, found[i].p_value))
        best = found[best_i]
        hit = best.detected
        return WatermarkResult(
            checked=True,
            keys=ids,
            detected=hit,
            key_id=ids[best_i] if hit else None,
            scheme=best.scheme,
            payload=f"{best.payload:016x}" if hit and best.payload is not None else None,
            content_id=content_id_for(best.payload) if hit and best.payload is not None else None,
            p_value=best.p_value,
            confidence=best.confidence if hit else None,
            threshold=best.threshold,
            score=best.score,
            status=best.status,
            public=public,
        )

    def _error_report(
        self, name: str, exc: AimarkError, *, size: int, fmt: MediaFormat | None = None
    ) -> Report:
        verdict = Verdict(
            status=Status.ERROR,
            ai_generated=False,
            backing=Backing.NONE,
            summary=f"cannot verify: {exc}",
            reasons=(str(exc),),
        )
        return Report(
            source=name,
            verdict=verdict,
            media=MediaInfo(
                format=fmt.value if fmt else None,
                kind=fmt.kind if fmt else None,
                mime=fmt.mime if fmt else None,
                bytes=size,
                problems=(str(exc),),
            ),
            error={"code": exc.code, "message": str(exc)},
            trust_anchors=len(self.trust.subjects),
        )


def _is_text_str(src: str) -> bool:
    """A ``str`` given to verify is text, not a path, if no path could look like it."""
    return "\ufeff" in src or "\n" in src or "\r" in src or len(src) > 4096


def _as_bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return bytes(value)
    return None


def _metadata_layer(info: image_io.ImageInfo, embedded: containers.Embedded) -> MetadataResult:
    xmp_raw = embedded.xmp
    if xmp_raw is None:
        xmp_raw = _as_bytes(info.info.get("xmp")) or _as_bytes(info.info.get("XML:com.adobe.xmp"))
    if xmp_raw is None and info.format is ImageFormat.TIFF:
        xmp_raw = _as_bytes(info.info.get("tiff_tags", {}).get(_TIFF_XMP))
    exif = read_exif(embedded.exif or info.exif)
    if info.format is ImageFormat.TIFF:
        for tag, field_name in _TIFF_TEXT_TAGS.items():
            value = info.info.get("tiff_tags", {}).get(tag)
            if isinstance(value, str) and value.strip():
                exif.setdefault(field_name, value.strip()[:2000])
    xmp = read_xmp(xmp_raw) if xmp_raw else None
    text_info = {
        k: v for k, v in info.info.items() if k not in ("exif", "xmp", "icc_profile", "tiff_tags")
    }
    found = {
        "xmp": xmp.tc260_aigc if xmp else None,
        "exif": parse_aigc(exif.get("UserComment", "")),
        "png-text": parse_aigc(text_info["AIGC"])
        if isinstance(text_info.get("AIGC"), str)
        else None,
    }
    tc260, carriers, tc_problems = _tc260_layer(found)
    return MetadataResult(
        digital_source_types=xmp.digital_source_types if xmp else (),
        exif=exif,
        creator_tool=xmp.creator_tool if xmp else None,
        ai_system=xmp.ai_system if xmp else None,
        document_id=xmp.document_id if xmp else None,
        data_mining=xmp.data_mining if xmp else None,
        tc260_aigc=tc260,
        tc260_carriers=carriers,
        markers=tuple(find_markers(text_info, exif)),
        problems=(xmp.problems if xmp else ()) + tc_problems,
    )


def _tc260_layer(
    found: dict[str, dict[str, Any] | None],
) -> tuple[dict[str, Any] | None, tuple[str, ...], tuple[str, ...]]:
    """The GB 45438 AIGC object (from the first carrier that has one), the carriers that hold
    it, and what is wrong with it (missing fields, carriers that disagree)."""
    carriers = tuple(k for k, v in found.items() if v)
    if not carriers:
        return None, (), ()
    first = found[carriers[0]]
    assert first is not None
    problems = [f"GB 45438 AIGC label: {p}" for p in check_fields(first)]
    problems += [
        f"GB 45438 AIGC label: the {c} copy differs from the {carriers[0]} copy"
        for c in carriers[1:]
        if found[c] != first
    ]
    return first, carriers, tuple(problems)


def _media_metadata(data: bytes, fmt: MediaFormat) -> MetadataResult:
    raw = find_xmp_packet(data)
    xmp = read_xmp(raw) if raw else None
    id3: dict[str, str] = {}
    if fmt in (MediaFormat.MP3, MediaFormat.FLAC):
        id3 = read_id3(data)
    elif fmt is MediaFormat.WAV:
        id3 = riff_id3(data)
    return MetadataResult(
        digital_source_types=xmp.digital_source_types if xmp else (),
        creator_tool=xmp.creator_tool if xmp else None,
        ai_system=xmp.ai_system if xmp else None,
        document_id=xmp.document_id if xmp else None,
        data_mining=xmp.data_mining if xmp else None,
        tc260_aigc=xmp.tc260_aigc if xmp else None,
        tc260_carriers=("xmp",) if xmp and xmp.tc260_aigc else (),
        markers=tuple(id3_markers(id3)),
        problems=xmp.problems if xmp else (),
        id3=id3,
    )


def _dst_names(uris: tuple[str, ...]) -> str:
    names = []
    for u in uris:
        t = DigitalSourceType.from_uri(u)
        names.append(t.value if t else u)
    return ", ".join(names)


_HARD_BINDING_CODES = {
    "assertion.dataHash.mismatch",
    "assertion.bmffHash.mismatch",
    "assertion.boxesHash.mismatch",
    "assertion.collectionHash.mismatch",
}


def _is_hard_binding_failure(failure: dict[str, Any]) -> bool:
    return failure.get("code") in _HARD_BINDING_CODES


def _recovered_text(r: Recovery) -> str:
    c = r.c2pa
    signer = (c.signer.common_name or c.signer.issuer) if c.signer else "an unknown signer"
    trust = {
        C2paState.TRUSTED: "trusted",
        C2paState.VALID_UNTRUSTED: "valid, not in your trust anchors",
    }.get(c.state, "INVALID")
    how = (
        "by watermark" if r.method == "watermark" else f"by fingerprint ({r.distance} of 256 bits)"
    )
    return f"credentials recovered from the repository {how}, signed by {signer} ({trust})"


def _verdict(
    c2pa: C2paResult,
    meta: MetadataResult,
    media: MediaInfo,
    wm: WatermarkResult,
    recovery: Recovery | None = None,
) -> Verdict:
    reasons: list[str] = []
    recovered = None
    if recovery is not None:
        if recovery.status == "recovered":
            recovered = recovery
            reasons.append(
                _recovered_text(recovery) + "; its hard binding " + recovery.hard_binding
            )
        elif recovery.note:
            reasons.append(recovery.note)
    signer = (c2pa.signer.common_name or c2pa.signer.issuer) if c2pa.signer else None
    who = f" by {c2pa.software_agents[0]}" if c2pa.software_agents else ""
    if c2pa.state is C2paState.INVALID:
        codes = ", ".join(f.code for f in c2pa.failures if f.code != "signingCredential.untrusted")
        detail = codes or c2pa.error or "validation failed"
        reasons.append(f"C2PA manifest is invalid: {detail}")
    elif c2pa.state is C2paState.TRUSTED:
        reasons.append(f"C2PA manifest signed by a trusted signer ({signer})")
    elif c2pa.state is C2paState.VALID_UNTRUSTED:
        reasons.append(
            f"C2PA manifest valid, but the signer ({signer}) is not in your trust anchors"
        )
    elif c2pa.state is C2paState.REMOTE:
        reasons.append(f"C2PA manifest is stored remotely ({c2pa.remote_url}) and was not fetched")
    if c2pa.digital_source_types and c2pa.state in (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED):
        reasons.append(f"C2PA digital source type: {_dst_names(c2pa.digital_source_types)}")
    if meta.digital_source_types:
        reasons.append(f"XMP IPTC digital source type: {_dst_names(meta.digital_source_types)}")
    reasons.extend(f"{m.generator} metadata in {m.where}" for m in meta.markers)
    if meta.ai_system:
        reasons.append(f"XMP names the AI system {meta.ai_system}")
    if meta.tc260_aigc:
        reasons.append("TC260 AIGC label in XMP")
    if wm.detected:
        where = f", content id {wm.content_id}" if wm.content_id else ""
        # no p-value here: reasons go out in public answers (see WatermarkResult.to_dict)
        reasons.append(f"invisible watermark of key {wm.key_id} found{where}")
        bound = [v for alg, v in c2pa.soft_bindings if alg == wm.scheme]
        if bound and wm.payload and wm.payload not in bound:
            reasons.append("the watermark payload differs from the manifest's soft binding")
        elif bound and wm.payload:
            reasons.append("the watermark matches the manifest's soft binding")
    elif wm.keys:
        reasons.append(f"no watermark of the {len(wm.keys)} key(s) given ({wm.status})")
    reasons.extend(f"public invisible watermark: {n}" for n in wm.public_detected)
    reasons.extend(f"file problem: {p}" for p in media.problems)

    if c2pa.state is C2paState.INVALID:
        return Verdict(
            Status.INVALID,
            meta.ai_declared,
            Backing.UNSIGNED_METADATA if meta.ai_declared else Backing.NONE,
            "Content Credentials are present but INVALID (tampered or broken); do not rely on them",
            tuple(reasons),
        )
    if c2pa.ai_declared and c2pa.state is C2paState.TRUSTED:
        return Verdict(
            Status.LABELLED_TRUSTED,
            True,
            Backing.TRUSTED_SIGNATURE,
            f"AI-generated{who}, declared by Content Credentials from a trusted signer",
            tuple(reasons),
        )
    if wm.detected:
        where = f" (content id {wm.content_id})" if wm.content_id else ""
        extra = f"; {_recovered_text(recovered)}" if recovered else ""
        if recovery is not None and recovery.status == "mismatch":
            extra = "; the repository's credentials for it belong to another picture"
        return Verdict(
            Status.LABELLED_WATERMARK,
            True,
            Backing.WATERMARK,
            f"AI-labelled by an invisible watermark of your key {wm.key_id}{where}{extra}",
            tuple(reasons),
        )
    good = (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED)
    if recovered is not None and recovered.c2pa.state in good and recovered.c2pa.ai_declared:
        agents = recovered.c2pa.software_agents
        by = f" by {agents[0]}" if agents else ""
        return Verdict(
            Status.LABELLED_RECOVERED,
            True,
            Backing.RECOVERED_CREDENTIALS,
            f"AI-generated{by}: {_recovered_text(recovered)}",
            tuple(reasons),
        )
    if c2pa.ai_declared and c2pa.state is C2paState.VALID_UNTRUSTED:
        return Verdict(
            Status.LABELLED_UNTRUSTED,
            True,
            Backing.UNTRUSTED_SIGNATURE,
            f"AI-generated{who}, declared by validly signed Content Credentials "
            "from a signer you do not trust",
            tuple(reasons),
        )
    if meta.ai_declared:
        return Verdict(
            Status.LABELLED_UNSIGNED,
            True,
            Backing.UNSIGNED_METADATA,
            "AI-generated according to unsigned metadata (easily forged or removed)",
            tuple(reasons),
        )
    if wm.public_detected:
        return Verdict(
            Status.LABELLED_UNSIGNED,
            True,
            Backing.PUBLIC_WATERMARK,
            f"AI-generated according to a public invisible watermark ({wm.public_detected[0]}; "
            "anyone can add or remove it)",
            tuple(reasons),
        )
    if c2pa.state in (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED):
        kind = _dst_names(c2pa.digital_source_types) or "no digital source type"
        summary = f"not declared AI-generated; signed Content Credentials say: {kind}"
    elif c2pa.state is C2paState.REMOTE:
        summary = "no AI label found locally; Content Credentials are remote and were not fetched"
    else:
        summary = "no AI label found (no Content Credentials, no AI metadata)"
    return Verdict(Status.NOT_LABELLED, False, Backing.NONE, summary, tuple(reasons))
