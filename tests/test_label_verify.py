"""Round trips: label an image, verify it, and check the result independently with c2pa.Reader."""

from __future__ import annotations

import io
import json
import warnings

import c2pa
import numpy as np
import pytest
from PIL import Image

import aimark
from aimark.media.containers import read_metadata
from aimark.metadata.exif import read_exif
from aimark.metadata.xmp import read_xmp
from conftest import FORMATS, encode, natural_image, sha256

TRAINED = aimark.DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA.uri
LOSSLESS = {"png", "tiff", "gif"}


def c2pa_read(data: bytes, mime: str, anchors: str | None = None) -> tuple[str, dict]:
    """Independent check: what c2pa-python itself says about the bytes."""
    settings = {"trust": {"user_anchors": anchors}} if anchors else {}
    ctx = c2pa.Context.from_dict(settings)
    with c2pa.Reader(mime, io.BytesIO(data), context=ctx) as reader:
        store = json.loads(reader.json())
        return reader.get_validation_state(), store


def active(store: dict) -> dict:
    return store["manifests"][store["active_manifest"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_pil_round_trip_trusted_and_untrusted(fmt, labeler, trusted, untrusted, dev):
    im = natural_image(160, 120, seed=1)
    result = labeler.label_image(im, format=fmt)
    assert result.format.value == fmt
    assert result.layers[-1] == "c2pa"

    t = trusted.verify(result.data)
    assert t.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert t.verdict.backing is aimark.Backing.TRUSTED_SIGNATURE
    assert t.c2pa.state is aimark.C2paState.TRUSTED
    assert t.c2pa.software_agents == ("test-model 1.0",)
    assert t.c2pa.digital_source_types == (TRAINED,)
    assert t.c2pa.content_id == result.content_id
    assert t.c2pa.claim_generator.startswith("aimark ")
    assert t.c2pa.signer.common_name == "aimark dev signer"

    u = untrusted.verify(result.data)
    assert u.verdict.status is aimark.Status.LABELLED_UNTRUSTED
    assert u.c2pa.state is aimark.C2paState.VALID_UNTRUSTED
    assert "signingCredential.untrusted" in {f.code for f in u.c2pa.failures}

    # Independent check with c2pa-python's own Reader.
    state, store = c2pa_read(result.data, result.format.mime, dev.root_cert.read_text())
    assert state == "Trusted"
    state_plain, _ = c2pa_read(result.data, result.format.mime)
    assert state_plain == "Valid"
    m = active(store)
    assert store["active_manifest"] == t.c2pa.manifest
    assert m["claim_generator_info"][0]["name"] == "aimark"
    actions = next(a for a in m["assertions"] if a["label"].startswith("c2pa.actions"))
    first = actions["data"]["actions"][0]
    assert first["action"] == "c2pa.created"
    assert first["digitalSourceType"] == TRAINED
    assert first["softwareAgent"] == {"name": "test-model", "version": "1.0"}
    assert "thumbnail" not in json.dumps(m).lower()  # thumbnails are off unless asked for

    # Metadata labels are also there for tools that read only XMP/EXIF.
    assert t.metadata.digital_source_types == (TRAINED,)
    if fmt != "gif":
        assert t.metadata.exif["Software"] == "test-model 1.0"


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.values[0] not in ("avif", "heic")])
def test_encoded_input_keeps_pixels_and_reads_back_labels(fmt, labeler, trusted, tmp_path):
    im = natural_image(200, 150, seed=2, mode="RGBA" if fmt in ("png", "webp") else "RGB")
    src = tmp_path / f"in.{fmt}"
    src.write_bytes(encode(im, fmt))
    before = sha256(src)
    dst = tmp_path / f"out.{fmt}"
    result = labeler.label_image(src, dst)
    assert sha256(src) == before, "the source must never be modified"
    assert dst.read_bytes() == result.data
    with Image.open(src) as a, Image.open(dst) as b:
        assert a.size == b.size and a.mode == b.mode
        # Metadata is inserted without re-encoding: identical pixels, lossy formats included.
        assert np.array_equal(np.asarray(a), np.asarray(b))
        if fmt == "png":
            xmp = b.info.get("XML:com.adobe.xmp")
        elif fmt == "tiff":
            xmp = bytes(b.tag_v2[700]) if 700 in b.tag_v2 else None
        elif fmt == "gif":  # Pillow does not read GIF XMP; use the container reader
            xmp = read_metadata(dst.read_bytes(), "gif").xmp
        else:
            xmp = b.info.get("xmp")
        assert xmp, "the XMP packet must be readable"
        assert read_xmp(xmp).digital_source_types == (TRAINED,)
        if fmt == "tiff":
            assert b.tag_v2[305] == "test-model 1.0"
        elif fmt != "gif":
            assert read_exif(b.info["exif"])["Software"] == "test-model 1.0"
    assert trusted.verify(dst).verdict.status is aimark.Status.LABELLED_TRUSTED


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.values[0] in ("avif", "heic")])
def test_encoded_avif_heic_get_c2pa_and_a_warning(fmt, labeler, trusted):
    data = encode(natural_image(128, 96, seed=3), fmt)
    with pytest.warns(aimark.LabelWarning, match="cannot be added without re-encoding"):
        result = labeler.label_image(data)
    assert result.layers == ("c2pa",)
    assert result.warnings
    report = trusted.verify(result.data)
    assert report.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert report.metadata.digital_source_types == ()


def test_existing_metadata_is_kept(labeler):
    im = natural_image(100, 80)
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0131] = "OldEditor"  # Software (replaced by the generator)
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements'
        b'/1.1/" dc:format="image/jpeg"/></rdf:RDF></x:xmpmeta>'
    )
    data = encode(im, "jpeg", exif=exif.tobytes(), xmp=xmp)
    out = labeler.label_image(data).data
    meta = read_metadata(out, "jpeg")
    fields = read_exif(meta.exif)
    assert fields["Make"] == "CameraMaker"
    assert fields["Software"] == "test-model 1.0"
    assert b'dc:format="image/jpeg"' in meta.xmp
    assert read_xmp(meta.xmp).digital_source_types == (TRAINED,)


def test_inputs_accepted_as_bytes_file_object_array(labeler, trusted, tmp_path):
    data = encode(natural_image(), "png")
    assert trusted.verify(labeler.label_image(data).data).verdict.ai_generated
    with io.BytesIO(data) as f:
        assert trusted.verify(labeler.label_image(f).data).verdict.ai_generated
    arr = np.asarray(natural_image())
    copy = arr.copy()
    out = labeler.label_image(arr, format="webp")
    assert np.array_equal(arr, copy)
    assert out.format is aimark.ImageFormat.WEBP
    assert trusted.verify(out.data).verdict.ai_generated


def test_tampered_pixels_are_invalid(labeler, trusted):
    signed = bytearray(labeler.label_image(natural_image(), format="png").data)
    # flip a byte inside the image data (IDAT), far from the manifest
    idat = signed.index(b"IDAT")
    signed[idat + 40] ^= 0xFF
    report = trusted.verify(bytes(signed))
    assert report.c2pa.state is aimark.C2paState.INVALID
    assert report.verdict.status is aimark.Status.INVALID
    assert any("mismatch" in f.code for f in report.c2pa.failures)
    state, _ = c2pa_read(bytes(signed), "image/png")
    assert state == "Invalid"


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_resave_strips_manifest_and_report_says_so(fmt, labeler, trusted):
    signed = labeler.label_image(natural_image(), format=fmt).data
    with Image.open(io.BytesIO(signed)) as im:
        resaved = encode(im.convert("RGB"), fmt)
    report = trusted.verify(resaved)
    assert report.c2pa.state is aimark.C2paState.ABSENT
    assert not report.c2pa.present
    assert report.verdict.status is aimark.Status.NOT_LABELLED
    assert "no Content Credentials" in report.verdict.summary
    assert c2pa.Reader.try_create(f"image/{fmt}", io.BytesIO(resaved)) is None


def test_existing_manifest_becomes_parent_ingredient(labeler, trusted):
    first = labeler.label_image(natural_image(), format="jpeg").data
    second = labeler.label_image(first).data
    report = trusted.verify(second)
    assert report.c2pa.state is aimark.C2paState.TRUSTED
    assert report.c2pa.manifests == 2
    assert [a.action for a in report.c2pa.actions] == ["c2pa.opened", "c2pa.edited"]
    _, store = c2pa_read(second, "image/jpeg")
    ingredients = active(store)["ingredients"]
    assert ingredients[0]["relationship"] == "parentOf"


def test_options_source_type_training_thumbnail(creds, trusted):
    labeler = aimark.Labeler(
        creds,
        generator="edit-model 2",
        source_type="compositeWithTrainedAlgorithmicMedia",
        allow_training=False,
        thumbnail=True,
    )
    result = labeler.label_image(natural_image(), format="jpeg")
    report = trusted.verify(result.data)
    assert report.c2pa.digital_source_types == (
        aimark.DigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA.uri,
    )
    assert report.verdict.ai_generated
    assert report.c2pa.training_mining == {
        "cawg.ai_generative_training": "notAllowed",
        "cawg.ai_training": "notAllowed",
        "cawg.data_mining": "notAllowed",
    }
    assert report.metadata.data_mining.endswith("DMI-PROHIBITED-AIMLTRAINING")
    _, store = c2pa_read(result.data, "image/jpeg")
    assert "thumbnail" in json.dumps(active(store)).lower()


def test_content_ids_are_unique(labeler):
    ids = {labeler.label_image(natural_image(64, 64), format="png").content_id for _ in range(5)}
    assert len(ids) == 5


def test_dst_equal_to_src_is_refused_unless_overwrite(labeler, tmp_path):
    src = tmp_path / "a.png"
    src.write_bytes(encode(natural_image(), "png"))
    before = sha256(src)
    with pytest.raises(aimark.OutputError, match="is the source"):
        labeler.label_image(src, src)
    assert sha256(src) == before
    labeler.label_image(src, src, overwrite=True)
    assert aimark.verify(src).verdict.ai_generated


@pytest.mark.parametrize("name", ["out.jpg", "out.JPEG", "out.webp", "out.png", "out.tif"])
def test_the_destination_suffix_decides_the_format_of_pixels(labeler, tmp_path, name):
    """A PIL image labelled to out.jpg is a JPEG (not PNG bytes under that name)."""
    result = labeler.label_image(natural_image(), tmp_path / name)
    expected = aimark.ImageFormat.parse(name.rsplit(".", 1)[1])
    assert result.format is expected
    with Image.open(tmp_path / name) as written:
        assert written.format == expected.pillow_name
    assert aimark.verify(tmp_path / name).verdict.ai_generated


def test_a_contradicting_or_unknown_suffix_is_a_clear_error(labeler, tmp_path):
    src = tmp_path / "in.png"
    src.write_bytes(encode(natural_image(), "png"))
    cases = [
        (natural_image(), "o.dat", {}, ".dat is not an image format aimark writes"),
        (natural_image(), "o.jpg", {"format": "png"}, "format='png' contradicts"),
        (src, "o.jpg", {}, "names a JPEG image, but the input is a PNG image"),
        (src.read_bytes(), "o.webp", {}, "names a WebP image, but the input is a PNG image"),
    ]
    for image, name, options, message in cases:
        with pytest.raises(aimark.OutputError, match=message):
            labeler.label_image(image, tmp_path / name, **options)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]  # nothing written
    # agreeing names and formats, and no suffix at all, are fine
    assert labeler.label_image(src, tmp_path / "o.png").format is aimark.ImageFormat.PNG
    assert (
        labeler.label_image(natural_image(), tmp_path / "o", format="webp").format.value == "webp"
    )


def test_failed_overwrite_leaves_source_whole(dev, tmp_path):
    src = tmp_path / "a.jpg"
    src.write_bytes(encode(natural_image(), "jpeg"))
    before = sha256(src)

    def broken_hsm(data: bytes) -> bytes:
        raise RuntimeError("HSM offline")

    creds = aimark.Credentials.from_callback(dev.cert_chain.read_bytes(), broken_hsm)
    labeler = aimark.Labeler(creds, generator="m")
    with pytest.raises(aimark.SigningError, match="HSM offline"):
        labeler.label_image(src, src, overwrite=True)
    assert sha256(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"], "no temp files left behind"


def test_output_folder_missing_is_output_error(labeler, tmp_path):
    with pytest.raises(aimark.OutputError):
        labeler.label_image(natural_image(), tmp_path / "missing" / "x.png", format="png")


def test_one_shot_label_image_and_verify(creds, dev, tmp_path):
    dst = tmp_path / "x.webp"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = aimark.label_image(
            natural_image(), dst, credentials=creds, generator="g 1", format="webp"
        )
    assert result.path == dst
    assert bytes(result) == dst.read_bytes()
    assert aimark.verify(dst, trust=dev.root_cert).verdict.status is aimark.Status.LABELLED_TRUSTED
    assert aimark.verify(dst).verdict.status is aimark.Status.LABELLED_UNTRUSTED


def test_unsigned_metadata_only_is_weakest_label():
    from aimark.metadata.xmp import XmpLabel, build_xmp

    data = encode(natural_image(), "jpeg", xmp=build_xmp(XmpLabel()))
    report = aimark.verify(data)
    assert report.verdict.status is aimark.Status.LABELLED_UNSIGNED
    assert report.verdict.backing is aimark.Backing.UNSIGNED_METADATA
    plain = aimark.verify(encode(natural_image(), "jpeg"))
    assert plain.verdict.status is aimark.Status.NOT_LABELLED
    assert not plain.verdict.ai_generated


def test_other_trust_anchor_is_not_trusted(labeler, tmp_path):
    other = aimark.create_dev_credentials(tmp_path / "other")
    signed = labeler.label_image(natural_image(), format="png").data
    report = aimark.verify(signed, trust=other.root_cert)
    assert report.c2pa.state is aimark.C2paState.VALID_UNTRUSTED
    assert report.verdict.status is aimark.Status.LABELLED_UNTRUSTED


def test_report_json_is_stable(labeler, trusted):
    report = trusted.verify(labeler.label_image(natural_image(), format="png").data)
    d = json.loads(report.to_json())
    assert d["schema"] == "aimark.report" and d["schema_version"] == 1
    assert list(d) == [
        "schema",
        "schema_version",
        "aimark_version",
        "source",
        "verdict",
        "media",
        "c2pa",
        "metadata",
        "trust_anchors",
        "error",
        "watermark",
        "file",  # added in 0.1 for aimark.scan (null from verify)
        "recovery",  # added in 0.2: credentials a manifest repository gave back (else null)
        "compliance",  # added in 0.2: which labelling requirements the file meets
    ]
    assert d["file"] is None and d["recovery"] is None
    assert d["verdict"]["status"] == "labelled-trusted"
    assert d["c2pa"]["state"] == "trusted"
    assert d["media"]["format"] == "png"
    with pytest.raises(AttributeError):
        report.source = "x"  # frozen
