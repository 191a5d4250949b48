"""A factory of signing credentials, good and bad: root CA → intermediate CA → leaf, with one
knob per defect (modelled on ``aimark.credentials._issue``). Used by test_credential_doctor.

Example:
    >>> good = make()
    >>> good.chain.count(b"BEGIN CERTIFICATE"), good.alg
    (2, 'es256')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEM = serialization.Encoding.PEM
NOW = dt.datetime.now(dt.timezone.utc)
DAY = dt.timedelta(days=1)
C2PA_KP_OID = x509.ObjectIdentifier("1.3.6.1.4.1.62558.2.1")  # id-kp-c2pa-signing (C2PA 2.x)


@cache
def ec_key(tag: str, curve: str = "secp256r1") -> Any:
    """One EC key per (tag, curve), generated once per test session."""
    curves = {
        "secp256r1": ec.SECP256R1,
        "secp384r1": ec.SECP384R1,
        "secp256k1": ec.SECP256K1,
        "brainpoolP256r1": ec.BrainpoolP256R1,
    }
    return ec.generate_private_key(curves[curve]())


@cache
def rsa_key(tag: str, bits: int) -> Any:
    """One RSA key per (tag, size): RSA generation is slow."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(cn: str, org: str | None = "aimark tests") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def issue(
    subject: x509.Name,
    key: Any,
    issuer: x509.Name,
    issuer_key: Any,
    *,
    ca: bool,
    eku: list[x509.ObjectIdentifier] | None = None,
    digital_signature: bool = True,
    key_cert_sign: bool | None = None,
    aki: bool = True,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    basic_constraints: bool = True,
    key_usage: bool = True,
) -> x509.Certificate:
    """One certificate; every extension can be switched off or changed."""
    kcs = ca if key_cert_sign is None else key_cert_sign
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - DAY)
        .not_valid_after(not_after or NOW + 90 * DAY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if key_usage:
        b = b.add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=kcs,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if basic_constraints:
        b = b.add_extension(
            x509.BasicConstraints(ca=ca, path_length=None if not ca else 1), critical=True
        )
    if aki:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


# ---------------------------------------------------------------- an X.509 v1 certificate by hand


def _der_len(data: bytes, i: int) -> tuple[int, int]:
    """(length, offset of the content) of the DER element whose tag is at ``i``."""
    first = data[i + 1]
    if first < 0x80:
        return first, i + 2
    n = first & 0x7F
    return int.from_bytes(data[i + 2 : i + 2 + n], "big"), i + 2 + n


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def v1(subject: x509.Name, key: Any, issuer: x509.Name, issuer_key: Any) -> x509.Certificate:
    """An X.509 **v1** certificate (no version field, no extensions): cryptography only
    builds v3, so the TBS is rebuilt without its ``[0] version`` and signed again."""
    v3 = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 90 * DAY)
        .sign(issuer_key, hashes.SHA256())
    )
    tbs = v3.tbs_certificate_bytes
    _, body = _der_len(tbs, 0)
    assert tbs[body] == 0xA0  # [0] EXPLICIT version
    vlen, vstart = _der_len(tbs, body)
    tbs1 = _der(0x30, tbs[vstart + vlen :])
    der = v3.public_bytes(serialization.Encoding.DER)
    _, outer = _der_len(der, 0)
    tlen, tstart = _der_len(der, outer)
    alg_at = tstart + tlen
    alen, astart = _der_len(der, alg_at)
    algid = der[alg_at : astart + alen]
    sig = issuer_key.sign(tbs1, ec.ECDSA(hashes.SHA256()))
    cert = _der(0x30, tbs1 + algid + _der(0x03, b"\0" + sig))
    return x509.load_der_x509_certificate(cert)


# ---------------------------------------------------------------- whole credentials


@dataclass(frozen=True)
class Made:
    """A credential: the signing chain (PEM), the PKCS#8 key, the root and its algorithm."""

    chain: bytes
    key: bytes
    root: bytes
    alg: str
    certs: tuple[x509.Certificate, ...]  # root, intermediate, leaf


def pkcs8(key: Any) -> bytes:
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def make(
    *,
    leaf_key: Any = None,
    alg: str = "es256",
    eku: list[x509.ObjectIdentifier] | str | None = "email",
    org: bool = True,
    leaf_ca: bool = False,
    leaf_basic_constraints: bool = True,
    leaf_key_usage: bool = True,
    key_cert_sign: bool = False,
    digital_signature: bool = True,
    aki: bool = True,
    leaf_not_before: dt.datetime | None = None,
    leaf_not_after: dt.datetime | None = None,
    inter_not_after: dt.datetime | None = None,
    leaf_v1: bool = False,
    self_signed_leaf: bool = False,
    order: str = "leaf,inter",  # which of leaf, inter, root go in the signing chain, in order
    signed_by_other: bool = False,  # the leaf names the intermediate but another key signed it
    key: Any = None,  # the private key to hand over (default: the leaf's)
) -> Made:
    """Root → intermediate → leaf with one defect switched on by its knob."""
    root_key, inter_key = ec_key("root"), ec_key("inter")
    leaf_key = leaf_key or ec_key("leaf")
    root_name, inter_name = name("test root CA"), name("test intermediate CA")
    root = issue(root_name, root_key, root_name, root_key, ca=True, not_after=NOW + 120 * DAY)
    inter = issue(inter_name, inter_key, root_name, root_key, ca=True, not_after=inter_not_after)
    leaf_name = name("test signer", "aimark tests" if org else None)
    ekus = [ExtendedKeyUsageOID.EMAIL_PROTECTION] if eku == "email" else eku
    assert not isinstance(ekus, str)
    issuer, issuer_key = inter_name, inter_key
    if self_signed_leaf:
        issuer, issuer_key = leaf_name, leaf_key
    elif signed_by_other:
        issuer_key = ec_key("impostor")
    if leaf_v1:
        leaf = v1(leaf_name, leaf_key, issuer, issuer_key)
    else:
        leaf = issue(
            leaf_name,
            leaf_key,
            issuer,
            issuer_key,
            ca=leaf_ca,
            eku=ekus,
            digital_signature=digital_signature,
            key_cert_sign=key_cert_sign,
            aki=aki,
            not_before=leaf_not_before,
            not_after=leaf_not_after,
            basic_constraints=leaf_basic_constraints,
            key_usage=leaf_key_usage,
        )
    by_name = {"leaf": leaf, "inter": inter, "root": root}
    chain = b"".join(by_name[n].public_bytes(PEM) for n in order.split(",") if n)
    return Made(chain, pkcs8(key or leaf_key), root.public_bytes(PEM), alg, (root, inter, leaf))
