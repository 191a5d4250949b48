"""A remote manifest repository: the C2PA Soft Binding Resolution API of another service
(``aimark serve --repository``, or any server that speaks it), read-only.

Every request has a time limit (default 5 s), so a repository that answers slowly costs a
verification that long at most per lookup, and then is reported as unavailable.

Example:
    >>> from aimark.repository.remote import RemoteRepository
    >>> RemoteRepository("https://resolver.example/v1").base
    'https://resolver.example/v1'
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

from aimark.repository._base import ManifestRecord, Match, RepositoryStats
from aimark.repository.sqlite import RepositoryError

__all__ = ["RemoteRepository"]

_MAX_STORE = 16 * 1024 * 1024


class RemoteRepository:
    """Lookups against ``base`` (the API root, e.g. ``https://host/v1``; a URL without a
    path gets ``/v1``)."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise RepositoryError(f"not an http(s) URL: {url!r}")
        path = parsed.path.rstrip("/") or "/v1"
        self.base = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))
        self.timeout = timeout

    def _request(self, path: str, body: dict | None = None, limit: int = 1 << 20) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + path,
            data=data,
            headers={"Content-Type": "application/json"} if data else {},
            method="POST" if data else "GET",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                out = resp.read(limit + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise LookupError(path) from None
            raise RepositoryError(f"{self.base}{path}: HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:  # timeouts, refused connections, bad URLs
            raise RepositoryError(f"{self.base}{path}: {exc}") from None
        if len(out) > limit:
            raise RepositoryError(f"{self.base}{path}: the answer is over {limit:,} bytes")
        return out

    def by_binding(self, alg: str, value: str) -> list[Match]:
        value_b64 = base64.b64encode(bytes.fromhex(value)).decode()
        try:
            body = json.loads(self._request("/matches/byBinding", {"alg": alg, "value": value_b64}))
        except LookupError:
            return []
        except ValueError:
            raise RepositoryError(f"{self.base}: the answer is not JSON") from None
        out = []
        for m in (body.get("matches") or []) if isinstance(body, dict) else []:
            if isinstance(m, dict) and isinstance(m.get("manifestId"), str):
                score = m.get("similarityScore", 100)
                score = float(score) if isinstance(score, (int, float)) else 0.0
                distance = None if score >= 100 else round(256 * (1 - score / 100))
                out.append(Match(m["manifestId"], score, alg, distance))
        return out

    def by_fingerprint(self, alg: str, value: str, max_distance: int) -> list[Match]:
        """The service matches fingerprints by its own threshold; ``max_distance`` filters
        what it answers (its similarity score gives the distance)."""
        return [
            m
            for m in self.by_binding(alg, value)
            if m.distance is None or m.distance <= max_distance
        ]

    def manifest(self, manifest_id: str) -> ManifestRecord | None:
        quoted = urllib.parse.quote(manifest_id, safe=":")
        try:
            store = self._request(f"/manifests/{quoted}", limit=_MAX_STORE)
        except LookupError:
            return None
        return ManifestRecord(manifest_id, store, "application/c2pa")

    def add(self, record: ManifestRecord) -> None:
        raise RepositoryError("a remote repository is read-only here")

    def remove(self, manifest_id: str) -> None:
        raise RepositoryError("a remote repository is read-only here")

    def stats(self) -> RepositoryStats:
        raise RepositoryError("a remote repository has no statistics route")

    def close(self) -> None:
        pass
