"""Office, OpenDocument and EPUB packages as their programs save them (deflated ZIPs): labelled
by repackaging them with every entry stored, which c2pa can bind; and a ZIP's report says only
what the archive itself carries, never a member's label."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import c2pa
import pytest
from PIL import Image

import aimark
from aimark.media.structure import zip_methods

_DOC = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Written by a model.</w:t></w:r></w:p></w:body></w:document>"
)
_WHEN = (2025, 3, 14, 9, 26, 52)


def _entry(z: zipfile.ZipFile, name: str, text: str, method: int = zipfile.ZIP_DEFLATED) -> None:
    info = zipfile.ZipInfo(name, _WHEN)
    info.compress_type = method
    info.external_attr = 0o100644 << 16
    z.writestr(info, text)


def word_docx() -> bytes:
    """As Word writes one: [Content_Types].xml first, every part deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        _entry(z, "[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
               'openxmlformats.org/package/2006/content-types"/>' * 8)  # fmt: skip
        _entry(z, "_rels/.rels", "<Relationships/>" * 20)
        _entry(z, "word/document.xml", _DOC * 30)
        _entry(z, "docProps/core.xml", "<cp:coreProperties/>" * 10)
    return buf.getvalue()


def with_mimetype(mime: str, parts: dict[str, str]) -> bytes:
    """As LibreOffice and EPUB tools write them: ``mimetype`` first and stored, then deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        _entry(z, "mimetype", mime, zipfile.ZIP_STORED)
        for name, text in parts.items():
            _entry(z, name, text)
    return buf.getvalue()


PACKAGES = {
    "docx": word_docx,
    "odt": lambda: with_mimetype(
        "application/vnd.oasis.opendocument.text",
        {"content.xml": "<office:document-content/>" * 40, "META-INF/manifest.xml": "<m/>" * 9},
    ),
    "epub": lambda: with_mimetype(
        "application/epub+zip",
        {"META-INF/container.xml": "<container/>" * 9, "OEBPS/ch1.xhtml": "<p>hi</p>" * 90},
    ),
}


def members(data: bytes) -> list[tuple[str, int, tuple[int, ...], int, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [
            (i.filename, i.CRC, i.date_time, i.external_attr, z.read(i))
            for i in z.infolist()
            if i.filename not in ("META-INF/", "META-INF/content_credential.c2pa")
        ]


def c2pa_state(data: bytes, mime: str, dev: aimark.DevCredentials) -> str:
    """c2pa-python's own verdict, with the development root as its trust anchor."""
    ctx = c2pa.Context.from_dict({"trust": {"user_anchors": dev.root_cert.read_text()}})
    return c2pa.Reader(mime, io.BytesIO(data), context=ctx).get_validation_state()


def run_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimark", *map(str, args)], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("kind", sorted(PACKAGES))
def test_deflated_package_is_repackaged_stored_and_signed(labeler, trusted, dev, kind):
    original = PACKAGES[kind]()
    assert zip_methods(original) == ({8} if kind == "docx" else {0, 8})
    with pytest.warns(aimark.LabelWarning, match="repackaged without compression") as caught:
        result = labeler.label_media(original)
    assert len(caught) == 1
    assert f"{len(original):,} → " in str(caught[0].message)
    signed = bytes(result)
    assert zip_methods(signed) == {0} and result.format.value == kind
    assert members(signed) == members(original)  # same entries, order, contents, times, modes
    with zipfile.ZipFile(io.BytesIO(signed)) as z:
        assert z.testzip() is None
        first = z.infolist()[0]
        if kind != "docx":  # OCF / ODF: mimetype first, stored, no extra field
            assert first.filename == "mimetype" and first.compress_type == 0 and not first.extra
    assert c2pa_state(signed, result.format.mime, dev) == "Trusted"
    report = trusted.verify(signed)
    assert report.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert [a.action for a in report.c2pa.actions] == ["c2pa.created", "c2pa.repackaged"]
    tampered = bytearray(signed)
    at = tampered.find(b"<w:t>Written" if kind == "docx" else b"/>")
    tampered[at + 2] ^= 0x01
    assert trusted.verify(bytes(tampered)).verdict.status is aimark.Status.INVALID


def test_word_docx_by_cli_keeps_its_xml_parts(dev, tmp_path):
    src = tmp_path / "report.docx"
    src.write_bytes(word_docx())
    out = tmp_path / "report.labelled.docx"
    proc = run_cli(
        "label", src, "-o", out, "--cert", dev.cert_chain, "--key", dev.private_key,
        "--model", "writer-model",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    notes = [ln for ln in proc.stderr.splitlines() if "repackaged without compression" in ln]
    assert len(notes) == 1 and "--sidecar" in notes[0], proc.stderr
    assert src.read_bytes() == word_docx()  # the source is untouched
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        for name in a.namelist():
            assert a.read(name) == b.read(name)  # the XML parts byte for byte
    verify = run_cli("verify", out, "--trust", dev.root_cert, "--json")
    assert json.loads(verify.stdout)["verdict"]["status"] == "labelled-trusted", verify.stdout
    side = run_cli(
        "label", src, "--sidecar", "--cert", dev.cert_chain, "--key", dev.private_key,
        "--model", "writer-model",
    )  # fmt: skip
    assert side.returncode == 0 and src.read_bytes() == word_docx()


def test_a_members_label_is_never_the_archives(labeler, trusted, tmp_path):
    photo = tmp_path / "photo.jpg"
    labeler.label_image(Image.new("RGB", (200, 150), "teal"), photo)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.write(photo, "photo.jpg")
        z.writestr("readme.txt", "holiday pictures")
    archive = buf.getvalue()
    report = trusted.verify(archive)
    assert report.media.format == "zip"
    assert report.verdict.status is aimark.Status.NOT_LABELLED, report.verdict
    assert report.c2pa.state is aimark.C2paState.ABSENT and not report.metadata.ai_declared
    assert any("member photo.jpg carries its own labels" in p for p in report.media.problems)
    labelled = labeler.label_media(archive)  # stored already: signed as it is
    again = trusted.verify(bytes(labelled))
    assert again.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert members(bytes(labelled)) == members(archive)
