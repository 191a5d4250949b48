"""Audio and video watermarks end to end, as a platform meets them: a clip labelled with a key
(signed, watermarked, filed in a repository) is transcoded the way platforms do (the manifest
stripped, re-encoded, trimmed), then verified by the Python API, the CLI and a scan: the
watermark says AI-labelled, with the time range where it was found, and the repository gives
the signed credentials back. Unmarked clips and other keys find nothing.

Real ffmpeg processes encode and attack; the tests skip, saying why, where it is missing
(.ci/run installs Debian's ffmpeg).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import aimark
from aimark.compliance import assess
from aimark.media import ffmpeg
from av_clips import ff, have_espeak, render_clip, speech

pytestmark = [
    pytest.mark.skipif(
        not ffmpeg.available(),
        reason="ffmpeg is not installed (Debian: apt install ffmpeg; .ci/run installs it)",
    ),
    pytest.mark.slow,  # real transcodes end to end
]

AUDIO_ID = "io.aimark.audio.1"
VIDEO_ID = "io.aimark.video.1"


def digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture(scope="module")
def key() -> aimark.WatermarkKey:
    return aimark.WatermarkKey.generate()


@pytest.fixture(scope="module")
def audio_case(creds, key, tmp_path_factory):
    """A 32 s narration (espeak-ng) labelled with the key into a repository, and its copy
    after a platform's audio chain: a 10 s cut, MP3 at 64 kbps, no manifest."""
    if not have_espeak():
        pytest.skip("espeak-ng is not installed (Debian: apt install espeak-ng; .ci/run does)")
    folder = tmp_path_factory.mktemp("audio")
    src = speech(folder / "narration.wav")
    before = digest(src)
    db = folder / "manifests.db"
    lab = aimark.Labeler(creds, generator=("voice-model", "2"), watermark_key=key, repository=db)
    result = lab.label_media(src, folder / "labelled.wav")
    assert digest(src) == before  # the source is never modified
    copy = folder / "copy.mp3"
    ff("-ss", "3.7", "-t", "10", "-i", folder / "labelled.wav", "-map_metadata", "-1",
       "-c:a", "libmp3lame", "-b:a", "64k", copy)  # fmt: skip
    return src, result, copy, db


def test_an_audio_label_writes_the_mark_and_binds_it_in_the_manifest(audio_case, dev):
    _, result, _, _ = audio_case
    assert "watermark" in result.layers and "c2pa" in result.layers
    mark = result.watermark_mark
    assert mark is not None and mark.scheme == AUDIO_ID
    assert mark.payload == result.watermark_payload
    assert result.content_id == f"urn:aimark:{mark.payload:016x}"
    duration = ffmpeg.probe(result.path).duration
    assert duration is not None and 0 <= mark.start_s < mark.end_s <= duration + 0.05
    assert mark.quality["snr_db"] >= 25
    report = aimark.Verifier(trust=dev.root_cert).verify(result.path)
    assert report.c2pa.state.value == "trusted" and report.verdict.ai_generated
    assert (AUDIO_ID, f"{mark.payload:016x}") in report.c2pa.soft_bindings


def test_a_transcoded_cut_of_a_labelled_narration_is_found_and_gets_its_credentials_back(
    audio_case, dev, key
):
    _, result, copy, db = audio_case
    v = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key], repository=db)
    report = v.verify(copy)
    assert report.c2pa.state.value == "absent"
    wm = report.watermark
    assert wm.detected and wm.scheme == AUDIO_ID, wm
    assert wm.payload == f"{result.watermark_payload:016x}"
    assert wm.time_range is not None and 0 <= wm.time_range[0] < wm.time_range[1] <= 10.5
    assert report.recovery is not None and report.recovery.status == "recovered"
    assert report.recovery.method == "watermark" and report.recovery.c2pa.ai_declared
    assert report.verdict.ai_generated and report.verdict.status.value == "labelled-watermark"
    assert report.to_dict()["watermark"]["time_range"] == list(wm.time_range)
    eu = assess(report).get("eu-ai-act-50-2")
    assert eu is not None
    (wm_req,) = [r for r in eu.requirements if r.id == "watermark"]
    assert wm_req.met is True and AUDIO_ID in wm_req.evidence


def test_unmarked_audio_and_another_key_find_nothing(audio_case, key):
    src, _, copy, _ = audio_case
    unmarked = aimark.Verifier(watermark_keys=[key]).verify(src)
    assert unmarked.watermark.checked and not unmarked.watermark.detected
    assert unmarked.watermark.status in ("not-detected", "inconclusive")
    other = aimark.Verifier(watermark_keys=[aimark.WatermarkKey.generate()]).verify(copy)
    assert other.watermark.checked and not other.watermark.detected
    assert other.verdict.status.value == "not-labelled"


@pytest.fixture(scope="module")
def video_case(creds, key, tmp_path_factory):
    """A 5 s 720p H.264 clip labelled with the key into a repository, and its copy after a
    platform-like transcode: down to 480p, CRF 28, no metadata, the manifest gone."""
    folder = tmp_path_factory.mktemp("video")
    src = render_clip(folder / "clip.mp4", seconds=5.0, size=(1280, 720))
    before = digest(src)
    db = folder / "manifests.db"
    lab = aimark.Labeler(creds, generator=("video-model", "1"), watermark_key=key, repository=db)
    result = lab.label_media(src, folder / "labelled.mp4")
    assert digest(src) == before
    copy = folder / "copy.mp4"
    ff("-i", folder / "labelled.mp4", "-map_metadata", "-1", "-vf", "scale=-2:480",
       "-c:v", "libx264", "-crf", "28", "-preset", "veryfast", "-c:a", "aac", "-b:a", "96k",
       copy)  # fmt: skip
    return src, result, copy, db


def test_a_video_label_writes_the_mark_and_keeps_the_audio_track(video_case, dev):
    _, result, _, _ = video_case
    mark = result.watermark_mark
    assert mark is not None and mark.scheme == VIDEO_ID and "watermark" in result.layers
    assert mark.quality["psnr_db"] >= 39.5
    probe = ffmpeg.probe(result.path)
    assert probe.video is not None and probe.video.codec == "h264"
    assert probe.audio is not None  # the audio track kept
    report = aimark.Verifier(trust=dev.root_cert).verify(result.path)
    assert report.c2pa.state.value == "trusted"
    assert (VIDEO_ID, f"{mark.payload:016x}") in report.c2pa.soft_bindings


def test_a_transcoded_labelled_clip_is_found_and_gets_its_credentials_back(video_case, dev, key):
    src, result, copy, db = video_case
    report = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key], repository=db).verify(copy)
    wm = report.watermark
    assert report.c2pa.state.value == "absent"
    assert wm.detected and wm.scheme == VIDEO_ID and wm.payload == f"{mark_of(result):016x}"
    assert wm.time_range is not None and wm.time_range[1] > wm.time_range[0]
    assert report.recovery is not None and report.recovery.status == "recovered"
    assert report.verdict.status.value == "labelled-watermark"
    unmarked = aimark.Verifier(watermark_keys=[key]).verify(src)
    assert unmarked.watermark.checked and not unmarked.watermark.detected


def mark_of(result) -> int:
    return int(result.watermark_mark.payload)


def run_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimark", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_cli_and_the_scan_report_the_mark_and_its_time_range(
    audio_case, video_case, key, tmp_path
):
    _, audio_result, audio_copy, audio_db = audio_case
    keyfile = tmp_path / "wm.key"
    key.save(keyfile)
    proc = run_cli("verify", "--watermark-key", keyfile, "--repository", audio_db, audio_copy)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "watermark: found (io.aimark.audio.1" in proc.stdout, proc.stdout
    assert "watermark found from 0:" in proc.stdout
    assert "recovered" in proc.stdout.lower()
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "narration.mp3").write_bytes(audio_copy.read_bytes())
    (folder / "clip.mp4").write_bytes(video_case[2].read_bytes())
    (folder / "other.wav").write_bytes(audio_case[0].read_bytes())  # unmarked
    out = tmp_path / "scan.jsonl"
    proc = run_cli(
        "scan", "--watermark-key", keyfile, "-q", "-o", out, "--csv", tmp_path / "s.csv", folder
    )
    assert proc.returncode == 0, proc.stderr
    rows = {Path(r["source"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["narration.mp3"]["watermark"]["detected"]
    assert rows["narration.mp3"]["watermark"]["payload"] == f"{audio_result.watermark_payload:016x}"
    assert rows["clip.mp4"]["watermark"]["scheme"] == VIDEO_ID
    assert rows["clip.mp4"]["watermark"]["detected"]
    assert not rows["other.wav"]["watermark"]["detected"]
    csv_text = (tmp_path / "s.csv").read_text()
    assert "watermark_time" in csv_text.splitlines()[0] and ",audio," in csv_text


@pytest.mark.parametrize("kind", ["video", "audio"])
def test_a_damaged_clip_gets_a_clear_error_or_verdict_and_nothing_is_written(
    kind, video_case, audio_case, creds, key, tmp_path
):
    source = (video_case if kind == "video" else audio_case)[1].path
    data = source.read_bytes()
    damaged = tmp_path / f"damaged{source.suffix}"
    damaged.write_bytes(data[: len(data) // 3])
    before = digest(damaged)
    lab = aimark.Labeler(creds, generator="m", watermark_key=key)
    with pytest.raises(aimark.InputError):
        lab.label_media(damaged, tmp_path / f"out{source.suffix}")
    assert not (tmp_path / f"out{source.suffix}").exists() and digest(damaged) == before
    report = aimark.Verifier(watermark_keys=[key]).verify(damaged)  # an outcome, never a raise
    assert not report.watermark.detected and not report.verdict.ai_generated
    assert "aimark-media-" not in json.dumps(report.to_dict())  # no private temporary named
    proc = run_cli("verify", "--watermark-key", _keyfile(key, tmp_path), damaged)
    assert "Traceback" not in proc.stderr + proc.stdout and proc.returncode in (0, 1, 2, 3, 4)


def _keyfile(key: aimark.WatermarkKey, folder: Path) -> Path:
    path = folder / "k.key"
    if not path.exists():
        key.save(path)
    return path
