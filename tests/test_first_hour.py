"""The first hour of a new user, run as they would run it: each mistake gets a message that
names what to do, never a traceback or a library's internal error."""

from __future__ import annotations

import json

import pytest

from conftest import encode, natural_image, sha256
from test_bad_input import assert_clean_failure, run_cli


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("first-hour") / "photo.jpg"
    path.write_bytes(encode(natural_image(seed=9), "jpeg"))
    return path


def _label(dev, src, dst, *extra, cert=None, key=None):
    return run_cli(
        "label", str(src), "-o", str(dst), "--cert", str(cert or dev.cert_chain),
        "--key", str(key or dev.private_key), "--model", "m", *extra,
    )  # fmt: skip


def test_swapped_cert_and_key_are_named(dev, photo, tmp_path):
    proc = _label(dev, photo, tmp_path / "o.jpg", cert=dev.private_key, key=dev.cert_chain)
    assert proc.returncode == 64
    assert_clean_failure(proc)
    assert "did you swap --cert and --key?" in proc.stderr
    assert "MalformedFraming" not in proc.stderr and not (tmp_path / "o.jpg").exists()
    only_cert_wrong = _label(dev, photo, tmp_path / "o.jpg", cert=dev.private_key)
    assert (
        "--cert" in only_cert_wrong.stderr and "looks like a private key" in only_cert_wrong.stderr
    )


@pytest.mark.parametrize("option", ["--cert", "--key", "--watermark-key"])
def test_a_missing_file_names_its_option(dev, photo, tmp_path, option):
    missing = tmp_path / "nope.pem"
    extra = ("--watermark-key", str(missing)) if option == "--watermark-key" else ()
    kw = {"cert": missing} if option == "--cert" else {"key": missing} if option == "--key" else {}
    proc = _label(dev, photo, tmp_path / "o.jpg", *extra, **kw)
    assert proc.returncode == 64
    assert_clean_failure(proc)
    assert f"{option} {missing}: no such file" in proc.stderr
    assert "Errno" not in proc.stderr


def test_label_on_a_text_file_points_to_label_text(dev, tmp_path):
    text = tmp_path / "answer.txt"
    text.write_text("The model's answer.\n")
    before = sha256(text)
    proc = _label(dev, text, tmp_path / "answer.signed.txt")
    assert proc.returncode == 4  # an input of the wrong kind
    assert_clean_failure(proc)
    assert "aimark label-text" in proc.stderr
    assert sha256(text) == before and not (tmp_path / "answer.signed.txt").exists()


def test_labelling_a_file_onto_itself_names_the_cli_flag(dev, photo):
    before = sha256(photo)
    proc = _label(dev, photo, photo)
    assert proc.returncode != 0
    assert_clean_failure(proc)
    assert "--in-place" in proc.stderr and "overwrite=True" not in proc.stderr
    assert sha256(photo) == before


def test_verify_json_keeps_stdout_json_and_stderr_on_its_own_lines(dev, photo, tmp_path):
    signed = tmp_path / "signed.jpg"
    assert _label(dev, photo, signed).returncode == 0
    (tmp_path / "notes.txt").write_text("not media")
    for args in ([str(signed)], [str(tmp_path)], [str(signed), "--trust", str(dev.root_cert)]):
        proc = run_cli("verify", *args, "--json")
        lines = proc.stdout.splitlines()
        assert lines and all(json.loads(line)["source"] for line in lines), proc.stdout
        assert proc.stdout.endswith("\n")
        assert not proc.stderr or (proc.stderr.endswith("\n") and "{" not in proc.stderr)
    plain = run_cli("verify", str(signed))
    assert plain.stdout.endswith("\n") and plain.stderr.startswith("(no --trust anchors")


def test_the_regulated_labels_from_the_command_line(dev, photo, tmp_path):
    out = tmp_path / "badge.jpg"
    proc = _label(dev, photo, out, "--visible", "--tc260-producer", "Example AI", "--json")
    assert proc.returncode == 0, proc.stderr
    layers = json.loads(proc.stdout)["layers"]
    assert {"visible", "tc260", "c2pa"} <= set(layers)
    report = json.loads(run_cli("verify", str(out), "--json").stdout)
    assert report["metadata"]["tc260_aigc"]["ContentProducer"] == "Example AI"
    text = tmp_path / "answer.txt"
    text.write_text("An answer.\n")
    lt = run_cli(
        "label-text", str(text), "-o", str(tmp_path / "answer.signed.txt"),
        "--cert", str(dev.cert_chain), "--key", str(dev.private_key), "--model", "llm",
        "--disclosure", "--tc260-producer", "Example AI",
    )  # fmt: skip
    assert lt.returncode == 0, lt.stderr
    signed = (tmp_path / "answer.signed.txt").read_text()
    assert signed.startswith("---\nAIGC:\n") and "AI-generated content.\n\nAn answer." in signed
    bad = _label(dev, photo, tmp_path / "x.jpg", "--tc260-produce-id", "7")
    assert bad.returncode == 64 and "--tc260-produce-id needs --tc260-producer" in bad.stderr
