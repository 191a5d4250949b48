"""Verifier: bytes in → sniff → guard limits → each layer → one Report.

Content problems (empty, unsupported, truncated, bombs, broken manifests) are outcomes in the
report; only an unreadable *path* raises.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from aimark.errors import (
    AimarkError,
    EmptyInputError,
    ImageTooLargeError,
    InputError,
    MissingExtraError,
)
from aimark.keys import WatermarkKey
from aimark.manifest.c2pa_io import ManifestReader
from aimark.manifest.text import read_text
from aimark.media import containers, image_io
from aimark.media.formats import MediaFormat, sniff_media
from aimark.media.limits import Limits
from aimark.media.sniff import sniff
from aimark.media.source import SourceLike, read_source
from aimark.media.text_io import check_text, decode_text, is_text
from aimark.report import (
    C2paResult,
    C2paState,
    MediaInfo,
    MetadataResult,
    Recovery,
    Report,
    WatermarkResult,
)
from aimark.trust import TrustAnchors, TrustLike
from aimark.verification.manifest import read_c2pa
from aimark.verification.media import read_media
from aimark.verification.metadata import image_metadata, text_layers
from aimark.verification.pixels import Pixels
from aimark.verification.recovery import recover
from aimark.verification.verdict import verdict
from aimark.verification.watermark import read_watermark
from aimark.watermark.image import DEFAULT_THRESHOLD, SCHEMES

__all__ = ["Verifier"]


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
        watermark_seconds: float | None = 600.0,
        fetch_remote: bool = False,
    ) -> None:
        self.trust = TrustAnchors.coerce(trust)
        # fetch a manifest that a file's XMP (dcterms:provenance) says is at a URL: off unless
        # asked (CLI: verify --online); the service never fetches
        self.fetch_remote = fetch_remote
        # audio and video: how much of a file the watermark detector decodes (None: all)
        if watermark_seconds is not None and not watermark_seconds > 0:
            raise ValueError("watermark_seconds must be positive (or None: the whole file)")
        self.watermark_seconds = watermark_seconds
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
            return self.error_report(name, exc, size=0)
        return self.verify_bytes(source.data, name=source.name, path=source.path)

    def verify_text(self, text: str, *, name: str = "<text>") -> Report:
        """Verify a text held as a ``str`` (its C2PA manifest in the text wrapper)."""
        try:
            data = check_text(text, self.limits)
        except InputError as exc:
            return self.error_report(name, exc, size=len(text))
        return self._text_report(text, data, name)

    def verify_bytes(
        self, data: bytes, *, name: str = "<bytes>", path: str | os.PathLike[str] | None = None
    ) -> Report:
        """Verify bytes already in memory (e.g. an upload): an image, media, or UTF-8 text.

        ``path``: where the bytes were read from, to look for a sidecar manifest beside it
        (``NAME.c2pa``) when the file carries none itself; bytes without a path have none."""
        from aimark.manifest.sidecar import is_manifest_store
        from aimark.verification import remote, sidecar

        report = self._verify_bytes(data, name)
        if report.error is not None and is_manifest_store(data):
            return sidecar.store_report(self, report, path)
        if path is not None:
            report = sidecar.with_sidecar(self, report, path, data)
        return remote.with_remote(self, report, data)

    def _verify_bytes(self, data: bytes, name: str) -> Report:
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
            return self.error_report(name, exc, size=len(data))
        problems: list[str] = []
        try:
            embedded = containers.read_metadata(data, info.format)
        except InputError as exc:
            problems.append(str(exc))
            embedded = containers.Embedded()
        c2pa_result, unparsed = read_c2pa(self._reader, data, info.format.mime)
        if unparsed is not None:  # a damaged file without Content Credentials
            problems.append(f"the C2PA reader could not parse the file: {unparsed}")
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
        metadata = image_metadata(info, embedded)
        recovering = self.repository is not None and c2pa_result.state is C2paState.ABSENT
        pixels = Pixels(  # one decode, at the least size every reader below needs
            data,
            self.limits,
            luma=bool(self.watermark_keys),
            colour=recovering,
            full=self.public_watermarks,
        )
        watermark = read_watermark(
            pixels,
            self.watermark_keys,
            public=self.public_watermarks,
            threshold=self.watermark_threshold,
            schemes=self.watermark_schemes,
        )
        recovery = None
        if recovering:
            recovery = recover(
                self._open_repository,
                self._repository_name(),
                self._reader,
                data,
                info.format.mime,
                watermark,
                pixels,
            )
        return self._report(name, media, c2pa_result, metadata, watermark, recovery)

    # ------------------------------------------------------------------ repository

    def _repository_name(self) -> str:
        if isinstance(self.repository, (str, os.PathLike)):
            return str(self.repository)
        return type(self.repository).__name__

    def _open_repository(self) -> Any:
        if self._repo is None:
            from aimark.repository import open_repository

            self._repo = open_repository(self.repository, create=False)  # never creates one
        return self._repo

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
            verdict=verdict(c2pa_result, metadata, media, watermark, recovery),
            media=media,
            c2pa=c2pa_result,
            metadata=metadata,
            trust_anchors=len(self.trust.subjects),
            watermark=watermark,
            recovery=recovery,
        )

    def _media_report(self, data: bytes, fmt: MediaFormat, name: str) -> Report:
        timed = fmt.kind in ("audio", "video")
        try:
            media, c2pa_result, metadata, watermark = read_media(
                self._reader,
                data,
                fmt,
                watermark=bool(self.public_watermarks or (self.watermark_keys and not timed)),
            )
        except InputError as exc:
            return self.error_report(name, exc, size=len(data), fmt=fmt)
        if timed and self.watermark_keys:
            from aimark.verification.timed_watermark import read_timed_watermark

            watermark = read_timed_watermark(
                data,
                fmt,
                self.watermark_keys,
                threshold=self.watermark_threshold,
                max_seconds=self.watermark_seconds,
            )
        recovery = None  # without pixels there is no fingerprint: only a payload looks it up
        if (
            self.repository is not None
            and c2pa_result.state is C2paState.ABSENT
            and watermark.detected
        ):
            recovery = recover(
                self._open_repository,
                self._repository_name(),
                self._reader,
                data,
                fmt.mime,
                watermark,
                None,
            )
        return self._report(name, media, c2pa_result, metadata, watermark, recovery)

    def _text_report(self, text: str, data: bytes, name: str) -> Report:
        media, metadata = text_layers(text, data)
        c2pa_result = read_text(self._reader, text, data)
        watermark = WatermarkResult()
        if self.watermark_keys:  # image watermark keys: nothing to decode in a text
            watermark = WatermarkResult(status="not checked: image watermarks do not apply to text")
        return self._report(name, media, c2pa_result, metadata, watermark)

    def error_report(
        self, name: str, exc: AimarkError, *, size: int, fmt: MediaFormat | None = None
    ) -> Report:
        """The report on an input that cannot be verified (see :meth:`Report.from_error`)."""
        media = MediaInfo(format=fmt.value, kind=fmt.kind, mime=fmt.mime) if fmt else None
        return Report.from_error(
            name,
            exc.code,
            str(exc),
            size=size,
            media=media,
            trust_anchors=len(self.trust.subjects),
        )


def _is_text_str(src: str) -> bool:
    """A ``str`` given to verify is text, not a path, if no path could look like it."""
    return "\ufeff" in src or "\n" in src or "\r" in src or len(src) > 4096
