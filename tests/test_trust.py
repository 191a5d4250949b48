"""Trust: the C2PA trust list shipped in the package (and updated by the user), which anchor
set made a signer trusted, anchors that are not root CAs, and the conforming-products list."""

from __future__ import annotations

import json

import pytest
from cryptography import x509

import aimark
from aimark import TrustAnchors, trust
from aimark.cli import main
from aimark.errors import CredentialsError
from conftest import SHARED, encode, natural_image

FIXTURE_TRUST = SHARED / "trust"


@pytest.fixture
def user_trust(tmp_path, monkeypatch):
    """A fresh per-user trust folder (``aimark trust update`` writes there)."""
    folder = tmp_path / "user-trust"
    monkeypatch.setenv("AIMARK_TRUST_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def signed(creds) -> bytes:
    labeler = aimark.Labeler(creds, generator=("test-model", "1.0"))
    return bytes(labeler.label_image(encode(natural_image(64, 48), "jpeg")))


def test_the_shipped_list_is_the_conformance_programs(user_trust):
    official = TrustAnchors.c2pa()
    assert official.sets[0].official and official.sets[0].name == "C2PA trust list"
    assert len(official.subjects) == trust.list_info("trust").certificates
    assert trust.list_info("trust").origin == "shipped with aimark"
    if not FIXTURE_TRUST.is_dir():
        pytest.skip(f"{FIXTURE_TRUST} absent: no independent copy to compare with")
    ref = x509.load_pem_x509_certificates((FIXTURE_TRUST / "C2PA-TRUST-LIST.pem").read_bytes())
    assert set(official.subjects) == {c.subject.rfc4514_string() for c in ref}
    tsa = x509.load_pem_x509_certificates((FIXTURE_TRUST / "C2PA-TSA-TRUST-LIST.pem").read_bytes())
    assert trust.list_info("tsa").certificates == len(tsa)
    records = json.loads((FIXTURE_TRUST / "conforming-products-list.json").read_text())
    assert len(trust.products()) == sum(r["status"] == "conformant" for r in records)


def test_a_dev_signer_is_not_trusted_by_the_c2pa_list(signed, dev, user_trust):
    report = aimark.Verifier(trust="c2pa").verify_bytes(signed)
    assert report.c2pa.state.value == "valid-untrusted" and report.c2pa.trusted_by is None
    both = aimark.Verifier(trust=["c2pa", dev.root_cert]).verify_bytes(signed)
    assert both.c2pa.state.value == "trusted"
    assert both.c2pa.trusted_by == str(dev.root_cert)  # the set that did it, not the union
    assert both.c2pa.trust_note is None  # a root CA


def test_the_signers_own_chain_as_anchors_says_so(signed, dev):
    report = aimark.Verifier(trust=dev.cert_chain).verify_bytes(signed)
    assert report.c2pa.state.value == "trusted"
    assert "are not root CAs" in report.c2pa.trust_note
    assert "CN=aimark dev signer" in report.c2pa.trust_note


def test_update_installs_a_checked_copy_and_show_says_where(dev, user_trust, tmp_path, capsys):
    assert main(["trust", "show"]) == 0
    assert "shipped with aimark" in capsys.readouterr().out
    assert main(["trust", "update", str(dev.root_cert)]) == 0
    assert "1 certificates installed" in capsys.readouterr().out
    assert (user_trust / "C2PA-TRUST-LIST.pem").is_file()
    assert trust.list_info("trust").origin.startswith("installed")
    assert TrustAnchors.c2pa().subjects == TrustAnchors.from_files(dev.root_cert).subjects
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    assert main(["trust", "update", str(bad)]) != 0
    assert "not a PEM list" in capsys.readouterr().err
    with pytest.raises(CredentialsError, match="plain http"):
        trust.update("trust", "http://example.invalid/list.pem")
    with pytest.raises(CredentialsError, match="cannot read"):
        trust.update("products", str(tmp_path / "missing.json"))
    assert TrustAnchors.c2pa().subjects == TrustAnchors.from_files(dev.root_cert).subjects


def test_a_conforming_product_is_named_when_the_official_list_trusts_it(
    signed, dev, user_trust, tmp_path
):
    """End to end with a real chain: the dev root installed as this user's C2PA trust list,
    and a products list whose record names the dev signer as a conforming generator."""
    trust.update("trust", str(dev.root_cert))
    record = {
        "recordId": "test-0001",
        "applicant": "aimark development",
        "status": "conformant",
        "product": {
            "productType": "generatorProduct",
            "DN": {"CN": "aimark dev signer", "O": "aimark development", "OU": "", "C": ""},
            "minVersion": "",
            "assurance": {"maxAssuranceLevel": 1},
        },
        "containers": {"generate": {"image": ["image/jpeg"]}},
    }
    other = json.loads(json.dumps(record))
    other["product"]["DN"]["CN"] = "another product"
    products = tmp_path / "products.json"
    products.write_text(json.dumps([other, record]))
    trust.update("products", str(products))
    report = aimark.Verifier(trust="c2pa").verify_bytes(signed)
    assert report.c2pa.state.value == "trusted" and report.c2pa.trusted_by == "C2PA trust list"
    product = report.c2pa.conforming_product
    assert product["record_id"] == "test-0001" and product["assurance_level"] == 1
    assert report.to_dict()["c2pa"]["conforming_product"]["name"] == "aimark dev signer"
    # the same signer trusted through the user's own anchors: no product claim is made
    mine = aimark.Verifier(trust=dev.root_cert).verify_bytes(signed)
    assert mine.c2pa.state.value == "trusted" and mine.c2pa.conforming_product is None
    products.write_text(json.dumps([other]))
    trust.update("products", str(products))
    assert aimark.Verifier(trust="c2pa").verify_bytes(signed).c2pa.conforming_product is None
