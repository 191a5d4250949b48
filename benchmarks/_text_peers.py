"""Peers of the aimark text watermark, behind one small interface, for the benchmark.

Each adapter generates with the same model, prompts and sampling loop as aimark (see
``_text_model.generate``) and detects from token ids:

- ``markllm KGW``: markllm's ``KGW`` (its default config: γ 0.5, δ 2.0, 1-token context
  "time"/"left" scheme, z-test with no repeated-token handling), given the local tokenizer and a
  per-key config file instead of a hub model. Its native decision is ``z > z_threshold``; the
  z-score is turned into the one-sided normal p-value it implies.
- ``markllm Unigram``: markllm's context-free green list (γ 0.5, δ 2.0), same z-test.
- ``transformers KGW``: transformers' ``WatermarkLogitsProcessor`` + ``WatermarkDetector``
  (defaults: γ 0.25, δ 2.0, ``lefthash``, context 1, ``ignore_repeated_ngrams=False``); the
  detector's own p-value (normal approximation of the z-score).
- ``synthid-text``: Google's ``synthid_text.logits_processing.SynthIDLogitsProcessor`` with its
  default config (5-gram, 30 tournament layers, 2¹⁶ sampling table, repeated-context masking)
  with top-k 40 as in its examples (over the full vocabulary its processor takes seconds per
  step on this CPU: g-values for every token × 30 layers).
  Detection: g-values and the repeated-context mask from the package, its ``mean_score``
  (``synthid_text.detector_mean``, jax); the p-value is the exact binomial tail of the summed
  g-values (Bernoulli(½) under no watermark), as the package ships no p-value (its Bayesian
  detector needs training on watermarked text of the target model).

``p_values(ids)`` returns (p-values, native scores); a peer detects at nominal FPR α when its
p-value is ≤ α. Keys: ``with_key(seed)`` gives the same peer with another secret.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy import stats

Processor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Peer:
    name = ""
    family = ""  # "bias" (KGW-like: compare to aimark bias) or "distortion-free"
    params = ""

    def processors(self) -> list[Processor]:
        return []

    def sampler(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
        return None

    def on_batch(self) -> None:
        """Called before each generation batch (stateful processors reset here)."""

    def p_values(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def with_key(self, seed: int) -> Peer:
        raise NotImplementedError

    def step_fn(self, vocab: int) -> Callable[[torch.Tensor, torch.Tensor], object]:
        """One generation step's watermark work at vocabulary ``vocab`` (for the overhead)."""
        raise NotImplementedError


def _norm_sf(z: np.ndarray) -> np.ndarray:
    return stats.norm.sf(np.asarray(z, dtype=np.float64))


# ----------------------------------------------------------------------------- markllm


class MarkLLM(Peer):
    def __init__(self, tokenizer: object, algorithm: str = "KGW", seed: int = 15485863) -> None:
        from markllm.utils.transformers_config import TransformersConfig

        self.tokenizer, self.algorithm, self.seed = tokenizer, algorithm, seed
        self.name = f"markllm {algorithm}"
        self.family = "bias"
        self._tc = TransformersConfig
        self.wm = self._build(len(tokenizer), seed)
        cfg = self.wm.config
        self.params = f"γ {cfg.gamma}, δ {cfg.delta}" + (
            f", context {cfg.prefix_length}" if algorithm == "KGW" else ", no context"
        )

    def _build(self, vocab: int, seed: int) -> object:
        import markllm

        base = os.path.join(os.path.dirname(markllm.__file__), "config", f"{self.algorithm}.json")
        with open(base) as f:
            cfg = json.load(f)
        cfg["hash_key"] = int(seed)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(cfg, f)
            path = f.name
        try:
            tc = self._tc(model=None, tokenizer=self.tokenizer, vocab_size=vocab, device="cpu")
            if self.algorithm == "KGW":
                from markllm.watermark.kgw import KGW

                return KGW(path, tc)
            from markllm.watermark.unigram import Unigram

            return Unigram(path, tc)
        finally:
            os.unlink(path)

    def processors(self) -> list[Processor]:
        return [self.wm.logits_processor]

    def p_values(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = np.array(
            [self.wm.utils.score_sequence(torch.as_tensor(row))[0] for row in np.asarray(ids)]
        )
        return _norm_sf(z), z

    def with_key(self, seed: int) -> MarkLLM:
        return MarkLLM(self.tokenizer, self.algorithm, seed)

    def step_fn(self, vocab: int) -> Callable[[torch.Tensor, torch.Tensor], object]:
        return self._build(vocab, self.seed).logits_processor


# ----------------------------------------------------------------------------- transformers


class TransformersKGW(Peer):
    name = "transformers KGW"
    family = "bias"

    def __init__(self, model_config: object, seed: int = 15485863) -> None:
        from transformers.generation import WatermarkDetector, WatermarkingConfig

        self.model_config, self.seed = model_config, seed
        self.wcfg = WatermarkingConfig(hashing_key=int(seed))
        self.detector = WatermarkDetector(
            model_config=model_config, device="cpu", watermarking_config=self.wcfg
        )
        c = self.wcfg
        self.params = (
            f"γ {c.greenlist_ratio}, δ {c.bias}, {c.seeding_scheme}, context {c.context_width}"
        )

    def processors(self) -> list[Processor]:
        return [self._processor(self.model_config.vocab_size)]

    def _processor(self, vocab: int) -> Processor:
        from transformers.generation import WatermarkLogitsProcessor

        c = self.wcfg
        return WatermarkLogitsProcessor(
            vocab_size=vocab,
            device="cpu",
            greenlist_ratio=c.greenlist_ratio,
            bias=c.bias,
            hashing_key=c.hashing_key,
            seeding_scheme=c.seeding_scheme,
            context_width=c.context_width,
        )

    def p_values(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.detector(torch.as_tensor(np.asarray(ids)), return_dict=True)
        return np.asarray(out.p_value, dtype=np.float64), np.asarray(out.z_score)

    def with_key(self, seed: int) -> TransformersKGW:
        return TransformersKGW(self.model_config, seed)

    def step_fn(self, vocab: int) -> Callable[[torch.Tensor, torch.Tensor], object]:
        return self._processor(vocab)


# ----------------------------------------------------------------------------- synthid-text


def _synthid_default() -> dict:
    from synthid_text import synthid_mixin

    return dict(synthid_mixin.DEFAULT_WATERMARKING_CONFIG)


class SynthID(Peer):
    name = "synthid-text"
    family = "distortion-free"

    def __init__(self, vocab_size: int, seed: int | None = None, top_k: int | None = None) -> None:
        self.vocab_size, self.seed, self.top_k = vocab_size, seed, top_k
        cfg = _synthid_default()
        if seed is not None:  # another secret: 30 fresh layer keys
            cfg["keys"] = [int(k) for k in np.random.default_rng(seed).integers(1, 2**31, 30)]
        self.cfg = cfg
        self.proc = self._processor(vocab_size, top_k)
        self.gen = torch.Generator().manual_seed(0)
        self.params = (
            f"{cfg['ngram_len']}-gram, depth {len(cfg['keys'])}, "
            + (f"top-k {top_k}" if top_k else "full vocabulary")
            + ", mean score"
        )

    def _processor(self, vocab: int, top_k: int | None) -> object:
        from synthid_text.logits_processing import SynthIDLogitsProcessor

        c = self.cfg
        return SynthIDLogitsProcessor(
            ngram_len=c["ngram_len"],
            keys=c["keys"],
            sampling_table_size=c["sampling_table_size"],
            sampling_table_seed=c["sampling_table_seed"],
            context_history_size=c["context_history_size"],
            temperature=1.0,
            top_k=top_k or vocab,
            device=torch.device("cpu"),
            apply_top_k=bool(top_k),
        )

    def on_batch(self) -> None:
        self.proc.state = None

    def sampler(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        def sample(ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            return self._sample(self.proc, ids, scores)

        return sample

    def _sample(self, proc: object, ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        upd, idx, _ = proc.watermarked_call(ids, scores)
        j = torch.multinomial(torch.softmax(upd, dim=-1), 1, generator=self.gen)
        return idx.gather(1, j)[:, 0]

    def p_values(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from synthid_text import detector_mean

        t = torch.as_tensor(np.asarray(ids))
        g = self.proc.compute_g_values(t)  # (B, T - 4, 30)
        mask = self.proc.compute_context_repetition_mask(t)  # (B, T - 4)
        score = np.asarray(detector_mean.mean_score(g.numpy(), mask.numpy()))
        depth = g.shape[-1]
        n = mask.numpy().sum(axis=1) * depth
        k = (g.numpy() * mask.numpy()[..., None]).sum(axis=(1, 2))
        p = stats.binom.sf(k - 1, n, 0.5)
        return np.asarray(p, dtype=np.float64), score

    def with_key(self, seed: int) -> SynthID:
        return SynthID(self.vocab_size, seed, self.top_k)

    def step_fn(self, vocab: int) -> Callable[[torch.Tensor, torch.Tensor], object]:
        proc = self._processor(vocab, self.top_k)

        def step(ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            return self._sample(proc, ids, scores)

        return step


# ----------------------------------------------------------------------------- all peers


def load_peers(
    model_config: object, tokenizer: object, *, log: Callable[[str], None] = print
) -> list[Peer]:
    """Every peer that imports here; the others are reported through ``log`` and skipped."""
    out: list[Peer] = []
    makers: Sequence[tuple[str, Callable[[], Peer]]] = (
        ("transformers KGW", lambda: TransformersKGW(model_config)),
        ("markllm KGW", lambda: MarkLLM(tokenizer, "KGW")),
        ("synthid-text", lambda: SynthID(model_config.vocab_size, top_k=40)),
        ("markllm Unigram", lambda: MarkLLM(tokenizer, "Unigram")),
    )
    for name, make in makers:
        try:
            out.append(make())
        except Exception as exc:  # a peer that does not install is reported, not fatal
            log(f"note: {name} unavailable: {type(exc).__name__}: {exc}")
    return out


def binom_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson interval for k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def binom_se(k: int, n: int) -> float:
    p = k / n if n else 0.0
    return math.sqrt(p * (1 - p) / n) if n else float("nan")
