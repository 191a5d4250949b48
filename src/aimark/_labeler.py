"""Labeler: turn an image into a labelled one (XMP/EXIF labels, then a signed C2PA manifest).

Flow: pixels → encode (format) → metadata labels → C2PA sign → bytes out (→ dst atomically).
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
from PIL import Image

from aimark._weak_mark import weak_mark_note
from aimark.credentials import Credentials
from aimark.disclosure import with_disclosure
from aimark.errors import (
    CorruptInputError,
    ImageTooLargeError,
    InputError,
    MissingExtraError,
    OutputError,
    SigningError,
    UnsupportedFormatError,
)
from aimark.generator import Generator, GeneratorLike
from aimark.keys import WatermarkKey, content_id_for, payload_for
from aimark.manifest.c2pa_io import ManifestReader, ManifestSigner
from aimark.manifest.definitions import ai_manifest, aimark_action
from aimark.manifest.jumbf import active_manifest_label
from aimark.manifest.text import find_wrappers, sign_text, strip_wrappers
from aimark.media import containers, image_io
from aimark.media.formats import MediaFormat, sniff_media
from aimark.media.limits import Limits
from aimark.media.media_xmp import XMP_FORMATS, write_xmp
from aimark.media.output import PendingWrite, same_file
from aimark.media.sniff import ImageFormat, describe_unknown, sniff
from aimark.media.source import SourceLike, read_source
from aimark.media.structure import ZIP_FORMATS, check_structure, unsupported_by_c2pa
from aimark.media.text_io import TEXT_MIME, check_text, decode_text
from aimark.media.zip_store import store_entries
from aimark.metadata.digital_source_type import DigitalSourceType
from aimark.metadata.exif import ExifError, ExifLabel, merge_exif
from aimark.metadata.tc260 import TC260Label, aigc_json, front_matter, read_front_matter
from aimark.metadata.xmp import DATA_MINING_PROHIBITED, XmpError, XmpLabel, merge_xmp
from aimark.repository import Binding, ManifestRecord, Repository, open_repository
from aimark.repository.fingerprint import available as fingerprint_available
from aimark.repository.fingerprint import fingerprint
from aimark.watermark.image import MIN_SIZE, SCHEME_ID, SurvivalCheck, check_survival, embed
from aimark.watermark.timed import TimedMark

__all__ = ["LabelResult", "LabelWarning", "Labeler"]

ImageSourceLike = Union[SourceLike, Image.Image]


class LabelWarning(UserWarning):
    """A label layer could not be written (the others were); the message says which and why."""


@dataclass(frozen=True)
class LabelResult:
    """A labelled image: its bytes, format, content id, and any layer that was skipped.

    ``bytes(result)`` gives the signed bytes. ``watermark_check`` says whether the invisible
    watermark survived a JPEG 75 round trip right after embedding, with its margin in dB
    (None when no watermark was embedded or the check was turned off). For audio and video,
    ``watermark_mark`` says which scheme was written, over which time range, at what quality.
    """

    data: bytes
    format: ImageFormat | MediaFormat | None  # None: a sidecar's file of a format unknown
    content_id: str
    path: Path | None = None
    layers: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    watermark_payload: int | None = None
    watermark_check: SurvivalCheck | None = None
    # audio and video: the scheme, time range and quality of the watermark written
    watermark_mark: TimedMark | None = None

    def __bytes__(self) -> bytes:
        return self.data


@dataclass(frozen=True)
class _Encoded:
    data: bytes
    format: ImageFormat
    size: tuple[int, int]
    alpha: bool
    name: str
    layers: tuple[str, ...] = ()
    original: bytes | None = None  # the input's bytes when the pixels were re-encoded
    check: SurvivalCheck | None = None  # the fresh watermark's JPEG 75 survival check
    existing: containers.Embedded = field(default_factory=containers.Embedded)  # read once
    fingerprint: Any = None  # PDQ of the pixels as signed (when a repository files them)


@dataclass(frozen=True)
class _Edited:
    image: Image.Image
    layers: tuple[str, ...] = ()
    check: SurvivalCheck | None = None


class Labeler:
    """Labels images (and texts) as AI-generated with one configuration (credentials,
    generator, ...).

    Reuse one Labeler for many images: the signer is set up once. Arguments are those of
    :func:`aimark.label_image`, plus ``metadata=False`` to skip the XMP/EXIF layer (C2PA only)
    and ``limits`` (:class:`~aimark.Limits`). ``identity``: :class:`~aimark.Credentials` of the
    person or organisation behind the content (their own X.509 chain and PEM key, not the
    claim signer's), signed into every embedded manifest as a CAWG identity assertion
    (``cawg.identity``, X.509); not into plain text, whose manifest c2pa-python cannot give one.
    :meth:`label_text` signs plain text (:func:`aimark.label_text`).

    Example:
        >>> import tempfile, aimark
        >>> from PIL import Image
        >>> dev = aimark.create_dev_credentials(tempfile.mkdtemp())
        >>> labeler = aimark.Labeler(dev.credentials(), generator=("my-model", "1.0"))
        >>> result = labeler.label_image(Image.new("RGB", (64, 64)), format="png")
        >>> result.format, result.layers
        (<ImageFormat.PNG: 'png'>, ('xmp', 'exif', 'c2pa'))
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        generator: GeneratorLike,
        source_type: DigitalSourceType | str = DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
        allow_training: bool | None = None,
        thumbnail: bool = False,
        metadata: bool = True,
        limits: Limits | None = None,
        watermark_key: WatermarkKey | None = None,
        watermark_strength: float = 1.0,
        check_watermark: bool = True,
        repository: Any = None,
        tc260: TC260Label | None = None,
        identity: Credentials | None = None,
    ) -> None:
        if identity is not None and not isinstance(identity, Credentials):
            raise TypeError("identity must be aimark.Credentials (the identity's chain and key)")
        if tc260 is not None and not isinstance(tc260, TC260Label):
            raise TypeError("tc260 must be an aimark.TC260Label")
        if watermark_key is not None and not isinstance(watermark_key, WatermarkKey):
            raise TypeError("watermark_key must be an aimark.WatermarkKey")
        if not isinstance(credentials, Credentials):
            raise TypeError(
                "credentials must be aimark.Credentials "
                "(Credentials.from_files(chain, key) or create_dev_credentials(dir).credentials())"
            )
        self.generator = Generator.coerce(generator)
        self.source_type = DigitalSourceType.parse(source_type)
        self.allow_training = allow_training
        self.thumbnail = thumbnail
        self.metadata = metadata
        self.limits = limits or Limits()
        self.watermark_key = watermark_key
        self.watermark_strength = watermark_strength
        self.check_watermark = check_watermark
        self.identity = identity
        self._signer = ManifestSigner(credentials, identity=identity)
        self._manifest_reader: ManifestReader | None = None
        self.repository = open_repository(repository) if repository is not None else None
        self.tc260 = tc260

    # ------------------------------------------------------------------ public

    def label_image(
        self,
        src: ImageSourceLike,
        dst: str | os.PathLike[str] | None = None,
        *,
        format: ImageFormat | str | None = None,
        overwrite: bool = False,
        title: str | None = None,
        content_id: str | None = None,
        quality: int | None = None,
        tc260: TC260Label | None = None,
        visible: bool | str = False,
        visible_position: str = "bottom-right",
        visible_font: str | os.PathLike[str] | None = None,
    ) -> LabelResult:
        """Label one image; see :func:`aimark.label_image` for the arguments."""
        _refuse_same_file(src, dst, overwrite)
        named = _format_named_by(dst)
        if _is_pixels(src) and named is not None:  # the destination's suffix decides
            if format is not None and ImageFormat.parse(format) is not named:
                raise OutputError(
                    f"format={format!r} contradicts the destination {dst} "
                    f"({named.label}); give one or make them agree"
                )
            format = named
        badge = _badge_text(visible)
        notes: list[str] = []
        payload = None
        if self.watermark_key is not None:
            payload = payload_for(content_id)
            content_id = content_id or content_id_for(payload)
        content_id = content_id or f"urn:uuid:{uuid.uuid4()}"
        tc = self._tc260_fields(tc260, content_id)
        edit = (badge, visible_position, visible_font) if badge else None
        enc = self._encoded(src, format, quality, content_id, payload, notes, tc, edit)
        if "watermark" not in enc.layers:
            payload = None
        data, fmt = enc.data, enc.format
        if named is not None and fmt is not named:  # an encoded input keeps its format
            raise OutputError(
                f"{dst} names {named.label}, but the input is {fmt.label}: labelling keeps an "
                f"encoded image's format; name the output {fmt.extension}, or convert the "
                "image first (e.g. label a PIL image, whose format the name decides)"
            )
        source = enc.original or data
        existing = enc.existing
        parent = source if existing.c2pa else None
        layers = list(enc.layers)
        if self.metadata and not {"xmp", "exif"} & set(enc.layers):
            data, written = self._with_metadata(enc, existing, content_id, notes, tc)
            layers.extend(written)
        if tc is not None and self.metadata and {"xmp", "exif"} & set(layers):
            layers.append("tc260")
        pdq = enc.fingerprint or self._fingerprint(data)
        definition = ai_manifest(
            generator=self.generator,
            content_id=content_id,
            source_type_uri=self.source_type.uri,
            title=title or enc.name,
            mime=fmt.mime,
            allow_training=self.allow_training,
            parent=parent is not None,
            watermark=None if payload is None else (SCHEME_ID, payload.to_bytes(8, "big")),
            edits=_visible_edit(badge, visible_position) if "visible" in layers else (),
            fingerprint=None if pdq is None else (pdq.alg, bytes.fromhex(pdq.value)),
        )
        binding = None if payload is None else Binding(SCHEME_ID, f"{payload:016x}")
        signed, path = self._sign_record_deliver(
            data, fmt.mime, definition, parent, dst, notes, content_id, binding, pdq, layers
        )
        return LabelResult(
            signed, fmt, content_id, path, tuple(layers), tuple(notes), payload, enc.check
        )

    def label_media(
        self,
        src: SourceLike,
        dst: str | os.PathLike[str] | None = None,
        *,
        overwrite: bool = False,
        title: str | None = None,
        content_id: str | None = None,
        tc260: TC260Label | None = None,
    ) -> LabelResult:
        """Label a video, audio file or document (MP4, MOV, M4A, AVI, WAV, MP3, FLAC, PDF, SVG,
        JPEG XL, Office, EPUB, OpenDocument, ZIP): a signed C2PA manifest declaring the
        digital source type, and XMP where the container has a place for it (SVG, MP4, MOV,
        M4A, WAV). Nothing is decoded or re-encoded, and there is no invisible watermark (it
        is for raster images), except that a deflated ZIP package (Office, OpenDocument,
        EPUB as their programs save them) is repackaged with every entry stored, which c2pa
        can bind (a note gives both sizes; the manifest records ``c2pa.repackaged``). An
        existing manifest becomes the parent ingredient.

        Raises:
            UnsupportedFormatError: not one of these containers (images: :meth:`label_image`).
            CorruptInputError: the container's framing is damaged or hostile (nothing signed).
            OutputError: ``dst`` is the source and ``overwrite`` is false.

        Example:
            >>> import tempfile, aimark
            >>> dev = aimark.create_dev_credentials(tempfile.mkdtemp())
            >>> labeler = aimark.Labeler(dev.credentials(), generator="my-model")
            >>> svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
            >>> result = labeler.label_media(svg)
            >>> result.format.value, result.layers
            ('svg', ('xmp', 'c2pa'))
        """
        _refuse_same_file(src, dst, overwrite)
        data = read_source(src, self.limits).data
        fmt = sniff_media(data)
        if fmt is None:
            image_format = sniff(data)
            if image_format is not None:
                raise UnsupportedFormatError(
                    f"the input is {image_format.value.upper()}, an image: use label_image"
                )
            raise UnsupportedFormatError(
                f"cannot label {describe_unknown(data)}: not a media type c2pa carries"
            )
        problems = check_structure(data, fmt)
        if problems:
            raise CorruptInputError(
                f"{fmt.label} that looks damaged ({problems[0]}); nothing was signed"
            )
        notes: list[str] = []
        edits: tuple[dict[str, Any], ...] = ()
        if fmt in ZIP_FORMATS and unsupported_by_c2pa(data, fmt):
            data, edits = self._stored_package(data, fmt, notes)
        why = unsupported_by_c2pa(data, fmt)
        if why:
            raise UnsupportedFormatError(f"cannot sign {why}; nothing was signed")
        suffix = Path(dst).suffix.lower() if dst is not None else ""
        if suffix in _KNOWN_SUFFIXES and suffix != fmt.extension:
            notes.append(
                f"{dst} holds {fmt.label} (labelling keeps the input's container); its usual "
                f"extension is {fmt.extension}"
            )
        has_manifest = self._reader().read(data, fmt.mime).manifest is not None
        layers: list[str] = []
        out = data
        mark: TimedMark | None = None
        if self.watermark_key is not None:
            out, mark, content_id = self._mark_media(data, fmt, content_id, notes, layers)
        content_id = content_id or f"urn:uuid:{uuid.uuid4()}"
        if self.metadata and fmt in XMP_FORMATS:
            tc = self._tc260_fields(tc260, content_id)
            out, note = write_xmp(out, fmt, self._xmp_label(content_id, tc))
            if note:
                notes.append(f"XMP not written: {note}; the C2PA manifest carries the label")
            else:
                layers.extend(["xmp", "tc260"] if tc else ["xmp"])
        elif self.metadata and (tc260 or self.tc260):
            notes.append(
                f"GB 45438 implicit label not written: {fmt.label} has no XMP that aimark "
                "writes (SVG, MP4, MOV, M4A and WAV do)"
            )
        definition = ai_manifest(
            generator=self.generator,
            content_id=content_id,
            source_type_uri=self.source_type.uri,
            title=title or _title_of(src, fmt),
            mime=fmt.mime,
            allow_training=self.allow_training,
            parent=has_manifest,
            watermark=None if mark is None else (mark.scheme, mark.payload.to_bytes(8, "big")),
            watermark_timespan=None if mark is None else (mark.start_s, mark.end_s),
            edits=edits,
        )
        binding = None if mark is None else Binding(mark.scheme, f"{mark.payload:016x}")
        signed, path = self._sign_record_deliver(
            out,
            fmt.mime,
            definition,
            data if has_manifest else None,
            dst,
            notes,
            content_id,
            binding,
            None,
            layers,
            thumbnail=False,
        )
        return LabelResult(
            signed,
            fmt,
            content_id,
            path,
            tuple(layers),
            tuple(notes),
            None if mark is None else mark.payload,
            watermark_mark=mark,
        )

    def _stored_package(
        self, data: bytes, fmt: MediaFormat, notes: list[str]
    ) -> tuple[bytes, tuple[dict[str, Any], ...]]:
        """A deflated ZIP package (as Office, LibreOffice and EPUB tools save them) with every
        entry stored, which c2pa can bind; the change goes in the notes and the manifest."""
        stored = store_entries(data, self.limits.max_bytes)
        change = (
            f"repackaged without compression: {len(data):,} → {len(stored):,} bytes so that "
            "C2PA can bind it (same entries, contents and timestamps)"
        )
        notes.append(
            f"{fmt.label} {change}; --sidecar (Python: label_sidecar) labels a file that must "
            "not change"
        )
        edit = aimark_action("c2pa.repackaged", change)
        return stored, (edit,)

    def label_sidecar(
        self,
        src: SourceLike,
        sidecar_dst: str | os.PathLike[str] | None = None,
        *,
        title: str | None = None,
        content_id: str | None = None,
        overwrite: bool = False,
    ) -> LabelResult:
        """Label any file by a sidecar: the signed AI manifest goes to ``src + ".c2pa"``
        (``photo.cr3`` → ``photo.cr3.c2pa``; ``sidecar_dst`` names another), a manifest store
        whose hard binding covers every byte of ``src``, which is never modified. For files
        that cannot be rewritten (an Office/EPUB file that must keep its bytes, camera RAW,
        archives) or on request.
        ``bytes(result)`` is the store; ``result.path`` the sidecar; ``layers`` is
        ``("c2pa-sidecar",)`` (plus ``"repository"`` when one is configured).

        Raises:
            OutputError: the sidecar exists and ``overwrite`` is false, or would be ``src``.

        Example:
            >>> import tempfile, pathlib, aimark
            >>> folder = pathlib.Path(tempfile.mkdtemp())
            >>> dev = aimark.create_dev_credentials(folder / "dev")
            >>> doc = folder / "report.docx"; _ = doc.write_bytes(b"PK any bytes")
            >>> labeler = aimark.Labeler(dev.credentials(), generator="my-model")
            >>> labeler.label_sidecar(doc).path.name
            'report.docx.c2pa'
        """
        from aimark._sidecar import sign_sidecar

        signed = sign_sidecar(
            self, src, sidecar_dst, title=title, content_id=content_id, overwrite=overwrite
        )
        path = _deliver(signed.store, signed.dst, [], self.repository, signed.record)
        layers = ("c2pa-sidecar", "repository") if signed.record else ("c2pa-sidecar",)
        return LabelResult(signed.store, signed.format, signed.content_id, path, layers)

    def _mark_media(
        self,
        data: bytes,
        fmt: MediaFormat,
        content_id: str | None,
        notes: list[str],
        layers: list[str],
    ) -> tuple[bytes, TimedMark | None, str | None]:
        """The audio or video watermark of :attr:`watermark_key`, embedded by ffmpeg
        re-encoding the media (its codec settings kept): (bytes, what was written, the content
        id the payload stands for). Where it cannot be embedded (a document, no ffmpeg), the
        bytes come back unchanged with a note saying why."""
        from aimark.marking.embed import mark_media, watermarkable

        assert self.watermark_key is not None
        if not watermarkable(fmt):
            notes.append(
                f"no invisible watermark in {fmt.label}: aimark's watermarks are for images, "
                "audio and video; the C2PA manifest (and XMP where written) carry the label"
            )
            return data, None, content_id
        payload = payload_for(content_id)
        try:
            out, mark = mark_media(
                data, fmt, self.watermark_key, payload, strength=self.watermark_strength
            )
        except MissingExtraError as exc:  # no ffmpeg (MissingToolError), or no SciPy for audio
            notes.append(f"watermark not embedded: {exc}")
            return data, None, content_id
        layers.append("watermark")
        notes.extend(mark.notes)
        return out, mark, content_id or content_id_for(payload)

    def _sign_record_deliver(
        self,
        data: bytes,
        mime: str,
        definition: dict[str, Any],
        parent: bytes | None,
        dst: Any,
        notes: list[str],
        content_id: str,
        binding: Binding | None,
        pdq: Any,
        layers: list[str],
        *,
        thumbnail: bool | None = None,
    ) -> tuple[bytes, Path | None]:
        """Sign, file the manifest store in the repository, write the output: both or
        neither (:func:`_deliver`). The one tail of every file labelled."""
        signed, store = self._signer.sign_with_store(
            data,
            mime,
            definition,
            thumbnail=self.thumbnail if thumbnail is None else thumbnail,
            parent=parent,
        )
        layers.append("c2pa")
        record = self._record(store, mime, content_id, binding, pdq)
        path = _deliver(signed, dst, notes, self.repository, record)
        if record is not None:
            layers.append("repository")
        return signed, path

    def _record(
        self,
        store: bytes,
        mime: str,
        content_id: str,
        binding: Binding | None,
        pdq: Any,
    ) -> ManifestRecord | None:
        """What the repository keeps of a signed file: its manifest store under the active
        manifest's label (read from the store the signer returned), the watermark payload,
        and (images) the PDQ fingerprint of the pixels as signed. None without a repository."""
        if self.repository is None:
            return None
        label = active_manifest_label(store)
        if not label:
            raise SigningError("the signer returned no manifest store to file in the repository")
        prints = () if pdq is None else (Binding(pdq.alg, pdq.value),)
        return ManifestRecord(
            manifest_id=label,
            store=store,
            mime=mime,
            content_id=content_id,
            bindings=(binding,) if binding else (),
            fingerprints=prints,
        )

    def _fingerprint(self, data: bytes) -> Any:
        """The PDQ fingerprint of an image about to be signed, when it goes to a repository
        (and pdqhash is installed, and the picture has enough detail for one); else None."""
        if self.repository is None or not fingerprint_available():
            return None
        fp = fingerprint(image_io.decode(data, self.limits).pixels)
        return fp if fp.usable else None

    def _reader(self) -> ManifestReader:
        if self._manifest_reader is None:
            self._manifest_reader = ManifestReader()
        return self._manifest_reader

    def label_text(
        self,
        text: str | bytes,
        *,
        title: str | None = None,
        content_id: str | None = None,
        watermark: Any = None,
        replace: bool = False,
        tc260: TC260Label | None = None,
        disclosure: bool | str = False,
        disclosure_position: str = "prefix",
    ) -> str:
        """Label one text; see :func:`aimark.label_text` for the arguments."""
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = decode_text(bytes(text), self.limits)
        check_text(text, self.limits)
        if find_wrappers(text):
            if not replace:
                raise InputError(
                    "the text already carries a C2PA manifest (a text wrapper); pass "
                    "replace=True (CLI: --replace) to sign it anew: the old manifest is "
                    "dropped, not kept as an ingredient"
                )
            text = strip_wrappers(text)
            check_text(text, self.limits)
        content_id = content_id or f"urn:uuid:{uuid.uuid4()}"
        text = with_disclosure(text, disclosure, disclosure_position)
        tc = self._tc260_fields(tc260, content_id)
        if tc is not None:
            if read_front_matter(text) is not None:
                raise InputError(
                    "the text already starts with a GB 45438 (AIGC) front-matter block; "
                    "remove it or leave tc260 out"
                )
            text = front_matter(tc) + text
        check_text(text, self.limits)
        definition = ai_manifest(
            generator=self.generator,
            content_id=content_id,
            source_type_uri=self.source_type.uri,
            title=title or "AI-generated text",
            mime=TEXT_MIME,
            allow_training=self.allow_training,
            text_watermark=_describe_watermark(watermark),
        )
        if self.identity is not None:
            warnings.warn(
                "the text's manifest carries no CAWG identity assertion: c2pa-python 0.38.1 "
                "cannot sign one into a data-hashed (plain text) manifest",
                LabelWarning,
                stacklevel=3,
            )
        return sign_text(self._signer, text, definition)

    # ------------------------------------------------------------------ steps

    def _tc260_fields(self, tc260: TC260Label | None, content_id: str) -> dict[str, str] | None:
        if tc260 is not None and not isinstance(tc260, TC260Label):
            raise TypeError("tc260 must be an aimark.TC260Label")
        label = tc260 or self.tc260
        return label.fields(content_id) if label is not None else None

    def _xmp_label(self, content_id: str, tc: dict[str, str] | None = None) -> XmpLabel:
        g = self.generator
        return XmpLabel(
            tc260_aigc=aigc_json(tc) if tc else None,
            digital_source_type=self.source_type.uri,
            creator_tool=g.label,
            ai_system=g.name,
            ai_system_version=g.version,
            content_id=content_id,
            data_mining=DATA_MINING_PROHIBITED if self.allow_training is False else None,
        )

    def _exif_label(self, tc: dict[str, str] | None = None) -> ExifLabel:
        comment = f"AI-generated ({self.source_type.value}) by {self.generator.label}"
        # GB 45438's implementers put the AIGC object in UserComment; the plain-language
        # label stays in XMP and the C2PA manifest
        return ExifLabel(
            software=self.generator.label,
            comment=aigc_json(tc, wrapped=True) if tc else comment,
        )

    def _encoded(
        self,
        src: Any,
        format: Any,
        quality: int | None,
        content_id: str,
        payload: int | None,
        notes: list[str],
        tc: dict[str, str] | None = None,
        edit: tuple[str, str, Any] | None = None,
    ) -> _Encoded:
        """The image to sign: an encoded input read once (its metadata too), or pixels. The
        pixel edits (the visible badge, then the watermark when a key is set) are applied to
        one decoded image, which is then encoded once."""
        if hasattr(src, "__array_interface__") and not isinstance(src, Image.Image):
            src = Image.fromarray(src)
        if isinstance(src, Image.Image):
            fmt = ImageFormat.parse(format) if format else _format_of_pil(src)
            edited = self._edit_pixels(src, fmt, payload, edit, notes)
            return self._encode(edited, fmt, quality, content_id, tc, None, None, {}, None)
        if format is not None:
            raise TypeError(
                "format= applies to PIL images and arrays; encoded inputs keep their format"
            )
        source = read_source(src, self.limits)
        info = image_io.probe(source.data, self.limits)
        existing = containers.read_metadata(source.data, info.format)  # checks the structure
        name = source.path.name if source.path else None
        marking = payload is not None and self._watermark_fits(info.format, info.size, notes)
        if edit is not None or marking:
            dec = image_io.decode(source.data, self.limits)  # the one decode
            image = image_io.from_array(dec.pixels, dec.mode)
            params = dec.params
            del dec
            edited = self._edit_pixels(image, info.format, payload, edit, notes, fits=marking)
            return self._encode(
                edited, info.format, quality, content_id, tc, source.data, existing, params, name
            )
        if info.format in (ImageFormat.AVIF, ImageFormat.HEIC, ImageFormat.TIFF):
            image_io.decode_check(source.data, self.limits)
        name = name or f"AI-generated image{info.format.extension}"
        return _Encoded(
            source.data, info.format, info.size, "A" in info.mode, name, existing=existing
        )

    def _watermark_fits(self, fmt: ImageFormat, size: tuple[int, int], notes: list[str]) -> bool:
        """Whether the watermark can go into an image of this format and size (else a note)."""
        if fmt is ImageFormat.GIF:
            notes.append("watermark not embedded: GIF's palette quantisation would destroy it")
            return False
        if min(size) < MIN_SIZE:
            notes.append(f"watermark not embedded: the image is under {MIN_SIZE} px")
            return False
        return True

    def _edit_pixels(
        self,
        image: Image.Image,
        fmt: ImageFormat,
        payload: int | None,
        edit: tuple[str, str, Any] | None,
        notes: list[str],
        *,
        fits: bool | None = None,
    ) -> _Edited:
        """The visible badge (drawn first, so the watermark covers it), then the watermark
        (``fits``: whether it fits this image, when already checked)."""
        layers: tuple[str, ...] = ()
        check = None
        if edit is not None:
            from aimark.visible import overlay  # Pillow's font machinery, only when asked

            image = overlay(image, edit[0], position=edit[1], font=edit[2])
            layers += ("visible",)
        if fits is None and payload is not None:
            fits = self._watermark_fits(fmt, image.size, notes)
        if payload is not None and fits:
            mode = (
                image.mode
                if image.mode in ("L", "RGB", "RGBA", "I;16")
                else ("RGBA" if "A" in image.getbands() else "RGB")
            )
            arr = np.asarray(image.convert(mode) if mode != image.mode else image)
            marked, check = self._watermark(arr, payload, notes)
            del arr
            image = image_io.from_array(marked, mode)
            layers += ("watermark",)
        return _Edited(image, layers, check)

    def _encode(
        self,
        edited: _Edited,
        fmt: ImageFormat,
        quality: int | None,
        content_id: str,
        tc: dict[str, str] | None,
        original: bytes | None,
        existing: containers.Embedded | None,
        params: dict[str, Any],
        name: str | None,
    ) -> _Encoded:
        """Encode the (edited) pixels once, keeping an encoded input's own metadata; a PDQ
        fingerprint of these pixels when a repository will file them."""
        image = edited.image
        w, h = image.size
        if w * h > self.limits.max_pixels:
            raise ImageTooLargeError(f"{w}×{h} image is over the pixel limit")
        xmp = exif = None
        layers = edited.layers
        if existing is not None and containers.can_write_in_place(fmt):
            xmp, exif = existing.xmp, existing.exif  # kept through the re-encode; labels later
        if self.metadata and fmt in (ImageFormat.AVIF, ImageFormat.HEIC):
            # No in-place writer for these: the encoder writes the metadata itself.
            xmp = merge_xmp(None, self._xmp_label(content_id, tc))
            exif = merge_exif(None, self._exif_label(tc))
            layers += ("xmp", "exif")
        pdq = None
        if self.repository is not None and fingerprint_available():
            fp = fingerprint(np.asarray(image))  # the pixels as signed, before encoding
            pdq = fp if fp.usable else None
        data = image_io.encode(image, fmt, xmp=xmp, exif=exif, quality=quality, params=params)
        if existing is None:  # pixels in: what the encoder wrote is the file's own metadata
            existing = containers.read_metadata(data, fmt)
        return _Encoded(
            data,
            fmt,
            image.size,
            "A" in image.mode,
            name or f"AI-generated image{fmt.extension}",
            layers,
            original,
            edited.check,
            existing=existing,
            fingerprint=pdq,
        )

    def _watermark(
        self, pixels: np.ndarray, payload: int, notes: list[str]
    ) -> tuple[np.ndarray, SurvivalCheck | None]:
        """Embed, then (unless turned off) check that the mark survives a JPEG 75 re-encode;
        a mark that would not gets a warning with its measured margin."""
        assert self.watermark_key is not None
        marked = embed(pixels, self.watermark_key, payload, strength=self.watermark_strength)
        if not self.check_watermark:
            return marked, None
        check = check_survival(marked, self.watermark_key, payload)
        if not check.survived:
            notes.append(
                weak_mark_note(
                    pixels, marked, self.watermark_key, payload, self.watermark_strength, check
                )
            )
        return marked, check

    def _with_metadata(
        self,
        enc: _Encoded,
        existing: containers.Embedded,
        content_id: str,
        notes: list[str],
        tc: dict[str, str] | None = None,
    ) -> tuple[bytes, list[str]]:
        data, fmt = enc.data, enc.format
        label = self._xmp_label(content_id, tc)
        if fmt is ImageFormat.TIFF:
            tags = image_io.probe(enc.original or data, self.limits).info.get("tiff_tags", {})
            xmp_raw = tags.get(700)
            try:
                xmp: bytes | None = merge_xmp(
                    bytes(xmp_raw) if isinstance(xmp_raw, (bytes, tuple)) else None, label
                )
            except XmpError as exc:
                notes.append(f"XMP not written: {exc}; the existing XMP was kept")
                xmp = None
            out = image_io.rewrite_tiff_metadata(
                data, xmp=xmp, software=self.generator.label, limits=self.limits
            )
            return out, ["xmp", "exif"] if xmp is not None else ["exif"]
        if not containers.can_write_in_place(fmt):
            notes.append(
                f"XMP/EXIF not written: {fmt.value.upper()} metadata cannot be added without "
                "re-encoding the image; the signed C2PA manifest carries the digital source "
                "type (pass a PIL image to have the encoder write XMP/EXIF)"
            )
            return data, []
        written: list[str] = []
        try:
            xmp = merge_xmp(existing.xmp, label)
            written.append("xmp")
        except XmpError as exc:
            notes.append(f"XMP not written: {exc}; the existing XMP was kept")
            xmp = None
        exif = None
        if fmt is not ImageFormat.GIF:
            try:
                exif = merge_exif(existing.exif, self._exif_label(tc))
                written.append("exif")
            except ExifError as exc:
                notes.append(f"EXIF not written: {exc}; the existing EXIF was kept")
        try:
            out = containers.write_metadata(
                data,
                fmt,
                xmp=xmp,
                exif=exif,
                size=enc.size,
                alpha=enc.alpha,
                png_text={"AIGC": aigc_json(tc)} if tc else None,
            )
        except ValueError as exc:  # e.g. XMP larger than a JPEG segment
            notes.append(f"metadata not written: {exc}")
            return data, []
        return out, written


def _badge_text(visible: bool | str) -> str | None:
    """The visible badge's text for ``visible=`` (True: "AI-generated"), or None."""
    if visible is True:
        return "AI-generated"
    if not visible:
        return None
    if not isinstance(visible, str):
        raise TypeError("visible must be True, False or the badge's text")
    return visible.strip() or None


def _visible_edit(text: str | None, position: str) -> tuple[dict[str, Any], ...]:
    """The C2PA action recording the visible badge drawn on the pixels."""
    return (aimark_action("c2pa.edited", f'visible label "{text}" drawn ({position})'),)


def _describe_watermark(watermark: Any) -> dict[str, Any] | None:
    """The parameters a text watermark scheme records (its ``describe()``), checked."""
    if watermark is None:
        return None
    describe = getattr(watermark, "describe", None)
    params = describe() if callable(describe) else watermark
    if not isinstance(params, Mapping):
        raise TypeError("watermark must have a describe() method returning a dict")
    params = {str(k): v for k, v in params.items()}
    try:
        json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the watermark description is not plain JSON: {exc}") from None
    return params


def _refuse_same_file(src: Any, dst: Any, overwrite: bool) -> None:
    is_path = isinstance(src, (str, os.PathLike))
    if dst is not None and is_path and not overwrite and same_file(src, dst):
        raise OutputError(
            f"destination {dst} is the source; pass overwrite=True (CLI: --in-place) to replace it"
        )


def _deliver(
    signed: bytes,
    dst: Any,
    notes: list[str],
    repository: Repository | None = None,
    record: ManifestRecord | None = None,
) -> Path | None:
    """Warn about the layers skipped, then write ``signed`` to ``dst`` and ``record`` to the
    repository, both or neither: the output is complete in a temporary file before the record
    is committed, and put in place only after it (a failed rename removes the record again)."""
    for note in notes:
        warnings.warn(note, LabelWarning, stacklevel=4)
    pending = PendingWrite(dst, signed) if dst is not None else None
    if record is not None and repository is not None:
        try:
            repository.add(record)
        except BaseException:
            if pending is not None:
                pending.abort()
            raise
    if pending is None:
        return None
    try:
        pending.commit()
    except BaseException:
        if record is not None and repository is not None:
            repository.remove(record.manifest_id)
        raise
    return Path(dst)


_KNOWN_SUFFIXES = {f.extension for f in MediaFormat} | {f.extension for f in ImageFormat}


def _is_pixels(src: Any) -> bool:
    """A PIL image or an array: pixels whose encoding the labeller chooses."""
    return isinstance(src, Image.Image) or hasattr(src, "__array_interface__")


def _format_named_by(dst: Any) -> ImageFormat | None:
    """The image format ``dst``'s suffix names (None without a destination or suffix).

    Raises:
        OutputError: the suffix names no image format aimark writes.
    """
    if dst is None or not Path(dst).suffix:
        return None
    suffix = Path(dst).suffix
    try:
        return ImageFormat.parse(suffix)
    except ValueError:
        known = ", ".join(f.extension for f in ImageFormat)
        raise OutputError(
            f"{dst}: {suffix} is not an image format aimark writes ({known}); name the "
            "output with one of these, or leave the suffix off and give format="
        ) from None


def _title_of(src: Any, fmt: MediaFormat) -> str:
    if isinstance(src, (str, os.PathLike)):
        return Path(src).name
    name = getattr(src, "name", None)
    return Path(name).name if isinstance(name, str) else f"AI-generated {fmt.kind}"


def _format_of_pil(im: Image.Image) -> ImageFormat:
    if im.format:
        try:
            return ImageFormat.parse(im.format)
        except ValueError:
            pass
    return ImageFormat.PNG
