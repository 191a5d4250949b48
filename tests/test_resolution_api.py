"""The C2PA Soft Binding Resolution API served by a real ``aimark serve --repository`` (uvicorn
on loopback), and verification against that remote API: a stripped copy recovers its
credentials through HTTP; store routes need the API key; a silent server costs a bounded time."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

import aimark
from aimark.repository import SQLiteRepository
from aimark.watermark.image import SCHEME_ID
from serving import serve

pytest.importorskip("uvicorn", reason="uvicorn is installed by the server extra")
pytest.importorskip("pdqhash", reason="PDQ fingerprints need pdqhash (aimark[repository])")
API_KEY = "test-only-resolution-9f2c7e41b8d05a63"


def _picture(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8))
    return small.resize((640, 480), Image.Resampling.BICUBIC)


def _get(url: str, data: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("content-type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type"), e.read()


@pytest.fixture(scope="module")
def setup(creds, dev, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resolution")
    db = tmp / "m.db"
    key = aimark.WatermarkKey.generate()
    key.save(tmp / "wm.key")
    lab = aimark.Labeler(creds, generator=("img-model", "3"), watermark_key=key, repository=db)
    signed = bytes(lab.label_image(_picture(1), format="jpeg"))
    im = Image.open(io.BytesIO(signed)).convert("RGB").resize((480, 360))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=70)
    (tmp / "keys.txt").write_text(API_KEY + "\n")
    return tmp, db, key, signed, buf.getvalue()


def test_resolution_api_over_http_and_remote_recovery(setup, dev):
    tmp, db, key, _, stripped = setup
    repo = SQLiteRepository(db)
    (record_id,) = [r[0] for r in repo._db.execute("SELECT manifest_id FROM manifests")]
    payload = repo.manifest(record_id).bindings[0].value
    with serve(
        "--repository", str(db), "--watermark-key", str(tmp / "wm.key"),
        "--api-keys-file", str(tmp / "keys.txt"), "--isolation", "thread", tmp=tmp,
    ) as served:  # fmt: skip
        base = served.url + "/v1"
        status, _, body = _get(base + "/services/supportedAlgorithms")
        algs = json.loads(body)
        assert status == 200 and {"alg": "io.aimark.pdq"} in algs["fingerprints"]
        value = base64.b64encode(bytes.fromhex(payload)).decode()
        status, _, body = _get(
            f"{base}/matches/byBinding?alg={SCHEME_ID}&value={urllib.request.quote(value)}"
        )
        assert status == 200
        assert json.loads(body) == {"matches": [{"manifestId": record_id, "similarityScore": 100}]}
        status, _, body = _get(base + "/matches/byContent", data=stripped)
        ids = [m["manifestId"] for m in json.loads(body)["matches"]]
        assert status == 200 and ids and set(ids) == {record_id}
        status, ctype, store = _get(f"{base}/manifests/{record_id}")
        assert status == 200 and ctype == "application/c2pa" and store[4:8] == b"jumb"
        assert _get(f"{base}/manifests/urn:c2pa:nope")[0] == 404
        assert _get(base + "/matches/byReference", data=b"{}")[0] == 501
        assert _get(base + "/matches/byBinding?alg=nope&value=AA==")[0] == 400
        # store routes: the API key, then a manifest and a binding
        assert _get(base + "/manifests", data=store)[0] == 401
        auth = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/c2pa"}
        status, _, body = _get(base + "/manifests", data=store, headers=auth)
        assert status == 200 and json.loads(body) == {"manifestId": record_id}
        binding = json.dumps({"bindingValue": "AAAAAAAAAAE=", "manifestId": record_id}).encode()
        assert _get(base + "/bindings", data=binding, headers=auth)[0] == 204
        assert repo.by_binding(SCHEME_ID, "0000000000000001")[0].manifest_id == record_id
        doc = json.loads(_get(served.url + "/openapi.json")[2])
        assert "/v1/matches/byBinding" in doc["paths"] and "/v1/manifests" in doc["paths"]
        # a verifier elsewhere, with the API as its repository
        for keys, method in (([key], "watermark"), ([], "fingerprint")):
            v = aimark.Verifier(trust=dev.root_cert, watermark_keys=keys, repository=base)
            report = v.verify_bytes(stripped)
            assert report.recovery.status == "recovered" and report.recovery.method == method
            assert report.recovery.c2pa.state.value == "trusted"


def test_store_routes_are_closed_without_api_keys(setup):
    tmp, db, *_ = setup
    with serve("--repository", str(db), "--isolation", "thread", tmp=tmp) as served:
        assert _get(served.url + "/v1/manifests", data=b"x")[0] == 403
        assert _get(served.url + "/v1/services/supportedAlgorithms")[0] == 200


def test_a_silent_repository_costs_a_bounded_time(setup, dev):
    """A server that accepts the connection and never answers: the lookup gives up at the
    remote repository's time limit and the report says the repository was unavailable."""
    _, _, key, _, stripped = setup
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # accept, then say nothing
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    from aimark.repository.remote import RemoteRepository

    slow = RemoteRepository(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", timeout=1.0)
    try:
        t = time.perf_counter()
        report = aimark.Verifier(watermark_keys=[key], repository=slow).verify_bytes(stripped)
        elapsed = time.perf_counter() - t
    finally:
        stop.set()
        for c in held:
            c.close()
        listener.close()
    assert report.recovery.status == "unavailable" and "timed out" in report.recovery.note
    assert elapsed < 5
    assert report.verdict.status.value == "labelled-watermark"  # the watermark still answers


def test_a_copied_watermark_is_a_mismatch_through_the_remote_api_too(setup, dev):
    """The API never hands out stored fingerprints; the recovered manifest records its
    picture's PDQ fingerprint, signed, and a different picture with the same payload is
    called a mismatch from that."""
    from aimark.repository.fingerprint import MATCH_DISTANCE
    from aimark.watermark.image import embed

    tmp, db, key, signed, stripped = setup
    good = aimark.Verifier(trust=dev.root_cert).verify_bytes(signed)
    assert "io.aimark.pdq" in dict(good.c2pa.soft_bindings)  # recorded in the manifest
    payload = int(aimark.Verifier(watermark_keys=[key]).verify_bytes(signed).watermark.payload, 16)
    buf = io.BytesIO()
    Image.fromarray(embed(np.asarray(_picture(77)), key, payload)).save(buf, "JPEG", quality=92)
    with serve("--repository", str(db), "--isolation", "thread", tmp=tmp) as served:
        v = aimark.Verifier(
            trust=dev.root_cert, watermark_keys=[key], repository=served.url + "/v1"
        )
        forged = v.verify_bytes(buf.getvalue())
        honest = v.verify_bytes(stripped)
    assert forged.watermark.detected and forged.recovery.status == "mismatch"
    assert forged.recovery.distance > MATCH_DISTANCE
    assert honest.recovery.status == "recovered" and honest.recovery.distance <= MATCH_DISTANCE
