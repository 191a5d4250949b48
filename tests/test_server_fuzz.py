"""Every public route of a real ``aimark serve`` (uvicorn on loopback, with a repository and
API keys, so that the Soft Binding Resolution API is served too), fuzzed with hypothesis over
HTTP: whatever the parameters, headers and bodies, no answer is a 5xx, and every error is the
JSON problem shape. Plus the two reported 500s as fixed cases: a PDQ value of 8 bytes, and a
JSON body nested 100,000 deep."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from urllib.parse import quote

import pytest

pytest.importorskip("uvicorn", reason="uvicorn is installed by the server extra")
httpx = pytest.importorskip("httpx")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

import aimark  # noqa: E402
from conftest import encode, natural_image  # noqa: E402
from serving import serve  # noqa: E402

set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "aimark-hypothesis"))
API_KEY = "fuzz-only-7d3a90c5e14b26f8"
FUZZ = settings(
    max_examples=int(os.environ.get("AIMARK_FUZZ_HTTP_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
ALGS = ["io.aimark.image.2", "io.aimark.image.1", "io.aimark.pdq"]


@pytest.fixture(scope="module")
def client(tmp_path_factory, creds):
    tmp = tmp_path_factory.mktemp("fuzz-http")
    db = tmp / "m.db"
    key = aimark.WatermarkKey.generate()
    key.save(tmp / "wm.key")
    lab = aimark.Labeler(creds, generator="fuzz", watermark_key=key, repository=db)
    lab.label_image(natural_image(320, 240, seed=3), format="png")
    (tmp / "keys.txt").write_text(API_KEY + "\n")
    args = ["--repository", str(db), "--watermark-key", str(tmp / "wm.key")]
    args += ["--api-keys-file", str(tmp / "keys.txt"), "--isolation", "thread"]
    with serve(*args, tmp=tmp) as served, httpx.Client(base_url=served.url, timeout=60) as c:
        yield c
        log = served.log_text()
    assert "Traceback" not in log, log[-3000:]


def _no_5xx(r: httpx.Response) -> bool:
    """No 5xx, but for the documented 501 of byReference (this server fetches no URLs)."""
    if r.status_code == 501 and r.request.url.path == "/v1/matches/byReference":
        return r.json()["error"]["code"] == "not-implemented"
    return r.status_code < 500


def _check(r: httpx.Response) -> None:
    assert _no_5xx(r), (r.request.method, str(r.request.url), r.status_code, r.text)
    if r.status_code >= 400:
        error = r.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)


AUTH = {"Authorization": f"Bearer {API_KEY}"}
text = st.text(max_size=80)
b64 = st.binary(max_size=70).map(lambda b: base64.b64encode(b).decode())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
binding_bodies = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(ALGS) | text | st.integers(),
        "value": b64 | text | st.integers(),
        "bindingValue": b64 | text,
        "manifestId": text,
    },
)


def test_reported_500s_are_400_problems(client):
    value = base64.b64encode(bytes(8)).decode()
    r = client.get("/v1/matches/byBinding", params={"alg": "io.aimark.pdq", "value": value})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "a value of io.aimark.pdq is 32 bytes (256 bits), not 8"
    deep = b"[" * 100_000 + b"]" * 100_000
    for path, headers in (("/v1/matches/byBinding", {}), ("/v1/bindings", AUTH)):
        r = client.post(path, content=deep, headers=headers)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["error"]["message"] == "the JSON body is nested too deeply"
    # a value of the right size is looked up (no match here)
    pdq = {"alg": "io.aimark.pdq", "value": base64.b64encode(bytes(32)).decode()}
    r = client.get("/v1/matches/byBinding", params=pdq)
    assert r.status_code == 200 and r.json() == {"matches": []}


@FUZZ
@given(
    alg=st.none() | st.sampled_from(ALGS) | text,
    value=st.none() | b64 | text,
    max_results=st.none() | text | st.integers().map(str),
)
def test_by_binding_query(client, alg, value, max_results):
    params = {k: v for k, v in (("alg", alg), ("value", value), ("maxResults", max_results))}
    _check(client.get("/v1/matches/byBinding", params={k: v for k, v in params.items() if v}))


@FUZZ
@given(body=binding_bodies | json_values, raw=st.none() | st.binary(max_size=200))
def test_json_bodies(client, body, raw):
    content = raw if raw is not None else json.dumps(body).encode()
    _check(client.post("/v1/matches/byBinding", content=content))
    _check(client.post("/v1/bindings", content=content, headers=AUTH))
    _check(client.post("/v1/bindings", content=content))  # no key: 401


@FUZZ
@given(
    data=st.binary(max_size=2000),
    manifest_id=text,
    name=st.none() | text,
    content_type=st.sampled_from(
        ["application/octet-stream", "multipart/form-data", "multipart/form-data; boundary=x"]
    ),
)
def test_binary_routes_and_ids(client, data, manifest_id, name, content_type):
    headers = {"Content-Type": content_type}
    params = {"name": name} if name else {}
    _check(client.post("/v1/verify", content=data, headers={**AUTH, **headers}, params=params))
    _check(client.post("/v1/matches/byContent", content=data, headers=headers))
    _check(client.post("/v1/manifests", content=data, headers={**AUTH, **headers}))
    _check(client.get("/v1/manifests/" + quote(manifest_id, safe=":/")))


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    path=st.sampled_from(
        ["/", "/healthz", "/openapi.json", "/v1/version", "/v1/verify", "/static/app.js",
         "/v1/services/supportedAlgorithms", "/v1/matches/byReference", "/v1/manifests",
         "/v1/matches/byBinding", "/v1/bindings", "/nope"]
    ) | text.map(lambda t: "/" + quote(t, safe="/")),
    headers=st.dictionaries(
        st.sampled_from(["Content-Type", "Authorization", "X-API-Key",
                         "X-Forwarded-For", "Range", "Accept"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        max_size=3,
    ),
)  # fmt: skip
def test_any_method_path_and_header(client, method, path, headers):
    try:
        r = client.request(method, path, headers=headers)
    except (httpx.LocalProtocolError, httpx.RemoteProtocolError):  # not sendable, or refused
        return
    assert _no_5xx(r), (method, path, headers, r.status_code, r.text[:300])


def test_a_real_upload_still_verifies(client):
    image = encode(natural_image(200, 150, seed=1), "jpeg")
    r = client.post("/v1/verify", content=image, headers=AUTH)
    assert r.status_code == 200 and r.json()["verdict"]["status"] == "not-labelled"
