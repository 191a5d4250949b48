"""The upload service in-process (httpx's ASGI transport): every endpoint and every error
answer, the hardening (size, pixels, time, concurrency, crashes, temp files), API keys, and
answers that validate against the service's own OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="httpx is installed by the test extra")
pytest.importorskip("starlette", reason="starlette is installed by the server extra")

import aimark  # noqa: E402
from aimark.server import CODES, ServiceLimits, create_app  # noqa: E402
from aimark.server.openapi import openapi_document  # noqa: E402
from conftest import REPO, encode, natural_image  # noqa: E402
from server_verifiers import CrashingVerifier, GatedVerifier  # noqa: E402
from test_bad_input import _png_header_only  # noqa: E402

pytestmark = pytest.mark.anyio
API_KEY = "test-only-service-4be19d7a2c6f8053"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def key() -> aimark.WatermarkKey:
    return aimark.WatermarkKey.generate()


@pytest.fixture(scope="module")
def files(creds, key) -> dict[str, bytes]:
    plain = encode(natural_image(512, 384, seed=3), "jpeg", quality=90)
    labeler = aimark.Labeler(creds, generator=("test-model", "1.0"), watermark_key=key)
    labelled = bytes(labeler.label_image(plain))
    return {
        "plain": plain,
        "labelled": labelled,
        "text": b"A paragraph written by a person, with nothing to declare.\n",
        "signed-text": labeler.label_text("A paragraph written by a model.\n").encode("utf-8"),
    }


@pytest.fixture(scope="module")
def verifier(dev, key) -> aimark.Verifier:
    return aimark.Verifier(trust=dev.root_cert, watermark_keys=[key])


def client(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def app(verifier):
    app = create_app(verifier, limits=ServiceLimits(concurrency=2), isolation="thread")
    yield app
    app.state.service.close()


def assert_problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["error"]["code"] == code, body
    assert CODES[code] == status
    assert "Traceback" not in r.text and str(REPO) not in r.text and "site-packages" not in r.text
    return body


# -- the endpoints -----------------------------------------------------------------------------


async def test_healthz_version_and_openapi(app, verifier):
    async with client(app) as c:
        r = await c.get("/healthz")
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        v = (await c.get("/v1/version")).json()
        assert v["aimark"] == aimark.__version__ and v["schema_version"] == 1
        assert v["trust_anchors"] == len(verifier.trust.subjects) == 1
        assert v["watermark_keys"] == 1 and v["include_scores"] is False and v["auth"] is False
        assert v["limits"]["max_body_bytes"] == ServiceLimits().max_body_bytes
        doc = (await c.get("/openapi.json")).json()
    from openapi_spec_validator import validate

    validate(doc)  # a valid OpenAPI 3.1 document
    assert set(doc["paths"]) == {"/v1/verify", "/v1/version", "/healthz"}
    assert doc["components"]["schemas"]["Problem"]["properties"]["error"]["properties"]["code"][
        "enum"
    ] == sorted(CODES)


def _validator(include_scores: bool = False):
    import jsonschema

    doc = openapi_document(include_scores=include_scores)
    schema = {**doc["components"]["schemas"]["Report"], "$defs": {}}
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize(
    ("name", "status", "verdict"),
    [
        ("labelled", 200, "labelled-trusted"),
        ("plain", 200, "not-labelled"),
        ("signed-text", 200, "labelled-trusted"),
        ("text", 200, "not-labelled"),
    ],
)
async def test_verify_raw_body(app, files, verifier, name, status, verdict):
    async with client(app) as c:
        r = await c.post("/v1/verify", content=files[name], params={"name": f"{name}.bin"})
    assert r.status_code == status, r.text
    report = r.json()
    assert report["verdict"]["status"] == verdict
    assert report["source"] == f"{name}.bin"
    _validator().validate(report)  # the strict schema: no field missing, none unlisted
    # the same answer verify gives in Python, in its public form
    expected = verifier.verify_bytes(files[name], name=f"{name}.bin").to_dict(include_scores=False)
    assert report["verdict"] == expected["verdict"] and report["c2pa"] == expected["c2pa"]


async def test_labelled_image_layers_and_no_oracle(app, files, verifier):
    async with client(app) as c:
        report = (await c.post("/v1/verify", content=files["labelled"])).json()
    c2pa, wm = report["c2pa"], report["watermark"]
    assert c2pa["state"] == "trusted" and c2pa["signer"]["common_name"]
    assert wm["detected"] and wm["content_id"] == c2pa["content_id"]
    for graded in ("score", "p_value", "confidence"):  # no oracle for watermark removal
        assert graded not in wm
    assert not re.search(r"p ?= ?[0-9]|[0-9]e-[0-9]", json.dumps(report["verdict"]))  # nor in words
    # configurable for trusted deployments
    trusted_app = create_app(verifier, include_scores=True, isolation="thread")
    try:
        async with client(trusted_app) as c:
            full = (await c.post("/v1/verify", content=files["labelled"])).json()
    finally:
        trusted_app.state.service.close()
    assert full["watermark"]["p_value"] < 1e-6 and full["watermark"]["score"] is not None
    _validator(include_scores=True).validate(full)


async def test_multipart_upload_type_is_sniffed_and_name_is_not_a_path(app, files):
    async with client(app) as c:
        r = await c.post(
            "/v1/verify",
            files={"file": ("../../etc/passwd.txt", files["labelled"], "text/plain")},
            data={"comment": "a form field that is not the file"},
        )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["source"] == "passwd.txt"  # the last component only
    assert report["media"]["format"] == "jpeg"  # from the bytes, not the name or the type
    assert report["verdict"]["status"] == "labelled-trusted"


async def test_trust_comes_from_the_server_never_from_the_request(dev, files):
    untrusting = create_app(aimark.Verifier(), isolation="thread")  # no anchors configured
    try:
        async with client(untrusting) as c:
            r = await c.post(
                "/v1/verify",
                files={"file": ("a.jpg", files["labelled"])},
                data={"trust": dev.root_cert.read_text(), "trust_anchors": "all"},
                headers={"X-Trust": dev.root_cert.read_text().replace("\n", " ")},
            )
    finally:
        untrusting.state.service.close()
    assert r.json()["verdict"]["status"] == "labelled-untrusted"
    assert r.json()["c2pa"]["state"] == "valid-untrusted"


# -- input the verifier cannot read: 422 with the report and its error code ---------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty-input"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, None),  # a cut PNG: an error report
        (b"%PDF-1.7\n\x00\xff\xfe\x00 binary", "corrupt-input"),  # a PDF without its body
    ],
)
async def test_unreadable_input_is_422_with_the_report(app, data, code):
    async with client(app) as c:
        r = await c.post("/v1/verify", content=data)
    assert r.status_code == 422, r.text
    report = r.json()
    assert report["verdict"]["status"] == "error"
    assert report["error"]["code"] == (code or report["error"]["code"]) and report["error"]["code"]
    _validator().validate(report)


async def test_decompression_bomb_is_refused_before_decoding(verifier):
    app = create_app(verifier, isolation="thread")
    bomb = _png_header_only(100_000, 100_000)
    try:
        async with client(app) as c:
            t0 = time.perf_counter()
            r = await c.post("/v1/verify", content=bomb)
            elapsed = time.perf_counter() - t0
    finally:
        app.state.service.close()
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "too-large"
    assert elapsed < 5  # refused from the header, not by decoding 10 gigapixels


# -- the HTTP layer's problems --------------------------------------------------------------------


async def test_not_found_and_method_not_allowed(app):
    async with client(app) as c:
        assert_problem(await c.get("/v1/nothing"), 404, "not-found")
        r = await c.get("/v1/verify")
        assert_problem(r, 405, "method-not-allowed")
        assert r.headers["allow"] == "POST"
        assert_problem(await c.delete("/healthz"), 405, "method-not-allowed")


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (
            b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n',
            "multipart/form-data; boundary=xyz",
            "no-file",
        ),
        (
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nab',
            "multipart/form-data; boundary=xyz",
            "bad-multipart",
        ),  # no closing boundary
        (b"garbage", "multipart/form-data; boundary=xyz", "bad-multipart"),
        (b"x", "multipart/form-data", "bad-multipart"),  # no boundary
    ],
)
async def test_malformed_multipart(app, body, content_type, code):
    async with client(app) as c:
        r = await c.post("/v1/verify", content=body, headers={"content-type": content_type})
    assert_problem(r, 400, code)


async def test_one_file_per_request(app, files):
    async with client(app) as c:
        r = await c.post(
            "/v1/verify", files=[("file", ("a.jpg", files["plain"])), ("b", ("b.jpg", b"x"))]
        )
    assert_problem(r, 400, "too-many-files")


async def test_bad_content_length(app):
    async with client(app) as c:
        r = await c.post("/v1/verify", content=b"abc", headers={"content-length": "x3"})
    assert_problem(r, 400, "bad-content-length")


# -- size: 413 before the body is read ------------------------------------------------------------


def _verify_scope(headers: list[tuple[bytes, bytes]]) -> dict:
    """The ASGI scope of a ``POST /v1/verify`` with these headers."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/verify",
        "raw_path": b"/v1/verify",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }


async def _call(app, headers: list[tuple[bytes, bytes]], chunks: list[bytes], delay: float = 0):
    """Drive the ASGI app by hand; returns (status, body, number of body chunks it pulled)."""
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        if pulled < len(chunks):
            if delay:
                await asyncio.sleep(delay)
            pulled += 1
            return {
                "type": "http.request",
                "body": chunks[pulled - 1],
                "more_body": pulled < len(chunks),
            }
        await asyncio.sleep(3600)  # the client sends nothing more
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(_verify_scope(headers), receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), pulled


async def test_413_on_declared_length_before_reading_any_body(verifier):
    app = create_app(verifier, limits=ServiceLimits(max_body_bytes=1000), isolation="thread")
    try:
        status, body, pulled = await _call(
            app, [(b"content-length", b"10000000000")], [b"x" * 1000] * 5
        )
    finally:
        app.state.service.close()
    assert (status, body["error"]["code"], pulled) == (413, "body-too-large", 0)


async def test_413_while_streaming_stops_reading(verifier):
    app = create_app(verifier, limits=ServiceLimits(max_body_bytes=1000), isolation="thread")
    try:  # chunked: no length declared; it stops at the chunk that passes the limit
        status, body, pulled = await _call(app, [], [b"x" * 400] * 50)
    finally:
        app.state.service.close()
    assert (status, body["error"]["code"], pulled) == (413, "body-too-large", 3)


async def test_slow_upload_gets_408(verifier):
    app = create_app(verifier, limits=ServiceLimits(upload_timeout=0.3), isolation="thread")
    try:
        t0 = time.perf_counter()
        status, body, _ = await _call(app, [], [b"x" * 10] * 100, delay=0.05)
    finally:
        app.state.service.close()
    assert (status, body["error"]["code"]) == (408, "upload-timeout")
    assert time.perf_counter() - t0 < 2


async def test_client_disconnect_mid_upload_is_not_an_error(verifier, caplog):
    app = create_app(verifier, isolation="thread")
    sent: list[dict] = []
    messages = [
        {"type": "http.request", "body": b"\xff\xd8\xff" + b"x" * 100, "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    try:
        await app(_verify_scope([]), receive, send)
    finally:
        app.state.service.close()
    assert sent[0]["status"] == 400
    assert app.state.service.admission.in_progress == 0  # its place was given back
    assert "Traceback" not in caplog.text and "unhandled" not in caplog.text


# -- concurrency: bounded, 503 + Retry-After, and the event loop stays free ---------------------


async def test_saturated_service_answers_503_and_stays_responsive(files):
    gated = GatedVerifier()
    app = create_app(
        gated, limits=ServiceLimits(concurrency=1, queue=1, retry_after=7), isolation="thread"
    )
    try:
        async with client(app) as c:
            first = asyncio.create_task(c.post("/v1/verify", content=files["plain"]))
            second = asyncio.create_task(c.post("/v1/verify", content=files["plain"]))
            await asyncio.to_thread(gated.entered.acquire, True, 10)  # one verifying, one queued
            await asyncio.sleep(0.1)
            assert app.state.service.admission.in_progress == 2
            r = await c.post("/v1/verify", content=files["plain"])
            body = assert_problem(r, 503, "busy")
            assert r.headers["retry-after"] == "7" and "retry" in body["error"]["message"]
            # verification is off the event loop: other endpoints answer meanwhile
            t0 = time.perf_counter()
            assert (await c.get("/healthz")).status_code == 200
            assert time.perf_counter() - t0 < 1
            gated.gate.set()
            assert (await first).status_code == (await second).status_code == 200
            assert app.state.service.admission.in_progress == 0
            assert (await c.post("/v1/verify", content=files["plain"])).status_code == 200
    finally:
        gated.gate.set()
        app.state.service.close()


async def test_thread_time_limit_answers_in_time_and_keeps_the_place_until_done(files):
    gated = GatedVerifier()
    app = create_app(
        gated, limits=ServiceLimits(concurrency=1, queue=0, time_limit=0.3), isolation="thread"
    )
    try:
        async with client(app) as c:
            r = await c.post("/v1/verify", content=files["plain"])
            assert_problem(r, 422, "time-limit-exceeded")
            # the thread still works: its place is not handed out (bounded, honestly)
            assert_problem(await c.post("/v1/verify", content=files["plain"]), 503, "busy")
            gated.gate.set()
            for _ in range(100):
                if app.state.service.admission.in_progress == 0:
                    break
                await asyncio.sleep(0.05)
            assert (await c.post("/v1/verify", content=files["plain"])).status_code == 200
    finally:
        gated.gate.set()
        app.state.service.close()


# -- process isolation: hard time limit, crashes, bugs -------------------------------------------


@pytest.fixture(scope="module")
def crashing_app():
    app = create_app(
        CrashingVerifier(), limits=ServiceLimits(concurrency=2, time_limit=1.5), isolation="process"
    )
    yield app
    app.state.service.close()


async def test_process_time_limit_kills_the_worker(crashing_app, files):
    pool = crashing_app.state.service.pool
    async with client(crashing_app) as c:
        assert (await c.post("/v1/verify", content=files["plain"])).status_code == 200
        restarts = pool.restarts
        t0 = time.perf_counter()
        slow = asyncio.create_task(c.post("/v1/verify", content=b"SLOW"))
        await asyncio.sleep(0.3)
        # the other worker goes on meanwhile
        assert (await c.post("/v1/verify", content=files["plain"])).status_code == 200
        assert_problem(await slow, 422, "time-limit-exceeded")
        assert time.perf_counter() - t0 < 5
        assert pool.restarts == restarts + 1
        assert (await c.post("/v1/verify", content=files["plain"])).status_code == 200


async def test_a_crashing_worker_is_replaced(crashing_app, files):
    pool = crashing_app.state.service.pool
    async with client(crashing_app) as c:
        before = set(pool.worker_pids())
        assert_problem(await c.post("/v1/verify", content=b"CRASH"), 422, "worker-crash")
        assert (await c.post("/v1/verify", content=files["labelled"])).status_code == 200
        assert (await c.post("/v1/verify", content=files["plain"])).status_code == 200
    after = set(pool.worker_pids())
    assert len(after) <= 2 and after != before  # one was replaced


async def test_a_bug_is_500_without_traceback_or_path(crashing_app, caplog):
    async with client(crashing_app) as c:
        body = assert_problem(await c.post("/v1/verify", content=b"BUG"), 500, "internal-error")
        assert "secret" not in json.dumps(body) and "ZeroDivision" not in json.dumps(body)
        assert (await c.post("/v1/verify", content=b"\x00\xff not media")).status_code == 422
    assert "ZeroDivisionError" in caplog.text  # the operator's log has it


async def test_lifespan_starts_and_stops_the_workers(verifier):
    app = create_app(verifier, limits=ServiceLimits(concurrency=2))
    pool = app.state.service.pool
    async with app.router.lifespan_context(app):
        pids = pool.worker_pids()
        assert len(pids) == 2 and all(_alive(p) for p in pids)
    for _ in range(50):
        if not any(_alive(p) for p in pids):
            break
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- no temporary files, no leaked descriptors -------------------------------------------------


async def test_no_temporary_files_or_descriptors_left(app, files, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for var in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(var, str(tmp_path))
    fds = len(os.listdir("/proc/self/fd"))
    big = encode(natural_image(2000, 1500, seed=5), "png")  # > 1 MiB: would spool to disk
    assert len(big) > 1024 * 1024
    async with client(app) as c:
        for data in (big, files["labelled"], b"", b"junk"):
            await c.post("/v1/verify", files={"file": ("x.png", data)})
            await c.post("/v1/verify", content=data)
        await c.post(
            "/v1/verify",
            content=b"--x\r\nbroken",
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
    assert list(tmp_path.iterdir()) == []
    assert len(os.listdir("/proc/self/fd")) <= fds


# -- API keys -------------------------------------------------------------------------------------


async def test_api_key(verifier, files):
    app = create_app(verifier, api_keys=[API_KEY], isolation="thread")
    try:
        async with client(app) as c:
            r = await c.post("/v1/verify", content=files["plain"])
            assert_problem(r, 401, "unauthorized")
            assert r.headers["www-authenticate"].startswith("Bearer")
            wrong = {"Authorization": "Bearer " + "x" * len(API_KEY)}
            assert_problem(
                await c.post("/v1/verify", content=b"", headers=wrong), 401, "unauthorized"
            )
            assert_problem(await c.get("/v1/version"), 401, "unauthorized")
            ok = await c.post(
                "/v1/verify", content=files["plain"], headers={"Authorization": f"Bearer {API_KEY}"}
            )
            assert ok.status_code == 200
            ok = await c.post("/v1/verify", content=files["plain"], headers={"X-API-Key": API_KEY})
            assert ok.status_code == 200
            assert (await c.get("/healthz")).status_code == 200  # probes need no key
            assert (await c.get("/openapi.json")).json()["paths"]["/v1/verify"]["post"]["security"]
    finally:
        app.state.service.close()
    with pytest.raises(ValueError, match="too guessable"):
        create_app(verifier, api_keys=["short"], isolation="thread")


async def test_security_headers_on_every_answer(app):
    async with client(app) as c:
        for r in (await c.get("/healthz"), await c.get("/nope"), await c.post("/v1/verify")):
            assert "default-src 'none'" in r.headers["content-security-policy"]
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["cache-control"] == "no-store"


async def test_the_page_words_verdicts_from_the_one_table(app):
    """Verdicts, regimes and signature states are worded once (aimark.wording): the page gets
    them as /wording.json, the HTML scan report and the scan summary read the same table, and
    app.js holds no copy of its own."""
    from aimark import wording
    from aimark.scanner import html, summary

    async with client(app) as c:
        served = (await c.get("/static/app.js")).text
    table = json.loads(served.split("var WORDING = ", 1)[1].split(";\n", 1)[0])
    assert table == json.loads(json.dumps(wording.as_json()))
    assert set(table["status"]) == {s.value for s in aimark.Status}
    assert {s.id: s.card for s in wording.STATUSES} == html.VERDICTS
    assert tuple(s.id for s in wording.STATUSES) == summary._ORDER
    source = (Path(aimark.__file__).parent / "server" / "static" / "app.js").read_text()
    for s in wording.STATUSES:
        assert s.headline not in source and json.dumps(s.headline)[1:-1] not in source
    assert "/*aimark.wording*/ null" in source
