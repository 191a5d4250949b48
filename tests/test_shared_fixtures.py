"""Real files made by other tools (Adobe's c2pa-rs test images): aimark must report what
c2pa-python's own Reader reports for each."""

from __future__ import annotations

import io
import json

import c2pa
import pytest

import aimark
from conftest import SHARED

FILES = sorted((SHARED / "c2pa").iterdir()) if (SHARED / "c2pa").is_dir() else []
STATE = {
    "Valid": aimark.C2paState.VALID_UNTRUSTED,
    "Invalid": aimark.C2paState.INVALID,
    "Trusted": aimark.C2paState.TRUSTED,
}


def reader_view(path):
    """(state or None, active manifest label, claim generator name) straight from c2pa."""
    fmt = aimark.ImageFormat(aimark.media.sniff(path.read_bytes()))
    try:
        reader = c2pa.Reader.try_create(fmt.mime, io.BytesIO(path.read_bytes()))
    except c2pa.C2paError as exc:
        return ("error", str(exc)), None, None
    if reader is None:
        return None, None, None
    with reader:
        store = json.loads(reader.json())
        label = store.get("active_manifest")
        m = store["manifests"][label]
        info = m.get("claim_generator_info")
        name = info[0].get("name") if info else m.get("claim_generator")
        return reader.get_validation_state(), label, name


@pytest.mark.skipif(not FILES, reason=f"shared fixtures not present at {SHARED / 'c2pa'}")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_verify_agrees_with_c2pa_reader(path):
    report = aimark.verify(path)
    state, label, generator = reader_view(path)
    if state is None:
        assert report.c2pa.state is aimark.C2paState.ABSENT
        assert report.c2pa.manifest is None
    elif isinstance(state, tuple):
        # The reader refuses (e.g. cloud.jpg's remote manifest, never fetched by aimark).
        assert report.c2pa.state in (aimark.C2paState.REMOTE, aimark.C2paState.INVALID)
        assert report.c2pa.error
    else:
        assert report.c2pa.state is STATE[state]
        assert report.c2pa.manifest == label
        assert report.c2pa.claim_generator.startswith(generator)
    assert report.verdict.status is not aimark.Status.LABELLED_TRUSTED  # no anchors given


def test_known_expectations_hold_where_present():
    if not FILES:
        pytest.skip("shared fixtures absent")
    names = {p.name: p for p in FILES}
    if "cloud.jpg" in names:
        r = aimark.verify(names["cloud.jpg"])
        assert r.c2pa.state is aimark.C2paState.REMOTE and r.c2pa.remote_url.startswith("https://")
    if "XCA.jpg" in names:
        codes = {f.code for f in aimark.verify(names["XCA.jpg"]).c2pa.failures}
        assert "assertion.dataHash.mismatch" in codes
