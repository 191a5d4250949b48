"""GB 45438-2025 implicit labels: written by aimark in every carrier it names per format, read
back by aimark and by independent parsers (the XML parser on the raw XMP packet, Pillow's
EXIF reader, a hand walk of the PNG chunks, PyYAML on the text's front matter)."""

from __future__ import annotations

import io
import json
import re
import struct
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

import aimark
from aimark.metadata.tc260 import FIELDS, NAMESPACE, parse_aigc, read_front_matter
from conftest import format_param, natural_image

TC = aimark.TC260Label(
    producer="001191110102MA00000000000", produce_id="job-42", reserved_code1="sig:ab12"
)
EXPECTED = {
    "Label": "1",
    "ContentProducer": "001191110102MA00000000000",
    "ProduceID": "job-42",
    "ReservedCode1": "sig:ab12",
    "ContentPropagator": "",
    "PropagateID": "",
    "ReservedCode2": "",
}


def _xmp_aigc(data: bytes) -> dict:
    """The TC260:AIGC property of the file's XMP packet, by the XML parser alone."""
    start = data.find(b"<x:xmpmeta")
    end = data.find(b"</x:xmpmeta>", start)
    assert start >= 0 and end > start, "no XMP packet"
    root = ET.fromstring(data[start : end + len(b"</x:xmpmeta>")])
    found = [el.text for el in root.iter("{" + NAMESPACE + "}AIGC")]
    assert len(found) == 1, found
    return json.loads(found[0])


def _png_text_chunks(data: bytes) -> dict[str, str]:
    out, pos = {}, 8
    while pos + 8 <= len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        ctype, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        if ctype == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        pos += 12 + n
    return out


@pytest.mark.parametrize(
    "fmt", [format_param(f) for f in ("png", "jpeg", "webp", "tiff", "gif", "avif", "heic")]
)
def test_every_image_format_carries_the_label_where_the_format_has_room(fmt, creds, trusted):
    out = aimark.label_image(
        natural_image(), credentials=creds, generator="img-model 2", format=fmt, tc260=TC
    )
    assert "tc260" in out.layers
    assert _xmp_aigc(out.data) == EXPECTED
    im = Image.open(io.BytesIO(out.data))
    comment = im.getexif().get_ifd(0x8769).get(0x9286)  # Exif IFD, UserComment
    if fmt in ("tiff", "gif"):  # no EXIF UserComment written: GIF has no EXIF, TIFF keeps XMP
        expected_carriers = ("xmp",)
    else:
        assert comment is not None, "no EXIF UserComment"
        text = comment.decode("ascii" if comment[:5] == b"ASCII" else "utf-16-be", "replace")
        assert json.loads(text[text.index("{") :].rstrip("\x00")) == {"AIGC": EXPECTED}
        expected_carriers = ("xmp", "exif")
    if fmt == "png":
        assert json.loads(_png_text_chunks(out.data)["AIGC"]) == EXPECTED
        expected_carriers += ("png-text",)
    report = trusted.verify_bytes(out.data)
    assert report.metadata.tc260_aigc == EXPECTED
    assert report.metadata.tc260_carriers == expected_carriers
    assert report.metadata.problems == ()
    assert report.to_dict()["metadata"]["tc260_carriers"] == list(expected_carriers)


def test_without_tc260_nothing_is_written(creds, trusted):
    out = aimark.label_image(natural_image(), credentials=creds, generator="m", format="png")
    assert "tc260" not in out.layers and b"tc260.org.cn" not in out.data
    assert b"AIGC" not in out.data
    meta = trusted.verify_bytes(out.data).metadata
    assert meta.tc260_aigc is None and meta.tc260_carriers == ()


def test_produce_id_defaults_to_the_content_id_and_relabelling_replaces_it(creds, trusted):
    lab = aimark.Labeler(creds, generator="m", tc260=aimark.TC260Label(producer="Example AI"))
    first = lab.label_image(natural_image(seed=3), format="png")
    again = lab.label_image(first.data)  # labelled again: the old label is replaced, not doubled
    assert _xmp_aigc(first.data)["ProduceID"] == first.content_id
    assert _xmp_aigc(again.data)["ProduceID"] == again.content_id != first.content_id
    assert list(_png_text_chunks(again.data)) == ["AIGC"]
    assert trusted.verify_bytes(again.data).metadata.tc260_aigc["ProduceID"] == again.content_id


def test_text_carries_it_in_front_matter_inside_what_is_signed(creds, trusted):
    yaml = pytest.importorskip("yaml", reason="PyYAML is the independent front-matter parser")
    text = aimark.label_text("A short poem.", credentials=creds, generator="llm", tc260=TC)
    head = text.split("---\n")[1]
    assert yaml.safe_load(head) == {"AIGC": EXPECTED}
    assert list(yaml.safe_load(head)["AIGC"]) == list(FIELDS)  # the standard's order
    report = trusted.verify_text(text)
    assert report.verdict.status.value == "labelled-trusted"
    assert report.metadata.tc260_aigc == EXPECTED
    assert report.metadata.tc260_carriers == ("front-matter",)
    tampered = text.replace("job-42", "job-43")
    assert trusted.verify_text(tampered).c2pa.state.value == "invalid"  # it is signed
    plain = trusted.verify_text(aimark.label_text("Hi.", credentials=creds, generator="llm"))
    assert plain.metadata.tc260_aigc is None


def test_front_matter_written_by_other_tools_is_read():
    quoted = '---\ntitle: Dir\nAIGC:\n  Label: "1"\n  ContentProducer: 0011\n  ProduceID: x\n---\n'
    assert read_front_matter(quoted + "# Dir") == {
        "Label": "1",
        "ContentProducer": "0011",
        "ProduceID": "x",
    }
    assert read_front_matter("# no front matter\n---\nAIGC:\n  Label: '1'\n---\n") is None
    assert read_front_matter("---\ntitle: x\n---\nbody") is None


def test_an_image_with_a_damaged_or_partial_label_is_reported(trusted):
    buf = io.BytesIO()
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_text("AIGC", json.dumps({"Label": "9", "ContentProducer": "x"}))
    natural_image().save(buf, "PNG", pnginfo=info)
    meta = trusted.verify_bytes(buf.getvalue()).metadata
    assert meta.tc260_carriers == ("png-text",)
    assert any('Label is "9"' in p for p in meta.problems)
    assert any("no ProduceID" in p for p in meta.problems)
    assert parse_aigc("not json") is None and parse_aigc('{"other": 1}') is None


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"producer": ""}, ValueError),
        ({"producer": "x", "label": "4"}, ValueError),
        ({"producer": "x", "produce_id": "a\nb"}, ValueError),
        ({"producer": "x", "propagator": 5}, TypeError),
    ],
)
def test_bad_labels_are_refused(kwargs, error):
    with pytest.raises(error):
        aimark.TC260Label(**kwargs)


def test_media_with_xmp_carry_it_and_others_say_why_not(creds, trusted):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect/></svg>'
    out = aimark.label_media(svg, credentials=creds, generator="m", tc260=TC)
    assert "tc260" in out.layers and _xmp_aigc(out.data) == EXPECTED
    assert trusted.verify_bytes(out.data).metadata.tc260_carriers == ("xmp",)
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    pdf += b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    with pytest.warns(aimark.LabelWarning, match="GB 45438 implicit label not written"):
        res = aimark.label_media(pdf, credentials=creds, generator="m", tc260=TC)
    assert "tc260" not in res.layers
    assert re.search(rb"tc260", res.data) is None
