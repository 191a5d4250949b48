"""Report.compliance: each regime says met only when the file carries what it asks for, and
missing (or not determined) when it does not."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import aimark
from conftest import natural_image
from test_bad_input import run_cli

TC = aimark.TC260Label(producer="Example AI Co.")


@pytest.fixture(scope="module")
def key() -> aimark.WatermarkKey:
    return aimark.WatermarkKey.generate()


@pytest.fixture(scope="module")
def full(creds, key) -> bytes:
    lab = aimark.Labeler(creds, generator=("gen-model", "2.1"), watermark_key=key, tc260=TC)
    return lab.label_image(natural_image(640, 480, seed=21), format="png", visible=True).data


def _statuses(report: aimark.Report) -> dict[str, str]:
    return {r.regime: r.status for r in report.compliance.regimes}


def test_everything_labelled_meets_every_regime(full, dev, key):
    report = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key]).verify_bytes(full)
    assert _statuses(report) == {
        "eu-ai-act-50-2": "met",
        "gb-45438-implicit": "met",
        "gb-45438-explicit": "met",
        "ca-sb-942-latent": "met",
    }
    sb = report.compliance.get("ca-sb-942-latent")
    evidence = {q.id: q.evidence for q in sb.requirements}
    assert evidence["provider"] == "aimark development"  # the signer's organisation
    assert evidence["system"] == "gen-model 2.1" and evidence["id"].startswith("urn:aimark:")
    assert report.compliance.line().startswith("EU AI Act 50(2): met · GB 45438 implicit: met")
    d = report.to_dict()["compliance"]
    assert d["note"] == "technical evidence about this file, not legal advice"
    assert [r["status"] for r in d["regimes"]] == ["met"] * 4


def test_without_the_key_the_watermark_is_not_determined_not_met(full, dev):
    report = aimark.Verifier(trust=dev.root_cert).verify_bytes(full)
    s = _statuses(report)
    assert s["eu-ai-act-50-2"] == "unconfirmed" and s["ca-sb-942-latent"] == "unconfirmed"
    eu = report.compliance.get("eu-ai-act-50-2")
    assert {q.id: q.met for q in eu.requirements} == {
        "metadata": True,
        "signed": True,
        "watermark": None,
    }


def test_a_stripped_copy_keeps_only_what_the_pixels_carry(full, dev, key):
    buf = io.BytesIO()
    Image.open(io.BytesIO(full)).convert("RGB").save(buf, "JPEG", quality=85)
    report = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key]).verify_bytes(buf.getvalue())
    s = _statuses(report)
    assert s["eu-ai-act-50-2"] == "partial"  # the watermark, no metadata
    assert report.compliance.get("eu-ai-act-50-2").missing == ("metadata", "signed")
    assert s["gb-45438-implicit"] == "missing" and s["gb-45438-explicit"] == "not-determined"
    assert s["ca-sb-942-latent"] == "partial"


def test_unlabelled_and_unsigned_files_are_not_called_compliant(dev):
    plain = aimark.Verifier(trust=dev.root_cert).verify_bytes(_png(natural_image(seed=2)))
    s = _statuses(plain)
    assert s["eu-ai-act-50-2"] == "missing" and s["gb-45438-implicit"] == "missing"
    assert s["ca-sb-942-latent"] == "missing"
    xmp_only = aimark.verify(_repo_sample("iptc-xmp-only.jpg"))
    eu = xmp_only.compliance.get("eu-ai-act-50-2")
    assert eu.status == "partial" and eu.missing == ("signed",)
    not_ai = aimark.verify(_repo_sample("c2pa-adobe-test-C.jpg"))  # signed, but not AI media
    assert "ai" in not_ai.compliance.get("ca-sb-942-latent").missing
    assert not_ai.compliance.get("eu-ai-act-50-2").status == "missing"


def test_text_disclosure_and_front_matter(creds, dev):
    v = aimark.Verifier(trust=dev.root_cert)
    text = aimark.label_text("A poem.", credentials=creds, generator="llm 3", tc260=TC,
                             disclosure=True)  # fmt: skip
    s = _statuses(v.verify_text(text))
    assert s["gb-45438-implicit"] == "met" and s["gb-45438-explicit"] == "met"
    bare = v.verify_text(aimark.label_text("A poem.", credentials=creds, generator="llm 3"))
    assert _statuses(bare)["gb-45438-explicit"] == "missing"
    assert _statuses(bare)["gb-45438-implicit"] == "missing"
    suffix = aimark.label_text("A poem.", credentials=creds, generator="llm", disclosure="(AI生成)",
                               disclosure_position="suffix")  # fmt: skip
    assert suffix.split("\ufeff")[0].endswith("A poem.\n\n(AI生成)")
    assert v.verify_text(suffix).metadata.disclosure.startswith("ends with")


def test_an_unreadable_file_is_not_determined():
    report = aimark.verify(b"\x89PNG\r\n\x1a\n")
    assert set(_statuses(report).values()) == {"not-determined"}


def test_the_cli_and_the_scan_show_it(full, dev, tmp_path):
    path = tmp_path / "full.png"
    path.write_bytes(full)
    out = run_cli("verify", str(path), "--trust", str(dev.root_cert))
    assert "    compliance: EU AI Act 50(2): unconfirmed · GB 45438 implicit: met" in out.stdout
    verbose = run_cli("verify", str(path), "--verbose")
    assert "gb-45438-implicit ContentProducer: yes — Example AI Co." in verbose.stdout
    csv_path = tmp_path / "scan.csv"
    proc = run_cli("scan", str(tmp_path), "-o", str(tmp_path / "s.jsonl"), "--csv", str(csv_path),
                   "--workers", "1")  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    import csv

    with csv_path.open(newline="") as f:
        (row,) = [r for r in csv.DictReader(f) if r["path"].endswith("full.png")]
    assert "gb-45438-implicit=met" in row["compliance"]


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _repo_sample(name: str) -> bytes:
    from conftest import REPO

    return (REPO / "samples" / name).read_bytes()
