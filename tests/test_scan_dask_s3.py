"""aimark.scan on a real Dask LocalCluster (2 worker processes) and on an S3-compatible server
(moto's, started on loopback by the tests): the reports equal the local scan of the same files."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import aimark
from conftest import REPO, encode, natural_image

distributed = pytest.importorskip("distributed", reason="aimark[dask] not installed")
s3fs = pytest.importorskip("s3fs", reason="aimark[s3] not installed")
moto_server = pytest.importorskip("moto.server", reason="moto[server] not installed")

pytestmark = [
    pytest.mark.slow,  # a Dask cluster and an S3 server
    # Dask and botocore warn about their own internals (ports, deprecations); not ours to fix
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

LAYERS = ("verdict", "media", "c2pa", "metadata", "watermark", "error")


@pytest.fixture(scope="module")
def key() -> aimark.WatermarkKey:
    return aimark.WatermarkKey.generate()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, creds, key) -> Path:
    root = tmp_path_factory.mktemp("remote") / "media"
    (root / "sub" / "deeper").mkdir(parents=True)
    labelled = aimark.label_image(
        natural_image(256, 192, seed=3),
        credentials=creds,
        generator=("remote-model", "1"),
        format="png",
        watermark_key=key,
    )
    (root / "labelled.png").write_bytes(labelled.data)
    import io

    from PIL import Image

    stripped = encode(Image.open(io.BytesIO(labelled.data)).convert("RGB"), "jpeg", quality=90)
    (root / "sub" / "deeper" / "stripped.jpg").write_bytes(stripped)
    plain = encode(natural_image(256, 192, seed=4), "webp", quality=90)
    (root / "sub" / "plain.webp").write_bytes(plain)
    (root / "sub" / "truncated.webp").write_bytes(plain[: len(plain) // 2])
    shutil.copy(REPO / "samples" / "a1111-parameters.png", root / "a1111.png")
    shutil.copy(REPO / "samples" / "c2pa-adobe-test-tampered-XCA.jpg", root / "tampered.jpg")
    (root / "notes.txt").write_text(
        aimark.label_text("A model wrote this.\n", credentials=creds, generator="remote-llm 1")
    )
    (root / "blob.bin").write_bytes(bytes(range(256)) * 20)
    return root


def _by_name(reports, root: str) -> dict[str, dict]:
    out = {}
    for r in reports:
        d = r.to_dict()
        rel = d["source"][len(root) :].lstrip("/")
        out[rel] = {k: d[k] for k in LAYERS} | {"size": d["file"]["size"]}
    return out


@pytest.fixture(scope="module")
def local_result(folder, dev, key) -> dict[str, dict]:
    run = aimark.scan(folder, trust=dev.root_cert, watermark_keys=[key], workers=0)
    result = _by_name(run, str(folder))
    assert len(result) == 7 and run.summary.skipped["not-media"] == 1
    assert result["labelled.png"]["verdict"]["status"] == "labelled-trusted"
    assert result["sub/deeper/stripped.jpg"]["verdict"]["status"] == "labelled-watermark"
    return result


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as c,
        distributed.Client(c) as client,
    ):
        yield client


def test_dask_local_cluster_equals_local_scan(cluster, folder, dev, key, local_result, tmp_path):
    assert len(cluster.nthreads()) == 2
    out = tmp_path / "dask.jsonl"
    run = aimark.scan(
        folder,
        trust=dev.root_cert,
        watermark_keys=[key],
        client=cluster,
        output=out,
        chunk_size=1,
    )
    reports = list(run)
    assert _by_name(reports, str(folder)) == local_result
    assert len(out.read_text().splitlines()) == len(local_result)
    # the work was spread over the cluster's workers
    assert len({w for w, n in cluster.run(_files_scanned).items() if n}) == 2


def _files_scanned() -> int:
    from aimark.scanner import worker

    return worker.files_scanned


def test_dask_resume(cluster, folder, tmp_path):
    out = tmp_path / "dask.jsonl"
    aimark.scan(folder, client=cluster, output=out).run()
    again = aimark.scan(folder, client=cluster, output=out)
    assert list(again) == [] and again.summary.resumed == 7


@pytest.fixture(scope="module")
def s3(folder):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    options = {
        "key": "testing",
        "secret": "testing",
        "endpoint_url": f"http://127.0.0.1:{port}",
        "client_kwargs": {"region_name": "us-east-1"},
    }
    import boto3

    boto3.client(
        "s3",
        endpoint_url=options["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket="media-bucket")
    fs = s3fs.S3FileSystem(**options)
    for path in folder.rglob("*"):
        if path.is_file():
            fs.pipe(f"media-bucket/scans/{path.relative_to(folder).as_posix()}", path.read_bytes())
    yield options
    server.stop()


@pytest.mark.parametrize("workers", [0, 2])
def test_s3_equals_local_scan(s3, dev, key, local_result, workers):
    root = "s3://media-bucket/scans"
    run = aimark.scan(
        root, trust=dev.root_cert, watermark_keys=[key], workers=workers, storage_options=s3
    )
    reports = list(run)
    assert _by_name(reports, root) == local_result
    assert all(r.file.etag and r.file.mtime_ns for r in reports)
    assert run.summary.skipped["not-media"] == 1


def test_s3_on_dask_and_resume(s3, cluster, local_result, tmp_path):
    root = "s3://media-bucket/scans"
    out = tmp_path / "s3.jsonl"
    first = list(aimark.scan(root, client=cluster, storage_options=s3, output=out))
    assert {k: v["size"] for k, v in _by_name(first, root).items()} == {
        k: v["size"] for k, v in local_result.items()
    }
    again = aimark.scan(root, storage_options=s3, output=out, workers=0)
    assert list(again) == [] and again.summary.resumed == len(local_result)


def test_s3_cli(s3, tmp_path, local_result):
    out = tmp_path / "cli.jsonl"
    cmd = [
        sys.executable, "-m", "aimark", "scan", "s3://media-bucket/scans/sub", "-o", str(out),
        "--storage-option", f"endpoint_url={s3['endpoint_url']}",
        "--storage-option", "key=testing", "--storage-option", "secret=testing",
        "--exclude", "truncated.*",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    names = sorted(json.loads(x)["source"] for x in out.read_text().splitlines())
    assert names == [
        "s3://media-bucket/scans/sub/deeper/stripped.jpg",
        "s3://media-bucket/scans/sub/plain.webp",
    ]


def test_missing_bucket_prefix_is_an_input_error(s3):
    with pytest.raises(aimark.InputError, match="no such file or folder"):
        aimark.scan("s3://media-bucket/nothing-here", storage_options=s3, workers=0).run()
