"""The C2PA Soft Binding Resolution API over a manifest repository (``aimark serve
--repository DB``), under ``/v1`` as the specification's servers are.

Read routes are public (like the specification's ``fetch:manifests`` scope): ``GET`` and
``POST /v1/matches/byBinding``, ``POST /v1/matches/byContent`` (the asset's bytes: its
watermark, with the server's keys, and its PDQ fingerprint), ``GET /v1/manifests/{id}``
(``application/c2pa``) and ``GET /v1/services/supportedAlgorithms``. Store routes
(``POST /v1/manifests``, ``POST /v1/bindings``) need the service's API key, and are refused
when it has none. ``POST /v1/matches/byReference`` answers 501: fetching a URL a client names
would let it make this server request any address.

Binding values are base64 in the API (as the specification says) and hex in aimark: a watermark
payload is its 8 bytes, a PDQ fingerprint its 32. A fingerprint algorithm is matched by
distance (at most 31 bits of 256), a watermark exactly; ``similarityScore`` is 100 for an exact
match and ``round(100 × (1 - distance / 256))`` for a fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimark.repository import Binding, ManifestRecord, RepositoryError
from aimark.repository.fingerprint import FINGERPRINT_BITS, MATCH_DISTANCE
from aimark.server.body import read_body, read_json, read_upload
from aimark.server.problems import Problem
from aimark.watermark.image import PAYLOAD_BITS, SCHEMES

__all__ = ["FINGERPRINT_ALGS", "WATERMARK_ALGS", "resolution_routes"]

WATERMARK_ALGS = tuple(SCHEMES)
FINGERPRINT_ALGS = tuple(FINGERPRINT_BITS)
#: the size of a binding value of each algorithm: a watermark's 64-bit payload, a fingerprint
VALUE_BYTES = {
    **{alg: PAYLOAD_BITS // 8 for alg in WATERMARK_ALGS},
    **{alg: bits // 8 for alg, bits in FINGERPRINT_BITS.items()},
}
_MAX_RESULTS = 100


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def _value_hex(value: Any, alg: str) -> str:
    """A binding value (base64) as hex, checked to be the size ``alg``'s values have."""
    if not isinstance(value, str) or not value:
        raise Problem(400, "bad-request", "value must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(400, "bad-request", "value is not valid base64") from None
    size = VALUE_BYTES[alg]
    if len(raw) != size:
        raise Problem(
            400,
            "bad-request",
            f"a value of {alg} is {size} bytes ({size * 8} bits), not {len(raw)}",
        )
    return raw.hex()


def _alg(alg: Any) -> str:
    if not isinstance(alg, str) or alg not in VALUE_BYTES:
        known = ", ".join(VALUE_BYTES)
        shown = repr(alg) if isinstance(alg, str) else "missing" if alg is None else "not text"
        raise Problem(400, "bad-request", f"unsupported alg {shown[:80]} (supported: {known})")
    return alg


def _max_results(request: Request) -> int:
    raw = request.query_params.get("maxResults", "10")
    try:
        n = int(raw)
    except ValueError:
        raise Problem(400, "bad-request", "maxResults must be an integer") from None
    if n < 1:
        raise Problem(400, "bad-request", "maxResults must be at least 1")
    return min(n, _MAX_RESULTS)


def resolution_routes(service: Any, repository: Any) -> list[Route]:
    """The routes, sharing the service's API keys, limits and verifier."""

    async def call(fn, *args):
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except RepositoryError as exc:
            raise Problem(503, "repository-unavailable", f"the repository failed: {exc}") from None

    def lookup(alg: str, value_hex: str):
        if alg in FINGERPRINT_ALGS:
            return repository.by_fingerprint(alg, value_hex, MATCH_DISTANCE)
        return repository.by_binding(alg, value_hex)

    def answer(matches, limit: int) -> Response:
        out, seen = [], set()
        for m in matches:
            if m.manifest_id in seen:
                continue
            seen.add(m.manifest_id)
            out.append({"manifestId": m.manifest_id, "similarityScore": round(m.similarity)})
        return _json({"matches": out[:limit]})

    async def by_binding(request: Request) -> Response:
        limit = _max_results(request)
        if request.method == "GET":
            alg, value = request.query_params.get("alg"), request.query_params.get("value")
        else:
            body = await read_json(request, timeout=service.limits.upload_timeout)
            if not isinstance(body, dict):
                raise Problem(400, "bad-request", 'the body must be {"alg", "value"}')
            alg, value = body.get("alg"), body.get("value")
        alg = _alg(alg)
        matches = await call(lookup, alg, _value_hex(value, alg))
        return answer(matches, limit)

    async def by_content(request: Request) -> Response:
        limit = _max_results(request)
        upload = await read_upload(
            request.stream(),
            request.headers.get("content-type"),
            max_bytes=service.limits.max_body_bytes,
            timeout=service.limits.upload_timeout,
            name=None,
        )
        return answer(await call(_content_matches, upload.data), limit)

    def _content_matches(data: bytes) -> list:
        from aimark.errors import AimarkError
        from aimark.verification.pixels import Pixels
        from aimark.verification.recovery import find_matches, fingerprint_of
        from aimark.watermark.image import detect_batch

        verifier = service.verifier
        keys = list(verifier.watermark_keys)
        pixels = Pixels(data, verifier.limits, luma=bool(keys), colour=True)  # one decode
        try:
            array = pixels.get()  # an asset that cannot be decoded is a 415
            marks = [
                (d.scheme, f"{d.payload:016x}")
                for d in (detect_batch([array], keys) if keys else [])
                if d.detected and d.payload is not None
            ]
            found = find_matches(repository, watermarks=marks, fingerprint=fingerprint_of(pixels))
        except AimarkError as exc:
            raise Problem(415, "unsupported-asset", f"cannot read the asset: {exc}") from None
        return [match for _, match in found]

    async def by_reference(request: Request) -> Response:
        raise Problem(
            501,
            "not-implemented",
            "byReference is not offered: this server does not fetch URLs a client names "
            "(POST the asset to /v1/matches/byContent instead)",
        )

    async def manifest(request: Request) -> Response:
        record = await call(repository.manifest, request.path_params["manifest_id"])
        if record is None:
            raise Problem(404, "not-found", "no manifest with this id")
        return Response(record.store, media_type="application/c2pa")

    async def algorithms(request: Request) -> Response:
        return _json(
            {
                "watermarks": [{"alg": a} for a in WATERMARK_ALGS],
                "fingerprints": [{"alg": a} for a in FINGERPRINT_ALGS],
            }
        )

    def _authorize_store(request: Request) -> None:
        if not service.api_keys:
            raise Problem(403, "forbidden", "storing needs an API key, and this service has none")
        service.authorize(request)

    async def store_manifest(request: Request) -> Response:
        _authorize_store(request)
        limits = service.limits
        body = await read_body(
            request, max_bytes=limits.max_body_bytes, timeout=limits.upload_timeout
        )
        if not body:
            raise Problem(
                400, "bad-request", "the body must be a manifest store (application/c2pa)"
            )
        manifest_id = await anyio.to_thread.run_sync(_manifest_id, body)
        old = await call(repository.manifest, manifest_id)
        record = ManifestRecord(manifest_id, body, "application/c2pa")
        if old is not None:  # storing it again keeps what finds it
            record = ManifestRecord(
                manifest_id, body, old.mime, old.content_id, old.bindings, old.fingerprints,
                old.created,
            )  # fmt: skip
        await call(repository.add, record)
        return _json({"manifestId": manifest_id})

    async def store_binding(request: Request) -> Response:
        _authorize_store(request)
        body = await read_json(request, timeout=service.limits.upload_timeout)
        if not isinstance(body, dict) or not isinstance(body.get("manifestId"), str):
            raise Problem(400, "bad-request", 'the body must be {"bindingValue", "manifestId"}')
        # the specification's body has no alg; aimark accepts one (default: its watermark)
        alg = _alg(body.get("alg", WATERMARK_ALGS[0]))
        value = _value_hex(body.get("bindingValue"), alg)
        record = await call(repository.manifest, body["manifestId"])
        if record is None:
            raise Problem(404, "not-found", "no manifest with this id")
        binding = Binding(alg, value)
        if alg in FINGERPRINT_ALGS:
            record = ManifestRecord(
                record.manifest_id, record.store, record.mime, record.content_id,
                record.bindings, (*record.fingerprints, binding), record.created,
            )  # fmt: skip
        else:
            record = ManifestRecord(
                record.manifest_id, record.store, record.mime, record.content_id,
                (*record.bindings, binding), record.fingerprints, record.created,
            )  # fmt: skip
        await call(repository.add, record)
        return Response(status_code=204)

    return [
        Route("/v1/matches/byBinding", by_binding, methods=["GET", "POST"]),
        Route("/v1/matches/byContent", by_content, methods=["POST"]),
        Route("/v1/matches/byReference", by_reference, methods=["POST"]),
        Route("/v1/manifests/{manifest_id:path}", manifest, methods=["GET"]),
        Route("/v1/manifests", store_manifest, methods=["POST"]),
        Route("/v1/bindings", store_binding, methods=["POST"]),
        Route("/v1/services/supportedAlgorithms", algorithms, methods=["GET"]),
    ]


def _manifest_id(store: bytes) -> str:
    """The active manifest's label of a bare manifest store, read by c2pa."""
    from aimark.manifest.c2pa_io import active_label

    label = active_label(store)
    if not label:
        raise Problem(400, "bad-request", "not a C2PA manifest store c2pa can read")
    return label
