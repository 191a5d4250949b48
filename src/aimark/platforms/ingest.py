"""Ingest: a platform publishes its processed copy of an upload with the provenance kept.

Platforms re-encode every upload, which breaks the hard binding of its C2PA manifest and
drops its metadata. :func:`ingest` verifies the upload, applies the platform's
:class:`Processing`, and signs the result with the platform's credentials: a manifest whose
parent ingredient is the upload (with the generator's manifest inside it, validated), the
actions ``c2pa.opened`` / ``c2pa.resized`` / ``c2pa.transcoded`` / ``c2pa.edited.metadata``
/ ``c2pa.published``, and an ``org.aimark.ingest`` assertion (the platform, the GB 45438
label and propagator fields, the evidence where the upload has no signed declaration, and
whether the watermark still decodes). The IPTC digital source type and the GB 45438
``AIGC`` label are written again into the copy's metadata, with ``ContentPropagator`` and
``PropagateID`` filled. See docs/platforms.md.

Example:
    >>> import tempfile, aimark
    >>> from PIL import Image
    >>> gen = aimark.create_dev_credentials(tempfile.mkdtemp())
    >>> platform = aimark.create_dev_credentials(tempfile.mkdtemp(), organization="Social")
    >>> upload = aimark.label_image(Image.new("RGB", (640, 480), "teal"), format="png",
    ...                             credentials=gen.credentials(), generator="my-model")
    >>> result = aimark.ingest(upload.data, None, platform.credentials(), platform="Social")
    >>> result.format, result.gb45438["ContentPropagator"], result.output.verdict.ai_generated
    ('jpeg', 'Social', True)
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimark._verifier import Verifier
from aimark.credentials import Credentials
from aimark.errors import (
    CorruptInputError,
    EmptyInputError,
    ImageTooLargeError,
    InputError,
    OutputError,
    UnsupportedFormatError,
)
from aimark.manifest.c2pa_io import ManifestSigner
from aimark.manifest.definitions import platform_manifest
from aimark.media.formats import MediaFormat, sniff_media
from aimark.media.limits import Limits
from aimark.media.output import PendingWrite, same_file
from aimark.media.sniff import ImageFormat, describe_unknown, sniff
from aimark.media.source import SourceLike, read_source
from aimark.platforms.evidence import Judgement, judge
from aimark.platforms.processing import Processed, Processing, process_image, process_media
from aimark.report import Report, Status

__all__ = ["IngestResult", "Ingester", "Processing", "ingest"]


@dataclass(frozen=True)
class IngestResult:
    """The platform's copy: its bytes and format, where it was written, the verification of
    the upload as received and of the copy as published, the GB 45438 fields written, the
    evidence recorded, the actions, and whether the watermark survived the processing
    (``watermark_after`` is None where the upload carried none that the platform's keys
    find)."""

    data: bytes
    format: str
    mime: str
    upload: Report
    output: Report
    gb45438: dict[str, str] | None
    evidence: tuple[dict[str, Any], ...]
    actions: tuple[str, ...]
    watermark_before: bool
    watermark_after: bool | None
    path: Path | None = None
    notes: tuple[str, ...] = field(default=())
    extension: str = ""  # the copy's usual file extension (".jpg")

    def __bytes__(self) -> bytes:
        return self.data

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no bytes): what ``aimark ingest --json`` and
        ``POST /v1/ingest`` answer with."""
        out = self.output.c2pa
        return {
            "schema": "aimark.ingest",
            "format": self.format,
            "mime": self.mime,
            "extension": self.extension,
            "bytes": len(self.data),
            "path": str(self.path) if self.path else None,
            "actions": list(self.actions),
            "gb45438": self.gb45438,
            "evidence": [dict(e) for e in self.evidence],
            "watermark": {"before": self.watermark_before, "after": self.watermark_after},
            "upload": {
                "status": self.upload.verdict.status.value,
                "summary": self.upload.verdict.summary,
                "c2pa": self.upload.c2pa.state.value,
            },
            "output": {
                "status": self.output.verdict.status.value,
                "ai_generated": self.output.verdict.ai_generated,
                "summary": self.output.verdict.summary,
                "c2pa": out.state.value,
                "signer": out.signer.common_name if out.signer else None,
                "ingredients": [i.to_dict() for i in out.ingredients],
            },
            "notes": list(self.notes),
        }


class Ingester:
    """A platform's ingest configuration (its signing credentials, name, processing and
    the verifier it checks uploads with). Reusable; not thread-safe (one per worker).

    ``platform``: the platform's name or code, written as GB 45438 ``ContentPropagator``
    and named in ``c2pa.published``. ``verifier``: trust anchors, watermark keys and a
    repository the platform checks uploads with (its keys find the generator's watermark).

    Example:
        >>> import tempfile, aimark
        >>> creds = aimark.create_dev_credentials(tempfile.mkdtemp()).credentials()
        >>> ingester = aimark.Ingester(creds, platform="Example Social")
        >>> ingester.processing.max_side
        2048
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        platform: str,
        processing: Processing | None = None,
        verifier: Verifier | None = None,
        limits: Limits | None = None,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials must be aimark.Credentials")
        if not isinstance(platform, str) or not platform.strip() or len(platform) > 256:
            raise ValueError("platform= must name the platform (1-256 characters)")
        self.platform = platform.strip()
        self.processing = processing or Processing()
        self.verifier = verifier or Verifier(limits=limits)
        self.limits = limits or self.verifier.limits
        self._signer = ManifestSigner(credentials)

    def __getstate__(self) -> dict[str, Any]:  # for the service's worker processes
        state = dict(self.__dict__)
        state["_signer"] = self._signer._credentials
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["_signer"] = ManifestSigner(state["_signer"])
        self.__dict__.update(state)

    def ingest(
        self,
        src: SourceLike,
        dst: str | os.PathLike[str] | None = None,
        *,
        propagate_id: str | None = None,
        declared_ai: bool = False,
        title: str | None = None,
    ) -> IngestResult:
        """Process and republish one upload; see :func:`aimark.ingest`."""
        if dst is not None and isinstance(src, (str, os.PathLike)) and same_file(src, dst):
            raise OutputError(f"destination {dst} is the upload: the upload is never replaced")
        source = read_source(src, self.limits)
        data = source.data
        name = title or (source.path.name if source.path else "") or "upload"
        upload = self.verifier.verify_bytes(data, name=name)
        if upload.verdict.status is Status.ERROR:
            code = (upload.error or {}).get("code")
            kinds = (EmptyInputError, UnsupportedFormatError, ImageTooLargeError)
            kind = next((k for k in kinds if k.code == code), CorruptInputError)
            raise kind(f"the upload cannot be ingested: {upload.verdict.summary}")
        try:
            processed, parent_mime = self._process(data)
        except InputError as exc:  # the same kind of error, saying what failed
            raise type(exc)(f"the upload cannot be ingested: {exc}") from None
        judgement = judge(upload, declared_ai=declared_ai)
        propagate_id = propagate_id or f"urn:uuid:{uuid.uuid4()}"
        fields = self._gb45438(judgement, propagate_id, upload)
        notes = list(processed.notes)
        out = self._with_metadata(processed, judgement, fields, notes)
        fmt = processed.format
        wm = upload.watermark
        soft = None
        if wm.detected and wm.scheme and wm.payload:
            soft = (wm.scheme, bytes.fromhex(wm.payload))
        stem = Path(name).stem or "upload"
        definition = platform_manifest(
            platform=self.platform,
            title=f"{stem}{fmt.extension}",
            mime=fmt.mime,
            actions=processed.actions,
            ingest={
                "platform": self.platform,
                "propagate_id": propagate_id,
                "gb45438": fields,
                "gb45438_meaning": judgement.meaning if judgement.label else None,
                "evidence": list(judgement.evidence),
                "upload": {
                    "c2pa": upload.c2pa.state.value,
                    "status": upload.verdict.status.value,
                },
                "watermark": {"before": wm.detected, "scheme": wm.scheme},
                "processing": self.processing.to_dict(),
            },
            soft_binding=soft,
        )
        signed, _ = self._signer.sign_with_store(
            out,
            fmt.mime,
            definition,
            parent=data,
            parent_mime=parent_mime,
            parent_title=Path(name).name,
        )
        output = self.verifier.verify_bytes(signed, name=f"{stem}{fmt.extension}")
        after = output.watermark.detected if wm.detected else None
        if wm.detected and not after:
            notes.append(
                "the upload's invisible watermark no longer decodes after the processing "
                "(a smaller size or lower quality keeps more of it)"
            )
        path = None
        if dst is not None:
            PendingWrite(dst, signed).commit()
            path = Path(dst)
        return IngestResult(
            data=signed,
            format=fmt.value,
            extension=fmt.extension,
            mime=fmt.mime,
            upload=upload,
            output=output,
            gb45438=fields,
            evidence=judgement.evidence,
            actions=tuple(a.action for a in output.c2pa.actions if a.action.startswith("c2pa.")),
            watermark_before=wm.detected,
            watermark_after=after,
            path=path,
            notes=tuple(notes),
        )

    def _process(self, data: bytes) -> tuple[Processed, str]:
        """The platform's processing of the upload, and the upload's own MIME type."""
        image = sniff(data)
        if image is not None:
            return process_image(data, self.processing, self.limits), image.mime
        fmt = sniff_media(data)
        if fmt is None:
            raise UnsupportedFormatError(
                f"cannot ingest {describe_unknown(data)}: not an image, audio, video or "
                "document format aimark labels"
            )
        from aimark.media.structure import check_structure

        problems = check_structure(data, fmt)
        if problems:
            raise CorruptInputError(f"{fmt.label} that looks damaged ({problems[0]})")
        timeout = max(60.0, float(self.verifier.watermark_seconds or 600.0))
        return process_media(data, fmt, self.processing, timeout=timeout), fmt.mime

    def _gb45438(
        self, judgement: Judgement, propagate_id: str, upload: Report
    ) -> dict[str, str] | None:
        """The GB 45438 fields of the copy: the upload's kept, the propagator's filled."""
        if judgement.label is None:
            return None
        from aimark.metadata.tc260 import FIELDS

        kept = judgement.upload_aigc or {}
        fields = {k: str(kept.get(k, "") or "") for k in FIELDS}
        fields["Label"] = judgement.label
        if not fields["ContentProducer"]:
            fields["ContentProducer"] = judgement.producer or ""
        if not fields["ProduceID"]:
            fields["ProduceID"] = upload.c2pa.content_id or ""
        fields["ContentPropagator"] = self.platform
        fields["PropagateID"] = propagate_id
        return fields

    def _with_metadata(
        self,
        processed: Processed,
        judgement: Judgement,
        fields: dict[str, str] | None,
        notes: list[str],
    ) -> bytes:
        """The processed bytes with the labels written again: the IPTC digital source type
        (where the upload declared one) and the GB 45438 object (XMP, EXIF UserComment, PNG
        text), plus the EXIF the processing kept."""
        from aimark.metadata.tc260 import aigc_json
        from aimark.metadata.xmp import XmpLabel, merge_xmp

        if judgement.source_type is None and fields is None:
            if isinstance(processed.format, ImageFormat) and processed.exif:
                return self._write_image(processed, None, processed.exif, None, notes)
            return processed.data
        label = XmpLabel(
            digital_source_type=judgement.source_type or "",
            tc260_aigc=aigc_json(fields) if fields else None,
        )
        if isinstance(processed.format, MediaFormat):
            from aimark.media.media_xmp import XMP_FORMATS, write_xmp

            if processed.format not in XMP_FORMATS:
                notes.append(
                    f"labels not written into the file: {processed.format.label} has no XMP "
                    "that aimark writes; the platform's manifest carries them"
                )
                return processed.data
            out, note = write_xmp(processed.data, processed.format, label)
            if note:
                notes.append(f"XMP not written: {note}; the platform's manifest carries it")
            return out
        from aimark.metadata.exif import ExifLabel, merge_exif

        xmp = merge_xmp(None, label)
        exif = merge_exif(
            processed.exif,
            ExifLabel(comment=aigc_json(fields, wrapped=True) if fields else None),
        )
        png_text = {"AIGC": aigc_json(fields)} if fields else None
        return self._write_image(processed, xmp, exif, png_text, notes)

    @staticmethod
    def _write_image(
        processed: Processed,
        xmp: bytes | None,
        exif: bytes | None,
        png_text: dict[str, str] | None,
        notes: list[str],
    ) -> bytes:
        from aimark.media import containers, image_io

        fmt = processed.format
        assert isinstance(fmt, ImageFormat)
        if containers.can_write_in_place(fmt):
            assert processed.size is not None
            try:
                return containers.write_metadata(
                    processed.data,
                    fmt,
                    xmp=xmp,
                    exif=exif if fmt is not ImageFormat.GIF else None,
                    size=processed.size,
                    alpha=False,
                    png_text=png_text,
                )
            except ValueError as exc:
                notes.append(f"metadata not written: {exc}")
                return processed.data
        if fmt is ImageFormat.TIFF:
            return image_io.rewrite_tiff_metadata(processed.data, xmp=xmp, software=None)
        # AVIF, HEIC: the encoder writes the metadata, from the processed pixels
        return image_io.encode(processed.image, fmt, xmp=xmp, exif=exif, quality=processed.quality)


def ingest(
    src: SourceLike,
    dst: str | os.PathLike[str] | None,
    credentials: Credentials,
    *,
    platform: str,
    processing: Processing | None = None,
    verifier: Verifier | None = None,
    propagate_id: str | None = None,
    declared_ai: bool = False,
    title: str | None = None,
) -> IngestResult:
    """Verify an upload, apply the platform's processing, and publish the copy signed by the
    platform with the upload's provenance kept (see the module docstring).

    ``dst``: where to write the copy (atomically; None: only returned). ``propagate_id``:
    the platform's id for this copy (GB 45438 ``PropagateID``; default a new ``urn:uuid``).
    ``declared_ai``: the uploader declared the content AI-generated (GB 45438 Label 2 where
    nothing stronger is found).

    Raises:
        CorruptInputError: the upload is damaged or hostile (nothing is written).
        UnsupportedFormatError: not a format aimark labels.
        MissingToolError: audio/video transcoding needs ffmpeg.
        OutputError: ``dst`` is the upload.

    Example:
        >>> import tempfile, aimark
        >>> creds = aimark.create_dev_credentials(tempfile.mkdtemp()).credentials()
        >>> aimark.ingest(b"\\x00" * 64, None, creds, platform="P")
        Traceback (most recent call last):
        ...
        aimark.errors.UnsupportedFormatError: the upload cannot be ingested: ...
    """
    ingester = Ingester(credentials, platform=platform, processing=processing, verifier=verifier)
    return ingester.ingest(
        src, dst, propagate_id=propagate_id, declared_ai=declared_ai, title=title
    )
