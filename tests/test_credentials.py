"""Signing credentials for every supported algorithm, callback signers, trust anchors."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import aimark
from aimark.credentials import sign_with_key
from conftest import natural_image


@pytest.mark.parametrize("alg", ["es256", "es384", "es512", "ed25519", "ps256"])
def test_each_algorithm_signs_and_is_trusted(alg, tmp_path):
    dev = aimark.create_dev_credentials(tmp_path, alg=alg)
    creds = aimark.Credentials.from_files(dev.cert_chain, dev.private_key)
    assert creds.alg.value == alg
    signed = aimark.label_image(
        natural_image(64, 64), credentials=creds, generator="m", format="png"
    ).data
    report = aimark.verify(signed, trust=dev.root_cert)
    assert report.c2pa.state is aimark.C2paState.TRUSTED, report.c2pa.failures


@pytest.mark.parametrize("alg", ["es256", "ps256", "ed25519"])
def test_callback_signer_for_hsm_kms(alg, tmp_path):
    dev = aimark.create_dev_credentials(tmp_path, alg=alg)
    key_pem = dev.private_key.read_bytes()
    calls = []

    def kms_sign(data: bytes) -> bytes:
        calls.append(len(data))
        return sign_with_key(key_pem, aimark.SigningAlg(alg))(data)

    creds = aimark.Credentials.from_callback(dev.cert_chain.read_bytes(), kms_sign)
    assert creds.private_key is None
    signed = aimark.label_image(
        natural_image(64, 64), credentials=creds, generator="m", format="jpeg"
    ).data
    assert calls, "the callback must have been used"
    assert aimark.verify(signed, trust=dev.root_cert).c2pa.state is aimark.C2paState.TRUSTED


def test_key_never_in_repr(creds):
    text = repr(creds)
    assert "PRIVATE" not in text and "aimark dev signer" in text


def test_mismatched_key_is_refused(dev, tmp_path):
    other = aimark.create_dev_credentials(tmp_path)
    with pytest.raises(aimark.CredentialsError, match="does not match"):
        aimark.Credentials.from_files(dev.cert_chain, other.private_key)


def test_sec1_and_encrypted_keys_are_accepted(dev):
    key = serialization.load_pem_private_key(dev.private_key.read_bytes(), None)
    sec1 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert b"EC PRIVATE KEY" in sec1
    creds = aimark.Credentials.from_pem(dev.cert_chain.read_bytes(), sec1)
    assert creds.private_key.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8 for c2pa
    enc = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(aimark.CredentialsError, match="password"):
        aimark.Credentials.from_pem(dev.cert_chain.read_bytes(), enc)
    assert (
        aimark.Credentials.from_pem(dev.cert_chain.read_bytes(), enc, password=b"pw").alg.value
        == "es256"
    )


def test_expired_and_ca_certificates_are_refused():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "old")])
    now = dt.datetime.now(dt.timezone.utc)

    def cert(valid_for_days: int, ca: bool) -> bytes:
        c = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now - dt.timedelta(days=30))
            .not_valid_after(now + dt.timedelta(days=valid_for_days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return c.public_bytes(serialization.Encoding.PEM)

    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(aimark.CredentialsError, match="expired"):
        aimark.Credentials.from_pem(cert(-1, False), pem_key)
    with pytest.raises(aimark.CredentialsError, match="CA certificate"):
        aimark.Credentials.from_pem(cert(20, True), pem_key)


def test_garbage_credentials(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(aimark.CredentialsError):
        aimark.Credentials.from_files(bad, bad)
    with pytest.raises(aimark.CredentialsError):
        aimark.Credentials.from_files(tmp_path / "missing.pem", bad)
    with pytest.raises(aimark.CredentialsError):
        aimark.TrustAnchors.from_files(bad)
    with pytest.raises(TypeError):
        aimark.Labeler("not credentials", generator="m")


def test_unreachable_timestamp_authority_fails_cleanly(dev):
    creds = aimark.Credentials.from_files(
        dev.cert_chain, dev.private_key, tsa_url="http://127.0.0.1:9/tsa"
    )
    with pytest.raises(aimark.SigningError):
        aimark.label_image(natural_image(32, 32), credentials=creds, generator="m", format="png")


def test_dev_credentials_are_marked_and_refuse_overwrite(tmp_path):
    dev = aimark.create_dev_credentials(tmp_path)
    leaf = x509.load_pem_x509_certificates(dev.cert_chain.read_bytes())[0]
    assert "DEVELOPMENT ONLY" in leaf.subject.rfc4514_string()
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    with pytest.raises(aimark.CredentialsError, match="refusing to overwrite"):
        aimark.create_dev_credentials(tmp_path)


def test_trust_anchor_forms(dev):
    pem = dev.root_cert.read_bytes()
    for form in (
        dev.root_cert,
        str(dev.root_cert),
        [dev.root_cert],
        pem,
        pem.decode(),
        aimark.TrustAnchors.from_pem(pem),
    ):
        anchors = aimark.TrustAnchors.coerce(form)
        assert anchors and anchors.subjects[0].startswith("OU=DEVELOPMENT ONLY")
    assert not aimark.TrustAnchors.coerce(None)
