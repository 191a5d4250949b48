"""The C2PA conformance program's public lists: the trust list (the CAs whose signers it
admits), the TSA trust list (time-stamping authorities) and the conforming products.

aimark ships a copy of each (``aimark/trust_data``, CC-BY-4.0, © C2PA; see its README for the
source and date). ``aimark trust update FILE|URL`` installs a newer copy for the current user
in :func:`user_dir`, which is then used instead; the shipped copy is never modified.

Example:
    >>> from aimark import trust
    >>> info = trust.list_info("trust")
    >>> info.certificates > 0, info.origin
    (True, 'shipped with aimark')
    >>> p = trust.match_product({"CN": "Pixel Camera", "O": "Google LLC"}, "image/jpeg")
    >>> p.organisation, p.assurance_level
    ('Google LLC', 2)
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography import x509

from aimark.errors import CredentialsError
from aimark.media.output import write_atomic

__all__ = [
    "KINDS",
    "ListInfo",
    "Product",
    "list_info",
    "match_product",
    "products",
    "read_list",
    "update",
    "user_dir",
]

KINDS = {
    "trust": "C2PA-TRUST-LIST.pem",
    "tsa": "C2PA-TSA-TRUST-LIST.pem",
    "products": "conforming-products-list.json",
}
SHIPPED_SNAPSHOT = "2026-08-21"  # the conformance-public snapshot the shipped copies come from
_MAX_LIST = 16 * 1024 * 1024
_TIMEOUT = 30.0


def user_dir() -> Path:
    """Where ``aimark trust update`` keeps the user's copies: ``$AIMARK_TRUST_DIR``, else
    ``$XDG_DATA_HOME/aimark/trust`` (``~/.local/share/aimark/trust``)."""
    env = os.environ.get("AIMARK_TRUST_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "aimark" / "trust"


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown list {kind!r} (known: {', '.join(KINDS)})")
    return KINDS[kind]


def _source(kind: str) -> tuple[bytes, str]:
    name = _kind(kind)
    mine = user_dir() / name
    if mine.is_file():
        stamp = datetime.fromtimestamp(mine.stat().st_mtime, timezone.utc)
        return mine.read_bytes(), f"installed {stamp:%Y-%m-%d} in {mine}"
    data = resources.files("aimark").joinpath("trust_data", name).read_bytes()
    return data, "shipped with aimark"


def read_list(kind: str) -> bytes:
    """The bytes of one list (``trust``, ``tsa`` or ``products``): the user's updated copy if
    there is one, else the shipped one."""
    return _source(kind)[0]


@dataclass(frozen=True)
class ListInfo:
    """What one list holds and where it comes from."""

    kind: str
    origin: str  # "shipped with aimark" or "installed <date> in <path>"
    certificates: int = 0  # for the PEM lists
    products: int = 0  # for the products list
    snapshot: str | None = None  # the shipped copy's conformance-public snapshot

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "origin": self.origin,
            "certificates": self.certificates,
            "products": self.products,
            "snapshot": self.snapshot,
        }


def list_info(kind: str) -> ListInfo:
    """Describe one list (``trust``, ``tsa`` or ``products``)."""
    data, origin = _source(kind)
    snapshot = SHIPPED_SNAPSHOT if origin == "shipped with aimark" else None
    if kind == "products":
        return ListInfo(kind, origin, products=len(_parse_products(data)), snapshot=snapshot)
    return ListInfo(kind, origin, certificates=len(_parse_pem(data)), snapshot=snapshot)


def _parse_pem(data: bytes) -> list[x509.Certificate]:
    from aimark.credentials import _load_chain

    try:
        return _load_chain(data)
    except CredentialsError as exc:
        raise CredentialsError(f"not a PEM list of certificates: {exc}") from None


@dataclass(frozen=True)
class Product:
    """One record of the conforming-products list."""

    record_id: str
    name: str  # the CN its signing certificates carry
    organisation: str  # their O
    applicant: str
    product_type: str  # generatorProduct or validatorProduct
    assurance_level: int | None
    min_version: str
    generates: tuple[str, ...]  # MIME types it was found conforming to produce
    info_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "name": self.name,
            "organisation": self.organisation,
            "applicant": self.applicant,
            "product_type": self.product_type,
            "assurance_level": self.assurance_level,
            "min_version": self.min_version,
            "generates": list(self.generates),
            "info_url": self.info_url,
        }


def _parse_products(data: bytes) -> list[Product]:
    try:
        records = json.loads(data)
    except ValueError as exc:
        raise CredentialsError(f"the conforming-products list is not JSON: {exc}") from None
    if not isinstance(records, list):
        raise CredentialsError("the conforming-products list is not a JSON list")
    out = []
    for r in records:
        if not isinstance(r, dict) or r.get("status") != "conformant":
            continue
        prod = r.get("product") or {}
        dn = prod.get("DN") or {}
        assurance = (prod.get("assurance") or {}).get("maxAssuranceLevel")
        generate = (r.get("containers") or {}).get("generate") or {}
        mimes = tuple(m for v in generate.values() if isinstance(v, list) for m in v)
        out.append(
            Product(
                record_id=str(r.get("recordId", "")),
                name=str(dn.get("CN", "")),
                organisation=str(dn.get("O", "")),
                applicant=str(r.get("applicant", "")),
                product_type=str(prod.get("productType", "")),
                assurance_level=assurance if isinstance(assurance, int) else None,
                min_version=str(prod.get("minVersion", "")),
                generates=mimes,
                info_url=prod.get("infoURL") if isinstance(prod.get("infoURL"), str) else None,
            )
        )
    return out


@lru_cache(maxsize=4)
def _products_cached(data: bytes) -> tuple[Product, ...]:
    return tuple(_parse_products(data))


def products() -> tuple[Product, ...]:
    """The conformant records of the conforming-products list."""
    return _products_cached(read_list("products"))


def match_product(subject: dict[str, str], mime: str | None = None) -> Product | None:
    """The generator product whose certificate name (CN and O, and OU and C where the list
    gives them) equals ``subject``'s; when ``mime`` is given, one that was found conforming
    for that type is preferred. None when no record names this signer.

    Only meaningful for a signer whose chain the C2PA trust list validated: the list has no
    certificates, only the names conforming products' certificates carry."""
    found = []
    for p in products():
        if p.product_type != "generatorProduct" or not p.name:
            continue
        if subject.get("CN") != p.name or subject.get("O") != p.organisation:
            continue
        found.append(p)
    if not found:
        return None
    if mime:
        for p in found:
            if mime in p.generates:
                return p
    return found[0]


def update(kind: str, source: str) -> Path:
    """Install a new copy of one list for this user from a file or an ``https://`` URL, after
    checking that it parses (PEM certificates, or the products JSON). Returns where it went.

    Raises:
        CredentialsError: the source cannot be read or is not such a list.
    """
    name = _kind(kind)
    if source.startswith(("https://", "http://")):
        if source.startswith("http://"):
            raise CredentialsError("refusing a plain http:// URL for a trust list; use https://")
        try:
            with urllib.request.urlopen(source, timeout=_TIMEOUT) as resp:
                data = resp.read(_MAX_LIST + 1)
        except OSError as exc:
            raise CredentialsError(f"cannot fetch {source}: {exc}") from None
    else:
        try:
            with open(source, "rb") as f:
                data = f.read(_MAX_LIST + 1)
        except OSError as exc:
            raise CredentialsError(f"cannot read {source}: {exc.strerror or exc}") from None
    if len(data) > _MAX_LIST:
        raise CredentialsError(f"{source} is larger than {_MAX_LIST:,} bytes")
    if kind == "products":
        if not _parse_products(data):
            raise CredentialsError(f"{source} holds no conformant product record")
    else:
        _parse_pem(data)
    dest = user_dir() / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(dest, data)
    return dest
