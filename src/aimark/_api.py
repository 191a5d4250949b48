"""The small public verbs: one-shot wrappers over :class:`Labeler` and :class:`Verifier`.

Keep a Labeler / Verifier when you label or verify many files: configuration and the signer
are set up once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from aimark._labeler import ImageSourceLike, Labeler, LabelResult
from aimark._verifier import Verifier
from aimark.credentials import Credentials
from aimark.generator import GeneratorLike
from aimark.keys import WatermarkKey
from aimark.media.limits import Limits
from aimark.media.sniff import ImageFormat
from aimark.media.source import SourceLike
from aimark.metadata.digital_source_type import DigitalSourceType
from aimark.metadata.tc260 import TC260Label
from aimark.report import Report
from aimark.trust import TrustLike
from aimark.watermark.image import SCHEMES

if TYPE_CHECKING:
    from aimark.scanner.run import ScanRun

__all__ = ["label_image", "label_media", "label_text", "scan", "verify"]


def label_image(
    src: ImageSourceLike,
    dst: str | os.PathLike[str] | None = None,
    *,
    credentials: Credentials,
    generator: GeneratorLike,
    source_type: DigitalSourceType | str = DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
    format: ImageFormat | str | None = None,
    allow_training: bool | None = None,
    thumbnail: bool = False,
    overwrite: bool = False,
    title: str | None = None,
    content_id: str | None = None,
    quality: int | None = None,
    limits: Limits | None = None,
    watermark_key: WatermarkKey | None = None,
    watermark_strength: float = 1.0,
    tc260: TC260Label | None = None,
    visible: bool | str = False,
    visible_position: str = "bottom-right",
    visible_font: str | os.PathLike[str] | None = None,
) -> LabelResult:
    """Label an image as AI-generated: IPTC Digital Source Type in XMP, EXIF ``Software`` /
    ``UserComment``, then a signed C2PA manifest (``c2pa.created`` with the digital source type
    and the generator as ``softwareAgent``, a unique content id, optional training preference).

    Args:
        src: a path, bytes, a binary file object, a PIL image or a numpy array (H, W[, C]).
            Encoded inputs keep their pixels bit-for-bit (metadata is inserted, not re-encoded),
            except TIFF which is re-saved losslessly. Never modified.
        dst: where to write the result, atomically (temp file + rename). ``dst`` equal to
            ``src`` is refused unless ``overwrite=True``; even then ``src`` is replaced only
            once the new file is complete.
        credentials: signing credentials (:class:`Credentials`).
        generator: the model, e.g. ``("my-model", "2.1")`` or ``"my-model 2.1"``.
        source_type: an IPTC digital source type (default ``trainedAlgorithmicMedia``;
            ``compositeWithTrainedAlgorithmicMedia`` for AI edits of real content).
        format: output format for PIL images / arrays. The destination's suffix decides it
            when there is one (``out.jpg`` is a JPEG; an unknown suffix, or one that
            contradicts ``format=``, raises :class:`OutputError`); else ``format=``, else the
            PIL image's own format, else PNG. An encoded input keeps its format, so ``dst``
            must name that format (a PNG labelled to ``out.jpg`` raises :class:`OutputError`).
        allow_training: None (say nothing), False (opt out of AI training and data mining)
            or True.
        thumbnail: embed a C2PA thumbnail (off by default: +~100 KB per file).
        title, content_id, quality: manifest title, a content id of yours (default a fresh
            ``urn:uuid:``), encoder quality for lossy formats when encoding a PIL image.
        watermark_key: embed the invisible watermark of this :class:`WatermarkKey` in the
            pixels first (the payload is a fresh 64-bit id; the content id becomes
            ``urn:aimark:<16 hex>`` so it can be read back from the pixels), and record it in
            the manifest as a ``c2pa.watermarked.bound`` action and a ``c2pa.soft-binding``.
            Encoded inputs are then re-encoded (JPEG with its own quantisation tables).
        watermark_strength: amplitude multiplier (1.0: about 41 dB PSNR).
        tc260: China's GB 45438-2025 implicit label (:class:`TC260Label`): the ``AIGC``
            object written in XMP (``TC260:AIGC``), in EXIF ``UserComment`` and, for PNG, in
            a ``tEXt`` chunk ``AIGC``; ``ProduceID`` defaults to the content id.
        visible: draw a visible badge on the pixels (True: "AI-generated"; a string: that
            text) with :func:`aimark.visible.overlay`, before the watermark; the manifest
            records it as a ``c2pa.edited`` action. Encoded inputs are then re-encoded.
        visible_position: where the badge goes (``bottom-right``, ``top-left``, ...).
        visible_font: a TrueType/OpenType font file for the badge (Pillow's default font has
            no CJK glyphs: a Chinese label such as "AI生成" needs one, e.g. Noto Sans CJK).

    Returns:
        :class:`LabelResult` with ``data`` (the signed bytes), ``content_id`` and ``layers``.

    Raises:
        InputError (and subclasses), CredentialsError, SigningError, OutputError.

    Example:
        >>> import tempfile, aimark
        >>> from PIL import Image
        >>> creds = aimark.create_dev_credentials(tempfile.mkdtemp()).credentials()
        >>> out = aimark.label_image(Image.new("RGB", (32, 32)), credentials=creds,
        ...                          generator="my-model 1.0", format="jpeg")
        >>> aimark.verify(out.data).verdict.status.value
        'labelled-untrusted'
    """
    labeler = Labeler(
        credentials,
        generator=generator,
        source_type=source_type,
        allow_training=allow_training,
        thumbnail=thumbnail,
        limits=limits,
        watermark_key=watermark_key,
        watermark_strength=watermark_strength,
    )
    return labeler.label_image(
        src,
        dst,
        format=format,
        overwrite=overwrite,
        title=title,
        content_id=content_id,
        quality=quality,
        tc260=tc260,
        visible=visible,
        visible_position=visible_position,
        visible_font=visible_font,
    )


def label_media(
    src: SourceLike,
    dst: str | os.PathLike[str] | None = None,
    *,
    credentials: Credentials,
    generator: GeneratorLike,
    source_type: DigitalSourceType | str = DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
    allow_training: bool | None = None,
    overwrite: bool = False,
    title: str | None = None,
    content_id: str | None = None,
    limits: Limits | None = None,
    tc260: TC260Label | None = None,
) -> LabelResult:
    """Label a video, audio file or document as AI-generated: a signed C2PA manifest (as for
    images), and XMP with the IPTC digital source type where the container has a place for it
    (SVG, MP4, MOV, M4A, WAV). Formats: MP4, MOV, M4A, AVI, WAV, MP3, FLAC, PDF, SVG, JPEG XL,
    DOCX/XLSX/PPTX, EPUB, ODT/ODS/ODP and ZIP, recognised by content. The file is signed as
    it is, never decoded or re-encoded; an existing manifest becomes the parent ingredient.

    Raster images have their own verb, :func:`label_image`, because labelling them works on
    pixels (the invisible watermark, EXIF, re-encoding); these containers get none of that.

    Args: as for :func:`label_image` (``src``: a path, bytes or a binary file object;
    ``tc260`` is written in the XMP of the formats that get XMP).

    Raises:
        UnsupportedFormatError (an image, or not a container c2pa carries), CorruptInputError
        (damaged or hostile framing: nothing is signed), CredentialsError, SigningError,
        OutputError.

    Example:
        >>> import tempfile, aimark
        >>> creds = aimark.create_dev_credentials(tempfile.mkdtemp()).credentials()
        >>> svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'
        >>> out = aimark.label_media(svg, credentials=creds, generator="my-model 1.0")
        >>> aimark.verify(out.data).media.kind, out.layers
        ('image', ('xmp', 'c2pa'))
    """
    labeler = Labeler(
        credentials,
        generator=generator,
        source_type=source_type,
        allow_training=allow_training,
        limits=limits,
    )
    return labeler.label_media(
        src, dst, overwrite=overwrite, title=title, content_id=content_id, tc260=tc260
    )


def label_text(
    text: str | bytes,
    *,
    credentials: Credentials,
    generator: GeneratorLike,
    source_type: DigitalSourceType | str = DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
    allow_training: bool | None = None,
    title: str | None = None,
    content_id: str | None = None,
    watermark: Any = None,
    replace: bool = False,
    limits: Limits | None = None,
    tc260: TC260Label | None = None,
    disclosure: bool | str = False,
    disclosure_position: str = "prefix",
) -> str:
    """Label a text as AI-generated: return it with a signed C2PA manifest appended in the
    C2PA unstructured-text wrapper (invisible Unicode variation selectors after U+FEFF).

    The manifest is the one :func:`label_image` signs (``c2pa.created`` with the digital
    source type and the generator as ``softwareAgent``, a content id, an optional training
    preference), hard-bound to the text by a ``c2pa.hash.data`` over its UTF-8 bytes. The text
    is signed in Unicode **NFC**: the returned string is the NFC form of ``text`` plus the
    wrapper (a ~3 KB manifest becomes ~15 KB of invisible characters). Any later change to the
    text (a word, a line ending, NFD normalisation) makes it verify as invalid; removing the
    wrapper removes the label.

    Args:
        text: the text (``str``, or UTF-8 ``bytes``). Never modified.
        credentials, generator, source_type, allow_training, title, content_id: as for
            :func:`label_image` (default title "AI-generated text").
        watermark: the statistical text watermark the text was generated with, if any: an
            object with a ``describe()`` method returning its parameters as a dict (key id,
            mode, ...; never the key), or that dict. Recorded as an
            ``org.aimark.text-watermark`` assertion; :func:`verify` reports it in
            ``report.c2pa.text_watermark``.
        replace: the text already carries a C2PA wrapper: sign it anew, dropping the old
            manifest (without it: :class:`InputError`).
        limits: byte limit (:class:`Limits`).
        tc260: China's GB 45438-2025 implicit label (:class:`TC260Label`), written as a YAML
            front-matter block (``---``, ``AIGC:`` and its seven fields, ``---``) at the top
            of the text, inside what is signed.
        disclosure: a visible plain-language disclosure (True: "AI-generated content."; a
            string: that text), put before (``disclosure_position="prefix"``) or after
            (``"suffix"``) the text, inside what is signed.

    Returns:
        The labelled text (``str``).

    Raises:
        InputError (EmptyInputError, UnsupportedFormatError for non-UTF-8 bytes or binary
        control characters, ImageTooLargeError over the byte limit, or an existing wrapper),
        CredentialsError, SigningError, TypeError.

    Example:
        >>> import tempfile, aimark
        >>> dev = aimark.create_dev_credentials(tempfile.mkdtemp())
        >>> out = aimark.label_text("A poem about the sea.", credentials=dev.credentials(),
        ...                         generator="my-llm 3")
        >>> out.startswith("A poem about the sea.\ufeff")
        True
        >>> aimark.verify(out, trust=dev.root_cert).verdict.status.value
        'labelled-trusted'
    """
    labeler = Labeler(
        credentials,
        generator=generator,
        source_type=source_type,
        allow_training=allow_training,
        limits=limits,
    )
    return labeler.label_text(
        text,
        title=title,
        content_id=content_id,
        watermark=watermark,
        replace=replace,
        tc260=tc260,
        disclosure=disclosure,
        disclosure_position=disclosure_position,
    )


def verify(
    src: SourceLike,
    *,
    trust: TrustLike = None,
    limits: Limits | None = None,
    watermark_keys: Iterable[WatermarkKey] = (),
    public_watermarks: bool = False,
    watermark_schemes: Iterable[str] = SCHEMES,
) -> Report:
    """Verify an image's or a text's AI labels: C2PA manifest (validity and trust) and
    unsigned metadata.

    Args:
        src: a path, bytes or a binary file object (an image, or UTF-8 text such as a
            ``.txt`` file: judged by the bytes, never the name), or a ``str`` of text. A
            ``str`` is a path unless it holds U+FEFF (every labelled text does), a line
            break, or is longer than a path can be; for any other short string use
            :meth:`Verifier.verify_text`. Never modified.
        trust: your trust anchors: PEM bytes, a path, several paths or a
            :class:`TrustAnchors`. Without anchors a valid signature is reported as
            ``valid-untrusted`` -- never as trusted.
        limits: byte and pixel limits (:class:`Limits`).
        watermark_keys: look for the invisible watermark of these keys (decodes the pixels).
        public_watermarks: also look for public watermarks of other generators (Stable
            Diffusion 1.x/2.x/XL's invisible-watermark marks).
        watermark_schemes: the image watermark schemes looked for (default
            ``io.aimark.image.3``, then 0.2's ``io.aimark.image.2``, then 0.1's
            ``io.aimark.image.1``).

    Returns:
        A :class:`Report`. Bad content (empty, not an image, truncated, a decompression bomb,
        a broken manifest) is reported in it, not raised.

    Raises:
        OSError: the path cannot be read (missing, permission denied).

    Example:
        >>> import aimark
        >>> aimark.verify(b"\\x89PNG\\r\\n\\x1a\\n").verdict.status.value
        'error'
    """
    verifier = Verifier(
        trust=trust,
        limits=limits,
        watermark_keys=watermark_keys,
        public_watermarks=public_watermarks,
        watermark_schemes=watermark_schemes,
    )
    return verifier.verify(src)


def scan(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    verifier: Verifier | None = None,
    kinds: Iterable[str] = ("image", "video", "audio", "document", "text"),
    workers: int | None = None,
    client: Any = None,
    output: str | os.PathLike[str] | None = None,
    csv: str | os.PathLike[str] | None = None,
    html: str | os.PathLike[str] | None = None,
    resume: bool = True,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    hidden: bool = False,
    follow_symlinks: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    chunk_size: int = 8,
    progress: bool | TextIO | None = False,
    **verify_options: Any,
) -> ScanRun:
    """Scan files, folders and object-store URLs for AI labels, in parallel.

    Every file under ``paths`` is read once, read-only; its bytes (not its name) decide
    whether it is an image, a text, or something to skip. Each image or text gets the
    :class:`Report` that :func:`verify` would give, with ``report.file`` saying what the file
    was when read (size, mtime, etag).

    Args:
        paths: files, folders (walked recursively) or fsspec URLs (``s3://bucket/prefix``,
            ``file:///data``; extra ``aimark[s3]``).
        verifier: the :class:`~aimark.Verifier` every file is verified with (its trust
            anchors, watermark keys, limits, repository, ...); or, instead, its options as
            keywords (``trust=``, ``watermark_keys=``, ``limits=``, ``public_watermarks=``,
            ``watermark_schemes=``...: those of :class:`~aimark.Verifier`).
        kinds: what to look at, any of ``"image"``, ``"video"``, ``"audio"``, ``"document"``
            (PDF, Office, EPUB, ZIP) and ``"text"`` (default: all). Keys, certificates,
            configuration files and unknown binaries are skipped as not media.
        workers: processes to use (default: one per core; 0 scans in this process).
        client: a ``dask.distributed.Client``: run on its cluster instead (``aimark[dask]``).
            The workers must see the same paths (a shared filesystem, or URLs).
        output: JSON Lines file, one report per line, written as the scan goes. A scan with
            the same output resumes: files already reported (same path, size and mtime or
            etag) are skipped, changed ones are scanned again and their old line replaced.
        csv, html: also write a CSV file (one row per file) and a self-contained HTML report;
            both are written atomically when the scan ends (interrupted or not).
        resume: False starts ``output`` afresh.
        include, exclude: glob patterns (a pattern without ``/`` matches names, with ``/``
            the path under the root); ``exclude`` prunes folders too.
        hidden: also scan names starting with a dot.
        follow_symlinks: follow links out of the tree too (by default only links whose
            target lies inside a root are followed); loops are always detected.
        storage_options: fsspec options for URLs (e.g. ``{"endpoint_url": ...}``).
        chunk_size: files sent to a worker at a time.
        progress: True (or a text stream) for a progress line with files/s and ETA; None
            shows it only when stderr is a terminal.

    Returns:
        A :class:`~aimark.scanner.ScanRun`: iterate over it for this run's reports, in the
        order they complete (files skipped as already reported are not yielded); its
        ``summary`` counts every report in the outputs, and is final once iteration ends.
        ``run()`` scans without handing out the reports.

    Raises:
        InputError: a path does not exist. OutputError: an output cannot be written, or
        ``output`` is not a scan's JSON Lines file. MissingExtraError: a URL or ``client``
        needs an extra that is not installed.

    Example:
        >>> import aimark, pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "notes.txt").write_text("written by hand\\n")
        >>> run = aimark.scan(folder, workers=0)
        >>> [r.verdict.status.value for r in run]
        ['not-labelled']
        >>> run.summary.files
        1
    """
    from aimark.scanner.run import ScanRun

    return ScanRun(
        paths,
        verifier=verifier,
        kinds=kinds,
        workers=workers,
        client=client,
        output=output,
        csv=csv,
        html=html,
        resume=resume,
        include=include,
        exclude=exclude,
        hidden=hidden,
        follow_symlinks=follow_symlinks,
        storage_options=storage_options,
        chunk_size=chunk_size,
        progress=progress,
        **verify_options,
    )
