"""Repackage a ZIP-based document (DOCX, XLSX, PPTX, EPUB, OpenDocument, ZIP) with every
entry stored uncompressed, so that c2pa can bind it.

c2pa-python 0.38 (c2pa-rs 0.91) reads and signs ZIP packages only when no entry is
compressed, and Word, Excel, PowerPoint, LibreOffice and EPUB tools deflate theirs. Storing the
entries changes the package's bytes (it grows), not what it holds: the same entries in the
same order, with the same names, contents (CRC-32), timestamps, attributes, extra fields and
comments; a ``mimetype`` entry (EPUB, OpenDocument) goes first, stored and without an extra
field, as their specifications require.

Example:
    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    ...     z.writestr("word/document.xml", "<w:document/>" * 100)
    >>> stored = store_entries(buf.getvalue())
    >>> [i.compress_type for i in zipfile.ZipFile(io.BytesIO(stored)).infolist()]
    [0]
"""

from __future__ import annotations

import io
import zipfile

from aimark.errors import CorruptInputError, UnsupportedFormatError

__all__ = ["MEMBER_CHECK_BYTES", "labelled_members", "store_entries"]

MEMBER_CHECK_BYTES = 64 * 1024 * 1024  # uncompressed bytes of members looked into, at most
_MANIFEST_ENTRY = "META-INF/content_credential.c2pa"  # where c2pa keeps the package's own

_ZIP64_EXTRA = 0x0001  # sizes that zipfile recomputes and writes itself when needed


def _without_zip64(extra: bytes) -> bytes:
    """``extra`` without its ZIP64 field (the rewritten entry gets its own if it needs one)."""
    out, pos = bytearray(), 0
    while pos + 4 <= len(extra):
        tag = int.from_bytes(extra[pos : pos + 2], "little")
        size = int.from_bytes(extra[pos + 2 : pos + 4], "little")
        if tag != _ZIP64_EXTRA:
            out += extra[pos : pos + 4 + size]
        pos += 4 + size
    return bytes(out)


def store_entries(data: bytes, max_bytes: int = 1 << 30) -> bytes:
    """``data`` (a ZIP package) rewritten with every entry stored; see the module docstring.

    Raises:
        CorruptInputError: the package cannot be read, an entry's CRC is wrong, or its
            entries would unpack to more than ``max_bytes`` (a ZIP bomb?).
        UnsupportedFormatError: an entry is encrypted.
    """
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptInputError(f"the ZIP package cannot be read ({exc})") from None
    with src:
        infos = src.infolist()
        total = sum(i.file_size for i in infos)
        if total > max_bytes:
            raise CorruptInputError(
                f"the ZIP package's entries would unpack to {total:,} bytes, more than the "
                f"{max_bytes:,} allowed (a ZIP bomb?)"
            )
        if any(i.flag_bits & 0x1 for i in infos):
            raise UnsupportedFormatError("a ZIP package with encrypted entries")
        # EPUB (OCF) and OpenDocument: "mimetype" first, stored, no extra field
        infos.sort(key=lambda i: i.filename != "mimetype")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
            dst.comment = src.comment
            for old in infos:
                try:
                    content = src.read(old)
                except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                    raise CorruptInputError(
                        f"entry {old.filename!r} of the ZIP package cannot be read ({exc})"
                    ) from None
                except NotImplementedError as exc:
                    raise UnsupportedFormatError(
                        f"a ZIP package whose entry {old.filename!r} uses a compression "
                        f"aimark cannot read ({exc})"
                    ) from None
                new = zipfile.ZipInfo(old.filename, old.date_time)
                new.compress_type = zipfile.ZIP_STORED
                new.create_system = old.create_system
                new.external_attr = old.external_attr
                new.internal_attr = old.internal_attr
                new.comment = old.comment
                new.extra = b"" if old.filename == "mimetype" else _without_zip64(old.extra)
                dst.writestr(new, content)
    return out.getvalue()


def labelled_members(data: bytes, max_bytes: int = MEMBER_CHECK_BYTES) -> list[str]:
    """Names of the entries of a ZIP package that carry labels of their own (a C2PA manifest
    store or an XMP packet), e.g. a labelled photo inside an archive: they are the member's,
    never the package's. Looks into the first ``max_bytes`` of uncompressed content; a
    package that cannot be read has none."""
    from aimark.media.containers import may_carry_c2pa

    found: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            budget = max_bytes
            for info in z.infolist():
                if info.is_dir() or info.filename == _MANIFEST_ENTRY or info.flag_bits & 0x1:
                    continue
                budget -= info.file_size
                if budget < 0:
                    break
                content = z.read(info)
                if may_carry_c2pa(content) or b"<x:xmpmeta" in content:
                    found.append(info.filename)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        pass
    return found
