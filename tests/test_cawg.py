"""C2PA 2.2+ ``c2pa.watermarked.bound`` and the CAWG identity assertion, pinned against the
c2pa-python/c2pa-rs actually installed (real signing and reading, no mocks): if the library
changes what it accepts or reports, these tests fail and docs/c2pa.md must be revisited."""

from __future__ import annotations

import io
import json

import c2pa
import numpy as np
import pytest
from PIL import Image

import aimark
from aimark.generator import Generator
from aimark.manifest.c2pa_io import ManifestSigner
from aimark.manifest.definitions import WATERMARK_ACTION, WATERMARK_ACTIONS, ai_manifest

AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ALG = "io.aimark.image.3"


def _jpeg() -> bytes:
    buf = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buf, "JPEG")
    return buf.getvalue()


def _definition(**kw) -> dict:
    return ai_manifest(
        generator=Generator("m", "1"),
        content_id="urn:uuid:0",
        source_type_uri=AI,
        title="t",
        mime="image/jpeg",
        **kw,
    )


def _codes(data: bytes, root_pem: str) -> tuple[str, dict[str, list[str]]]:
    """c2pa's own state and codes (success / informational / failure) for the active manifest."""
    ctx = c2pa.Context.from_dict({"trust": {"user_anchors": root_pem}})
    with c2pa.Reader("image/jpeg", io.BytesIO(data), context=ctx) as r:
        report = json.loads(r.json())
        state = r.get_validation_state()
    active = report["validation_results"]["activeManifest"]
    kinds = ("success", "informational", "failure")
    return state, {k: sorted(x["code"] for x in active.get(k) or []) for k in kinds}


# ------------------------------------------------------------------ c2pa.watermarked.bound


def test_watermark_is_written_as_watermarked_bound():
    d = _definition(watermark=(ALG, b"\x01" * 8))
    actions = d["assertions"][0]["data"]["actions"]
    assert WATERMARK_ACTION == "c2pa.watermarked.bound"
    assert actions[-1]["action"] == "c2pa.watermarked.bound"
    assert "c2pa.watermarked" in WATERMARK_ACTIONS  # the pre-2.2 name is still read


@pytest.mark.parametrize("action", ["c2pa.watermarked.bound", "c2pa.watermarked"])
def test_pinned_library_validates_watermark_actions_cleanly(action, dev, creds):
    """0.38.1 / c2pa-rs 0.91.3: both names sign and read Trusted, with exactly the codes of a
    manifest with no watermark at all plus the soft binding's hashedURI match; no failure,
    and no informational code beyond the skipped OCSP fetch."""
    d = _definition(watermark=(ALG, b"\x01" * 8))
    d["assertions"][0]["data"]["actions"][-1]["action"] = action
    signed = ManifestSigner(creds).sign(_jpeg(), "image/jpeg", d)
    state, codes = _codes(signed, dev.root_cert.read_text())
    assert state == "Trusted"
    assert codes["failure"] == []
    assert codes["informational"] == ["signingCredential.ocsp.skipped"]
    assert codes["success"] == sorted(
        ["signingCredential.trusted", "claimSignature.insideValidity", "claimSignature.validated"]
        # c2pa.hash.data, c2pa.actions.v2, org.aimark.content, c2pa.soft-binding
        + ["assertion.hashedURI.match"] * 4
        + ["assertion.dataHash.match"]
    )


@pytest.mark.parametrize("action", ["c2pa.watermarked.bound", "c2pa.watermarked"])
def test_pinned_library_refuses_a_bound_watermark_without_soft_binding(action, creds):
    d = _definition(watermark=(ALG, b"\x01" * 8))
    d["assertions"][0]["data"]["actions"][-1]["action"] = action
    d["assertions"] = [a for a in d["assertions"] if a["label"] != "c2pa.soft-binding"]
    with pytest.raises(aimark.AimarkError, match="softBindingMissing"):
        ManifestSigner(creds).sign(_jpeg(), "image/jpeg", d)


def test_unbound_watermark_needs_no_soft_binding(dev, creds):
    d = _definition(watermark=(ALG, b"\x01" * 8))
    d["assertions"][0]["data"]["actions"][-1]["action"] = "c2pa.watermarked.unbound"
    d["assertions"] = [a for a in d["assertions"] if a["label"] != "c2pa.soft-binding"]
    signed = ManifestSigner(creds).sign(_jpeg(), "image/jpeg", d)
    state, codes = _codes(signed, dev.root_cert.read_text())
    assert state == "Trusted" and codes["failure"] == []


@pytest.mark.parametrize("action", ["c2pa.watermarked.bound", "c2pa.watermarked"])
def test_both_spellings_are_understood_on_reading(action, dev, creds):
    d = _definition(watermark=(ALG, bytes.fromhex("0102030405060708")))
    d["assertions"][0]["data"]["actions"][-1]["action"] = action
    signed = ManifestSigner(creds).sign(_jpeg(), "image/jpeg", d)
    report = aimark.Verifier(trust=dev.root_cert).verify(signed)
    assert report.c2pa.state is aimark.C2paState.TRUSTED
    assert action in [a.action for a in report.c2pa.actions]
    assert report.c2pa.soft_bindings == ((ALG, "0102030405060708"),)
    assert f"the manifest declares an invisible watermark ({action}; {ALG})" in (
        report.verdict.reasons
    )
