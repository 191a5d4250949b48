"""docs/report.schema.json: generated from the service's schema, never drifting, and every kind
of real report validates against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

import aimark
from conftest import encode, natural_image
from test_bad_input import run_cli

jsonschema = pytest.importorskip("jsonschema")

PUBLISHED = Path(__file__).resolve().parents[1] / "docs" / "report.schema.json"


def test_published_file_is_what_the_code_generates():
    proc = run_cli("schema")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == PUBLISHED.read_text(encoding="utf-8"), (
        "docs/report.schema.json is stale: run `python -m aimark schema > docs/report.schema.json`"
    )


def test_schema_is_a_valid_draft_2020_12_schema_matching_the_service():
    from aimark.server.openapi import openapi_document

    schema = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    service = openapi_document(include_scores=True)["components"]["schemas"]["Report"]
    mine, theirs = schema["properties"], service["properties"]  # the same source
    assert {k: v for k, v in mine.items() if k != "watermark"} == {
        k: v for k, v in theirs.items() if k != "watermark"
    }
    assert mine["watermark"]["properties"].keys() == theirs["watermark"]["properties"].keys()
    assert set(theirs["watermark"]["required"]) - set(mine["watermark"]["required"]) == {
        "p_value",
        "confidence",
        "score",
    }  # the graded numbers: present with include_scores, absent without


@pytest.fixture(scope="module")
def reports(tmp_path_factory, dev):
    d = tmp_path_factory.mktemp("schema")
    key = aimark.WatermarkKey.generate()
    creds = dev.credentials()
    made = {"credentials": creds, "generator": "g"}
    aimark.label_image(natural_image(seed=11), d / "labelled.png", **made)
    aimark.label_image(natural_image(seed=12), d / "marked.png", watermark_key=key, **made)
    (d / "plain.jpg").write_bytes(encode(natural_image(seed=13), "jpeg"))
    (d / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    text = "A paragraph a model wrote, long enough to carry a label. " * 4
    signed = aimark.label_text(text, credentials=creds, generator="g")
    (d / "signed.txt").write_text(signed, encoding="utf-8", newline="")
    (d / "plain.txt").write_text("Nothing special in this text at all. " * 6, encoding="utf-8")
    platform = aimark.create_dev_credentials(d / "platform", organization="Platform P")
    aimark.ingest(d / "labelled.png", d / "copy.jpg", platform.credentials(), platform="P")
    verifier = aimark.Verifier(trust=[dev.root_cert], watermark_keys=[key])
    out = {p.name: verifier.verify(p) for p in sorted(d.iterdir()) if p.is_file()}
    with Image.open(d / "marked.png") as im:  # re-encoded: the manifest gone, the mark kept
        (d / "marked.jpg").write_bytes(encode(im.convert("RGB"), "jpeg", quality=95))
    out["stripped-marked.jpg"] = verifier.verify(d / "marked.jpg")
    return d, out


def test_real_reports_validate(reports):
    _, out = reports
    statuses = {name: r.verdict.status.value for name, r in out.items()}
    assert statuses["corrupt.png"] == "error"
    assert statuses["plain.jpg"] == "not-labelled"
    assert out["stripped-marked.jpg"].watermark.detected, statuses
    assert out["copy.jpg"].c2pa.ingredients, statuses
    assert out["signed.txt"].media.format == "text", statuses
    validator = jsonschema.Draft202012Validator(json.loads(PUBLISHED.read_text(encoding="utf-8")))
    for name, report in out.items():
        for scores in (True, False):
            errors = list(validator.iter_errors(report.to_dict(include_scores=scores)))
            assert not errors, f"{name} (include_scores={scores}): {errors[0].message}"


def test_verify_json_output_validates(reports):
    d, _ = reports
    proc = run_cli("verify", "--json", "--detailed", str(d))
    validator = jsonschema.Draft202012Validator(json.loads(PUBLISHED.read_text(encoding="utf-8")))
    lines = [json.loads(ln) for ln in proc.stdout.splitlines()]
    assert len(lines) >= 6
    for report in lines:
        validator.validate(report)
