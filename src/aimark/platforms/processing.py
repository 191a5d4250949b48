"""What a platform does to an upload before publishing it: :class:`Processing` (resize to a
long side, re-encode images to JPEG/WebP/AVIF at a quality, keep only the EXIF fields that
are not private; pass audio/video through or transcode them with ffmpeg), and the C2PA
actions that record it.

Example:
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (4000, 1000), "gray").save(buf, "PNG")
    >>> out = process_image(buf.getvalue(), Processing(max_side=1000))
    >>> out.size, out.format.value, [a["action"] for a in out.actions]
    ((1000, 250), 'jpeg', ['c2pa.resized', 'c2pa.transcoded'])
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from aimark.errors import CorruptInputError
from aimark.manifest.definitions import aimark_action
from aimark.media.formats import MediaFormat
from aimark.media.limits import Limits
from aimark.media.sniff import ImageFormat

__all__ = [
    "KEPT_EXIF",
    "IngestProcessing",
    "Processed",
    "Processing",
    "process_image",
    "process_media",
]

# the EXIF fields a platform keeps: rights and the time of capture; everything else (GPS,
# camera serials, owner names, maker notes, thumbnails) is private or the platform's to drop
KEPT_EXIF = {
    "0th": (315, 33432),  # Artist, Copyright
    "Exif": (36867,),  # DateTimeOriginal
}
_IMAGE_OUT = (ImageFormat.JPEG, ImageFormat.WEBP, ImageFormat.AVIF)
_AV_MODES = ("copy", "transcode")


@dataclass(frozen=True)
class Processing:
    """A platform's processing of every upload (its documented set; defaults are typical).

    ``max_side``: images larger than this on their long side are scaled down (Lanczos);
    None keeps the size. ``image_format``: ``"jpeg"``, ``"webp"``, ``"avif"`` or None (keep
    the upload's format, re-encoded all the same). ``quality``: of the lossy encoders.
    ``strip_private``: keep only :data:`KEPT_EXIF` (GPS and every other private field go).
    ``av``: ``"copy"`` publishes audio/video as uploaded; ``"transcode"`` re-encodes it with
    ffmpeg (H.264 ``video_height`` lines at CRF ``video_crf`` in MP4, AAC or MP3 audio at
    ``audio_bitrate``). Documents always pass through.

    Example:
        >>> Processing(max_side=1080, image_format="webp").image_format
        'webp'
    """

    max_side: int | None = 2048
    image_format: str | None = "jpeg"
    quality: int = 85
    strip_private: bool = True
    av: str = "copy"
    video_height: int = 720
    video_crf: int = 28
    audio_bitrate: str = "128k"

    def __post_init__(self) -> None:
        if self.max_side is not None and not (16 <= int(self.max_side) <= 100_000):
            raise ValueError("max_side must be between 16 and 100000 pixels (or None)")
        if self.image_format is not None:
            fmt = ImageFormat.parse(self.image_format)
            if fmt not in _IMAGE_OUT:
                raise ValueError("image_format must be jpeg, webp, avif or None (keep)")
            object.__setattr__(self, "image_format", fmt.value)
        if not 1 <= int(self.quality) <= 100:
            raise ValueError("quality must be between 1 and 100")
        if self.av not in _AV_MODES:
            raise ValueError(f"av must be one of {_AV_MODES}")
        if not 32 <= int(self.video_height) <= 4320:
            raise ValueError("video_height must be between 32 and 4320")
        if not 0 <= int(self.video_crf) <= 51:
            raise ValueError("video_crf must be between 0 and 51")
        if not self.audio_bitrate.rstrip("k").isdigit():
            raise ValueError("audio_bitrate must look like 128k")

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_side": self.max_side,
            "image_format": self.image_format,
            "quality": self.quality,
            "strip_private": self.strip_private,
            "av": self.av,
            "video_height": self.video_height,
            "video_crf": self.video_crf,
            "audio_bitrate": self.audio_bitrate,
        }


IngestProcessing = Processing  # the name aimark exports it under


@dataclass(frozen=True)
class Processed:
    """The processed content: its bytes and format, its size (images), the EXIF kept, and
    the C2PA actions (``c2pa.resized``, ``c2pa.transcoded``, ``c2pa.edited.metadata``)."""

    data: bytes
    format: ImageFormat | MediaFormat
    size: tuple[int, int] | None = None
    exif: bytes | None = None
    actions: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = field(default=())
    # AVIF and HEIC have no in-place metadata writer: the pixels, to encode again with it
    image: Any = None
    quality: int | None = None


def _action(name: str, description: str) -> dict[str, Any]:
    return aimark_action(name, description, when=dt.datetime.now(dt.timezone.utc))


def _kept_exif(exif: bytes | None) -> tuple[bytes | None, bool]:
    """The upload's EXIF reduced to :data:`KEPT_EXIF` (None when nothing is left), and
    whether anything was removed."""
    if not exif:
        return None, False
    import piexif

    try:
        raw = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
        loaded = piexif.load(b"Exif\x00\x00" + raw)
    except Exception:  # piexif raises many types on damaged EXIF: drop it all
        return None, True
    kept: dict[str, dict[int, Any]] = {"0th": {}, "Exif": {}, "GPS": {}, "1st": {}}
    removed = False
    for ifd in ("0th", "Exif", "GPS", "Interop", "1st"):
        for tag, value in (loaded.get(ifd) or {}).items():
            if tag in KEPT_EXIF.get(ifd, ()):
                kept[ifd][tag] = value
            elif not (ifd == "0th" and tag in (34665, 34853, 274, 282, 283, 296)):
                removed = True  # pointers, orientation (applied) and resolution are not data
    if loaded.get("thumbnail"):
        removed = True
    if not any(kept.values()):
        return None, removed
    try:
        return piexif.dump(kept), removed
    except Exception:
        return None, True


def process_image(data: bytes, processing: Processing, limits: Limits | None = None) -> Processed:
    """Decode an image upload (EXIF orientation applied), scale it to ``max_side`` and
    re-encode it as the platform publishes it. The upload's metadata is not carried over,
    except the EXIF fields of :data:`KEPT_EXIF` (returned in ``exif`` for the caller to
    write with its labels).

    Raises:
        CorruptInputError, ImageTooLargeError, UnsupportedFormatError.
    """
    from aimark.media import containers, image_io

    limits = limits or Limits()
    info = image_io.probe(data, limits)
    existing = containers.read_metadata(data, info.format)
    fmt = ImageFormat.parse(processing.image_format) if processing.image_format else info.format
    actions: list[dict[str, Any]] = []
    notes: list[str] = []
    resized = image_io.oriented_and_scaled(data, limits, max_side=processing.max_side, fmt=fmt)
    work = resized.image
    if resized.frames > 1:
        notes.append(f"only the first of the {resized.frames} frames is published")
    (w, h), size = resized.original_size, work.size
    if size != (w, h):
        actions.append(_action("c2pa.resized", f"scaled from {w}×{h} to {size[0]}×{size[1]}"))
    quality = processing.quality if fmt in _IMAGE_OUT else None
    out = image_io.encode(work, fmt, quality=quality)
    what = f"re-encoded as {fmt.value.upper()}" + (f" at quality {quality}" if quality else "")
    actions.append(_action("c2pa.transcoded", what))
    exif, removed = (
        _kept_exif(existing.exif) if processing.strip_private else (existing.exif, False)
    )
    if existing.xmp or removed:
        actions.append(
            _action(
                "c2pa.edited.metadata",
                "GPS, camera and other private metadata removed; rights, capture time and "
                "the AI labels kept",
            )
        )
    keep = work if fmt in (ImageFormat.AVIF, ImageFormat.HEIC) else None
    return Processed(out, fmt, work.size, exif, tuple(actions), tuple(notes), keep, quality)


def process_media(
    data: bytes, fmt: MediaFormat, processing: Processing, *, timeout: float = 600.0
) -> Processed:
    """Pass audio, video and documents through, or (``av="transcode"``) re-encode audio and
    video with ffmpeg: video to H.264/AAC MP4 of ``video_height`` lines, audio to AAC (M4A;
    MP3 for MP3 uploads) at ``audio_bitrate``.

    Raises:
        MissingToolError (no ffmpeg), CorruptInputError (ffmpeg cannot read it).
    """
    if processing.av == "copy" or fmt.kind not in ("video", "audio"):
        return Processed(data, fmt)
    from aimark.marking.embed import as_file
    from aimark.media import ffmpeg

    with as_file(data, fmt.extension) as src:
        info = ffmpeg.probe(src, timeout=60)
        if fmt.kind == "video" and info.video is not None:
            out_fmt = MediaFormat.MP4
            height = min(processing.video_height, info.video.height)
            height -= height % 2
            args = [
                "-vf",
                f"scale=-2:{height}",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                str(processing.video_crf),
                "-pix_fmt",
                "yuv420p",
            ]
            args += ["-c:a", "aac", "-b:a", processing.audio_bitrate] if info.audio else ["-an"]
            what = f"transcoded to H.264 {height}p at CRF {processing.video_crf}"
        elif info.audio is not None:
            out_fmt = MediaFormat.MP3 if fmt is MediaFormat.MP3 else MediaFormat.M4A
            codec = "libmp3lame" if out_fmt is MediaFormat.MP3 else "aac"
            args = ["-vn", "-c:a", codec, "-b:a", processing.audio_bitrate]
            what = f"transcoded to {codec.upper()} at {processing.audio_bitrate}"
        else:
            raise CorruptInputError(f"{fmt.label} without audio or video streams")
        dst = src.with_name(f"out{out_fmt.extension}")
        ffmpeg.run(
            [
                ffmpeg.exe(),
                "-nostdin",
                "-v",
                "error",
                "-i",
                str(src),
                "-map_metadata",
                "-1",
                *args,
                *(["-movflags", "+faststart"] if out_fmt is not MediaFormat.MP3 else []),
                "-y",
                str(dst),
            ],
            timeout=timeout,
            what=f"ffmpeg could not transcode the {fmt.label}",
        )
        out = dst.read_bytes()
    actions = (
        _action("c2pa.transcoded", what),
        _action("c2pa.edited.metadata", "container metadata removed; the AI labels kept"),
    )
    return Processed(out, out_fmt, actions=actions)
