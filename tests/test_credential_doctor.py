"""The credential doctor, rule by rule, each held against what c2pa-python itself does with
the same credential: refuses to sign, signs but never reads Trusted, or signs and reads
Trusted. If a future c2pa changes its mind, the third assertion of a case fails and the
doctor's severity (and docs/trust.md's table) must follow."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.x509.oid import ExtendedKeyUsageOID
from PIL import Image

import aimark
from aimark.cli import main
from aimark.credential_doctor import RULES, CredentialCheck, Finding, check_credentials
from aimark.errors import CredentialRuleError
from credential_factory import C2PA_KP_OID, DAY, NOW, PEM, ec_key, issue, make, name, rsa_key

_buf = io.BytesIO()
Image.new("RGB", (16, 16), "gray").save(_buf, "JPEG")
JPEG = _buf.getvalue()
DEFINITION = json.dumps(
    {
        "claim_generator_info": [{"name": "aimark-tests", "version": "1"}],
        "title": "doctor.jpg",
        "format": "image/jpeg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/"
                            "digitalsourcetype/trainedAlgorithmicMedia",
                        }
                    ]
                },
            }
        ],
    }
)


def c2pa_outcome(chain: bytes, key: bytes, alg: str, anchors: bytes) -> str:
    """Bypass the doctor: what c2pa-python does with this credential. ``refused: <why>``, or
    the validation state of the signed JPEG read with ``anchors`` as user anchors."""
    try:
        info = c2pa.C2paSignerInfo(getattr(c2pa.C2paSigningAlg, alg.upper()), chain, key, None)
        signer = c2pa.Signer.from_info(info)
        ctx = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
        builder = c2pa.Builder(DEFINITION, context=ctx)
        dst = io.BytesIO()
        builder.sign(signer, "image/jpeg", io.BytesIO(JPEG), dst)
    except c2pa.C2paError as exc:
        return f"refused: {exc}"
    read_ctx = c2pa.Context.from_dict({"trust": {"user_anchors": anchors.decode()}})
    reader = c2pa.Reader("image/jpeg", io.BytesIO(dst.getvalue()), context=read_ctx)
    return reader.get_validation_state()


INVALID = "refused: Signature: the certificate is invalid"
NOT_VALID_AT_SIGNING = "refused: Signature: the certificate was not valid at time of signing"

# name: (factory knobs, the rules the doctor reports, what c2pa does: a prefix of its answer)
CASES = {
    "no-eku": (dict(eku=None), {"no-eku"}, INVALID),
    "server-auth-only": (
        dict(eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
        {"eku-missing-email-protection"},
        INVALID,
    ),
    "c2pa-oid-only": (
        dict(eku=[C2PA_KP_OID]),
        {"eku-missing-email-protection"},
        "refused: Verify: manifest failed validation",  # signingCredential.invalid: EKU
    ),
    "document-signing-only": (
        dict(eku=[x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")]),
        {"eku-missing-email-protection"},
        "refused: Verify: manifest failed validation",
    ),
    "no-organization": (dict(org=False), {"missing-organization"}, "Trusted"),
    "x509-v1": (dict(leaf_v1=True), {"x509-v1"}, "refused: Signature: the certificate must be"),
    "leaf-is-ca": (dict(leaf_ca=True), {"leaf-is-ca"}, INVALID),
    "key-cert-sign": (dict(key_cert_sign=True), {"leaf-key-cert-sign"}, INVALID),
    "no-digital-signature": (dict(digital_signature=False), {"no-digital-signature"}, INVALID),
    "no-key-usage": (dict(leaf_key_usage=False), {"no-digital-signature"}, INVALID),
    "reversed-chain": (dict(order="inter,leaf"), {"reversed-chain"}, INVALID),
    "missing-intermediate": (
        dict(order="leaf"),
        {"missing-intermediate", "untrusted-root"},
        "Valid",
    ),
    "root-in-chain": (dict(order="leaf,inter,root"), {"root-in-chain"}, "Trusted"),
    "chain-broken": (dict(signed_by_other=True), {"chain-broken"}, "Valid"),
    "expired": (
        dict(leaf_not_before=NOW - 10 * DAY, leaf_not_after=NOW - DAY),
        {"expired"},
        NOT_VALID_AT_SIGNING,
    ),
    "not-yet-valid": (
        dict(leaf_not_before=NOW + DAY, leaf_not_after=NOW + 10 * DAY),
        {"not-yet-valid"},
        NOT_VALID_AT_SIGNING,
    ),
    "expires-soon": (dict(leaf_not_after=NOW + 5 * DAY), {"expires-soon"}, "Trusted"),
    "intermediate-expired": (dict(inter_not_after=NOW - DAY), {"intermediate-expired"}, "Valid"),
    "key-mismatch": (
        dict(key=ec_key("stranger")),
        {"key-mismatch"},
        "refused: Signature: the signature does not match",
    ),
    "weak-rsa-1024": (
        dict(leaf_key=rsa_key("leaf", 1024), alg="ps256"),
        {"weak-key"},
        INVALID,
    ),
    "secp256k1": (
        dict(leaf_key=ec_key("leaf", "secp256k1")),
        {"unsupported-curve"},
        "refused: Signature: invalid signing credentials",
    ),
    "brainpool": (
        dict(leaf_key=ec_key("leaf", "brainpoolP256r1")),
        {"unsupported-curve"},
        "refused: Signature: invalid signing credentials",
    ),
    "ed448": (
        dict(leaf_key=ed448.Ed448PrivateKey.generate(), alg="ed25519"),
        {"unsupported-key"},
        "refused: Signature: invalid signing credentials",
    ),
    "self-signed-leaf": (
        dict(self_signed_leaf=True, order="leaf"),
        {"self-signed-leaf", "untrusted-root"},
        "Valid",
    ),
    "no-aki": (dict(aki=False), {"no-aki"}, INVALID),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_rule_against_c2pa(case):
    knobs, rules, c2pa_says = CASES[case]
    made = make(**knobs)
    anchors = aimark.TrustAnchors.from_pem(made.root, name="the test root")
    check = check_credentials(made.chain, made.key, trust=anchors)
    # (a) the doctor names exactly this defect
    assert {f.rule for f in check.findings} == rules, check.lines()
    assert all(f.severity == RULES[f.rule][0] for f in check.findings)
    errors = {f.rule for f in check.errors}
    # (b) loading the credentials refuses exactly the errors, naming the rule and the fix
    if errors:
        with pytest.raises(CredentialRuleError) as caught:
            aimark.Credentials.from_pem(made.chain, made.key)
        assert caught.value.rule in errors
        assert str(caught.value).startswith(f"credentials rejected ({caught.value.rule}): ")
        assert "; fix: " in str(caught.value) and caught.value.fix
        assert isinstance(caught.value, aimark.CredentialsError)
    else:
        assert aimark.Credentials.from_pem(made.chain, made.key).alg.value == made.alg
    # (c) and c2pa-python, without the doctor, agrees with the severity
    outcome = c2pa_outcome(made.chain, made.key, made.alg, made.root)
    assert outcome.startswith(c2pa_says), outcome
    if errors:
        assert outcome != "Trusted"  # refused, or never trusted by the root
    else:
        assert not outcome.startswith("refused")


def test_every_rule_is_exercised():
    seen = set().union(*(rules for _, rules, _ in CASES.values()))
    assert seen | {"chain-unreadable", "key-unreadable", "untrusted-root"} == set(RULES)


def test_good_dev_credentials_have_no_finding_and_read_trusted(tmp_path):
    for alg in ("es256", "ed25519"):
        dev = aimark.create_dev_credentials(tmp_path / alg, alg=alg)
        chain, key, root = (
            dev.cert_chain.read_bytes(),
            dev.private_key.read_bytes(),
            dev.root_cert.read_bytes(),
        )
        check = check_credentials(chain, key, trust=aimark.TrustAnchors.from_pem(root))
        assert check.ok and check.findings == () and check.alg == alg
        assert check.subject is not None and check.subject == check.chain[0]
        assert check.lines()[-1].endswith("c2pa will accept this signer")
        assert c2pa_outcome(chain, key, alg, root) == "Trusted"


def test_untrusted_root_names_the_list_checked():
    made = make()
    root_key = ec_key("another root")
    another = issue(name("another root"), root_key, name("another root"), root_key, ca=True)
    anchors = aimark.TrustAnchors.from_pem(another.public_bytes(PEM), name="partner roots")
    check = check_credentials(made.chain, made.key, trust=anchors)
    assert [f.rule for f in check.findings] == ["untrusted-root"]
    assert "partner roots" in check.findings[0].message and check.ok
    assert c2pa_outcome(made.chain, made.key, "es256", another.public_bytes(PEM)) == "Valid"
    # without anchors, nothing to say about trust
    assert check_credentials(made.chain, made.key).findings == ()


def test_a_missing_intermediate_is_fine_when_the_anchor_issued_the_leaf():
    made = make(order="leaf")
    inter_pem = made.certs[1].public_bytes(PEM)
    anchors = aimark.TrustAnchors.from_pem(inter_pem, name="intermediate")
    assert check_credentials(made.chain, made.key, trust=anchors).findings == ()
    assert c2pa_outcome(made.chain, made.key, "es256", inter_pem) == "Trusted"


def test_unreadable_input_is_a_finding_never_an_exception():
    made = make()
    check = check_credentials(b"not a certificate", b"not a key")
    assert [f.rule for f in check.findings] == ["chain-unreadable", "key-unreadable"]
    assert check.subject is None and check.chain == () and not check.ok
    swapped = check_credentials(made.key, made.chain)
    assert "swapped" in swapped.findings[0].message
    encrypted = ec_key("leaf").private_bytes(
        PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    locked = check_credentials(made.chain, encrypted)
    assert [f.rule for f in locked.findings] == ["key-unreadable"]
    assert "password" in locked.findings[0].message
    assert check_credentials(made.chain, encrypted, password=b"pw").ok
    with pytest.raises(CredentialRuleError, match="key-unreadable"):
        aimark.Credentials.from_pem(made.chain, encrypted)


def test_the_key_of_the_ca_is_a_mismatch_not_a_reversed_chain():
    made = make(key=ec_key("inter"))
    check = check_credentials(made.chain, made.key)
    assert [f.rule for f in check.errors] == ["key-mismatch"]
    assert "CA certificate" in check.errors[0].message


def test_callback_credentials_are_checked_too():
    made = make(leaf_ca=True)
    with pytest.raises(CredentialRuleError) as caught:
        aimark.Credentials.from_callback(made.chain, lambda data: b"")
    assert caught.value.rule == "leaf-is-ca"


def test_lines_and_dict():
    check = check_credentials(make(leaf_ca=True, org=False).chain)
    lines = check.lines()
    assert lines[0].startswith("error  leaf-is-ca: signing certificate CN=test signer")
    assert lines[1].startswith("  fix: ") and "CA:FALSE" in lines[1]
    assert any(line.startswith("warning  missing-organization: ") for line in lines)
    assert lines[-1].startswith("rejected: 1 error(s)")
    d = json.loads(json.dumps(check.to_dict()))
    assert d["ok"] is False and d["findings"][0] == check.findings[0].to_dict()
    assert d["chain"] == ["CN=test signer", "O=aimark tests,CN=test intermediate CA"]
    assert CredentialCheck((Finding("x", "warning", "m", "f"),), "CN=a", ("CN=a",)).ok


# --------------------------------------------------------------------------- the CLI


def _files(tmp_path, made, tag):
    chain, key = tmp_path / f"{tag}-chain.pem", tmp_path / f"{tag}.key"
    chain.write_bytes(made.chain)
    key.write_bytes(made.key)
    return str(chain), str(key)


def test_cli_check_good_and_bad(tmp_path, capsys):
    good = make()
    chain, key = _files(tmp_path, good, "good")
    root = tmp_path / "root.pem"
    root.write_bytes(good.root)
    assert main(["credentials", "check", "--cert", chain, "--key", key, "--trust", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: O=aimark tests,CN=test signer (es256): c2pa will accept")
    bad_chain, bad_key = _files(tmp_path, make(order="inter,leaf"), "bad")
    assert main(["credentials", "check", "--cert", bad_chain, "--key", bad_key]) == 1
    out = capsys.readouterr().out
    assert (
        out.startswith("error  reversed-chain: ")
        and "cat signer.pem intermediate.pem > chain.pem" in out
    )
    assert main(["credentials", "check", "--cert", bad_chain, "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in d["findings"]] == ["reversed-chain"] and d["ok"] is False
    # the C2PA trust list, by the name verify --trust takes
    assert main(["credentials", "check", "--cert", chain, "--trust", "c2pa", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ok"] and d["findings"][0]["rule"] == "untrusted-root"
    assert "C2PA trust list" in d["findings"][0]["message"]


def test_cli_check_unreadable_files(tmp_path):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    cmd = [sys.executable, "-m", "aimark", "credentials", "check", "--cert"]
    proc = subprocess.run([*cmd, str(garbage)], capture_output=True, text=True)
    assert proc.returncode == 1 and "error  chain-unreadable: " in proc.stdout
    proc = subprocess.run([*cmd, str(tmp_path / "missing.pem")], capture_output=True, text=True)
    assert proc.returncode == 64 and "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
