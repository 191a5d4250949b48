"""``aimark verify --tree / --certs / --info``, run as a real subprocess."""

from __future__ import annotations

import pytest

import aimark
from conftest import encode, natural_image
from test_bad_input import run_cli


@pytest.fixture(scope="module")
def files(tmp_path_factory, dev):
    d = tmp_path_factory.mktemp("views")
    (d / "plain.jpg").write_bytes(encode(natural_image(seed=7), "jpeg"))
    aimark.label_image(
        natural_image(seed=8), d / "labelled.png", credentials=dev.credentials(), generator="gen"
    )
    labelled = (d / "labelled.png").read_bytes()
    (d / "corrupt.png").write_bytes(labelled[: len(labelled) // 3])
    platform = aimark.create_dev_credentials(d / "platform", organization="Platform P")
    aimark.ingest(d / "labelled.png", d / "copy.jpg", platform.credentials(), platform="P")
    return d, platform


def test_tree_shows_the_store_like_c2patool(files, dev):
    d, _ = files
    proc = run_cli("verify", "--tree", str(d / "labelled.png"), "--trust", str(dev.root_cert))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Asset:labelled.png, Manifest:urn:c2pa:")
    assert "├── Assertion:c2pa.actions.v2" in lines
    assert not any("labelled-trusted" in ln or "compliance" in ln for ln in lines)
    assert proc.stderr == ""


def test_tree_of_an_ingested_copy_nests_the_ingredient(files, dev):
    d, platform = files
    trust = ("--trust", str(dev.root_cert), "--trust", str(platform.root_cert))
    proc = run_cli("verify", "--tree", str(d / "copy.jpg"), *trust)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Asset:copy.jpg, Manifest:urn:c2pa:")
    ingredient = next(i for i, ln in enumerate(lines) if "Asset:labelled.png, Manifest:" in ln)
    assert lines[ingredient].startswith("└── ")
    assert lines[ingredient + 1].startswith("    ├── Assertion:c2pa.actions")


def test_certs_prints_the_signing_chain_as_pem(files, dev):
    d, platform = files
    proc = run_cli("verify", "--certs", str(d / "labelled.png"))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == dev.cert_chain.read_text()
    copy = run_cli("verify", "--certs", str(d / "copy.jpg"))
    assert copy.stdout == platform.cert_chain.read_text()  # the active manifest's signer


def test_info_sums_the_store_up(files):
    d, _ = files
    proc = run_cli("verify", "--info", str(d / "copy.jpg"))
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert out.startswith(f"Information for {d / 'copy.jpg'}\nManifest store size = ")
    assert f"of file size {(d / 'copy.jpg').stat().st_size})" in out
    assert "Stored: embedded in copy.jpg" in out
    assert "Validated (signer not trusted" in out
    assert "2 manifests" in out and "Active manifest: urn:c2pa:" in out


@pytest.mark.parametrize("view", ["--tree", "--certs", "--info"])
def test_views_of_unlabelled_and_corrupt_files(files, dev, view):
    d, _ = files
    plain = run_cli("verify", view, str(d / "plain.jpg"))
    assert plain.returncode == 2
    said = plain.stderr if view == "--certs" else plain.stdout
    assert f"{d / 'plain.jpg'}: no C2PA manifest" in said
    if view == "--certs":
        assert plain.stdout == ""
    corrupt = run_cli("verify", view, str(d / "corrupt.png"))  # cut inside the manifest
    assert corrupt.returncode == run_cli("verify", str(d / "corrupt.png")).returncode == 3
    assert "Traceback" not in corrupt.stdout + corrupt.stderr
    if view == "--info":
        assert "Validation issues:" in corrupt.stdout
    elif view == "--tree":
        assert corrupt.stdout == "" and f"{d / 'corrupt.png'}: " in corrupt.stderr
    else:  # the store lies before the cut: its chain is still there to print
        assert corrupt.stdout == dev.cert_chain.read_text()
    garbage = d / "garbage.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    broken = run_cli("verify", view, str(garbage))
    assert broken.returncode == 4, broken.stdout + broken.stderr
    assert "Traceback" not in broken.stdout + broken.stderr
    assert f"{garbage}: error" in broken.stderr


def test_views_exclude_each_other_and_json(files):
    d, _ = files
    assert run_cli("verify", "--tree", "--certs", str(d / "plain.jpg")).returncode == 64
    both = run_cli("verify", "--info", "--json", str(d / "plain.jpg"))
    assert both.returncode == 64 and "cannot be combined" in both.stderr
