"""Label the images of a Hugging Face diffusers pipeline as they come out of it.

Nothing here imports diffusers or torch: a pipeline is anything callable that returns an
object with ``.images`` (what ``pipe(...)`` returns), and images are PIL images or numpy
arrays (``output_type="pil"`` or ``"np"``).

:class:`LabelImages` labels a batch of images with an :class:`aimark.Labeler` (optionally
saving them to a folder); :func:`labelled_pipeline` wraps a pipeline so that every call
returns its images labelled.

Example:
    >>> import tempfile, aimark
    >>> from PIL import Image
    >>> from aimark.integrations.diffusers import LabelImages
    >>> dev = aimark.create_dev_credentials(tempfile.mkdtemp())
    >>> label = LabelImages(aimark.Labeler(dev.credentials(), generator="my-model 1.0"))
    >>> results = label([Image.new("RGB", (64, 64)), Image.new("RGB", (64, 64))])
    >>> [r.layers for r in results]
    [('xmp', 'exif', 'c2pa'), ('xmp', 'exif', 'c2pa')]
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np
from PIL import Image

from aimark._labeler import Labeler, LabelResult
from aimark.media.sniff import ImageFormat

__all__ = [
    "LabelImages",
    "LabelledOutput",
    "LabelledPipeline",
    "labelled_pipeline",
    "pil_images",
]

#: What the hooks accept: a pipeline output (anything with ``.images``), a PIL image, a list
#: of PIL images or HWC arrays, or an array of shape (H, W[, C]) or (B, H, W, C) (uint8, or
#: float in 0..1).
ImagesLike = Union[Any, Image.Image, Sequence[Any], np.ndarray]


def pil_images(images: ImagesLike) -> list[Image.Image]:
    """The images of a pipeline output (or of a list or an array) as a list of PIL images.

    Arrays may be uint8, or float in 0..1 (diffusers' ``output_type="np"``, ComfyUI's IMAGE
    once on the CPU); a 4-D array is a batch (B, H, W, C) with 1, 3 or 4 channels.

    Raises:
        TypeError: a tensor (convert it with ``.cpu().numpy()``, or ask the pipeline for
            ``output_type="pil"``), latents, or something that is not an image.
        ValueError: an array of the wrong shape, or with NaN / infinite values.

    Example:
        >>> import numpy as np
        >>> [im.size for im in pil_images(np.zeros((2, 48, 64, 3), np.float32))]
        [(64, 48), (64, 48)]
    """
    if not isinstance(images, (Image.Image, np.ndarray, list, tuple)) and hasattr(images, "images"):
        images = images.images
    if isinstance(images, Image.Image):
        return [images]
    if _is_tensor(images):
        raise TypeError(
            "got a tensor: pass output_type='pil' (or 'np') to the pipeline, or convert it "
            "with .cpu().numpy()"
        )
    if isinstance(images, np.ndarray):
        if images.ndim == 4 and images.shape[-1] in (1, 3, 4):
            return [_array_to_pil(a) for a in images]
        if images.ndim in (2, 3):
            return [_array_to_pil(images)]
        raise ValueError(
            "an image array is (H, W), (H, W, 1|3|4) or a batch (B, H, W, 1|3|4), not "
            f"{images.shape} (channels go last)"
        )
    if isinstance(images, (list, tuple)):
        out = []
        for im in images:
            if isinstance(im, Image.Image):
                out.append(im)
            elif isinstance(im, np.ndarray) and im.ndim in (2, 3):
                out.append(_array_to_pil(im))
            else:
                raise TypeError(f"not an image: {type(im).__name__}")
        return out
    raise TypeError(
        f"cannot label {type(images).__name__}: expected PIL images, arrays, or a pipeline "
        "output with .images"
    )


def _is_tensor(obj: Any) -> bool:
    return not isinstance(obj, np.ndarray) and callable(getattr(obj, "cpu", None))


def _array_to_pil(a: np.ndarray) -> Image.Image:
    """One (H, W[, C]) array, uint8 or float in 0..1, as a PIL image (L, RGB or RGBA)."""
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)):
        raise ValueError(
            f"an image array is (H, W) or (H, W, 1|3|4), not {a.shape} (channels go last)"
        )
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise ValueError("the image holds NaN or infinite values (a failed generation?)")
        a = (a.astype(np.float64) * 255).clip(0, 255).round().astype(np.uint8)
    elif a.dtype != np.uint8:
        raise TypeError(f"image arrays are uint8 or float in 0..1, not {a.dtype}")
    mode = "L" if a.ndim == 2 else ("RGB" if a.shape[-1] == 3 else "RGBA")
    return Image.fromarray(np.ascontiguousarray(a), mode)


class LabelImages:
    """A callable that labels a pipeline's images with ``labeler`` and returns one
    :class:`aimark.LabelResult` per image (``result.data``: the signed file's bytes;
    ``result.content_id``; ``result.layers``).

    Args:
        labeler: the :class:`aimark.Labeler` (credentials, generator, watermark key, ...).
        format: output format (default PNG: lossless, so the watermark is at full strength).
        out_dir: also save each image there (the folder is created), atomically, as
            ``{prefix}-0001.png``, ``{prefix}-0002.png``, ...: numbering continues after the
            highest number already in the folder, so earlier images are never replaced (by
            this process; two processes saving into one folder should use two prefixes).
        prefix: file name prefix for ``out_dir``.
        title: the manifest title (default: the file name when saving, else aimark's default).
        quality: encoder quality for lossy formats.
        visible: draw a visible badge on each image (True: "AI-generated"; a string: its
            text), recorded in the manifest. The GB 45438 implicit label comes from the
            labeler (``Labeler(tc260=...)``).

    Save the signed bytes (``result.data``, or ``result.path`` with ``out_dir``): re-saving
    a PIL image drops its Content Credentials (only the watermark, if any, survives).

    Example:
        >>> import tempfile, aimark
        >>> from PIL import Image
        >>> dev = aimark.create_dev_credentials(tempfile.mkdtemp())
        >>> labeler = aimark.Labeler(dev.credentials(), generator="my-model 1.0")
        >>> save = LabelImages(labeler, out_dir=tempfile.mkdtemp())
        >>> [r.path.name for r in save([Image.new("RGB", (64, 64))] * 2)]
        ['image-0001.png', 'image-0002.png']
    """

    def __init__(
        self,
        labeler: Labeler,
        *,
        format: ImageFormat | str = ImageFormat.PNG,
        out_dir: str | os.PathLike[str] | None = None,
        prefix: str = "image",
        title: str | None = None,
        quality: int | None = None,
        visible: bool | str = False,
    ) -> None:
        if not isinstance(labeler, Labeler):
            raise TypeError("labeler must be an aimark.Labeler")
        if os.sep in prefix or (os.altsep and os.altsep in prefix) or prefix in ("", ".", ".."):
            raise ValueError(f"prefix must be a plain file name part, not {prefix!r}")
        self.labeler = labeler
        self.format = ImageFormat.parse(format) if isinstance(format, str) else format
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.prefix = prefix
        self.title = title
        self.quality = quality
        self.visible = visible
        self._lock = threading.Lock()

    def __call__(self, images: ImagesLike) -> list[LabelResult]:
        """Label ``images`` (a pipeline output, a list of PIL images or arrays, an array)."""
        ims = pil_images(images)
        if self.out_dir is None:
            return [self._label(im, None) for im in ims]
        with self._lock:  # numbering is per folder: one batch at a time
            self.out_dir.mkdir(parents=True, exist_ok=True)
            n = self._last_number()
            results = []
            for im in ims:
                n += 1
                dst = self.out_dir / f"{self.prefix}-{n:04d}{self.format.extension}"
                results.append(self._label(im, dst))
            return results

    def _label(self, im: Image.Image, dst: Path | None) -> LabelResult:
        return self.labeler.label_image(
            im,
            dst,
            format=self.format,
            title=self.title or (dst.name if dst is not None else None),
            quality=self.quality,
            visible=self.visible,
        )

    def _last_number(self) -> int:
        assert self.out_dir is not None
        pattern = re.compile(rf"{re.escape(self.prefix)}-(\d+)\.[A-Za-z0-9]+")
        numbers = [
            int(m.group(1)) for p in self.out_dir.iterdir() if (m := pattern.fullmatch(p.name))
        ]
        return max(numbers, default=0)


@dataclass(frozen=True)
class LabelledOutput:
    """What a :class:`LabelledPipeline` call returns.

    ``images``: the labelled images as PIL images, opened from the signed bytes (their
    pixels carry the watermark, if any; save ``results[i].data``, not these, to keep the
    Content Credentials). ``results``: one :class:`aimark.LabelResult` per image.
    ``output``: what the pipeline itself returned.
    """

    images: list[Image.Image]
    results: list[LabelResult]
    output: Any


class LabelledPipeline:
    """A pipeline whose calls return labelled images (:func:`labelled_pipeline` makes one).

    Calling it calls the pipeline with the same arguments (``output_type`` must be
    ``"pil"``, diffusers' default, or ``"np"``) and labels ``output.images`` with a
    :class:`LabelImages`. Other attributes are the pipeline's (``labelled.scheduler``;
    ``labelled.pipe`` is the pipeline itself), so ``labelled.to("cuda")`` moves the pipeline
    and returns it, not the wrapper.
    """

    def __init__(self, pipe: Any, label: LabelImages) -> None:
        if not callable(pipe):
            raise TypeError("pipe must be callable (a diffusers pipeline)")
        self.pipe = pipe
        self.label = label

    def __call__(self, *args: Any, **kwargs: Any) -> LabelledOutput:
        if kwargs.get("output_type", "pil") not in ("pil", "np"):
            raise ValueError(
                f"output_type={kwargs['output_type']!r} gives no images to label: use 'pil'"
            )
        output = self.pipe(*args, **kwargs)
        images = output[0] if isinstance(output, tuple) else output  # return_dict=False
        results = self.label(images)
        reopened: list[Image.Image] = [Image.open(io.BytesIO(r.data)) for r in results]
        return LabelledOutput(images=reopened, results=results, output=output)

    def __getattr__(self, name: str) -> Any:
        if name in ("pipe", "label"):  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.pipe, name)


def labelled_pipeline(
    pipe: Any,
    labeler: Labeler,
    *,
    format: ImageFormat | str = ImageFormat.PNG,
    out_dir: str | os.PathLike[str] | None = None,
    prefix: str = "image",
    title: str | None = None,
    quality: int | None = None,
    visible: bool | str = False,
) -> LabelledPipeline:
    """Wrap a diffusers pipeline so that each call labels (and, with ``out_dir``, saves) the
    images it makes; the options are those of :class:`LabelImages`.

    Example:
        >>> import tempfile, aimark
        >>> from PIL import Image
        >>> dev = aimark.create_dev_credentials(tempfile.mkdtemp())
        >>> labeler = aimark.Labeler(dev.credentials(), generator="my-model 1.0")
        >>> class Output:                     # what a diffusers pipeline returns
        ...     def __init__(self, images): self.images = images
        >>> def pipe(prompt, num_images_per_prompt=1, output_type="pil"):
        ...     return Output([Image.new("RGB", (64, 64))] * num_images_per_prompt)
        >>> out = labelled_pipeline(pipe, labeler)("a cat", num_images_per_prompt=2)
        >>> [aimark.verify(r.data).verdict.ai_generated for r in out.results]
        [True, True]
        >>> out.images[0].size
        (64, 64)
    """
    label = LabelImages(
        labeler,
        format=format,
        out_dir=out_dir,
        prefix=prefix,
        title=title,
        quality=quality,
        visible=visible,
    )
    return LabelledPipeline(pipe, label)
