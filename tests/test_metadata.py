"""Unit tests for format sniffing, XMP/EXIF writing and reading, container edits, and generator
markers (each detector checked on what it should find and on what it must not)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

import aimark
from aimark.media import containers
from aimark.media.sniff import ImageFormat, sniff
from aimark.metadata.exif import ExifError, ExifLabel, merge_exif, read_exif
from aimark.metadata.markers import find_markers
from aimark.metadata.xmp import TRAINED, XmpError, XmpLabel, build_xmp, merge_xmp, read_xmp
from conftest import ALL_FORMATS, encode, natural_image


@pytest.mark.parametrize("fmt", [f for f in ALL_FORMATS if f != "heic"])
def test_sniff_real_encodings(fmt):
    assert sniff(encode(natural_image(32, 32), fmt)) is ImageFormat(fmt)


def test_sniff_rejects_non_images():
    for data in (b"", b"hello", b"%PDF-1.4", b"\x00" * 64, b"RIFF\x00\x00\x00\x00WAVE"):
        assert sniff(data) is None


def test_format_parse_aliases():
    assert ImageFormat.parse("JPG") is ImageFormat.JPEG
    assert ImageFormat.parse("image/heif") is ImageFormat.HEIC
    assert ImageFormat.parse(".tif") is ImageFormat.TIFF
    with pytest.raises(ValueError, match="unknown image format"):
        ImageFormat.parse("bmp")


def test_xmp_round_trip_and_merge_keeps_foreign_properties():
    label = XmpLabel(
        creator_tool="m 1", ai_system="m", ai_system_version="1", content_id="urn:uuid:1"
    )
    parsed = read_xmp(build_xmp(label))
    assert parsed.digital_source_types == (TRAINED,)
    assert (parsed.creator_tool, parsed.ai_system, parsed.document_id) == ("m 1", "m", "urn:uuid:1")
    foreign = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/'
        b'std/Iptc4xmpExt/2008-02-29/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        b'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/'
        b'digitalCapture"><dc:creator><rdf:Seq><rdf:li>Ann</rdf:li></rdf:Seq></dc:creator>'
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    assert read_xmp(foreign).digital_source_types[0].endswith("digitalCapture")
    merged = merge_xmp(foreign, label)
    assert b"Ann" in merged
    assert read_xmp(merged).digital_source_types == (TRAINED,)  # old value replaced, not doubled


def test_xmp_refuses_entities_and_garbage():
    evil = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&a;</x:xmpmeta>'
    assert read_xmp(evil).problems
    assert read_xmp(b"<not xml").problems
    with pytest.raises(XmpError):
        merge_xmp(evil, XmpLabel())


def test_exif_merge_keeps_fields_and_decodes_comment():
    base = Image.Exif()
    base[0x010F] = "Maker"
    raw = merge_exif(base.tobytes(), ExifLabel(software="m 1", comment="AI-generated ✓"))
    fields = read_exif(raw)
    assert fields == {"Make": "Maker", "Software": "m 1", "UserComment": "AI-generated ✓"}
    with pytest.raises(ExifError):
        merge_exif(b"Exif\x00\x00garbage-not-tiff", ExifLabel(software="x"))
    assert read_exif(b"garbage") == {}


def test_png_chunks_stay_valid_and_pillow_reads_them():
    data = encode(natural_image(50, 40), "png")
    out = containers.write_metadata(
        data,
        ImageFormat.PNG,
        xmp=build_xmp(XmpLabel()),
        exif=merge_exif(None, ExifLabel(software="s")),
    )
    with Image.open(io.BytesIO(out)) as im:
        im.load()  # CRCs are checked while loading
        assert read_xmp(im.info["XML:com.adobe.xmp"]).digital_source_types == (TRAINED,)
        assert read_exif(im.info["exif"])["Software"] == "s"
    # writing twice replaces instead of stacking
    twice = containers.write_metadata(out, ImageFormat.PNG, xmp=build_xmp(XmpLabel()), exif=None)
    assert twice.count(b"XML:com.adobe.xmp") == 1


def test_simple_webp_becomes_extended_with_alpha_flag():
    im = natural_image(30, 20, mode="RGBA")
    im.putalpha(Image.linear_gradient("L").resize(im.size))
    data = encode(im, "webp", lossless=True)
    assert b"VP8X" not in data[:40]
    out = containers.write_metadata(
        data, ImageFormat.WEBP, xmp=build_xmp(XmpLabel()), exif=None, size=im.size, alpha=True
    )
    with Image.open(io.BytesIO(out)) as a, Image.open(io.BytesIO(data)) as b:
        assert a.mode == "RGBA"
        assert np.array_equal(np.asarray(a), np.asarray(b))
        assert read_xmp(a.info["xmp"]).digital_source_types == (TRAINED,)


def test_animated_gif_keeps_frames():
    frames = [natural_image(40, 30, seed=i).convert("P") for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    out = containers.write_metadata(
        buf.getvalue(), ImageFormat.GIF, xmp=build_xmp(XmpLabel()), exif=None
    )
    assert containers.read_metadata(out, "gif").xmp.startswith(b"<?xpacket")
    with Image.open(io.BytesIO(out)) as im:
        assert im.n_frames == 3


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif"])
def test_truncation_is_detected(fmt):
    data = encode(natural_image(), fmt)
    with pytest.raises(aimark.CorruptInputError):
        containers.check_structure(data[: len(data) * 2 // 3], ImageFormat(fmt))
    containers.check_structure(data, ImageFormat(fmt))


def _png_with_text(**texts: str) -> dict:
    info = PngImagePlugin.PngInfo()
    for k, v in texts.items():
        info.add_text(k, v)
    data = encode(natural_image(32, 32), "png", pnginfo=info)
    with Image.open(io.BytesIO(data)) as im:
        return dict(im.info)


def test_markers_found():
    a1111 = _png_with_text(
        parameters="a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, "
        "CFG scale: 7, Seed: 1, Model: sd15"
    )
    assert [m.generator for m in find_markers(a1111, {})] == ["AUTOMATIC1111/Forge"]
    comfy = _png_with_text(
        prompt=json.dumps({"3": {"class_type": "KSampler"}}), workflow=json.dumps({"nodes": []})
    )
    assert [m.generator for m in find_markers(comfy, {})] == ["ComfyUI", "ComfyUI"]
    invoke = _png_with_text(invokeai_metadata=json.dumps({"model": "x"}))
    assert [m.generator for m in find_markers(invoke, {})] == ["InvokeAI"]
    novel = _png_with_text(Software="NovelAI", Comment=json.dumps({"prompt": "x"}))
    assert [m.generator for m in find_markers(novel, {})] == ["NovelAI"]
    exif = {"UserComment": "a dog\nSteps: 30, Sampler: DPM++ 2M, Seed: 3"}
    assert [m.generator for m in find_markers({}, exif)] == ["AUTOMATIC1111/Forge"]


def test_markers_not_found_in_ordinary_metadata():
    plain = _png_with_text(
        parameters="exposure=1/200", prompt="not json {", Software="GIMP 2.10", Comment="holiday"
    )
    assert find_markers(plain, {"Software": "Adobe Photoshop", "UserComment": "Steps: none"}) == []


def test_tc260_label_in_xmp_is_reported():
    aigc = json.dumps({"Label": "1", "ContentProducer": "example", "ProduceID": "42"})
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf'
        '-syntax-ns#"><rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/'
        f'1.0/"><TC260:AIGC>{aigc}</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>'
    )
    report = aimark.verify(encode(natural_image(), "jpeg", xmp=xmp.encode()))
    assert report.metadata.tc260_aigc["ContentProducer"] == "example"
    assert report.verdict.status is aimark.Status.LABELLED_UNSIGNED
    negative = xmp.replace('"Label": "1"', '"Label": "0"')
    clean = aimark.verify(encode(natural_image(), "jpeg", xmp=negative.encode()))
    assert clean.verdict.status is aimark.Status.NOT_LABELLED


def test_generator_markers_reach_the_report():
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "x\nSteps: 20, Sampler: Euler, Seed: 1")
    report = aimark.verify(encode(natural_image(), "png", pnginfo=info))
    assert report.verdict.status is aimark.Status.LABELLED_UNSIGNED
    assert report.metadata.markers[0].generator == "AUTOMATIC1111/Forge"


def test_digital_source_type_vocabulary():
    dst = aimark.DigitalSourceType
    assert dst.parse(TRAINED) is dst.TRAINED_ALGORITHMIC_MEDIA
    assert dst.parse("COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA").is_ai
    assert not dst.DIGITAL_CAPTURE.is_ai and not dst.ALGORITHMIC_MEDIA.is_ai
    with pytest.raises(ValueError):
        dst.parse("madeUp")


def test_generator_coercion():
    g = aimark.Generator
    assert g.coerce("SDXL 1.0") == g("SDXL", "1.0")
    assert g.coerce("DALL·E") == g("DALL·E")
    assert g.coerce({"name": "x", "version": 2}) == g("x", "2")
    with pytest.raises(ValueError):
        g.coerce("  ")
    with pytest.raises(TypeError):
        g.coerce(3)
