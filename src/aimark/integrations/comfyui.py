"""A ComfyUI output node, "Save Image (Content Credentials)": saves images signed with C2PA
Content Credentials, XMP/EXIF AI labels and (with a key) the invisible watermark.

Install it as a custom node: a folder ``ComfyUI/custom_nodes/aimark/`` whose ``__init__.py``
re-exports :data:`NODE_CLASS_MAPPINGS` and :data:`NODE_DISPLAY_NAME_MAPPINGS` (see
docs/integrations.md). Nothing here imports torch or ComfyUI.

Credentials come from the node's inputs or, when those are empty, the environment (keep
secrets out of workflows, which are shared and embedded in other images):

``AIMARK_CERT``, ``AIMARK_KEY``
    PEM certificate chain (signer first) and private key files (required).
``AIMARK_KEY_PASSWORD``
    the private key's password, if it is encrypted.
``AIMARK_WATERMARK_KEY``
    a watermark key, as :meth:`aimark.WatermarkKey.to_text` writes it or the path of a key
    file (optional: without it no watermark is embedded).
``AIMARK_OUTPUT_DIR``
    where to save outside ComfyUI (inside it, ComfyUI's output folder is used).

Example:
    >>> import os, tempfile, numpy as np
    >>> import aimark
    >>> from aimark.integrations.comfyui import NODE_CLASS_MAPPINGS
    >>> dev = aimark.create_dev_credentials(tempfile.mkdtemp())
    >>> node = NODE_CLASS_MAPPINGS["AimarkSaveImage"](output_dir=tempfile.mkdtemp())
    >>> images = np.random.default_rng(0).random((1, 64, 64, 3), dtype=np.float32)
    >>> out = getattr(node, node.FUNCTION)(images, "aimark", "my-model",
    ...                                    cert_chain=str(dev.cert_chain),
    ...                                    private_key=str(dev.private_key))
    >>> out["ui"]["images"]
    [{'filename': 'aimark_00001_.png', 'subfolder': '', 'type': 'output'}]
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any, ClassVar

from aimark._labeler import Labeler
from aimark.credentials import Credentials
from aimark.integrations.diffusers import pil_images
from aimark.keys import WatermarkKey
from aimark.media.sniff import ImageFormat
from aimark.metadata.digital_source_type import DigitalSourceType
from aimark.metadata.tc260 import TC260Label

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "SaveWithContentCredentials"]

_FORMATS = ["png", "jpeg", "webp"]
_TRAINING = {"unspecified": None, "not allowed": False, "allowed": True}
_SOURCE_TYPES = [
    DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA.value,
    DigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA.value,
]


def _output_directory() -> Path:
    """ComfyUI's output folder when running inside ComfyUI, else $AIMARK_OUTPUT_DIR or
    ./output."""
    try:
        import folder_paths  # ComfyUI's own module: present only inside ComfyUI
    except ImportError:
        return Path(os.environ.get("AIMARK_OUTPUT_DIR") or "output")
    return Path(folder_paths.get_output_directory())


def _setting(value: str | None, env: str, what: str, *, required: bool) -> str | None:
    value = (value or "").strip() or os.environ.get(env, "").strip()
    if not value and required:
        raise ValueError(
            f"no {what}: set the node's {what} input or the {env} environment variable "
            "(for development: aimark credentials dev ./dev-credentials)"
        )
    return value or None


def _watermark_key(value: str | None) -> WatermarkKey | None:
    text = _setting(value, "AIMARK_WATERMARK_KEY", "watermark_key", required=False)
    if text is None:
        return None
    if text.startswith("aimark-watermark-key-v1:"):
        return WatermarkKey.from_text(text)
    return WatermarkKey.load(os.path.expanduser(text))


class SaveWithContentCredentials:
    """ComfyUI output node: label a batch of IMAGEs as AI-generated and save them to the
    output folder as ``{filename_prefix}_00001_.png``, ... (ComfyUI's naming; a prefix may
    name a subfolder, ``portraits/aimark``).

    Args:
        output_dir: where to save (default: ComfyUI's output folder, else
            ``$AIMARK_OUTPUT_DIR``, else ``./output``). ComfyUI itself passes nothing.

    Missing credentials raise ``ValueError`` naming the input and the environment variable,
    before anything is written.

    Example:
        >>> SaveWithContentCredentials.INPUT_TYPES()["required"]["images"]
        ('IMAGE',)
    """

    RETURN_TYPES: ClassVar[tuple[str, ...]] = ()
    FUNCTION: ClassVar[str] = "save"
    OUTPUT_NODE: ClassVar[bool] = True
    CATEGORY: ClassVar[str] = "image/aimark"
    DESCRIPTION: ClassVar[str] = (
        "Saves images labelled as AI-generated: signed C2PA Content Credentials, IPTC/EXIF "
        "metadata and, with a watermark key, an invisible watermark."
    )

    def __init__(self, output_dir: str | os.PathLike[str] | None = None) -> None:
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.type = "output"
        self._lock = threading.Lock()
        self._cached: tuple[tuple[Any, ...], Labeler] | None = None

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, dict[str, Any]]:  # the name ComfyUI calls
        """The node's inputs, in ComfyUI's format."""
        path = {"default": "", "multiline": False}
        return {
            "required": {
                "images": ("IMAGE",),
                "filename_prefix": (
                    "STRING",
                    {"default": "aimark", "tooltip": "file name prefix; may hold a subfolder"},
                ),
                "model": (
                    "STRING",
                    {"default": "", "tooltip": "the model that generated the images"},
                ),
            },
            "optional": {
                "model_version": ("STRING", {"default": ""}),
                "format": (_FORMATS, {"default": "png"}),
                "quality": ("INT", {"default": 95, "min": 1, "max": 100, "step": 1}),
                "source_type": (_SOURCE_TYPES, {"default": _SOURCE_TYPES[0]}),
                "ai_training": (list(_TRAINING), {"default": "unspecified"}),
                "cert_chain": (
                    "STRING",
                    {**path, "tooltip": "PEM certificate chain file (default: $AIMARK_CERT)"},
                ),
                "private_key": (
                    "STRING",
                    {**path, "tooltip": "PEM private key file (default: $AIMARK_KEY)"},
                ),
                "watermark_key": (
                    "STRING",
                    {**path, "tooltip": "watermark key file (default: $AIMARK_WATERMARK_KEY)"},
                ),
                "visible_label": (
                    "STRING",
                    {"default": "", "tooltip": "draw this visible badge (e.g. AI-generated)"},
                ),
                "tc260_producer": (
                    "STRING",
                    {"default": "", "tooltip": "GB 45438 ContentProducer: writes the AIGC label"},
                ),
            },
        }

    def save(
        self,
        images: Any,
        filename_prefix: str = "aimark",
        model: str = "",
        model_version: str = "",
        format: str = "png",
        quality: int = 95,
        source_type: str = _SOURCE_TYPES[0],
        ai_training: str = "unspecified",
        cert_chain: str = "",
        private_key: str = "",
        watermark_key: str = "",
        visible_label: str = "",
        tc260_producer: str = "",
    ) -> dict[str, Any]:
        """Label and save ``images`` (a [B, H, W, C] tensor or array, float in 0..1); return
        ComfyUI's UI record of the saved files."""
        if not model.strip():
            raise ValueError("no model: set the node's model input (the generator's name)")
        if format not in _FORMATS:
            raise ValueError(f"format must be one of {', '.join(_FORMATS)}, not {format!r}")
        if ai_training not in _TRAINING:
            raise ValueError(f"ai_training must be one of {', '.join(_TRAINING)}")
        labeler = self._labeler(
            model.strip(),
            model_version.strip() or None,
            source_type,
            _TRAINING[ai_training],
            cert_chain,
            private_key,
            watermark_key,
        )
        producer = tc260_producer.strip()
        tc260 = TC260Label(producer=producer) if producer else None
        batch = pil_images(_to_numpy(images))
        fmt = ImageFormat.parse(format)
        root = (self.output_dir or _output_directory()).resolve()
        folder, subfolder, stem = _target(root, filename_prefix)
        saved = []
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            n = _last_counter(folder, stem)
            for im in batch:
                n += 1
                name = f"{stem}_{n:05d}_{fmt.extension}"
                labeler.label_image(
                    im,
                    folder / name,
                    format=fmt,
                    title=name,
                    quality=quality if fmt is not ImageFormat.PNG else None,
                    tc260=tc260,
                    visible=visible_label.strip() or False,
                )
                saved.append({"filename": name, "subfolder": subfolder, "type": self.type})
        return {"ui": {"images": saved}}

    def _labeler(
        self,
        model: str,
        version: str | None,
        source_type: str,
        allow_training: bool | None,
        cert_chain: str,
        private_key: str,
        watermark_key: str,
    ) -> Labeler:
        """The Labeler for these settings (kept while they and the key files stay the same)."""
        cert = _setting(cert_chain, "AIMARK_CERT", "cert_chain", required=True)
        key = _setting(private_key, "AIMARK_KEY", "private_key", required=True)
        assert cert is not None and key is not None
        wm = _setting(watermark_key, "AIMARK_WATERMARK_KEY", "watermark_key", required=False)
        password = os.environ.get("AIMARK_KEY_PASSWORD")
        config = (
            model,
            version,
            source_type,
            allow_training,
            cert,
            key,
            wm,
            password,
            *(_stamp(p) for p in (cert, key, wm)),
        )
        if self._cached is not None and self._cached[0] == config:
            return self._cached[1]
        creds = Credentials.from_files(
            os.path.expanduser(cert),
            os.path.expanduser(key),
            password=password.encode() if password else None,
        )
        labeler = Labeler(
            creds,
            generator=(model, version),
            source_type=source_type,
            allow_training=allow_training,
            watermark_key=_watermark_key(wm),
        )
        self._cached = (config, labeler)
        return labeler


def _stamp(path: str | None) -> tuple[int, int] | None:
    """Size and mtime of a key file, so that a replaced file is read again."""
    if path is None or path.startswith("aimark-watermark-key-v1:"):
        return None
    try:
        st = os.stat(os.path.expanduser(path))
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _to_numpy(images: Any) -> Any:
    """A torch tensor (ComfyUI's IMAGE) as a numpy array, without importing torch."""
    if callable(getattr(images, "cpu", None)):
        if callable(getattr(images, "detach", None)):
            images = images.detach()
        images = images.cpu()
        if str(getattr(images, "dtype", "")) in ("torch.bfloat16", "torch.float16"):
            images = images.float()
        return images.numpy()
    return images


def _target(root: Path, prefix: str) -> tuple[Path, str, str]:
    """The folder, ComfyUI ``subfolder`` and file stem for ``prefix`` (kept inside root)."""
    prefix = prefix.strip().replace("\\", "/") or "aimark"
    sub, _, stem = prefix.rpartition("/")
    folder = (root / sub).resolve() if sub else root
    if folder != root and root not in folder.parents:
        raise ValueError(f"filename_prefix {prefix!r} points outside the output folder")
    if not stem or stem in (".", ".."):
        raise ValueError(f"filename_prefix {prefix!r} has no file name part")
    return folder, folder.relative_to(root).as_posix() if sub else "", stem


def _last_counter(folder: Path, stem: str) -> int:
    pattern = re.compile(rf"{re.escape(stem)}_(\d+)_\.[A-Za-z0-9]+")
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := pattern.fullmatch(p.name))]
    return max(numbers, default=0)


#: What ComfyUI reads from a custom node package: node id → class, node id → display name.
NODE_CLASS_MAPPINGS: dict[str, type] = {"AimarkSaveImage": SaveWithContentCredentials}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {"AimarkSaveImage": "Save Image (Content Credentials)"}
