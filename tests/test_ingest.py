"""Ingest: a platform's processed copy of an upload, signed by the platform with the upload's
manifest as a validated parent ingredient, GB 45438 propagator fields, the watermark kept;
through the API, the CLI and a real HTTP server. Real c2pa signing and reading throughout."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import urllib.error
import urllib.request

import piexif
import pytest
from PIL import Image

import aimark
from aimark.media import ffmpeg
from aimark.platforms.evidence import judge
from av_clips import have_espeak, render_clip, speech
from conftest import FORMATS, SHARED, natural_image, pink_image
from serving import serve

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
needs_ffmpeg = pytest.mark.skipif(not ffmpeg.available(), reason="ffmpeg is not installed")


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> aimark.DevCredentials:
    return aimark.create_dev_credentials(
        tmp_path_factory.mktemp("platform"), organization="Example Social"
    )


@pytest.fixture(scope="module")
def wm_key() -> aimark.WatermarkKey:
    return aimark.WatermarkKey.generate()


@pytest.fixture(scope="module")
def generator(creds, wm_key) -> aimark.Labeler:
    return aimark.Labeler(
        creds,
        generator=("imagine", "3.1"),
        watermark_key=wm_key,
        tc260=aimark.TC260Label(producer="Imagine AI Co."),
    )


@pytest.fixture(scope="module")
def both(dev, platform, wm_key) -> aimark.Verifier:
    """The platform's verifier: it trusts the generator and itself, and holds the key."""
    return aimark.Verifier(trust=[dev.root_cert, platform.root_cert], watermark_keys=[wm_key])


def _photo_with_gps(w: int = 1600, h: int = 1200) -> bytes:
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Artist: b"A. Artist", piexif.ImageIFD.Make: b"CamCo"},
            "Exif": {piexif.ExifIFD.BodySerialNumber: b"SN-123456"},
            "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((48, 1),)},
        }
    )
    buf = io.BytesIO()
    Image.fromarray(pink_image(h, w, seed=5)).save(buf, "JPEG", quality=95, exif=exif)
    return buf.getvalue()


@pytest.fixture(scope="module")
def upload_jpeg(generator) -> bytes:
    """A generator-labelled JPEG (C2PA, XMP, EXIF, GB 45438, watermark) with GPS EXIF."""
    return generator.label_image(_photo_with_gps()).data


def test_jpeg_ingest_keeps_the_chain_the_labels_and_the_watermark(
    upload_jpeg, platform, both, dev, tmp_path
):
    src = tmp_path / "upload.jpg"
    src.write_bytes(upload_jpeg)
    dst = tmp_path / "published.jpg"
    result = aimark.ingest(
        src,
        dst,
        platform.credentials(),
        platform="Example Social",
        verifier=both,
        processing=aimark.IngestProcessing(max_side=1024, quality=80),
        propagate_id="post-42",
    )
    assert src.read_bytes() == upload_jpeg  # the upload is never touched
    assert dst.read_bytes() == result.data
    with Image.open(dst) as im:
        assert max(im.size) == 1024 and im.format == "JPEG"
    assert result.actions == (
        "c2pa.opened",
        "c2pa.resized",
        "c2pa.transcoded",
        "c2pa.edited.metadata",
        "c2pa.published",
    )
    # the chain: the platform signs, the generator's manifest is a trusted parent ingredient
    out = result.output
    assert out.c2pa.state is aimark.C2paState.TRUSTED
    assert out.c2pa.signer.issuer == "Example Social"
    (parent,) = [i for i in out.c2pa.ingredients if i.relationship == "parentOf"]
    assert parent.state == "trusted" and parent.ai_declared
    assert TRAINED in parent.digital_source_types and "imagine 3.1" in parent.software_agents
    assert out.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert "imagine 3.1" in out.verdict.summary and "Example Social" in out.verdict.summary
    # the labels in the copy's metadata: IPTC source type, GB 45438 with propagator fields
    assert TRAINED in out.metadata.digital_source_types
    aigc = out.metadata.tc260_aigc
    assert aigc["Label"] == "1" and aigc["ContentProducer"] == "Imagine AI Co."
    assert aigc["ContentPropagator"] == "Example Social" and aigc["PropagateID"] == "post-42"
    assert result.gb45438 == aigc
    # private EXIF is gone, rights are kept
    exif = piexif.load(result.data)
    assert not exif["GPS"] and piexif.ExifIFD.BodySerialNumber not in exif["Exif"]
    assert exif["0th"][piexif.ImageIFD.Artist] == b"A. Artist"
    assert piexif.ImageIFD.Make not in exif["0th"]
    # the watermark survived and is bound in the platform's manifest
    assert result.watermark_before and result.watermark_after
    assert out.watermark.detected
    assert (out.watermark.scheme, out.watermark.payload) in out.c2pa.soft_bindings
    # a verifier that trusts only the platform: the AI claim is the generator's, untrusted
    alone = aimark.Verifier(trust=platform.root_cert).verify_bytes(result.data)
    assert alone.c2pa.state is aimark.C2paState.TRUSTED
    assert alone.verdict.status is aimark.Status.LABELLED_UNTRUSTED
    assert alone.c2pa.declared_by.state == "valid"
    # and one that trusts nobody calls nothing trusted
    nobody = aimark.Verifier().verify_bytes(result.data)
    assert nobody.verdict.status is aimark.Status.LABELLED_UNTRUSTED


def test_detailed_tree_shows_platform_over_generator(upload_jpeg, platform, both, dev, tmp_path):
    dst = tmp_path / "published.jpg"
    aimark.ingest(
        upload_jpeg, dst, platform.credentials(), platform="Example Social", verifier=both
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "aimark",
            "verify",
            str(dst),
            "--detailed",
            "--trust",
            str(dev.root_cert),
            "--trust",
            str(platform.root_cert),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "labelled-trusted" in text
    assert "ingredient" in text and "parentOf" in text
    tree = text[text.index("(active)") :]  # the platform's manifest, then its ingredient's
    assert tree.index("Example Social") < tree.index("ingredient") < tree.index("c2pa.created")
    assert tree.index("c2pa.published") < tree.index("ingredient")


def test_tampered_ingredient_chain_is_not_trusted(upload_jpeg, platform, both):
    """A platform copy whose bytes were changed after signing reads INVALID, never AI-trusted."""
    result = aimark.ingest(upload_jpeg, None, platform.credentials(), platform="P", verifier=both)
    data = bytearray(result.data)
    data[len(data) // 2] ^= 0x55
    report = both.verify_bytes(bytes(data))
    assert report.verdict.status in (aimark.Status.INVALID, aimark.Status.ERROR)


def test_no_manifest_but_watermark_gives_label_3_with_evidence(generator, platform, both, wm_key):
    marked = generator.label_image(Image.fromarray(pink_image(600, 800, seed=9)), format="png").data
    buf = io.BytesIO()
    Image.open(io.BytesIO(marked)).convert("RGB").save(buf, "PNG")  # manifest and XMP gone
    result = aimark.ingest(
        buf.getvalue(), None, platform.credentials(), platform="Example Social", verifier=both
    )
    assert result.upload.c2pa.state is aimark.C2paState.ABSENT
    assert result.gb45438["Label"] == "3"
    assert [e["kind"] for e in result.evidence] == ["watermark"]
    assert result.evidence[0]["key_id"] == wm_key.key_id
    # a verifier without the key: the platform's signed evidence, how strong it is
    report = aimark.Verifier(trust=platform.root_cert).verify_bytes(result.data)
    assert report.verdict.ai_generated
    assert report.verdict.summary.startswith("Suspected AI-generated (GB 45438 Label 3)")
    assert report.c2pa.ingest["evidence"] == ["watermark"]
    # with the key: the watermark itself
    assert both.verify_bytes(result.data).verdict.status is aimark.Status.LABELLED_WATERMARK


def test_declaration_gives_label_2_and_nothing_gives_no_label(platform, both):
    buf = io.BytesIO()
    natural_image(640, 480, seed=11).save(buf, "PNG")
    plain = buf.getvalue()
    declared = aimark.ingest(
        plain, None, platform.credentials(), platform="P", verifier=both, declared_ai=True
    )
    assert declared.gb45438["Label"] == "2"
    assert declared.output.verdict.summary.startswith("Possibly AI-generated")
    nothing = aimark.ingest(plain, None, platform.credentials(), platform="P", verifier=both)
    assert nothing.gb45438 is None and nothing.evidence == ()
    assert not nothing.output.verdict.ai_generated
    assert nothing.output.c2pa.state is aimark.C2paState.TRUSTED
    assert nothing.output.metadata.tc260_aigc is None


def test_unsigned_metadata_is_evidence(platform, both):
    """An upload with only an IPTC digital source type in XMP: Label 3, the type kept."""
    from aimark.media import containers
    from aimark.metadata.xmp import XmpLabel, merge_xmp

    buf = io.BytesIO()
    natural_image(640, 480, seed=12).save(buf, "JPEG")
    xmp = merge_xmp(None, XmpLabel(digital_source_type=TRAINED))
    data = containers.write_metadata(
        buf.getvalue(), aimark.ImageFormat.JPEG, xmp=xmp, exif=None, size=(640, 480), alpha=False
    )
    result = aimark.ingest(data, None, platform.credentials(), platform="P", verifier=both)
    assert result.gb45438["Label"] == "3"
    assert result.evidence[0]["kind"] == "unsigned-metadata"
    assert TRAINED in result.output.metadata.digital_source_types


def test_judge_rules_are_the_documented_ones(upload_jpeg, both):
    report = both.verify_bytes(upload_jpeg)
    j = judge(report)
    assert j.label == "1" and j.signed and j.evidence == ()
    assert j.source_type == TRAINED


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_other_output_formats(upload_jpeg, platform, both, fmt):
    result = aimark.ingest(
        upload_jpeg,
        None,
        platform.credentials(),
        platform="P",
        verifier=both,
        processing=aimark.IngestProcessing(image_format=fmt, max_side=800),
    )
    assert result.format == fmt
    assert result.output.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert result.output.metadata.tc260_aigc["ContentPropagator"] == "P"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_image_format_keeps_its_provenance(fmt, generator, platform, both):
    """Each image format aimark labels, republished in its own format and as JPEG: the
    generator's manifest stays a trusted parent ingredient."""
    picture = Image.fromarray(pink_image(300, 400, seed=21))
    if fmt == "gif":  # no watermark in a palette image (the labeller says so)
        with pytest.warns(aimark.LabelWarning, match="GIF"):
            upload = generator.label_image(picture, format=fmt)
    else:
        upload = generator.label_image(picture, format=fmt)
    for out_fmt in (None, "jpeg"):
        result = aimark.ingest(
            upload.data,
            None,
            platform.credentials(),
            platform="P",
            verifier=both,
            processing=aimark.IngestProcessing(image_format=out_fmt),
        )
        assert result.format == (out_fmt or aimark.ImageFormat.parse(fmt).value)
        out = result.output
        assert out.verdict.status is aimark.Status.LABELLED_TRUSTED, (fmt, out_fmt, out.verdict)
        assert out.c2pa.declared_by is not None and out.c2pa.declared_by.state == "trusted"
        assert out.metadata.tc260_aigc["ContentPropagator"] == "P", (fmt, out_fmt)


@pytest.mark.parametrize("kind", ["docx", "epub"])
def test_documents_pass_through_with_provenance(kind, creds, platform, both):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        if kind == "epub":
            z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        else:
            z.writestr(
                "[Content_Types].xml",
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
            )
            z.writestr("word/document.xml", "<w:document/>")
        z.writestr("content.xml", "<content>written by a model</content>")
    labelled = aimark.Labeler(creds, generator=("writer", "1")).label_media(buf.getvalue()).data
    result = aimark.ingest(labelled, None, platform.credentials(), platform="P", verifier=both)
    assert result.format == kind and result.actions == ("c2pa.opened", "c2pa.published")
    assert result.output.verdict.status is aimark.Status.LABELLED_TRUSTED


def test_bad_uploads_write_nothing(upload_jpeg, platform, both, tmp_path):
    dst = tmp_path / "out.jpg"
    for bad in (upload_jpeg[: len(upload_jpeg) // 3], b"\x00" * 100, b"GIF89a"):
        with pytest.raises(aimark.AimarkError) as info:
            aimark.ingest(bad, dst, platform.credentials(), platform="P", verifier=both)
        assert "ingest" in str(info.value) or "decode" in str(info.value)
        assert not dst.exists()
        assert not list(tmp_path.glob("*.tmp*"))
    src = tmp_path / "up.jpg"
    src.write_bytes(upload_jpeg)
    with pytest.raises(aimark.OutputError):
        aimark.ingest(src, src, platform.credentials(), platform="P", verifier=both)
    assert src.read_bytes() == upload_jpeg
    with pytest.raises(ValueError):
        aimark.IngestProcessing(image_format="gif")
    with pytest.raises(ValueError):
        aimark.Ingester(platform.credentials(), platform=" ")


def test_cli_ingest(upload_jpeg, platform, dev, tmp_path):
    src = tmp_path / "up.jpg"
    src.write_bytes(upload_jpeg)
    out = tmp_path / "pub.webp"
    base = [sys.executable, "-m", "aimark", "ingest", str(src), "-o", str(out)]
    base += ["--platform", "Example Social", "--cert", str(platform.cert_chain)]
    base += ["--key", str(platform.private_key), "--trust", str(dev.root_cert)]
    base += ["--trust", str(platform.root_cert), "--image-format", "webp"]
    proc = subprocess.run([*base, "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["output"]["status"] == "labelled-trusted"
    assert summary["gb45438"]["ContentPropagator"] == "Example Social"
    assert out.read_bytes()[8:12] == b"WEBP"
    proc = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "GB 45438: Label 1" in proc.stdout
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(upload_jpeg[:500])
    proc = subprocess.run(
        [*base[:4], str(bad), *base[5:]], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    assert "cannot be ingested" in proc.stderr


# ---------------------------------------------------------------- audio and video


@pytest.fixture(scope="module")
def av_uploads(tmp_path_factory, creds, wm_key) -> dict[str, bytes]:
    if not ffmpeg.available():
        pytest.skip("ffmpeg is not installed")
    tmp = tmp_path_factory.mktemp("av")
    labeler = aimark.Labeler(
        creds,
        generator=("sora-like", "2"),
        watermark_key=wm_key,
        tc260=aimark.TC260Label(producer="Clip AI"),
    )
    clip = render_clip(tmp / "clip.mp4", seconds=6.0, size=(1280, 720))
    out = {"mp4": labeler.label_media(clip).data}
    if have_espeak():
        wav = speech(tmp / "speech.wav")
    else:
        from av_clips import music, write_wav

        wav = write_wav(tmp / "music.wav", music(12.0, 44100), 44100)
    out["wav"] = labeler.label_media(wav).data
    return out


@pytest.mark.slow
@needs_ffmpeg
@pytest.mark.parametrize("kind", ["mp4", "wav"])
def test_av_transcoded_keeps_provenance(av_uploads, platform, both, kind):
    result = aimark.ingest(
        av_uploads[kind],
        None,
        platform.credentials(),
        platform="Example Social",
        verifier=both,
        processing=aimark.IngestProcessing(av="transcode", video_height=480),
    )
    assert result.data != av_uploads[kind]
    assert result.format == ("mp4" if kind == "mp4" else "m4a")
    assert "c2pa.transcoded" in result.actions
    out = result.output
    assert out.verdict.status is aimark.Status.LABELLED_TRUSTED, out.verdict
    (parent,) = [i for i in out.c2pa.ingredients if i.relationship == "parentOf"]
    assert parent.state == "trusted" and parent.ai_declared
    assert out.metadata.tc260_aigc["ContentPropagator"] == "Example Social"
    assert result.watermark_before
    assert result.watermark_after is not None  # reported either way
    if kind == "mp4":
        probe = _probe_bytes(result.data)
        assert probe.video is not None and probe.video.height == 480
        assert result.watermark_after  # the video mark survives 480p CRF 28


@pytest.mark.slow
@needs_ffmpeg
def test_av_copy_keeps_bytes_of_the_media(av_uploads, platform, both):
    result = aimark.ingest(
        av_uploads["wav"], None, platform.credentials(), platform="P", verifier=both
    )
    assert result.format == "wav" and result.actions == ("c2pa.opened", "c2pa.published")
    assert result.output.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert result.watermark_after


def _probe_bytes(data: bytes) -> ffmpeg.MediaProbe:
    from aimark.marking.embed import as_file

    with as_file(data, ".mp4") as path:
        return ffmpeg.probe(path)


_SHARED_MEDIA = SHARED / "media"


@pytest.mark.parametrize(
    "name",
    [
        "video1.mp4",
        "sample1.wav",
        "sample1.mp3",
        "sample1.m4a",
        "sample1.svg",
        "basic.pdf",
        "express-signed.pdf",
        "sample1.jxl",
        "video1_no_manifest.mp4",
    ],
)
def test_shared_media_keep_their_provenance(name, platform, dev, creds):
    path = _SHARED_MEDIA / name
    if not path.is_file():
        pytest.skip(f"shared fixture {path} is absent")
    # no watermark key: minutes of audio would be searched three times for nothing
    both = aimark.Verifier(trust=[dev.root_cert, platform.root_cert])
    before = both.verify(path)
    labelled = aimark.Labeler(creds, generator=("gen", "1")).label_media(path).data
    result = aimark.ingest(labelled, None, platform.credentials(), platform="P", verifier=both)
    assert result.format == before.media.format
    chain = [i for i in result.output.c2pa.ingredients if i.relationship == "parentOf"]
    assert chain and chain[0].state == "trusted" and chain[0].ai_declared
    assert result.output.verdict.status is aimark.Status.LABELLED_TRUSTED
    if before.c2pa.present:  # the fixture's own manifest is deeper in the chain
        assert len(chain) >= 2


# ---------------------------------------------------------------- the service


@pytest.fixture(scope="module")
def service(tmp_path_factory, platform, dev):
    tmp = tmp_path_factory.mktemp("ingest-serve")
    keys = tmp / "keys.txt"
    keys.write_text("platform-secret-key-0123456789\n")
    args = ["--api-keys-file", str(keys), "--platform", "Example Social"]
    args += ["--platform-cert", str(platform.cert_chain), "--platform-key"]
    args += [str(platform.private_key), "--trust", str(dev.root_cert)]
    args += ["--trust", str(platform.root_cert), "--ingest-av", "transcode"]
    args += ["--time-limit", "120", "--concurrency", "1"]
    with serve(*args, tmp=tmp) as s:
        yield s


def _post(url: str, body: bytes, *, key: str | None, accept: str | None = None):
    headers = {"Content-Type": "application/octet-stream"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if accept:
        headers["Accept"] = accept
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=180) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


KEY = "platform-secret-key-0123456789"


@pytest.mark.slow
def test_post_ingest_jpeg_mp4_wav(service, upload_jpeg, av_uploads, dev, platform):
    verifier = aimark.Verifier(trust=[dev.root_cert, platform.root_cert])
    for kind, body in (
        ("jpeg", upload_jpeg),
        ("mp4", av_uploads["mp4"]),
        ("wav", av_uploads["wav"]),
    ):
        status, headers, data = _post(
            service.url + "/v1/ingest?propagate_id=p-1&name=up", body, key=KEY
        )
        assert status == 200, data[:300]
        summary = json.loads(headers["Aimark-Ingest"])
        assert summary["gb45438"]["PropagateID"] == "p-1"
        assert data != body  # re-encoded
        report = verifier.verify_bytes(data)
        assert report.verdict.status is aimark.Status.LABELLED_TRUSTED, (kind, report.verdict)
        (parent,) = [i for i in report.c2pa.ingredients if i.relationship == "parentOf"]
        assert parent.state == "trusted"
        assert report.metadata.tc260_aigc["ContentPropagator"] == "Example Social"
    status, _, data = _post(
        service.url + "/v1/ingest", upload_jpeg, key=KEY, accept="application/json"
    )
    body = json.loads(data)
    assert status == 200 and body["output"]["status"] == "labelled-trusted"
    assert len(body["data_base64"]) > 1000


def test_post_ingest_refuses_without_key_and_bad_input(service, upload_jpeg):
    # a small body: the service answers 401 before reading one (a large one breaks the pipe)
    status, _, _ = _post(service.url + "/v1/ingest", upload_jpeg[:1000], key=None)
    assert status == 401
    status, _, data = _post(service.url + "/v1/ingest", upload_jpeg[:400], key=KEY)
    assert status == 422 and json.loads(data)["error"]["code"] == "cannot-ingest"
    status, _, data = _post(service.url + "/v1/ingest?declared_ai=maybe", b"x" * 100, key=KEY)
    assert status == 400
    # the verifier answers as before beside it
    status, _, data = _post(service.url + "/v1/verify", upload_jpeg, key=KEY)
    assert status == 200 and json.loads(data)["verdict"]["status"] == "labelled-trusted"


def test_ingest_route_needs_api_keys(platform):
    from aimark.server import create_app

    ingester = aimark.Ingester(platform.credentials(), platform="P")
    with pytest.raises(ValueError, match="API keys"):
        create_app(aimark.Verifier(), ingester=ingester, isolation="thread")
    app = create_app(aimark.Verifier(), ingester=ingester, isolation="thread", api_keys=[KEY])
    assert "/v1/ingest" in {r.path for r in app.routes}
    app.state.service.close()
    plain = create_app(aimark.Verifier(), isolation="thread")
    assert "/v1/ingest" not in {r.path for r in plain.routes}
    plain.state.service.close()


def test_service_ingest_in_a_thread_pool(platform, upload_jpeg, dev):
    """The same route in-process (thread isolation), through Starlette's test client."""
    from starlette.testclient import TestClient

    from aimark.server import create_app

    ingester = aimark.Ingester(platform.credentials(), platform="P")
    verifier = aimark.Verifier(trust=[dev.root_cert, platform.root_cert])
    app = create_app(verifier, ingester=ingester, isolation="thread", api_keys=[KEY])
    with TestClient(app) as client:
        r = client.post("/v1/ingest", content=upload_jpeg, headers={"X-API-Key": KEY})
        assert r.status_code == 200
        assert verifier.verify_bytes(r.content).verdict.status is aimark.Status.LABELLED_TRUSTED
        assert "/v1/ingest" in client.get("/openapi.json").json()["paths"]
