"""Hugging Face ``transformers`` adapter: watermark every ``generate`` call.

Needs the ``hf`` extra (``pip install 'aimark[hf]'``) and torch. Only the public
``LogitsProcessor`` interface is used.

Example (not run here: it needs a model)::

    from transformers import LogitsProcessorList
    from aimark import WatermarkKey
    from aimark.watermark.text import TextWatermark
    from aimark.watermark.text.hf import WatermarkLogitsProcessor

    wm = TextWatermark(WatermarkKey.load("text.key"), vocab_size=model.config.vocab_size)
    out = model.generate(**inputs, do_sample=True,
                         logits_processor=LogitsProcessorList([WatermarkLogitsProcessor(wm)]))

Transformers runs user processors *before* its own temperature / top-k / top-p warpers. In
bias mode that is fine (the bias is then scaled by 1/temperature, as in KGW). In gumbel mode
the processor makes the keyed choice itself and hands ``generate`` a one-hot distribution, so
give the sampling settings to the processor (``temperature``, ``top_k``, ``top_p``); it works
with ``do_sample=True`` and ``False`` alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aimark.errors import MissingExtraError
from aimark.watermark.text.scheme import TextWatermark, WatermarkMode

try:
    import torch
    from transformers import LogitsProcessor
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError(
        f"the Hugging Face adapter needs torch and transformers ({exc.name} is missing): "
        "pip install 'aimark[hf]' torch"
    ) from None

__all__ = ["WatermarkLogitsProcessor", "filter_logits"]


def filter_logits(
    logits: np.ndarray, *, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> np.ndarray:
    """Temperature, top-k and top-p (nucleus) filtering on (batch, vocab) logits (a copy;
    removed tokens get ``-inf``)."""
    z = np.array(logits, dtype=np.float32, copy=True)
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    if temperature != 1.0:
        z /= np.float32(temperature)
    if top_k and 0 < top_k < z.shape[1]:
        kth = np.partition(z, -top_k, axis=1)[:, -top_k][:, None]
        z[z < kth] = -np.inf
    if top_p < 1.0:
        order = np.argsort(-z, axis=1)
        sorted_z = np.take_along_axis(z, order, axis=1)
        p = np.exp(sorted_z - sorted_z[:, :1])
        p /= p.sum(axis=1, keepdims=True)
        cut = np.cumsum(p, axis=1) - p > top_p  # keep the smallest prefix reaching top_p
        sorted_z[cut] = -np.inf
        np.put_along_axis(z, order, sorted_z, axis=1)
    return z


class WatermarkLogitsProcessor(LogitsProcessor):
    """A ``transformers.LogitsProcessor`` that weaves ``watermark`` into generation.

    Args:
        watermark: the :class:`~aimark.watermark.text.TextWatermark`; its ``vocab_size`` must
            be the model's logit width.
        temperature, top_k, top_p: sampling settings applied by the processor in gumbel mode
            (see the module docstring); ignored in bias mode.
    """

    def __init__(
        self,
        watermark: TextWatermark,
        *,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
    ) -> None:
        if not isinstance(watermark, TextWatermark):
            raise TypeError("watermark must be an aimark.watermark.text.TextWatermark")
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        self.watermark = watermark
        self.temperature = float(temperature)
        self.top_k = int(top_k)
        self.top_p = float(top_p)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        prev = input_ids.detach().to("cpu").numpy()
        logits = scores.detach().to("cpu", torch.float32).numpy()
        wm = self.watermark
        if wm.mode is WatermarkMode.BIAS:
            out = torch.from_numpy(wm.bias_logits(prev, logits))
            return out.to(device=scores.device, dtype=scores.dtype)
        z = filter_logits(logits, temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
        # the unkeyed draws (after a repeated context) come from torch's generator, so that
        # torch.manual_seed / transformers.set_seed make a generation reproducible
        seed = int(torch.randint(0, 2**62, (1,)).item())
        chosen = wm.sample(prev, z, rng=np.random.default_rng(seed))
        one_hot = torch.full_like(scores, float("-inf"))
        one_hot[torch.arange(scores.shape[0], device=scores.device), torch.from_numpy(chosen)] = 0.0
        return one_hot
