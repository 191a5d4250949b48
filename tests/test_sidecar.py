"""Sidecar manifests (NAME.c2pa) and remote manifest references: real c2pa signing and
reading, files that are never modified."""

from __future__ import annotations

import http.server
import io
import json
import os
import threading
import zipfile
from pathlib import Path

import pytest
from PIL import Image

import aimark
from aimark.errors import OutputError
from aimark.manifest.sidecar import asset_of, find_sidecar, is_manifest_store, sidecar_path
from conftest import SHARED, encode, natural_image
from test_bad_input import assert_clean_failure, run_cli

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_DOC = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Written by a model.</w:t></w:r></w:p>"
    '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>'
)


def word_docx(path: Path) -> Path:
    """A DOCX as Word saves one: every part deflated (c2pa 0.91 cannot parse it)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("word/document.xml", _DOC)
    return path


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.fixture
def docx(tmp_path):
    return word_docx(tmp_path / "report.docx")


def test_word_docx_is_repackaged_inline_or_labelled_unchanged_by_sidecar(
    labeler, trusted, docx, tmp_path
):
    before = snapshot(docx)
    with pytest.warns(aimark.LabelWarning, match="repackaged without compression"):
        labeler.label_media(docx, tmp_path / "out.docx")
    assert snapshot(docx) == before
    result = labeler.label_sidecar(docx)
    assert snapshot(docx) == before  # never modified
    assert result.path == tmp_path / "report.docx.c2pa" and result.layers == ("c2pa-sidecar",)
    assert result.format is aimark.MediaFormat.DOCX
    assert result.path.read_bytes() == bytes(result) and is_manifest_store(bytes(result))
    report = trusted.verify(docx)
    assert snapshot(docx) == before
    assert report.c2pa.state is aimark.C2paState.TRUSTED and report.c2pa.ai_declared
    assert report.c2pa.sidecar == "report.docx.c2pa"
    assert report.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert report.media.format == "docx" and report.c2pa.content_id == result.content_id
    d = report.to_dict()
    assert d["c2pa"]["sidecar"] == "report.docx.c2pa" and d["error"] is None


def test_tampered_file_is_invalid(labeler, trusted, docx):
    labeler.label_sidecar(docx)
    data = bytearray(docx.read_bytes())
    data[len(data) // 2] ^= 0x01
    docx.write_bytes(bytes(data))
    report = trusted.verify(docx)
    assert report.c2pa.state is aimark.C2paState.INVALID
    assert "assertion.dataHash.mismatch" in {f.code for f in report.c2pa.failures}
    assert report.verdict.status is aimark.Status.INVALID
    assert not report.verdict.status.value.startswith("labelled")


def test_unknown_binary_raw_by_sidecar(labeler, trusted, untrusted, tmp_path):
    raw = tmp_path / "IMG_0001.CR3"
    raw.write_bytes(b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom" + os.urandom(20_000))
    other = tmp_path / "blob.dat"
    other.write_bytes(os.urandom(5000))
    assert trusted.verify(other).verdict.status is aimark.Status.ERROR  # no sidecar: unreadable
    for path in (raw, other):
        before = snapshot(path)
        result = labeler.label_sidecar(path, title="camera original")
        assert snapshot(path) == before and result.path == sidecar_path(path)
        report = trusted.verify(path)
        assert report.verdict.status is aimark.Status.LABELLED_TRUSTED, report.verdict.summary
        assert report.c2pa.title == "camera original" and report.error is None
        assert untrusted.verify(path).c2pa.state is aimark.C2paState.VALID_UNTRUSTED
    assert trusted.verify(other).media.mime == "application/octet-stream"


def test_image_by_sidecar_on_request_keeps_its_embedded_manifest_as_parent(
    labeler, trusted, tmp_path
):
    plain = tmp_path / "plain.png"
    plain.write_bytes(encode(natural_image(seed=3), "png"))
    labeler.label_sidecar(plain)
    report = trusted.verify(plain)
    assert report.c2pa.sidecar == "plain.png.c2pa" and report.media.format == "png"
    assert report.verdict.status is aimark.Status.LABELLED_TRUSTED
    signed = tmp_path / "signed.jpg"
    labeler.label_image(Image.new("RGB", (64, 64), "teal"), signed)
    side = labeler.label_sidecar(signed, tmp_path / "elsewhere.c2pa")
    assert side.path == tmp_path / "elsewhere.c2pa"
    own = trusted.verify(signed)  # the embedded manifest wins over a sidecar
    assert own.c2pa.sidecar is None and own.c2pa.state is aimark.C2paState.TRUSTED
    result, _ = trusted._reader.read_manifest_data(
        bytes(side), signed.read_bytes(), fmt="application/octet-stream"
    )
    assert result.state is aimark.C2paState.TRUSTED and result.manifests == 2  # the parent
    assert [a.action for a in result.actions] == ["c2pa.opened", "c2pa.edited"]


def test_existing_sidecar_and_bytes(labeler, docx):
    labeler.label_sidecar(docx)
    with pytest.raises(OutputError, match="exists"):
        labeler.label_sidecar(docx)
    again = labeler.label_sidecar(docx, overwrite=True)
    assert again.path.read_bytes() == bytes(again)
    with pytest.raises(OutputError, match="replace the file"):
        labeler.label_sidecar(docx, docx)
    in_memory = labeler.label_sidecar(docx.read_bytes())  # bytes: nothing written
    assert in_memory.path is None and is_manifest_store(bytes(in_memory))


def test_extension_replaced_sidecar_is_read(labeler, trusted, tmp_path):
    raw = tmp_path / "photo.nef"
    raw.write_bytes(b"II*\x00" + os.urandom(3000))
    labeler.label_sidecar(raw, tmp_path / "photo.c2pa")  # c2patool's name
    assert find_sidecar(raw) == tmp_path / "photo.c2pa"
    assert asset_of(tmp_path / "photo.c2pa") == raw
    report = trusted.verify(raw)
    assert report.c2pa.sidecar == "photo.c2pa"
    assert report.verdict.status is aimark.Status.LABELLED_TRUSTED


def test_absent_garbage_and_truncated_sidecars(labeler, trusted, docx, tmp_path):
    bare = word_docx(tmp_path / "bare.docx")
    assert trusted.verify(bare).c2pa.state is aimark.C2paState.ABSENT
    good = bytes(labeler.label_sidecar(docx))
    for bad in (b"garbage, not a store", good[: len(good) // 2], b"", good[:40]):
        sidecar_path(bare).write_bytes(bad)
        before = snapshot(bare)
        report = trusted.verify(bare)
        assert snapshot(bare) == before
        assert report.c2pa.state is aimark.C2paState.INVALID, bad[:20]
        assert report.c2pa.sidecar == "bare.docx.c2pa" and report.c2pa.error
        assert report.verdict.status is aimark.Status.INVALID
        json.dumps(report.to_dict())


def test_verifying_the_store_itself_says_what_it_is(labeler, trusted, docx):
    labeler.label_sidecar(docx)
    report = trusted.verify(sidecar_path(docx))
    assert report.verdict.status is aimark.Status.ERROR
    assert "manifest store" in report.verdict.summary and "report.docx" in report.verdict.summary
    assert report.media.format == "c2pa"
    alone = trusted.verify_bytes(sidecar_path(docx).read_bytes())
    assert "manifest store" in alone.error["message"]


def test_bytes_have_no_sidecar(labeler, trusted, docx):
    labeler.label_sidecar(docx)
    report = trusted.verify_bytes(docx.read_bytes(), name=str(docx))  # no path: none looked for
    assert report.c2pa.sidecar is None and report.verdict.status is aimark.Status.ERROR


@pytest.mark.parametrize("name", ["basic.pdf", "video1_no_manifest.mp4"])
def test_shared_media_by_sidecar(labeler, trusted, tmp_path, name):
    """c2pa would bind a PDF or MP4 to where an embedded store goes: a sidecar binds all."""
    src = SHARED / "media" / name
    if not src.is_file():
        pytest.skip(f"shared fixture {src} absent")
    copy = tmp_path / name
    copy.write_bytes(src.read_bytes())
    labeler.label_sidecar(copy)
    report = trusted.verify(copy)
    assert report.c2pa.state is aimark.C2paState.TRUSTED and report.c2pa.sidecar


# ---------------------------------------------------------------- CLI, scan, repository


def _signing(dev):
    return ("--cert", str(dev.cert_chain), "--key", str(dev.private_key), "--model", "cli-m")


def test_cli_label_sidecar_verify_scan_and_import(dev, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    doc = word_docx(tree / "minutes.docx")
    raw = tree / "IMG_2.CR3"
    raw.write_bytes(b"\x00\x00\x00\x18ftypcrx " + os.urandom(4000))
    before = snapshot(doc), snapshot(raw)

    inline = run_cli("label", str(doc), "-o", str(tmp_path / "x.docx"), *_signing(dev))
    assert inline.returncode == 0 and "repackaged without compression" in inline.stderr
    assert "--sidecar" in inline.stderr  # for a file that must not change
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01\x02" * 300)
    refused = run_cli("label", str(blob), "-o", str(tmp_path / "x.png"), *_signing(dev))
    assert refused.returncode != 0 and "--sidecar" in refused.stderr
    assert_clean_failure(refused)

    proc = run_cli("label", str(doc), "--sidecar", *_signing(dev))
    assert proc.returncode == 0, proc.stderr
    assert "minutes.docx.c2pa" in proc.stdout
    proc = run_cli("label", str(raw), "--sidecar", "--json", *_signing(dev))
    out = json.loads(proc.stdout)
    assert out["layers"] == ["c2pa-sidecar"] and out["path"].endswith("IMG_2.CR3.c2pa")
    assert (snapshot(doc), snapshot(raw)) == before

    text = run_cli("verify", str(doc), "--trust", str(dev.root_cert))
    assert text.returncode == 0, text.stdout
    assert "c2pa: trusted (from sidecar minutes.docx.c2pa)" in text.stdout
    js = run_cli("verify", str(raw), "--json", "--trust", str(dev.root_cert))
    rep = json.loads(js.stdout)
    assert rep["c2pa"]["sidecar"] == "IMG_2.CR3.c2pa" and rep["verdict"]["status"] == (
        "labelled-trusted"
    )
    store = run_cli("verify", str(tree / "minutes.docx.c2pa"))
    assert "manifest store" in store.stdout and "minutes.docx" in store.stdout
    folder = run_cli("verify", str(tree), "--json", "--trust", str(dev.root_cert))
    sources = {Path(json.loads(line)["source"]).name for line in folder.stdout.splitlines()}
    assert sources == {"minutes.docx", "IMG_2.CR3"}

    scan = run_cli("scan", str(tree), "-o", "-", "--workers", "0", "--trust", str(dev.root_cert))
    rows = {Path(r["source"]).name: r for r in map(json.loads, scan.stdout.splitlines())}
    assert set(rows) == {"minutes.docx", "IMG_2.CR3"}, scan.stdout  # no row for the stores
    for row in rows.values():
        assert row["verdict"]["status"] == "labelled-trusted" and row["c2pa"]["sidecar"]
    assert "sidecar" in scan.stderr  # skipped as sidecars in the summary

    db = tmp_path / "m.db"
    imp = run_cli("repository", "import", str(db), str(tree))
    assert imp.returncode == 0, imp.stderr
    assert imp.stdout.count("(a sidecar manifest store)") == 2, imp.stdout
    assert "2 manifest(s) filed" in imp.stderr
    assert (snapshot(doc), snapshot(raw)) == before


def test_sidecar_is_filed_in_the_repository_when_labelling(creds, trusted, tmp_path):
    db = tmp_path / "repo.db"
    labeler = aimark.Labeler(creds, generator="m", repository=str(db))
    raw = tmp_path / "a.arw"
    raw.write_bytes(os.urandom(2000))
    result = labeler.label_sidecar(raw)
    assert result.layers == ("c2pa-sidecar", "repository")
    from aimark.repository import open_repository

    assert open_repository(str(db), create=False).stats().manifests == 1


# ---------------------------------------------------------------- remote references


def _with_provenance(url: str) -> bytes:
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        '22-rdf-syntax-ns#"><rdf:Description xmlns:dcterms="http://purl.org/dc/terms/" '
        f'dcterms:provenance="{url}"/></rdf:RDF></x:xmpmeta>'
    )
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "navy").save(buf, "JPEG", xmp=xmp.encode())
    return buf.getvalue()


@pytest.fixture
def served():
    """A loopback HTTP server answering /m.c2pa with whatever ``files`` holds."""
    files: dict[str, bytes] = {}
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", files, hits
    server.shutdown()
    server.server_close()


def test_remote_reference_reported_not_fetched_unless_online(labeler, dev, served, tmp_path):
    base, files, hits = served
    photo = tmp_path / "remote.jpg"
    photo.write_bytes(_with_provenance(f"{base}/m.c2pa"))
    files["/m.c2pa"] = bytes(labeler.label_sidecar(photo.read_bytes()))
    before = snapshot(photo)

    offline = aimark.Verifier(trust=dev.root_cert).verify(photo)
    assert offline.c2pa.state is aimark.C2paState.REMOTE
    assert offline.c2pa.remote_url == f"{base}/m.c2pa" and "not fetched" in offline.c2pa.error
    assert hits == []

    online = aimark.Verifier(trust=dev.root_cert, fetch_remote=True).verify(photo)
    assert hits == ["/m.c2pa"]
    assert online.c2pa.state is aimark.C2paState.TRUSTED and online.c2pa.remote_url
    assert online.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert snapshot(photo) == before

    cli = run_cli("verify", str(photo), "--trust", str(dev.root_cert))
    assert "not fetched" in cli.stdout and len(hits) == 1
    cli = run_cli("verify", str(photo), "--online", "--trust", str(dev.root_cert))
    assert cli.returncode == 0 and f"fetched from {base}/m.c2pa" in cli.stdout
    assert len(hits) == 2

    files["/m.c2pa"] = b"not a manifest"  # a bad or missing remote store: no crash
    bad = aimark.Verifier(fetch_remote=True).verify(photo)
    assert bad.c2pa.state is aimark.C2paState.INVALID
    del files["/m.c2pa"]
    gone = aimark.Verifier(fetch_remote=True).verify(photo)
    assert gone.c2pa.state is aimark.C2paState.REMOTE and "404" in gone.c2pa.error


def test_a_self_reference_is_not_remote():
    from aimark.verification.remote import provenance_url

    self_ref = _with_provenance("self#jumbf=/c2pa/urn:uuid:1/c2pa.claim")
    assert provenance_url(self_ref) is None
    assert aimark.verify(self_ref).c2pa.state is aimark.C2paState.ABSENT


def test_only_http_is_fetched():
    from aimark.errors import InputError
    from aimark.verification.remote import fetch_store

    with pytest.raises(InputError, match="only http"):
        fetch_store("file:///etc/passwd")


def test_the_service_never_fetches_or_reads_sidecars(served, labeler, tmp_path):
    from starlette.testclient import TestClient

    from aimark.server import create_app

    base, files, hits = served
    data = _with_provenance(f"{base}/m.c2pa")
    files["/m.c2pa"] = bytes(labeler.label_sidecar(data))
    app = create_app(aimark.Verifier(), isolation="thread")
    try:
        assert app.state.service.verifier.fetch_remote is False
        with TestClient(app) as client:
            answer = client.post("/v1/verify", content=data)
        assert answer.json()["c2pa"]["state"] == "remote" and hits == []
    finally:
        app.state.service.close()
    with pytest.raises(ValueError, match="never fetches"):
        create_app(aimark.Verifier(fetch_remote=True), isolation="thread")
