"""Remote manifest references: a file's XMP ``dcterms:provenance`` (C2PA's pointer to a manifest
store kept at a URL), reported and, only when asked (``Verifier(fetch_remote=True)``, CLI
``aimark verify --online``), fetched over HTTP(S) and validated as a sidecar of the file.

Nothing is fetched by default: a hostile file must not make aimark call a URL. The verifying
service never fetches. A fetch is capped in size and time and follows redirects only to
http(s).

Example:
    >>> xmp = (b'<x:xmpmeta xmlns:dcterms="http://purl.org/dc/terms/">'
    ...        b'<rdf:Description dcterms:provenance="https://example.com/m.c2pa"/></x:xmpmeta>')
    >>> provenance_url(b"...image bytes..." + xmp)
    'https://example.com/m.c2pa'
"""

from __future__ import annotations

import re
from typing import Any

from aimark.errors import InputError
from aimark.manifest.sidecar import MAX_STORE_BYTES
from aimark.report import C2paResult, C2paState, Report
from aimark.verification.sidecar import read_detached, with_c2pa

__all__ = ["FETCH_TIMEOUT", "fetch_store", "provenance_url", "with_remote"]

FETCH_TIMEOUT = 10.0  # seconds, for connecting and for each read
_DCTERMS = b"http://purl.org/dc/terms/"
_ATTR = re.compile(rb':provenance\s*=\s*["\']([^"\'<>\s]{1,2048})["\']')
_ELEMENT = re.compile(rb":provenance\s*>\s*([^<>\s]{1,2048})\s*</")
_MAX_HITS = 64


def provenance_url(data: bytes) -> str | None:
    """The http(s) URL of an XMP ``dcterms:provenance`` in ``data`` (attribute or element
    form), or None; a ``self#jumbf=...`` reference points to an embedded manifest and is not
    one. Only a file that also binds the Dublin Core terms namespace is looked at."""
    if _DCTERMS not in data:
        return None
    at = data.find(b":provenance")
    for _ in range(_MAX_HITS):
        if at < 0:
            return None
        window = data[at : at + 2100]
        m = _ATTR.match(window) or _ELEMENT.match(window)
        url = m.group(1).decode("utf-8", "replace").replace("&amp;", "&") if m else ""
        if url.lower().startswith(("http://", "https://")):  # not "self#jumbf=...": embedded
            return url
        at = data.find(b":provenance", at + 1)
    return None


def fetch_store(
    url: str, *, max_bytes: int = MAX_STORE_BYTES, timeout: float = FETCH_TIMEOUT
) -> bytes:
    """GET a remote manifest store (http or https only), at most ``max_bytes``.

    Raises:
        InputError: not an http(s) URL, over the size cap, or the fetch failed.
    """
    import urllib.error
    import urllib.parse
    import urllib.request  # only when a fetch was asked for

    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"only http and https manifests are fetched, not {url[:200]}")

    class HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
                raise urllib.error.URLError(f"redirected to a non-HTTP URL: {newurl[:200]}")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.build_opener(HttpOnlyRedirects())
    request = urllib.request.Request(url, headers={"Accept": "application/c2pa"})
    try:
        with opener.open(request, timeout=timeout) as response:
            data: bytes = response.read(max_bytes + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InputError(f"fetching {url[:200]} failed: {exc}") from None
    if len(data) > max_bytes:
        raise InputError(f"the remote manifest is over {max_bytes:,} bytes")
    return data


def with_remote(verifier: Any, report: Report, data: bytes) -> Report:
    """``report`` with a remote manifest reference reported (state ``remote``, its URL, not
    fetched) or, with ``verifier.fetch_remote``, fetched and validated as the file's sidecar."""
    c = report.c2pa
    if c.state is C2paState.REMOTE:
        url = c.remote_url
    elif c.state is C2paState.ABSENT and report.error is None:
        url = provenance_url(data)
    else:
        return report
    if url is None:
        return report
    if not getattr(verifier, "fetch_remote", False):
        if c.state is C2paState.REMOTE:
            return report
        result = C2paResult(
            state=C2paState.REMOTE,
            remote_url=url,
            error="the manifest is stored remotely (XMP dcterms:provenance) and was not "
            "fetched (aimark verify --online fetches it)",
        )
    else:
        try:
            store = fetch_store(url)
        except InputError as exc:
            result = C2paResult(state=C2paState.REMOTE, remote_url=url, error=f"not fetched: {exc}")
        else:
            result = read_detached(verifier._reader, store, data, remote_url=url)
    return with_c2pa(verifier, report, result, data)
