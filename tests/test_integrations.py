"""Generation-pipeline integrations, run for real: tiny randomly initialised diffusers pipelines
(no weights downloaded) labelled through aimark.integrations.diffusers, and the ComfyUI output
node called the way ComfyUI calls it. Every output is verified with aimark's own Verifier."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import types

import numpy as np
import pytest
from PIL import Image

import aimark
from aimark import C2paState, LabelWarning, Status
from aimark.integrations.comfyui import (
    NODE_CLASS_MAPPINGS,
    NODE_DISPLAY_NAME_MAPPINGS,
    SaveWithContentCredentials,
)
from aimark.integrations.diffusers import (
    LabelImages,
    LabelledOutput,
    labelled_pipeline,
    pil_images,
)

GENERATOR = ("tiny-diffusion", "0.1")


def _torch():
    return pytest.importorskip("torch", reason="torch is not installed (pip install torch)")


def _diffusers():
    _torch()
    return pytest.importorskip(
        "diffusers", reason="diffusers is not installed (pip install 'aimark[test]')"
    )


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def wm_key() -> aimark.WatermarkKey:
    # a fixed key keeps the runs alike (every image here holds the mark with >1 dB to spare
    # for any key: 40 images × 20 random keys were tried)
    return aimark.WatermarkKey(hashlib.sha256(b"aimark test_integrations").digest())


@pytest.fixture(scope="module")
def wm_labeler(creds, wm_key) -> aimark.Labeler:
    return aimark.Labeler(creds, generator=GENERATOR, watermark_key=wm_key)


@pytest.fixture(scope="module")
def verifier(dev, wm_key) -> aimark.Verifier:
    return aimark.Verifier(trust=dev.root_cert, watermark_keys=[wm_key])


def _assert_labelled(report: aimark.Report, content_id: str, *, watermark: bool) -> None:
    assert report.verdict.status is Status.LABELLED_TRUSTED, report.verdict
    assert report.verdict.ai_generated
    assert report.c2pa.state is C2paState.TRUSTED
    assert report.c2pa.content_id == content_id
    assert "tiny-diffusion 0.1" in report.c2pa.software_agents
    assert report.c2pa.digital_source_types[0].endswith("/trainedAlgorithmicMedia")
    assert report.metadata.ai_system == "tiny-diffusion"
    assert report.watermark.detected is watermark
    if watermark:
        assert report.watermark.content_id == content_id


# ----------------------------------------------------------------------------- diffusers


@pytest.fixture(scope="module")
def ldm_pipe():
    """A latent-diffusion pipeline (UNet on 64×64 latents, a VQ decoder up to 256×256: the
    shape of Stable Diffusion) with random weights. Its decoded images have the texture of
    an image, so the invisible watermark holds; a pixel-space DDPM's random output is white
    noise that no watermark survives (see test_tiny_ddpm_pipeline)."""
    diffusers = _diffusers()
    torch = _torch()
    torch.manual_seed(0)
    vq = diffusers.VQModel(
        in_channels=3,
        out_channels=3,
        latent_channels=3,
        block_out_channels=(8, 8, 8),
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        layers_per_block=1,
        norm_num_groups=8,
    )
    unet = diffusers.UNet2DModel(
        sample_size=64,
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        block_out_channels=(8, 16),
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=8,
    )
    scheduler = diffusers.DDIMScheduler(num_train_timesteps=10)
    pipe = diffusers.LDMPipeline(vqvae=vq, unet=unet, scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _run(pipe, **kwargs):
    torch = _torch()
    return pipe(batch_size=2, num_inference_steps=2, generator=torch.manual_seed(0), **kwargs)


@pytest.fixture(scope="module")
def ldm_output(ldm_pipe):
    out = _run(ldm_pipe, output_type="pil")
    assert len(out.images) == 2 and out.images[0].size == (256, 256)
    return out


def test_pipeline_output_is_labelled(ldm_output, wm_labeler, verifier):
    results = LabelImages(wm_labeler)(ldm_output)  # the pipeline output object itself
    assert len(results) == 2
    assert len({r.content_id for r in results}) == 2
    for raw, result in zip(ldm_output.images, results, strict=True):
        assert isinstance(result, aimark.LabelResult) and result.path is None
        assert result.format is aimark.ImageFormat.PNG
        assert result.layers == ("watermark", "xmp", "exif", "c2pa")
        assert result.watermark_check is not None and result.watermark_check.survived
        _assert_labelled(verifier.verify_bytes(result.data), result.content_id, watermark=True)
        # the pixels are the pipeline's, with the watermark in them
        signed = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"))
        assert 35 < _psnr(signed, np.asarray(raw)) < 60
        # the pipeline's own image, saved as it is, carries no label of any kind
        report = verifier.verify_bytes(_png(raw))
        assert report.verdict.status is Status.NOT_LABELLED
        assert not report.verdict.ai_generated
        assert report.c2pa.state is C2paState.ABSENT
        assert report.watermark.checked and not report.watermark.detected

    # a plain list of PIL images, and diffusers' output_type="np" (float in 0..1), work too
    assert LabelImages(wm_labeler)(list(ldm_output.images))[0].layers[0] == "watermark"
    arrays = np.stack([np.asarray(im, np.float32) / 255 for im in ldm_output.images])
    from_np = LabelImages(wm_labeler)(arrays)
    _assert_labelled(verifier.verify_bytes(from_np[1].data), from_np[1].content_id, watermark=True)


def test_labelled_pipeline_saves_numbered_files(ldm_pipe, wm_labeler, verifier, tmp_path):
    out_dir = tmp_path / "generated"
    pipe = labelled_pipeline(ldm_pipe, wm_labeler, out_dir=out_dir)
    assert pipe.scheduler is ldm_pipe.scheduler  # the rest is the pipeline's
    out = _run(pipe)
    assert isinstance(out, LabelledOutput) and type(out.output).__name__ == "ImagePipelineOutput"
    assert sorted(p.name for p in out_dir.iterdir()) == ["image-0001.png", "image-0002.png"]
    for i, result in enumerate(out.results, 1):
        path = out_dir / f"image-{i:04d}.png"
        assert result.path == path and path.read_bytes() == result.data
        report = verifier.verify(path)
        _assert_labelled(report, result.content_id, watermark=True)
        assert report.c2pa.title == path.name
        # out.images are the signed pixels, for display; saved anew they lose the manifest
        # and keep only the watermark
        shown = out.images[i - 1]
        assert np.array_equal(np.asarray(shown), np.asarray(Image.open(path)))
        resaved = verifier.verify_bytes(_png(shown))
        assert resaved.c2pa.state is C2paState.ABSENT
        assert resaved.verdict.status is Status.LABELLED_WATERMARK
        assert resaved.watermark.content_id == result.content_id

    first = (out_dir / "image-0001.png").read_bytes()
    again = _run(pipe, output_type="np")  # numbering goes on; nothing is replaced
    assert [r.path.name for r in again.results] == ["image-0003.png", "image-0004.png"]
    assert (out_dir / "image-0001.png").read_bytes() == first
    assert len(list(out_dir.iterdir())) == 4  # and no temporary files are left behind

    with pytest.raises(ValueError, match="output_type='latent' gives no images"):
        pipe(batch_size=1, output_type="latent")


def test_tiny_ddpm_pipeline(creds, wm_key, verifier, tmp_path):
    """A 32×32 pixel-space DDPM: too small for the watermark, which the Labeler says (and
    records: no watermark layer); the C2PA and metadata labels are there all the same."""
    diffusers = _diffusers()
    _torch().manual_seed(0)
    unet = diffusers.UNet2DModel(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        block_out_channels=(8, 16),
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=8,
    )
    ddpm = diffusers.DDPMPipeline(
        unet=unet, scheduler=diffusers.DDPMScheduler(num_train_timesteps=10)
    )
    ddpm.set_progress_bar_config(disable=True)
    labeler = aimark.Labeler(creds, generator=GENERATOR, watermark_key=wm_key)
    pipe = labelled_pipeline(ddpm, labeler, format="jpeg", out_dir=tmp_path, prefix="ddpm")
    with pytest.warns(LabelWarning, match="watermark not embedded: the image is under 128 px"):
        out = _run(pipe, return_dict=False)  # a tuple, (images,)
    assert isinstance(out.output, tuple)
    assert [r.path.name for r in out.results] == ["ddpm-0001.jpg", "ddpm-0002.jpg"]
    for result in out.results:
        assert result.layers == ("xmp", "exif", "c2pa")
        assert result.format is aimark.ImageFormat.JPEG
        _assert_labelled(verifier.verify(result.path), result.content_id, watermark=False)
    raw = out.output[0][0]
    assert verifier.verify_bytes(_png(raw)).verdict.status is Status.NOT_LABELLED


def test_pil_images_refuses_what_is_not_an_image():
    torch = _torch()
    with pytest.raises(TypeError, match="got a tensor"):
        pil_images(torch.zeros(1, 3, 8, 8))  # output_type="pt"
    with pytest.raises(ValueError, match="NaN"):
        pil_images(np.full((1, 8, 8, 3), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"not \(1, 3, 8, 8\)"):
        pil_images(np.zeros((1, 3, 8, 8), np.float32))  # channels first
    with pytest.raises(TypeError, match="not an image: str"):
        pil_images(["image.png"])
    gray = pil_images(np.ones((2, 8, 6, 1), np.float32))
    assert [(im.mode, im.size, im.getpixel((0, 0))) for im in gray] == [("L", (6, 8), 255)] * 2


def test_integrations_import_without_torch_diffusers_or_comfyui():
    code = (
        "import sys; import aimark.integrations.diffusers, aimark.integrations.comfyui;"
        "print(sorted(m for m in ('torch', 'diffusers', 'folder_paths') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- ComfyUI

CRED_ENV = ("AIMARK_CERT", "AIMARK_KEY", "AIMARK_KEY_PASSWORD", "AIMARK_WATERMARK_KEY")


@pytest.fixture
def comfy_env(monkeypatch, tmp_path):
    """No aimark settings in the environment, and no ComfyUI."""
    for name in (*CRED_ENV, "AIMARK_OUTPUT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "folder_paths", None)  # import folder_paths fails
    return monkeypatch


def _widget_defaults(cls) -> dict:
    """What ComfyUI fills in for the node's widgets left as they are."""
    spec = cls.INPUT_TYPES()
    out = {}
    for section in ("required", "optional"):
        for name, (kind, *opts) in spec[section].items():
            if kind == "IMAGE":
                continue
            options = opts[0] if opts else {}
            out[name] = options.get("default", kind[0] if isinstance(kind, list) else None)
    return out


def test_comfyui_node_declaration():
    assert set(NODE_CLASS_MAPPINGS) == set(NODE_DISPLAY_NAME_MAPPINGS) == {"AimarkSaveImage"}
    cls = NODE_CLASS_MAPPINGS["AimarkSaveImage"]
    assert cls is SaveWithContentCredentials
    assert NODE_DISPLAY_NAME_MAPPINGS["AimarkSaveImage"] == "Save Image (Content Credentials)"
    assert (cls.RETURN_TYPES, cls.FUNCTION, cls.OUTPUT_NODE, cls.CATEGORY) == (
        (),
        "save",
        True,
        "image/aimark",
    )
    spec = cls.INPUT_TYPES()
    assert set(spec) == {"required", "optional"}
    assert spec["required"]["images"] == ("IMAGE",)
    assert spec["required"]["filename_prefix"] == (
        "STRING",
        {"default": "aimark", "tooltip": "file name prefix; may hold a subfolder"},
    )
    assert spec["required"]["model"][0] == "STRING"
    assert {"cert_chain", "private_key", "watermark_key", "format"} <= set(spec["optional"])
    assert spec["optional"]["format"][0] == ["png", "jpeg", "webp"]
    for section in spec.values():
        for name, (kind, *opts) in section.items():
            assert isinstance(kind, str) or kind, name  # a type name or a list of choices
            if isinstance(kind, list):
                assert opts[0]["default"] in kind, name
    # every input is a parameter of the function ComfyUI calls
    params = cls.save.__code__.co_varnames[: cls.save.__code__.co_argcount]
    assert set(params[1:]) == set(spec["required"]) | set(spec["optional"])


def test_comfyui_saves_a_torch_batch(comfy_env, dev, wm_key, verifier, tmp_path):
    torch = _torch()
    out_dir = tmp_path / "output"
    comfy_env.setenv("AIMARK_CERT", str(dev.cert_chain))
    comfy_env.setenv("AIMARK_KEY", str(dev.private_key))
    comfy_env.setenv("AIMARK_WATERMARK_KEY", wm_key.to_text())
    comfy_env.setenv("AIMARK_OUTPUT_DIR", str(out_dir))
    node = NODE_CLASS_MAPPINGS["AimarkSaveImage"]()  # as ComfyUI makes it: no arguments
    # ComfyUI's IMAGE: [B, H, W, C] float32 in 0..1; here a smooth picture with fine texture
    gen = torch.Generator().manual_seed(0)
    y = torch.linspace(0, 1, 192)[:, None, None]
    x = torch.linspace(0, 1, 256)[None, :, None]
    rgb = torch.tensor([1.0, 0.6, 0.3])
    base = 0.5 + 0.3 * torch.sin(6 * x + 4 * y + 2 * rgb)
    images = (base + 0.04 * torch.randn(2, 192, 256, 3, generator=gen)).clamp(0, 1)
    inputs = {
        **_widget_defaults(type(node)),
        "images": images,
        "model": "tiny-diffusion",
        "model_version": "0.1",
    }
    ui = getattr(node, node.FUNCTION)(**inputs)
    names = ["aimark_00001_.png", "aimark_00002_.png"]
    assert ui == {
        "ui": {"images": [{"filename": n, "subfolder": "", "type": "output"} for n in names]}
    }
    assert sorted(p.name for p in out_dir.iterdir()) == names
    expected = (images.numpy() * 255).clip(0, 255).round().astype(np.uint8)
    for i, name in enumerate(names):
        report = verifier.verify(out_dir / name)
        _assert_labelled(report, report.watermark.content_id, watermark=True)
        assert report.c2pa.content_id.startswith("urn:aimark:")
        assert report.c2pa.title == name
        assert (report.media.width, report.media.height) == (256, 192)
        saved = np.asarray(Image.open(out_dir / name))
        assert 35 < _psnr(saved, expected[i]) < 60  # the batch's pixels, watermarked
        # against a verifier without the dev root the signature is valid, not trusted
        assert aimark.verify(out_dir / name).verdict.status is Status.LABELLED_UNTRUSTED

    ui = node.save(images=images[:1], filename_prefix="aimark", model="tiny-diffusion")
    assert ui["ui"]["images"][0]["filename"] == "aimark_00003_.png"  # counting goes on


def test_comfyui_numpy_batch_inputs_and_comfyui_folder(comfy_env, dev, tmp_path):
    comfy_root = tmp_path / "ComfyUI-output"
    folder_paths = types.ModuleType("folder_paths")  # ComfyUI's module, as much as is used
    folder_paths.get_output_directory = lambda: str(comfy_root)
    comfy_env.setitem(sys.modules, "folder_paths", folder_paths)
    comfy_env.setenv("AIMARK_OUTPUT_DIR", str(tmp_path / "not-used"))
    node = SaveWithContentCredentials()
    images = np.random.default_rng(1).random((2, 96, 128, 3), dtype=np.float32)
    ui = node.save(
        images,
        filename_prefix="batch/portrait",
        model="tiny-diffusion",
        model_version="0.1",
        format="jpeg",
        quality=90,
        ai_training="not allowed",
        cert_chain=str(dev.cert_chain),
        private_key=str(dev.private_key),
        visible_label="AI-generated",
        tc260_producer="Example AI",
    )
    assert ui["ui"]["images"] == [
        {"filename": f"portrait_0000{i}_.jpg", "subfolder": "batch", "type": "output"}
        for i in (1, 2)
    ]
    assert not (tmp_path / "not-used").exists()
    trusted = aimark.Verifier(trust=dev.root_cert)
    for entry in ui["ui"]["images"]:
        path = comfy_root / entry["subfolder"] / entry["filename"]
        report = trusted.verify(path)
        _assert_labelled(report, report.c2pa.content_id, watermark=False)
        assert report.media.format == "jpeg" and (report.media.width, report.media.height) == (
            128,
            96,
        )
        assert report.c2pa.training_mining["cawg.ai_training"] == "notAllowed"
        assert report.metadata.tc260_aigc["ContentProducer"] == "Example AI"
        assert report.compliance.get("gb-45438-explicit").status == "met"  # the badge
    # the array, saved without the node, is not labelled
    plain = Image.fromarray((images[0] * 255).round().astype(np.uint8))
    assert trusted.verify_bytes(_png(plain)).verdict.status is Status.NOT_LABELLED


@pytest.mark.parametrize(
    ("given", "missing"),
    [((), "AIMARK_CERT"), (("AIMARK_CERT",), "AIMARK_KEY")],
    ids=["no-cert", "no-key"],
)
def test_comfyui_missing_credentials_write_nothing(comfy_env, dev, tmp_path, given, missing):
    paths = {"AIMARK_CERT": dev.cert_chain, "AIMARK_KEY": dev.private_key}
    for name in given:
        comfy_env.setenv(name, str(paths[name]))
    out_dir = tmp_path / "output"
    node = SaveWithContentCredentials(output_dir=out_dir)
    images = np.zeros((1, 64, 64, 3), np.float32)
    with pytest.raises(ValueError, match=f"input or the {missing} environment variable"):
        node.save(images, "aimark", "tiny-diffusion")
    assert not out_dir.exists()


def test_comfyui_refuses_bad_inputs_before_writing(comfy_env, dev, tmp_path):
    comfy_env.setenv("AIMARK_CERT", str(dev.cert_chain))
    comfy_env.setenv("AIMARK_KEY", str(dev.private_key))
    out_dir = tmp_path / "output"
    node = SaveWithContentCredentials(output_dir=out_dir)
    images = np.zeros((1, 64, 64, 3), np.float32)
    with pytest.raises(ValueError, match="no model"):
        node.save(images, "aimark", "  ")
    with pytest.raises(ValueError, match="outside the output folder"):
        node.save(images, "../escape/aimark", "tiny-diffusion")
    with pytest.raises(aimark.CredentialsError, match="cannot read credentials"):
        node.save(images, "aimark", "tiny-diffusion", private_key=str(tmp_path / "nope.pem"))
    assert not out_dir.exists() and not (tmp_path / "escape").exists()
