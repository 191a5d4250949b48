"""Video, audio, documents, SVG and JPEG XL: recognised by content, verified (every state checked
against c2pa-python's own Reader), labelled (c2pa's Reader as the independent check, XMP by an
independent XML parse), hostile containers answered within a second, and the CLI, scan and
server paths."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import time
import wave
import xml.etree.ElementTree as ET
from pathlib import Path

import c2pa
import pytest

import aimark
from aimark.errors import CorruptInputError, UnsupportedFormatError
from aimark.media.formats import MediaFormat, looks_like_config, sniff_media
from conftest import SHARED, encode, natural_image

MEDIA = SHARED / "media"
needs_media = pytest.mark.skipif(
    not MEDIA.is_dir(), reason=f"{MEDIA} (the c2pa-rs media fixtures) is absent"
)
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
IPTC = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}DigitalSourceType"


# -- media made here, with real encoders or by the containers' own framing ---------------------


def make_wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:  # Python's own WAV writer
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(3200))
    return buf.getvalue()


def make_flac() -> bytes:
    """A FLAC stream with its STREAMINFO block (44.1 kHz, mono, 16 bit) and no frames."""
    info = struct.pack(">HH", 4096, 4096) + bytes(6)
    info += ((44100 << 44) | (0 << 41) | (15 << 36)).to_bytes(8, "big") + bytes(16)
    return b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info


def _chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + len(body).to_bytes(4, "little") + body + (b"\0" if len(body) % 2 else b"")


def make_avi() -> bytes:
    body = b"AVI " + _chunk(b"LIST", b"hdrl" + _chunk(b"avih", bytes(56)))
    body += _chunk(b"LIST", b"movi")
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def make_zip(kind: str, method: int = 0) -> bytes:
    """An OOXML, EPUB, OpenDocument or plain ZIP package written by Python's zipfile."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        first = {"epub": "application/epub+zip", "odt": "application/vnd.oasis.opendocument.text"}
        if kind in first:  # the stored mimetype entry comes first
            z.writestr(zipfile.ZipInfo("mimetype"), first[kind], compress_type=0)
        if kind == "docx":
            z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/'
                       'package/2006/content-types"/>')  # fmt: skip
            z.writestr("word/document.xml", "<w:document/>")
        z.writestr("content.xml", "<content>made by a model</content>")
    return buf.getvalue()


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8"><rect/></svg>'


def fixture_bytes() -> dict[str, bytes]:
    if not MEDIA.is_dir():
        return {}
    out = {p.name: p.read_bytes() for p in sorted(MEDIA.iterdir()) if p.is_file()}
    mp4 = out["video1_no_manifest.mp4"]
    out["made.mov"] = mp4[:8] + b"qt  " + mp4[12:]  # the same movie, QuickTime's brand
    return out


@pytest.fixture(scope="module")
def labeler(creds) -> aimark.Labeler:
    return aimark.Labeler(creds, generator=("test-video-model", "2.1"))


@pytest.fixture(scope="module")
def verifier(dev) -> aimark.Verifier:
    return aimark.Verifier(trust=dev.root_cert)


def c2pa_reader(data: bytes, mime: str, anchors: str | None = None):
    settings: dict = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    if anchors:
        settings["trust"] = {"user_anchors": anchors}
    return c2pa.Reader.try_create(mime, io.BytesIO(data), context=c2pa.Context.from_dict(settings))


# -- recognised by content ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (make_wav(), MediaFormat.WAV),
        (make_flac(), MediaFormat.FLAC),
        (make_avi(), MediaFormat.AVI),
        (SVG, MediaFormat.SVG),
        (b"%PDF-1.4\n%\xe2\xe3\n1 0 obj", MediaFormat.PDF),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", MediaFormat.MP4),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", MediaFormat.MOV),
        (b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A mp42", MediaFormat.M4A),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", MediaFormat.MP3),
        (b"\xff\xfb\x90\x64" + bytes(100), MediaFormat.MP3),
        (b"\xff\x0a\xfa\x7f", MediaFormat.JXL),
        (
            b"PK\x03\x04" + bytes(22) + b"\x08\x00\x00\x00mimetypeapplication/epub+zip",
            MediaFormat.EPUB,
        ),
        # not media of these kinds: AVIF is a raster image; HTML with an inline SVG is text
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", None),
        (
            b"<!DOCTYPE html><html><body><svg xmlns='http://www.w3.org/2000/svg'/></body></html>",
            None,
        ),
        (b"hello", None),
        (b"RIFF\x04\x00\x00\x00WEBP", None),
    ],
)
def test_sniff_media_by_content(data, expected):
    assert sniff_media(data) is expected


@needs_media
def test_fixtures_are_recognised():
    kinds = {n: sniff_media(d) for n, d in fixture_bytes().items()}
    assert kinds["video1.mp4"] is MediaFormat.MP4 and kinds["made.mov"] is MediaFormat.MOV
    assert kinds["sample1.m4a"] is MediaFormat.M4A and kinds["sample1.mp3"] is MediaFormat.MP3
    assert kinds["sample1.wav"] is MediaFormat.WAV and kinds["sample1.svg"] is MediaFormat.SVG
    assert kinds["sample1.jxl"] is MediaFormat.JXL and kinds["basic.pdf"] is MediaFormat.PDF


def test_config_files_are_not_content():
    assert looks_like_config(b"-----BEGIN PRIVATE KEY-----\nMIIE")
    assert looks_like_config(b"aimark-watermark-key-v1:abc")
    assert looks_like_config(b'{"a": 1}', "settings.json")
    assert not looks_like_config(b"A story about a cat.", "story.txt")


# -- verification: every state as c2pa-python's own Reader says ----------------------------------


@needs_media
def test_every_fixture_state_matches_c2pa_reader():
    plain = aimark.Verifier()
    for name, data in fixture_bytes().items():
        fmt = sniff_media(data)
        report = plain.verify_bytes(data, name=name)
        assert report.media.format == fmt.value and report.media.mime == fmt.mime, name
        assert report.media.kind == fmt.kind
        reader = c2pa_reader(data, fmt.mime)
        if reader is None:
            assert report.c2pa.state.value == "absent", name
            continue
        with reader:
            theirs = reader.get_validation_state()
            active = json.loads(reader.json())["active_manifest"]
        ours = {"Valid": "valid-untrusted", "Trusted": "valid-untrusted", "Invalid": "invalid"}
        assert report.c2pa.state.value == ours[theirs], name
        assert report.c2pa.manifest == active


@needs_media
def test_adobe_pdf_and_video_are_reported_in_full():
    v = aimark.Verifier(detailed=True)
    pdf = v.verify(MEDIA / "express-signed.pdf")
    assert pdf.verdict.status.value == "labelled-untrusted" and pdf.verdict.ai_generated
    assert pdf.c2pa.software_agents == ("Adobe Firefly",)
    assert pdf.c2pa.digital_source_types[0].endswith("compositeWithTrainedAlgorithmicMedia")
    assert pdf.watermark.status == "not-checked"  # no keys asked for: nothing to say
    store = pdf.c2pa.store
    assert len(store) == 2 and store[0]["active"] and store[0]["label"] == pdf.c2pa.manifest
    ingredient = store[0]["ingredients"][0]
    assert (
        ingredient["relationship"] == "componentOf" and ingredient["manifest"] == store[1]["label"]
    )
    assert "Adobe" in store[0]["signature"]["subject"] and store[0]["signature"]["serial"]
    assert store[0]["signature"]["timestamp"]["tsa"]
    assert "signingCredential.untrusted" in store[0]["validation"]["failure"]
    json.dumps(pdf.to_dict())
    video = v.verify(MEDIA / "video1.mp4")
    assert video.c2pa.state.value == "valid-untrusted" and not video.verdict.ai_generated
    assert video.metadata.digital_source_types == ()  # its XMP names no source type
    mp3 = aimark.Verifier().verify(MEDIA / "sample1.mp3")
    assert mp3.metadata.id3 == {"TSSE": "Lavf57.83.100"} and not mp3.verdict.ai_generated
    wav = aimark.Verifier().verify(MEDIA / "sample1.wav")
    assert wav.metadata.id3["TPE1"] == "Kevin MacLeod"


def test_watermark_is_not_applicable_to_documents():
    v = aimark.Verifier(watermark_keys=[aimark.WatermarkKey.generate()])
    report = v.verify_bytes(SVG)
    assert report.watermark.status.startswith("not applicable to this media type")
    assert "images, audio and video" in report.watermark.status
    assert not report.watermark.detected and report.verdict.status.value == "not-labelled"


def test_an_audio_generator_named_in_id3_is_an_unsigned_label():
    frame = b"\x03Suno v4\x00"
    tag = b"TSSE" + len(frame).to_bytes(4, "big") + b"\x00\x00" + frame
    mp3 = b"ID3\x03\x00\x00" + bytes([0, 0, 0, len(tag)]) + tag + b"\xff\xfb\x90\x64" + bytes(400)
    report = aimark.Verifier().verify_bytes(mp3)
    assert report.metadata.id3["TSSE"] == "Suno v4"
    assert report.verdict.status.value == "labelled-unsigned"
    plain = mp3.replace(b"Suno v4", b"Lame 3.1")
    assert aimark.Verifier().verify_bytes(plain).verdict.status.value == "not-labelled"


# -- labelling: c2pa's Reader as the independent check -------------------------------------------


def _independent_dst(data: bytes) -> list[str]:
    start, end = data.find(b"<x:xmpmeta"), data.find(b"</x:xmpmeta>")
    root = ET.fromstring(data[start : end + len(b"</x:xmpmeta>")])
    return [e.text for e in root.iter(IPTC)]


def _made() -> dict[str, bytes]:
    return {
        "made.docx": make_zip("docx"),
        "made.epub": make_zip("epub"),
        "made.odt": make_zip("odt"),
        "made.zip": make_zip("zip"),
        "made.wav": make_wav(),
        "made.flac": make_flac(),
        "made.avi": make_avi(),
        "made.svg": SVG,
    }


@pytest.mark.parametrize("name", [*_made(), *fixture_bytes()])
def test_label_then_verify_round_trip(labeler, verifier, dev, name):
    data = {**_made(), **fixture_bytes()}[name]
    fmt = sniff_media(data)
    result = labeler.label_media(data)
    assert result.format is fmt and result.data != data
    reader = c2pa_reader(result.data, fmt.mime, dev.root_cert.read_text())
    assert reader is not None
    with reader:
        assert reader.get_validation_state() == "Trusted"
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    actions = [a for x in active["assertions"] if x["label"].startswith("c2pa.actions")
               for a in x["data"]["actions"]]  # fmt: skip
    assert any(a.get("digitalSourceType") == TRAINED for a in actions)
    report = verifier.verify_bytes(result.data, name=name)
    assert (
        report.verdict.status.value == "labelled-trusted"
        and report.c2pa.content_id == result.content_id
    )
    if fmt in (MediaFormat.SVG, MediaFormat.WAV, MediaFormat.MP4, MediaFormat.MOV, MediaFormat.M4A):
        assert "xmp" in result.layers and _independent_dst(result.data) == [TRAINED]
        assert report.metadata.digital_source_types == (TRAINED,)
    else:
        assert result.layers == ("c2pa",)
    if len(store["manifests"]) > 1:  # the input's own manifest is kept, as the parent
        assert active["ingredients"][0]["relationship"] == "parentOf"
        assert sniff_media(data) is fmt and c2pa_reader(data, fmt.mime) is not None


@needs_media
def test_relabelling_a_signed_file_keeps_its_history(labeler, verifier):
    original = (MEDIA / "express-signed.pdf").read_bytes()
    report = verifier.verify_bytes(labeler.label_media(original).data)
    assert report.c2pa.manifests == 3  # ours, Adobe Express's, and Firefly's under it


def test_label_media_writes_atomically_and_never_touches_the_source(labeler, tmp_path):
    src = tmp_path / "clip.wav"
    src.write_bytes(make_wav())
    before = (hashlib.sha256(src.read_bytes()).hexdigest(), src.stat().st_mtime_ns)
    result = labeler.label_media(src, tmp_path / "out.wav")
    assert (
        result.path == tmp_path / "out.wav" and (tmp_path / "out.wav").read_bytes() == result.data
    )
    assert (hashlib.sha256(src.read_bytes()).hexdigest(), src.stat().st_mtime_ns) == before
    with pytest.raises(aimark.OutputError, match="is the source"):
        labeler.label_media(src, src)
    with pytest.raises(UnsupportedFormatError, match="an image: use label_image"):
        labeler.label_media(encode(natural_image(64, 64), "png"))
    with pytest.raises(UnsupportedFormatError, match="not a media type"):
        labeler.label_media(b"\x00\x01binary nothing")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.wav", "out.wav"]


def test_a_watermark_key_gives_a_document_a_note_not_a_mark(creds):
    lab = aimark.Labeler(creds, generator="m", watermark_key=aimark.WatermarkKey.generate())
    with pytest.warns(aimark.LabelWarning, match="no invisible watermark in an SVG"):
        result = lab.label_media(SVG)
    assert "watermark" not in result.layers and result.watermark_payload is None


# -- hostile containers: a verdict within a second, nothing signed -----------------------------


def _nested_moov(depth: int) -> bytes:
    box = b""
    for _ in range(depth):
        box = (len(box) + 8).to_bytes(4, "big") + b"moov" + box
    return b"\x00\x00\x00\x14ftypisom\x00\x00\x00\x00isom" + box


def _chunk_bomb(n: int) -> bytes:
    body = b"WAVE" + _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16))
    body += b"junk\x00\x00\x00\x00" * n + _chunk(b"data", bytes(16))
    return b"RIFF" + len(body).to_bytes(4, "little") + body


HOSTILE = {
    "nested-moov": _nested_moov(20_000),
    "riff-chunk-bomb": _chunk_bomb(200_000),
    "id3-underflow": b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + b"\xff\xfb\x90\x64" + bytes(2000),
    "svg-element-bomb": b"<svg xmlns='http://www.w3.org/2000/svg'>" + b"<g>" * 120_000,
    "riff-size-4g": b"RIFF\xff\xff\xff\xffWAVE" + _chunk(b"fmt ", bytes(16)),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_containers_get_a_verdict_fast_and_are_never_signed(labeler, name):
    data = HOSTILE[name]
    t = time.perf_counter()
    report = aimark.Verifier().verify_bytes(data, name=name)
    assert time.perf_counter() - t < 1.0
    assert report.verdict.status.value == "error" and report.error["code"] == "corrupt-input"
    assert report.media.format == sniff_media(data).value
    with pytest.raises(CorruptInputError):
        labeler.label_media(data)


@needs_media
def test_truncated_media_is_reported_not_signed(labeler):
    for name in ("video1.mp4", "sample1.wav", "sample1.m4a"):
        data = (MEDIA / name).read_bytes()
        cut = data[: len(data) // 2]
        report = aimark.Verifier().verify_bytes(cut, name=name)
        assert report.verdict.status.value in ("invalid", "error", "not-labelled"), name
        assert report.media.problems, name  # the truncation is named
        with pytest.raises(CorruptInputError, match=r"looks damaged|cannot"):
            labeler.label_media(cut)
    signed = labeler.label_media((MEDIA / "video1_no_manifest.mp4").read_bytes()).data
    report = aimark.Verifier().verify_bytes(signed[: len(signed) // 2])
    assert report.verdict.status.value == "invalid"  # cut after signing: tampered, not absent


# -- the CLI, scan and server paths ---------------------------------------------------------------


def test_cli_labels_and_verifies_media_and_skips_non_media_in_folders(dev, tmp_path, capsys):
    from aimark.cli import main

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "clip.wav").write_bytes(make_wav())
    (tmp_path / "in" / "signer.key").write_bytes(dev.private_key.read_bytes())
    (tmp_path / "in" / "settings.json").write_text('{"a": 1}')
    (tmp_path / "in" / "blob.bin").write_bytes(bytes(range(256)))
    out = tmp_path / "labelled.wav"
    args = ["--cert", str(dev.cert_chain), "--key", str(dev.private_key), "--model", "m"]
    assert main(["label", str(tmp_path / "in" / "clip.wav"), "-o", str(out), *args]) == 0
    assert "labelled (xmp, c2pa)" in capsys.readouterr().out
    (tmp_path / "in" / "labelled.wav").write_bytes(out.read_bytes())
    code = main(["verify", str(tmp_path / "in"), "--trust", str(dev.root_cert)])
    captured = capsys.readouterr()
    assert code == 2  # the highest: clip.wav carries no label
    assert "labelled.wav: labelled-trusted" in captured.out and "media: wav audio" in captured.out
    assert "clip.wav: not-labelled" in captured.out
    assert "signer.key" not in captured.out and "settings.json" not in captured.out
    assert "skipped 3 file(s)" in captured.err
    assert main(["verify", str(out), "--detailed", "--trust", str(dev.root_cert)]) == 0
    detailed = capsys.readouterr().out
    assert (
        "manifest store:" in detailed
        and "(active)" in detailed
        and "assertion c2pa.actions" in detailed
    )
    main(["verify", str(out), "--detailed", "--json", "--trust", str(dev.root_cert)])
    store = json.loads(capsys.readouterr().out)["c2pa"]["store"]
    assert store[0]["active"] and store[0]["signature"]["subject"].startswith(
        "CN=aimark dev signer"
    )


@needs_media
def test_scan_reports_video_and_audio_and_skips_keys(labeler, dev, tmp_path):
    (tmp_path / "v.mp4").write_bytes(labeler.label_media(MEDIA / "video1_no_manifest.mp4").data)
    (tmp_path / "a.wav").write_bytes((MEDIA / "sample1.wav").read_bytes())
    (tmp_path / "root.pem").write_bytes(dev.root_cert.read_bytes())
    reports = {
        Path(r.source).name: r for r in aimark.scan(tmp_path, trust=dev.root_cert, workers=0)
    }
    assert set(reports) == {"v.mp4", "a.wav"}
    assert reports["v.mp4"].verdict.status.value == "labelled-trusted"
    assert reports["a.wav"].media.kind == "audio"
    only_audio = {Path(r.source).name for r in aimark.scan(tmp_path, kinds=["audio"], workers=0)}
    assert only_audio == {"a.wav"}


@needs_media
def test_server_verifies_video_and_audio(labeler, dev):
    httpx = pytest.importorskip("httpx", reason="httpx is installed by the test extra")
    pytest.importorskip("starlette", reason="starlette is installed by the server extra")
    import anyio

    from aimark.server import ServiceLimits, create_app

    video = labeler.label_media(MEDIA / "video1_no_manifest.mp4").data
    app = create_app(
        aimark.Verifier(trust=dev.root_cert),
        limits=ServiceLimits(concurrency=1),
        isolation="thread",
    )

    async def post(data: bytes) -> dict:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.post("/v1/verify", content=data)
        return r.status_code, r.json()

    try:
        status, body = anyio.run(post, video)
        assert status == 200 and body["verdict"]["status"] == "labelled-trusted"
        assert body["media"]["kind"] == "video" and body["media"]["format"] == "mp4"
        status, body = anyio.run(post, (MEDIA / "sample1.mp3").read_bytes())
        assert status == 200 and body["media"]["kind"] == "audio"
        status, body = anyio.run(post, HOSTILE["riff-chunk-bomb"])
        assert status == 422 and body["error"]["code"] == "corrupt-input"
    finally:
        app.state.service.close()


@pytest.mark.parametrize("kind", ["docx", "epub", "odt", "zip"])
def test_compressed_packages_are_verified_as_unsupported_and_labelled_repackaged(labeler, kind):
    """c2pa-python 0.38 reads ZIP packages only when every entry is stored: a deflated DOCX or
    EPUB (how office programs save them) is answered as unsupported when verified, naming why,
    and labelled by repackaging it stored (tests/test_office.py)."""
    data = make_zip(kind, method=8)
    assert sniff_media(data).value == kind
    report = aimark.Verifier().verify_bytes(data)
    assert report.verdict.status.value == "error"
    assert report.error["code"] == "unsupported-format" and "deflate" in report.error["message"]
    with pytest.warns(aimark.LabelWarning, match="repackaged without compression"):
        result = labeler.label_media(data)
    assert aimark.Verifier().verify_bytes(bytes(result)).c2pa.ai_declared
