"""Trust: the anchors a verification may call *trusted* (:class:`TrustAnchors`, in named
:class:`AnchorSet` groups: your files, or the C2PA trust list), and the C2PA conformance
program's public lists: the trust list (the CAs whose signers it admits), the TSA trust list
(time-stamping authorities) and the conforming products.

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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from aimark._pem import load_certificates
from aimark.errors import CredentialsError, InputError
from aimark.media.output import write_atomic
from aimark.media.source import read_config_file

if TYPE_CHECKING:
    from cryptography import x509

# cryptography and urllib are imported where anchors are parsed or fetched: a verifier with no
# anchors (or none loaded yet) does not load them

__all__ = [
    "C2PA_TRUST_LIST",
    "KINDS",
    "AnchorSet",
    "ListInfo",
    "Product",
    "TrustAnchors",
    "TrustLike",
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
    data = (resources.files("aimark") / "trust_data" / name).read_bytes()  # 3.10: one part a call
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
    try:
        return load_certificates(data)
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
            import urllib.request

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


# --------------------------------------------------------------------------- trust anchors

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class AnchorSet:
    """One named group of trust anchors (a file you gave, or the C2PA trust list).

    ``not_roots`` lists the subjects of certificates in it that are not self-signed CA
    certificates (intermediates or end-entity certificates): trusting one trusts exactly what
    it signs, with no root behind it. ``official`` marks the C2PA conformance program's list.
    """

    name: str
    pem: str
    subjects: tuple[str, ...]
    not_roots: tuple[str, ...] = ()
    official: bool = False

    @classmethod
    def from_pem(cls, pem: bytes | str, name: str, *, official: bool = False) -> AnchorSet:
        from cryptography.hazmat.primitives import serialization

        raw = pem.encode() if isinstance(pem, str) else bytes(pem)
        certs = load_certificates(raw)
        text = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)
        return cls(
            name=name,
            pem=text,
            subjects=tuple(c.subject.rfc4514_string() for c in certs),
            not_roots=tuple(c.subject.rfc4514_string() for c in certs if not _is_root(c)),
            official=official,
        )


def _is_root(cert: x509.Certificate) -> bool:
    """Self-signed (subject = issuer) and marked as a CA."""
    from cryptography import x509

    try:
        ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        ca = False
    return ca and cert.subject == cert.issuer


C2PA_TRUST_LIST = "c2pa"  # the name that selects the C2PA trust list (CLI: --trust c2pa)


@dataclass(frozen=True)
class TrustAnchors:
    """Certificates whose signers verification may call *trusted*, in named sets.

    Example:
        >>> TrustAnchors.none().pem
        ''
        >>> official = TrustAnchors.c2pa()          # the C2PA trust list shipped with aimark
        >>> official.sets[0].name, len(official.subjects) > 0
        ('C2PA trust list', True)
    """

    pem: str = ""
    subjects: tuple[str, ...] = ()
    sets: tuple[AnchorSet, ...] = ()

    @classmethod
    def none(cls) -> TrustAnchors:
        """No anchors: valid signatures are reported as valid but untrusted."""
        return cls()

    @classmethod
    def of(cls, *sets: AnchorSet) -> TrustAnchors:
        """Anchors made of these sets (a certificate in several counts once)."""
        seen: dict[str, str] = {}
        for st in sets:
            for cert_pem, subject in zip(_split_pem(st.pem), st.subjects, strict=True):
                seen.setdefault(cert_pem, subject)
        return cls(pem="".join(seen), subjects=tuple(seen.values()), sets=tuple(sets))

    @classmethod
    def from_pem(cls, *bundles: bytes | str, name: str = "your trust anchors") -> TrustAnchors:
        """Anchors from PEM text (each bundle may hold several certificates), as one set."""
        raw = b"".join(b.encode() if isinstance(b, str) else bytes(b) for b in bundles)
        return cls.of(AnchorSet.from_pem(raw, name))

    @classmethod
    def from_files(cls, *paths: PathLike) -> TrustAnchors:
        """Anchors from PEM files, one set per file (named by the file). The name ``c2pa``
        stands for the C2PA trust list (:meth:`c2pa`)."""
        sets: list[AnchorSet] = []
        for p in paths:
            if os.fspath(p) == C2PA_TRUST_LIST:
                sets.extend(cls.c2pa().sets)
                continue
            try:
                data = read_config_file(p, "trust anchors")
            except (OSError, InputError) as exc:
                raise CredentialsError(f"cannot read trust anchors: {exc}") from None
            try:
                sets.append(AnchorSet.from_pem(data, os.fspath(p)))
            except CredentialsError as exc:
                raise CredentialsError(f"trust anchors {p}: {exc}") from None
        return cls.of(*sets)

    @classmethod
    def c2pa(cls) -> TrustAnchors:
        """The C2PA conformance program's trust list: the copy shipped with aimark, or the one
        ``aimark trust update`` installed (see :mod:`aimark.trust`)."""
        return cls.of(AnchorSet.from_pem(read_list("trust"), "C2PA trust list", official=True))

    @classmethod
    def coerce(cls, trust: TrustLike) -> TrustAnchors:
        """Accept ``None``, a TrustAnchors, PEM bytes, a path, ``"c2pa"``, or a list of paths
        (and ``"c2pa"``)."""
        if trust is None:
            return cls.none()
        if isinstance(trust, TrustAnchors):
            return trust
        if isinstance(trust, bytes) or (isinstance(trust, str) and "-----BEGIN" in trust):
            return cls.from_pem(trust)
        if isinstance(trust, (str, os.PathLike)):
            return cls.from_files(trust)
        return cls.from_files(*trust)

    def __or__(self, other: TrustAnchors) -> TrustAnchors:
        return TrustAnchors.of(*self.sets, *other.sets)

    def __bool__(self) -> bool:
        return bool(self.pem)


def _split_pem(pem: str) -> list[str]:
    end = "-----END CERTIFICATE-----\n"
    return [part + end for part in pem.split(end) if part.strip()]


TrustLike = Union[TrustAnchors, bytes, str, "os.PathLike[str]", Iterable[PathLike], None]
