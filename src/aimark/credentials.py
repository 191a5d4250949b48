"""Signing credentials (certificate chain + key, or a callback for HSM/KMS keys) and
development credentials. (Trust anchors, for verifying, are in :mod:`aimark.trust`.)

Example:
    >>> import tempfile, aimark
    >>> d = tempfile.mkdtemp()
    >>> dev = aimark.create_dev_credentials(d)
    >>> creds = aimark.Credentials.from_files(dev.cert_chain, dev.private_key)
    >>> creds.alg
    <SigningAlg.ES256: 'es256'>
"""

from __future__ import annotations

import datetime as dt
import enum
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Union

from aimark._pem import load_certificates
from aimark.errors import CredentialRuleError, CredentialsError, InputError
from aimark.media.source import read_config_file

if TYPE_CHECKING:
    from cryptography import x509

# cryptography is imported where a key or a certificate is handled: verifying a file, or
# building the CLI's parser (which lists the algorithms), does not load it

__all__ = [
    "Credentials",
    "DevCredentials",
    "SigningAlg",
    "create_dev_credentials",
]

PathLike = Union[str, "os.PathLike[str]"]


class SigningAlg(str, enum.Enum):
    """COSE signature algorithms C2PA accepts for the signer's key."""

    ES256 = "es256"
    ES384 = "es384"
    ES512 = "es512"
    PS256 = "ps256"
    ED25519 = "ed25519"


def _alg_for_key(key: object) -> SigningAlg:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        by_curve = {
            "secp256r1": SigningAlg.ES256,
            "secp384r1": SigningAlg.ES384,
            "secp521r1": SigningAlg.ES512,
        }
        alg = by_curve.get(key.curve.name)
        if alg is None:
            raise CredentialsError(f"EC curve {key.curve.name} is not allowed by C2PA")
        return alg
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return SigningAlg.ED25519
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < 2048:
            raise CredentialsError(f"RSA keys need at least 2048 bits, not {key.key_size}")
        return SigningAlg.PS256
    raise CredentialsError(f"unsupported key type {type(key).__name__}")


def _require_sound(chain: bytes, key: bytes | None = None, password: bytes | None = None) -> None:
    """Run the credential doctor; its first error (if any) becomes a
    :class:`CredentialRuleError` naming the rule and its fix."""
    from aimark.credential_doctor import check_credentials

    errors = check_credentials(chain, key, password=password).errors
    if errors:
        first = errors[0]
        also = f" (also: {', '.join(e.rule for e in errors[1:])})" if errors[1:] else ""
        raise CredentialRuleError(
            f"credentials rejected ({first.rule}): {first.message}; fix: {first.fix}{also}",
            first.rule,
            first.fix,
        )


@dataclass(frozen=True, repr=False)
class Credentials:
    """What a C2PA signer needs: a certificate chain (leaf first, then intermediates) and
    either a PKCS#8 private key or a ``sign`` callback (for keys kept in an HSM or KMS).

    The private key never appears in ``repr``. Build with :meth:`from_files`,
    :meth:`from_pem` or :meth:`from_callback`.
    """

    cert_chain: bytes
    alg: SigningAlg
    private_key: bytes | None = field(default=None)
    sign: Callable[[bytes], bytes] | None = field(default=None)
    tsa_url: str | None = None

    def __repr__(self) -> str:
        kind = "callback" if self.sign else "key"
        return (
            f"Credentials(subject={self.subject!r}, alg={self.alg.value}, {kind}, "
            f"tsa_url={self.tsa_url!r})"
        )

    @property
    def subject(self) -> str:
        """The signing certificate's subject, e.g. ``CN=signer,O=Example``."""
        return load_certificates(self.cert_chain)[0].subject.rfc4514_string()

    @classmethod
    def from_pem(
        cls,
        cert_chain: bytes | str,
        private_key: bytes | str,
        *,
        password: bytes | None = None,
        tsa_url: str | None = None,
    ) -> Credentials:
        """Load a PEM chain and a PEM private key (PKCS#8, SEC1 or PKCS#1; encrypted with
        ``password`` if needed). The algorithm follows from the key type.

        The credential doctor (:func:`aimark.credential_doctor.check_credentials`) checks them
        first: any error it finds raises :class:`~aimark.errors.CredentialRuleError`, whose
        ``rule`` names it and whose message ends with the fix."""
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization

        chain = cert_chain.encode() if isinstance(cert_chain, str) else bytes(cert_chain)
        key_pem = private_key.encode() if isinstance(private_key, str) else bytes(private_key)
        _require_sound(chain, key_pem, password)
        try:
            key = serialization.load_pem_private_key(key_pem, password=password)
        except (TypeError, ValueError, UnsupportedAlgorithm) as exc:  # the doctor read it
            raise CredentialsError(f"private key cannot be loaded: {exc}") from None
        alg = _alg_for_key(key)
        pkcs8 = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(cert_chain=chain, alg=alg, private_key=pkcs8, tsa_url=tsa_url)

    @classmethod
    def from_files(
        cls,
        cert_chain: PathLike,
        private_key: PathLike,
        *,
        password: bytes | None = None,
        tsa_url: str | None = None,
    ) -> Credentials:
        """Load credentials from a PEM chain file and a PEM key file."""
        try:
            chain = read_config_file(cert_chain, "certificate chain")
            key = read_config_file(private_key, "private key")
        except (OSError, InputError) as exc:
            raise CredentialsError(f"cannot read credentials: {exc}") from None
        return cls.from_pem(chain, key, password=password, tsa_url=tsa_url)

    @classmethod
    def from_callback(
        cls,
        cert_chain: bytes | str,
        sign: Callable[[bytes], bytes],
        *,
        alg: SigningAlg | str | None = None,
        tsa_url: str | None = None,
    ) -> Credentials:
        """Credentials whose key stays elsewhere (HSM, KMS): ``sign(data) -> signature`` is
        called with the bytes to sign. ECDSA signatures may be DER-encoded (what
        ``cryptography`` and most KMS APIs return); PS256 must use PSS with MGF1-SHA256 and a
        salt length of 32. See :func:`sign_with_key` for a local model of such a callback.

        ``alg`` defaults to the one implied by the certificate's public key.
        """
        chain = cert_chain.encode() if isinstance(cert_chain, str) else bytes(cert_chain)
        _require_sound(chain)
        implied = _alg_for_key(load_certificates(chain)[0].public_key())
        chosen = SigningAlg(alg.lower() if isinstance(alg, str) else alg) if alg else implied
        if not callable(sign):
            raise TypeError("sign must be callable: sign(data: bytes) -> bytes")
        return cls(cert_chain=chain, alg=chosen, sign=sign, tsa_url=tsa_url)


def sign_with_key(private_key_pem: bytes, alg: SigningAlg) -> Callable[[bytes], bytes]:
    """Return a ``sign(data)`` callback for a local key (what a KMS callback would do).

    Useful for tests and as a model for HSM/KMS integrations.
    """
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    key = serialization.load_pem_private_key(private_key_pem, password=None)

    def sign(data: bytes) -> bytes:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            digest = {
                SigningAlg.ES256: hashes.SHA256(),
                SigningAlg.ES384: hashes.SHA384(),
                SigningAlg.ES512: hashes.SHA512(),
            }[alg]
            return key.sign(data, ec.ECDSA(digest))
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        raise CredentialsError(f"unsupported key type {type(key).__name__}")

    return sign


# --------------------------------------------------------------------------- development CA

DEV_MARK = "DEVELOPMENT ONLY - NOT TRUSTED"


@dataclass(frozen=True)
class DevCredentials:
    """Paths of the files :func:`create_dev_credentials` wrote."""

    root_cert: Path
    cert_chain: Path
    private_key: Path

    def credentials(self) -> Credentials:
        """Load the development signer as :class:`Credentials`."""
        return Credentials.from_files(self.cert_chain, self.private_key)


def _new_key(alg: SigningAlg):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if alg is SigningAlg.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if alg is SigningAlg.ES384:
        return ec.generate_private_key(ec.SECP384R1())
    if alg is SigningAlg.ES512:
        return ec.generate_private_key(ec.SECP521R1())
    if alg is SigningAlg.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, organization: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_MARK),
        ]
    )


def _issue(subject, subject_key, issuer, issuer_key, *, ca: bool, path_len, days: int):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = dt.datetime.now(dt.timezone.utc)
    usage = dict.fromkeys(
        (
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=ca, crl_sign=ca, **usage),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if not ca:
        b = b.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    algorithm = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return b.sign(issuer_key, algorithm)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def create_dev_credentials(
    directory: PathLike,
    *,
    alg: SigningAlg | str = SigningAlg.ES256,
    organization: str = "aimark development",
    days: int = 365,
    overwrite: bool = False,
) -> DevCredentials:
    """Create a DEVELOPMENT root CA, intermediate CA and signer in ``directory``.

    Writes ``dev-root-ca.pem`` (trust anchor for verifying), ``dev-signer-chain.pem``
    (signer + intermediate) and ``dev-signer.key`` (PKCS#8, mode 0600); a ``directory``
    that does not exist yet is created with mode 0700. The CA keys are
    not kept. Every certificate is marked "DEVELOPMENT ONLY": never ship these.

    Raises:
        CredentialsError: the files exist and ``overwrite`` is false.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    alg = SigningAlg(alg.lower() if isinstance(alg, str) else alg)
    out = Path(directory)
    if not out.is_dir():
        # a folder that holds a private key: its owner's alone, whatever the umask
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(out, 0o700)
    paths = DevCredentials(
        root_cert=out / "dev-root-ca.pem",
        cert_chain=out / "dev-signer-chain.pem",
        private_key=out / "dev-signer.key",
    )
    existing = [p for p in (paths.root_cert, paths.cert_chain, paths.private_key) if p.exists()]
    if existing and not overwrite:
        raise CredentialsError(f"{existing[0]} exists; refusing to overwrite (use overwrite=True)")
    for p in existing:
        p.unlink()
    # CAs use P-256 (widely accepted); the signer uses the requested algorithm.
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("aimark dev root CA", organization)
    root = _issue(root_name, root_key, root_name, root_key, ca=True, path_len=1, days=days + 1)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter_name = _name("aimark dev intermediate CA", organization)
    inter = _issue(inter_name, inter_key, root_name, root_key, ca=True, path_len=0, days=days)
    leaf_key = _new_key(alg)
    leaf = _issue(
        _name("aimark dev signer", organization),
        leaf_key,
        inter_name,
        inter_key,
        ca=False,
        path_len=None,
        days=days,
    )
    pem = serialization.Encoding.PEM
    paths.root_cert.write_bytes(root.public_bytes(pem))
    paths.cert_chain.write_bytes(leaf.public_bytes(pem) + inter.public_bytes(pem))
    _write_private(
        paths.private_key,
        leaf_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    return paths
