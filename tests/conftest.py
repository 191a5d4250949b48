"""Shared test fixtures: development credentials, natural-looking test images, shared fixtures."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aimark
from aimark.media.image_io import heif_available

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"

ALL_FORMATS = ["jpeg", "png", "webp", "tiff", "avif", "heic", "gif"]

# the system Chromium (Debian's `chromium`, installed by .ci/run) and the flags every browser
# test runs it with: headless, no sandbox (CI runs as root), and no network of its own
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def format_param(fmt: str):
    marks = []
    if fmt == "heic":
        marks.append(pytest.mark.skipif(not heif_available(), reason="pillow-heif not installed"))
    return pytest.param(fmt, marks=marks, id=fmt)


FORMATS = [format_param(f) for f in ALL_FORMATS]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def natural_image(
    width: int = 320, height: int = 240, seed: int = 0, mode: str = "RGB"
) -> Image.Image:
    """A smooth gradient with texture: compresses like a photo, not like a flat fill."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [128 + 100 * np.sin(x / 37 + seed), 128 + 100 * np.cos(y / 23), (x + y) % 256], axis=-1
    )
    base += rng.normal(0, 8, base.shape)
    arr = np.clip(base, 0, 255).astype(np.uint8)
    im = Image.fromarray(arr, "RGB")
    return im.convert(mode) if mode != "RGB" else im


def pink_image(height: int = 384, width: int = 512, seed: int = 0) -> np.ndarray:
    """An RGB uint8 image with natural-image statistics (1/f^1.3 amplitude spectrum)."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    amp = np.maximum(np.hypot(fx, fy), 1.0 / max(height, width)) ** -1.3
    chans = []
    for _ in range(3):
        phase = np.exp(2j * np.pi * rng.random(amp.shape))
        chans.append(np.fft.irfft2(amp * phase, s=(height, width)))
    img = np.stack(chans, -1)
    img = (img - img.mean()) / img.std() * 35 + 120
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    if fmt == "gif":
        im = im.convert("P", palette=Image.Palette.ADAPTIVE)
    im.save(buf, aimark.ImageFormat.parse(fmt).pillow_name, **params)
    return buf.getvalue()


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> aimark.DevCredentials:
    return aimark.create_dev_credentials(tmp_path_factory.mktemp("creds"))


@pytest.fixture(scope="session")
def creds(dev: aimark.DevCredentials) -> aimark.Credentials:
    return dev.credentials()


@pytest.fixture(scope="session")
def labeler(creds: aimark.Credentials) -> aimark.Labeler:
    return aimark.Labeler(creds, generator=("test-model", "1.0"))


@pytest.fixture(scope="session")
def trusted(dev: aimark.DevCredentials) -> aimark.Verifier:
    return aimark.Verifier(trust=dev.root_cert)


@pytest.fixture(scope="session")
def untrusted() -> aimark.Verifier:
    return aimark.Verifier()


@pytest.fixture(scope="session")
def shared_c2pa() -> Path:
    folder = SHARED / "c2pa"
    if not folder.is_dir():
        pytest.skip(f"shared fixtures not present at {folder}")
    return folder


# ---------------------------------------------------------------- progress of long tests
# The suite prints a dot per test; a test that runs for minutes (a language model on a loaded
# machine, a browser, a transcode) would look like a hang. Every HEARTBEAT seconds a running
# test says so on the terminal (AIMARK_TEST_HEARTBEAT=0 turns it off).
HEARTBEAT = float(os.environ.get("AIMARK_TEST_HEARTBEAT", "30"))


@pytest.fixture(autouse=True)
def _heartbeat(request: pytest.FixtureRequest):
    if HEARTBEAT <= 0:
        yield
        return
    import sys
    import threading
    import time

    done = threading.Event()
    start = time.monotonic()
    name = request.node.nodeid

    capture = request.config.pluginmanager.getplugin("capturemanager")

    def beat() -> None:
        while not done.wait(HEARTBEAT):
            elapsed = time.monotonic() - start
            line = f"\n  … still running {name} ({elapsed:.0f} s)"
            if capture is None:
                print(line, file=sys.stderr, flush=True)
                continue
            with capture.global_and_fixture_disabled():  # to the terminal, not the capture
                print(line, file=sys.stderr, flush=True)

    thread = threading.Thread(target=beat, name="test-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
