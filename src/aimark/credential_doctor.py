"""The credential doctor: diagnose a signing certificate chain and its private key before
c2pa does, naming the defect and its fix, instead of c2pa-rs's opaque "the certificate is
invalid".

Each finding has a stable kebab-case ``rule`` (see :data:`RULES`), a severity and a concrete
fix. An *error* is a credential c2pa-python refuses to sign with, or whose signatures no
verifier can ever call trusted (the chain contradicts itself); a *warning* is one c2pa signs
with that some verifiers will not trust. :meth:`aimark.Credentials.from_pem` refuses any error.

Example:
    >>> import tempfile, aimark
    >>> dev = aimark.create_dev_credentials(tempfile.mkdtemp())
    >>> check = check_credentials(dev.cert_chain.read_bytes(), dev.private_key.read_bytes())
    >>> check.ok, check.findings
    (True, ())
    >>> bad = check_credentials(dev.root_cert.read_bytes())
    >>> [f.rule for f in bad.errors]
    ['leaf-is-ca', 'leaf-key-cert-sign', 'no-eku']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509

    from aimark.trust import TrustAnchors

__all__ = ["RULES", "CredentialCheck", "Finding", "check_credentials"]

ERROR, WARNING = "error", "warning"

# every rule, its severity and what c2pa-python 0.38.1 does with such a credential (the tests
# in tests/test_credential_doctor.py hold c2pa to each of these)
RULES: dict[str, tuple[str, str]] = {
    "chain-unreadable": (ERROR, "nothing to sign with"),
    "key-unreadable": (ERROR, "nothing to sign with"),
    "key-mismatch": (ERROR, "refuses to sign: the signature does not match the public key"),
    "reversed-chain": (ERROR, "refuses to sign: the certificate is invalid"),
    "expired": (ERROR, "refuses to sign: not valid at time of signing"),
    "not-yet-valid": (ERROR, "refuses to sign: not valid at time of signing"),
    "x509-v1": (ERROR, "refuses to sign: the certificate must be a v3 certificate"),
    "leaf-is-ca": (ERROR, "refuses to sign: the certificate is invalid"),
    "leaf-key-cert-sign": (ERROR, "refuses to sign: the certificate is invalid"),
    "no-digital-signature": (ERROR, "refuses to sign: the certificate is invalid"),
    "no-eku": (ERROR, "refuses to sign: the certificate is invalid"),
    "eku-missing-email-protection": (
        ERROR,
        "refuses to sign: the certificate is invalid (serverAuth), or signingCredential.invalid "
        "'certificate missing required EKU' (documentSigning or the C2PA OID alone)",
    ),
    "no-aki": (ERROR, "refuses to sign: the certificate is invalid"),
    "weak-key": (ERROR, "refuses to sign: the certificate is invalid"),
    "unsupported-curve": (ERROR, "refuses to sign: invalid signing credentials"),
    "unsupported-key": (ERROR, "refuses to sign: no C2PA algorithm for this key"),
    "chain-broken": (ERROR, "signs; reads Valid, never Trusted (signingCredential.untrusted)"),
    "intermediate-expired": (
        ERROR,
        "signs; reads Valid, never Trusted (signingCredential.untrusted), even with the "
        "intermediate as an anchor",
    ),
    "missing-organization": (WARNING, "signs and reads Trusted; C2PA asks for an O"),
    "missing-intermediate": (
        WARNING,
        "signs; reads Valid, not Trusted by the root (Trusted only with the intermediate "
        "itself as an anchor)",
    ),
    "self-signed-leaf": (
        WARNING,
        "signs; reads Valid, Trusted only where this very certificate is an anchor",
    ),
    "root-in-chain": (WARNING, "signs and reads Trusted; the root is sent for nothing"),
    "untrusted-root": (WARNING, "signs; reads Valid, not Trusted by the anchors checked"),
    "expires-soon": (WARNING, "signs; without a timestamp, reads Invalid once it expires"),
}

_SOON = dt.timedelta(days=30)
_CURVES = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
_NEW_EC_KEY = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out signer.key"


@dataclass(frozen=True)
class Finding:
    """One defect of a credential: its ``rule`` id, ``severity`` ("error" or "warning"),
    what is wrong (naming the certificate) and how to fix it.

    Example:
        >>> Finding("no-aki", "error", "no AKI", "add one").to_dict()["rule"]
        'no-aki'
    """

    rule: str
    severity: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class CredentialCheck:
    """What :func:`check_credentials` found: the findings, the signer's subject and the
    chain's subjects (signer first, as given), and the C2PA algorithm the key implies.

    Example:
        >>> c = CredentialCheck((), "CN=signer,O=Example", ("CN=signer,O=Example",), "es256")
        >>> c.ok, c.lines()[-1]
        (True, 'ok: CN=signer,O=Example (es256): c2pa will accept this signer')
    """

    findings: tuple[Finding, ...]
    subject: str | None
    chain: tuple[str, ...]
    alg: str | None = None

    @property
    def ok(self) -> bool:
        """No error: c2pa will sign with this credential (warnings may remain)."""
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "subject": self.subject,
            "chain": list(self.chain),
            "alg": self.alg,
            "findings": [f.to_dict() for f in self.findings],
        }

    def lines(self) -> list[str]:
        """Human text: each finding and its fix, then a verdict line."""
        out = []
        for f in self.findings:
            out += [f"{f.severity}  {f.rule}: {f.message}", f"  fix: {f.fix}"]
        if self.ok:
            warned = f" ({len(self.warnings)} warning(s) above)" if self.warnings else ""
            alg = f" ({self.alg})" if self.alg else ""
            out.append(f"ok: {self.subject}{alg}: c2pa will accept this signer{warned}")
        else:
            out.append(
                f"rejected: {len(self.errors)} error(s): c2pa would refuse this signer, or no "
                "verifier could ever trust what it signs"
            )
        return out


# --------------------------------------------------------------------------- helpers


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _ext(cert: x509.Certificate, kind: Any) -> Any:
    from cryptography import x509

    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # a malformed extension: as good as none
        return None


def _is_ca(cert: x509.Certificate) -> bool:
    from cryptography import x509

    bc = _ext(cert, x509.BasicConstraints)
    return bool(bc and bc.ca)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> str | None:
    """None when ``issuer`` signed ``cert``; else why not."""
    from cryptography.exceptions import InvalidSignature

    if cert.issuer != issuer.subject:
        return f"its issuer is {cert.issuer.rfc4514_string()}"
    try:
        cert.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return "the issuer's name matches but its key did not make the signature"
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def _self_signed(cert: x509.Certificate) -> bool:
    return _issued_by(cert, cert) is None


def _public_der(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _cert_der(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.DER)


def _load_key(pem: bytes, password: bytes | None) -> tuple[Any, Finding | None]:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    def unreadable(why: str, fix: str) -> tuple[None, Finding]:
        return None, Finding("key-unreadable", ERROR, f"private key: {why}", fix)

    try:
        return serialization.load_pem_private_key(pem, password=password), None
    except TypeError as exc:  # encrypted without a password, or a password for a plain key
        return unreadable(
            f"{exc} (pass password=...)",
            "give the key's password (Python: password=b'...'; CLI: --key-password-env VAR), "
            "or store it unencrypted: openssl pkey -in key.pem -out plain.pem",
        )
    except (ValueError, UnsupportedAlgorithm) as exc:
        return unreadable(
            f"cannot be loaded: {exc}",
            "pass the PEM private key (-----BEGIN PRIVATE KEY-----, EC PRIVATE KEY or RSA "
            "PRIVATE KEY) that belongs to the signer; a DER key converts with "
            "openssl pkey -inform DER -in key.der -out key.pem",
        )


def _key_findings(leaf: x509.Certificate, name: str) -> tuple[list[Finding], str | None]:
    """Is the leaf's key one C2PA allows? (findings, implied algorithm)"""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key = leaf.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        alg = _CURVES.get(key.curve.name)
        if alg:
            return [], alg
        return [
            Finding(
                "unsupported-curve",
                ERROR,
                f"signing certificate {name} has an EC key on {key.curve.name}; C2PA allows "
                "only P-256, P-384 and P-521 (and Ed25519)",
                f"issue the signer for a new key on P-256: {_NEW_EC_KEY}",
            )
        ], None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return [], "ed25519"
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size >= 2048:
            return [], "ps256"
        return [
            Finding(
                "weak-key",
                ERROR,
                f"signing certificate {name} has a {key.key_size}-bit RSA key; C2PA needs at "
                "least 2048 bits",
                "issue the signer for a new key: openssl genpkey -algorithm RSA -pkeyopt "
                f"rsa_keygen_bits:3072, or better P-256: {_NEW_EC_KEY}",
            )
        ], None
    return [
        Finding(
            "unsupported-key",
            ERROR,
            f"signing certificate {name} has a {type(key).__name__} key; C2PA signs with "
            "ECDSA (P-256/384/521), Ed25519 or RSA-PSS only",
            f"issue the signer for a new key: {_NEW_EC_KEY}",
        )
    ], None


def _leaf_findings(leaf: x509.Certificate, name: str) -> list[Finding]:
    """The extensions c2pa-rs demands of the signing certificate."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    out = []
    if leaf.version is not x509.Version.v3:
        return [
            Finding(
                "x509-v1",
                ERROR,
                f"signing certificate {name} is an X.509 {leaf.version.name} certificate, "
                "which carries no extensions; c2pa needs v3 (with keyUsage, extendedKeyUsage, "
                "authorityKeyIdentifier)",
                "reissue it with an extension file, which makes it v3: openssl x509 -req ... "
                "-extfile signer.ext (keyUsage=critical,digitalSignature; "
                "extendedKeyUsage=emailProtection; authorityKeyIdentifier=keyid; "
                "basicConstraints=critical,CA:FALSE)",
            )
        ]
    if _is_ca(leaf):
        out.append(
            Finding(
                "leaf-is-ca",
                ERROR,
                f"signing certificate {name} is a CA certificate (basicConstraints CA:TRUE); "
                "c2pa signs only with an end-entity certificate",
                "sign with a certificate this CA issues for the signer, with "
                "basicConstraints=critical,CA:FALSE (cryptography: "
                "x509.BasicConstraints(ca=False, path_length=None)); "
                "`aimark credentials dev` shows the shape",
            )
        )
    usage = _ext(leaf, x509.KeyUsage)
    if usage is not None and usage.key_cert_sign:
        out.append(
            Finding(
                "leaf-key-cert-sign",
                ERROR,
                f"signing certificate {name} has keyUsage keyCertSign (a CA's usage)",
                "reissue with keyUsage=critical,digitalSignature only (cryptography: "
                "x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, ...))",
            )
        )
    if usage is None or not usage.digital_signature:
        what = "no keyUsage extension" if usage is None else "keyUsage without digitalSignature"
        out.append(
            Finding(
                "no-digital-signature",
                ERROR,
                f"signing certificate {name} has {what}",
                "reissue with keyUsage=critical,digitalSignature (cryptography: "
                "x509.KeyUsage(digital_signature=True, ...), critical=True)",
            )
        )
    eku = _ext(leaf, x509.ExtendedKeyUsage)
    if eku is None:
        out.append(
            Finding(
                "no-eku",
                ERROR,
                f"signing certificate {name} has no extendedKeyUsage extension",
                "reissue with extendedKeyUsage=emailProtection (openssl: -addext "
                "extendedKeyUsage=emailProtection; cryptography: x509.ExtendedKeyUsage("
                "[ExtendedKeyUsageOID.EMAIL_PROTECTION]))",
            )
        )
    elif ExtendedKeyUsageOID.EMAIL_PROTECTION not in eku:
        names = ", ".join(getattr(o, "_name", None) or o.dotted_string for o in eku) or "nothing"
        out.append(
            Finding(
                "eku-missing-email-protection",
                ERROR,
                f"signing certificate {name} has extendedKeyUsage {names} but not "
                "emailProtection; c2pa-python refuses it (with documentSigning or the C2PA OID "
                "alone it fails its own check: certificate missing required EKU)",
                "reissue with emailProtection in the EKU, others may stay: "
                "extendedKeyUsage=emailProtection (cryptography: ExtendedKeyUsageOID."
                "EMAIL_PROTECTION)",
            )
        )
    if _ext(leaf, x509.AuthorityKeyIdentifier) is None:
        out.append(
            Finding(
                "no-aki",
                ERROR,
                f"signing certificate {name} has no authorityKeyIdentifier extension",
                "reissue with authorityKeyIdentifier=keyid,issuer (openssl x509 -req "
                "-extfile; cryptography: x509.AuthorityKeyIdentifier."
                "from_issuer_public_key(ca_key.public_key()))",
            )
        )
    return out


def _validity(cert: x509.Certificate, now: dt.datetime, leaf: bool) -> list[Finding]:
    name = _subject(cert)
    after, before = cert.not_valid_after_utc, cert.not_valid_before_utc
    if not leaf:
        if before <= now <= after:
            return []
        when = (
            f"expired on {after:%Y-%m-%d}"
            if after < now
            else f"is not valid before {before:%Y-%m-%d}"
        )
        return [
            Finding(
                "intermediate-expired",
                ERROR,
                f"CA certificate {name} in the chain {when}; no verifier can trust the signer "
                "through it",
                "replace it in the chain file with the CA's current certificate (ask your CA "
                "for its current intermediate; reissue the signer if the CA's key changed)",
            )
        ]
    if after < now:
        return [
            Finding(
                "expired",
                ERROR,
                f"signing certificate {name} expired on {after:%Y-%m-%d}",
                "issue a new signing certificate (notAfter in the future); what it signed "
                "without a timestamp already reads Invalid",
            )
        ]
    if before > now:
        return [
            Finding(
                "not-yet-valid",
                ERROR,
                f"signing certificate {name} is not valid before {before:%Y-%m-%d %H:%M} UTC",
                "check this machine's clock, wait, or reissue it with notBefore in the past",
            )
        ]
    if after - now < _SOON:
        return [
            Finding(
                "expires-soon",
                WARNING,
                f"signing certificate {name} expires on {after:%Y-%m-%d}; what it signs "
                "without a timestamp reads Invalid from then on",
                "renew it before then, and sign with a timestamp authority (tsa_url / "
                "--tsa-url) so signatures outlive it",
            )
        ]
    return []


def _anchor_certs(trust: TrustAnchors) -> list[x509.Certificate]:
    from aimark._pem import load_certificates

    return load_certificates(trust.pem.encode()) if trust.pem else []


# --------------------------------------------------------------------------- the check


def check_credentials(
    cert_chain: bytes,
    private_key: bytes | None = None,
    *,
    password: bytes | None = None,
    trust: TrustAnchors | None = None,
    now: dt.datetime | None = None,
) -> CredentialCheck:
    """Diagnose a PEM certificate chain (signer first, then intermediates) and, when given,
    its PEM private key, against what c2pa-python demands; with ``trust``, also whether the
    chain leads to one of those anchors. Never raises for bad content: an unreadable PEM is
    a finding (``chain-unreadable``, ``key-unreadable``).

    Example:
        >>> import tempfile, aimark
        >>> dev = aimark.create_dev_credentials(tempfile.mkdtemp())
        >>> other = aimark.create_dev_credentials(tempfile.mkdtemp())
        >>> c = check_credentials(dev.cert_chain.read_bytes(), other.private_key.read_bytes())
        >>> c.ok, [f.rule for f in c.findings]
        (False, ['key-mismatch'])
        >>> anchors = aimark.TrustAnchors.from_files(other.root_cert)
        >>> [f.rule for f in check_credentials(dev.cert_chain.read_bytes(), trust=anchors).findings]
        ['untrusted-root']
    """
    from cryptography import x509

    now = now or dt.datetime.now(dt.timezone.utc)
    findings: list[Finding] = []
    key = None
    if private_key is not None:
        key, problem = _load_key(bytes(private_key), password)
        if problem:
            findings.append(problem)
    try:
        certs = x509.load_pem_x509_certificates(bytes(cert_chain))
    except ValueError as exc:
        certs, unreadable = [], f"is not valid PEM: {exc}"
    else:
        unreadable = "holds no certificate"
    if b"PRIVATE KEY-----" in bytes(cert_chain) and not certs:
        unreadable = "holds a private key, not a certificate: were the chain and key swapped?"
    if not certs:
        findings.insert(
            0,
            Finding(
                "chain-unreadable",
                ERROR,
                f"certificate chain {unreadable}",
                "pass the PEM chain (-----BEGIN CERTIFICATE----- blocks, signer first); a DER "
                "certificate converts with openssl x509 -inform DER -in cert.der -out cert.pem",
            ),
        )
        return CredentialCheck(tuple(findings), None, ())

    # which certificate signs: the one the key belongs to, else the first end-entity one
    leaf_at = 0
    if key is not None:
        mine = _public_der(key.public_key())
        owners = [i for i, c in enumerate(certs) if _public_der(c.public_key()) == mine]
        if owners and not _is_ca(certs[owners[0]]):
            leaf_at = owners[0]
        elif not owners or owners[0] == 0:
            if not owners:
                findings.append(
                    Finding(
                        "key-mismatch",
                        ERROR,
                        f"the private key does not match the first certificate of the chain "
                        f"({_subject(certs[0])}) nor any other in it",
                        "pass the key that belongs to the signer certificate: "
                        "`openssl x509 -noout -pubkey -in chain.pem` must print what "
                        "`openssl pkey -pubout -in key.pem` prints",
                    )
                )
        else:
            findings.append(
                Finding(
                    "key-mismatch",
                    ERROR,
                    f"the private key does not match the first certificate of the chain "
                    f"({_subject(certs[0])}): it is the key of the CA certificate "
                    f"{_subject(certs[owners[0]])}",
                    "sign with the end-entity certificate's own key, not its CA's",
                )
            )
    if leaf_at == 0 and _is_ca(certs[0]):
        ends = [i for i, c in enumerate(certs) if i and not _is_ca(c)]
        if ends:
            leaf_at = ends[0]
    leaf = certs[leaf_at]
    name = _subject(leaf)
    reversed_chain = leaf_at != 0
    if reversed_chain:
        findings.append(
            Finding(
                "reversed-chain",
                ERROR,
                f"the signing certificate {name} is certificate {leaf_at + 1} of the chain, "
                f"after {_subject(certs[0])}; c2pa takes the first one as the signer",
                "put the signer's certificate first, then its intermediates, each followed by its "
                "issuer: "
                "cat signer.pem intermediate.pem > chain.pem",
            )
        )
    findings += _validity(leaf, now, leaf=True)
    findings += _leaf_findings(leaf, name)
    if not leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME):
        findings.append(
            Finding(
                "missing-organization",
                WARNING,
                f"signing certificate {name} has no O (organization) in its subject; c2pa "
                "signs, but C2PA requires the signer's organization and verifiers show it",
                "reissue with an O: openssl req -subj '/CN=signer/O=Your Organization' "
                "(cryptography: x509.NameAttribute(NameOID.ORGANIZATION_NAME, ...))",
            )
        )
    key_problems, alg = _key_findings(leaf, name)
    findings += key_problems
    for i, cert in enumerate(certs):
        if i != leaf_at:
            findings += _validity(cert, now, leaf=False)

    self_signed = _self_signed(leaf)
    if not reversed_chain:
        for i in range(len(certs) - 1):
            why = _issued_by(certs[i], certs[i + 1])
            if why:
                findings.append(
                    Finding(
                        "chain-broken",
                        ERROR,
                        f"certificate {i + 1} of the chain ({_subject(certs[i])}) is not signed "
                        f"by the next one ({_subject(certs[i + 1])}): {why}",
                        "each certificate must be followed by the one that issued it: use the "
                        "intermediate that issued the signer (check with openssl verify "
                        "-partial_chain -CAfile intermediate.pem signer.pem)",
                    )
                )
                break
    anchors = _anchor_certs(trust) if trust else []
    anchor_ders = {_cert_der(a) for a in anchors}

    def anchored(cert: x509.Certificate) -> bool:
        return _cert_der(cert) in anchor_ders or any(_issued_by(cert, a) is None for a in anchors)

    if self_signed:
        findings.append(
            Finding(
                "self-signed-leaf",
                WARNING,
                f"signing certificate {name} is self-signed; c2pa signs, but only a verifier "
                "that has this very certificate as a trust anchor will trust it",
                "have a CA issue the signer (a root and an intermediate: `aimark credentials "
                "dev` shows the shape), and give verifiers the root",
            )
        )
    elif len(certs) == 1 and not (anchors and anchored(leaf)):
        findings.append(
            Finding(
                "missing-intermediate",
                WARNING,
                f"the chain holds only the signer {name}, not its issuer "
                f"{leaf.issuer.rfc4514_string()}; c2pa signs, but verifiers that trust the "
                "root cannot link the signer to it",
                "append the intermediate CA certificate after the signer: "
                "cat signer.pem intermediate.pem > chain.pem",
            )
        )
    for i, cert in enumerate(certs):
        if i != leaf_at and _is_ca(cert) and _self_signed(cert):
            findings.append(
                Finding(
                    "root-in-chain",
                    WARNING,
                    f"the chain includes the self-signed root {_subject(cert)}; verifiers "
                    "take the root from their trust list, never from the file",
                    "leave the root out of the signing chain (signer and intermediates only)",
                )
            )
    if trust and not any(anchored(c) for c in certs):
        sets = ", ".join(s.name for s in trust.sets) or "the anchors given"
        findings.append(
            Finding(
                "untrusted-root",
                WARNING,
                f"the chain of {name} leads to none of the trust anchors checked ({sets}); "
                "verifiers using them will report the signer as untrusted",
                "get the signer issued by a CA of that list, or give verifiers your root "
                "(aimark verify --trust root.pem)",
            )
        )
    order = list(RULES)
    findings.sort(key=lambda f: order.index(f.rule))
    return CredentialCheck(
        tuple(findings), name, tuple(_subject(c) for c in certs), alg if not key_problems else None
    )
