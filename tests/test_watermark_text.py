"""The text watermark io.aimark.text.1: exact statistics, both modes, detection both ways
(finds what is there, not what is not), measured false-positive rates, batch and span APIs.

Generation here uses a toy "model" (random logits per step); the real model (SmolLM2 through
transformers) is exercised in tests/test_watermark_text_model.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from aimark import WatermarkKey
from aimark.watermark.text import (
    MIN_TOKENS,
    TextVerdict,
    TextWatermark,
    _stats,
    detect_text,
    find_text_spans,
)
from aimark.watermark.text._keyed import KeyedTables

V = 1000
KEY = WatermarkKey(bytes(range(32)))
MODES = ("bias", "gumbel")


def toy_generate(
    wm: TextWatermark | None, n: int, *, seed: int, rows: int = 1, spread: float = 3.0
) -> np.ndarray:
    """Tokens from a toy model: fresh random logits each step (entropy ~ a chatty LLM's)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, (rows, 2))
    for _ in range(n):
        logits = rng.standard_normal((rows, V)) * spread
        if wm is None:
            nxt = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
        else:
            nxt = wm.sample(ids, logits, rng=rng)
        ids = np.concatenate([ids, nxt[:, None]], axis=1)
    return ids[:, 2:]


# ------------------------------------------------------------------ the keyed function


def test_keyed_values_are_pinned():
    """Golden values: changing them breaks detection of every text already generated."""
    tables = KeyedTables(KEY, "io.aimark.text.1/bias", V, 1)
    got = tables.pair_values(np.array([[1, 2, 3, 4, 999]])).tolist()
    assert got == GOLDEN_BIAS
    tables2 = KeyedTables(KEY, "io.aimark.text.1/gumbel", V, 3)
    assert tables2.pair_values(np.array([[5, 6, 7, 8, 9]])).tolist() == GOLDEN_GUMBEL_H3


GOLDEN_BIAS = [[144892396, 2541939623, 3291363647, 2195783876]]
GOLDEN_GUMBEL_H3 = [[631511079, 3869826931]]


def _fmix32(x: int) -> int:
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & 0xFFFFFFFF
    return x ^ (x >> 16)


def test_keyed_values_follow_the_documented_formula():
    """A plain-Python reading of the _keyed docstring gives the same values as numpy."""
    label, h = "io.aimark.text.1/gumbel", 3

    def words(part: str) -> list[int]:
        raw = KEY.derive(f"{label}/{part}", 4 * V)
        return [int.from_bytes(raw[4 * i : 4 * i + 4], "little") for i in range(V)]

    token, context = words("token"), words("context")
    ids = [5, 6, 7, 8, 9]
    expected = []
    for i in range(h, len(ids)):
        c = context[ids[i - 1]]
        for j in range(2, h + 1):
            c = _fmix32(c) ^ context[ids[i - j]]
        expected.append(_fmix32(token[ids[i]] ^ c))
    assert [expected] == GOLDEN_GUMBEL_H3


def test_a_larger_vocab_size_gives_the_same_values():
    ids = np.array([[1, 2, 3, 4, 999]])
    small = KeyedTables(KEY, "io.aimark.text.1/bias", V, 2).pair_values(ids)
    large = KeyedTables(KEY, "io.aimark.text.1/bias", 4 * V, 2).pair_values(ids)
    assert np.array_equal(small, large)


def test_generation_and_detection_use_the_same_function():
    wm = TextWatermark(KEY, V, context_width=2)
    ids = np.array([[4, 9, 17, 3, 88]])
    green = wm.green_mask(ids[:, :-1])[0]
    scores, mask = wm.token_scores(ids[0])
    assert bool(green[88]) == bool(scores[-1]) and mask[-1]


def test_green_fraction_is_what_was_asked():
    wm = TextWatermark(KEY, 50_000, green_fraction=0.25)
    frac = wm.green_mask(np.arange(20)[:, None]).mean()
    assert abs(frac - 0.25) < 0.005


# ------------------------------------------------------------------ exact statistics


def test_binomial_tail_is_exact():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 300))
        k = int(rng.integers(0, n + 2))
        g = float(rng.choice([0.1, 0.25, 0.5]))
        exact = sum(math.comb(n, j) * g**j * (1 - g) ** (n - j) for j in range(k, n + 1))
        got = math.exp(_stats.binomial_logsf(np.array([k]), np.array([n]), g)[0])
        assert got == pytest.approx(exact, rel=1e-9, abs=1e-300)


def test_gamma_tail_is_exact():
    rng = np.random.default_rng(4)
    for _ in range(300):
        n = int(rng.integers(1, 400))
        s = float(rng.uniform(0.0, 3 * n + 30))
        terms = [k * math.log(s) - s - math.lgamma(k + 1) for k in range(n)] if s > 0 else [0.0]
        top = max(terms)
        exact = min(top + math.log(sum(math.exp(t - top) for t in terms)), 0.0)
        got = _stats.gamma_logsf(np.array([n]), np.array([s]))[0]
        assert got == pytest.approx(exact, rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------ detection, both ways


@pytest.mark.parametrize("mode", MODES)
def test_finds_its_own_mark_and_not_others(mode):
    wm = TextWatermark(KEY, V, mode=mode)
    marked = toy_generate(wm, 200, seed=1, rows=20)
    plain = toy_generate(None, 200, seed=2, rows=20)
    other = TextWatermark(WatermarkKey(bytes(32)), V, mode=mode)
    assert all(d.detected for d in wm.detect_batch(marked))
    assert not any(d.detected for d in wm.detect_batch(plain))
    assert not any(d.detected for d in other.detect_batch(marked))
    # the other mode with the same key does not see it either
    twin = TextWatermark(KEY, V, mode="gumbel" if mode == "bias" else "bias")
    assert not any(d.detected for d in twin.detect_batch(marked))


@pytest.mark.parametrize("mode", MODES)
def test_survives_30_percent_substitution(mode):
    wm = TextWatermark(KEY, V, mode=mode)
    marked = toy_generate(wm, 200, seed=5, rows=20)
    rng = np.random.default_rng(6)
    edited = marked.copy()
    hit = rng.random(edited.shape) < 0.30
    edited[hit] = rng.integers(0, V, int(hit.sum()))
    found = np.mean([d.detected for d in wm.detect_batch(edited)])
    assert found >= 0.95


def test_result_records_parameters_and_statistics():
    wm = TextWatermark(KEY, V, green_fraction=0.3, bias=2.5, context_width=2)
    d = wm.detect(toy_generate(wm, 100, seed=7)[0], fpr=1e-2)
    assert d.detected and d.threshold == 1e-2 and d.z_score > 3
    assert d.params == {
        "scheme": "io.aimark.text.1",
        "key_id": KEY.key_id,
        "mode": "bias",
        "vocab_size": V,
        "context_width": 2,
        "green_fraction": 0.3,
        "bias": 2.5,
    }
    assert d.tokens_total == 100 and d.tokens_scored <= 98
    assert d.to_dict()["verdict"] == "watermarked"
    assert d.log10_p_value == pytest.approx(math.log10(d.p_value))


def test_too_short_to_tell():
    wm = TextWatermark(KEY, V)
    marked = toy_generate(wm, MIN_TOKENS, seed=8)[0]  # MIN_TOKENS - 1 scored
    d = wm.detect(marked)
    assert d.verdict is TextVerdict.TOO_SHORT and not d.detected and d.too_short
    assert wm.detect([]).too_short and wm.detect([3]).tokens_scored == 0


def test_repeated_pairs_are_scored_once():
    wm = TextWatermark(KEY, V)
    phrase = toy_generate(wm, 12, seed=9)[0]
    repeated = np.tile(phrase, 40)  # 480 tokens, about 12 distinct pairs
    d = wm.detect(repeated)
    assert d.tokens_scored <= 13 and d.verdict is TextVerdict.TOO_SHORT


def test_batch_matches_single_and_accepts_ragged_lists():
    wm = TextWatermark(KEY, V, mode="gumbel")
    rows = [toy_generate(wm, n, seed=n)[0] for n in (30, 200, 75)]
    rows.append(toy_generate(None, 120, seed=10)[0])
    batch = wm.detect_batch(rows)
    for r, d in zip(rows, batch, strict=True):
        single = wm.detect(r)
        assert single.p_value == pytest.approx(d.p_value, rel=1e-12)
        assert single.tokens_scored == d.tokens_scored
    same = np.stack([toy_generate(wm, 50, seed=s)[0] for s in range(4)])
    assert np.allclose(wm.p_values(same), [d.p_value for d in wm.detect_batch(list(same))])


# ------------------------------------------------------------------ measured false positives


@pytest.mark.parametrize("mode", MODES)
def test_false_positive_rate_is_within_its_bound(mode):
    """20,000 unwatermarked 200-token sequences, 100 keys: the rate at nominal 1e-2 and 1e-3
    stays within a 99.9 % binomial interval of the bound (Zipf-like token frequencies, so that
    pairs repeat as in real text)."""
    trials, keys = 20_000, 100
    rng = np.random.default_rng(11)
    ranks = np.arange(1, V + 1)
    zipf = (1.0 / ranks) / (1.0 / ranks).sum()
    texts = rng.choice(V, size=(trials, 200), p=zipf)
    p = np.concatenate(
        [
            TextWatermark(WatermarkKey(rng.bytes(32)), V, mode=mode).p_values(chunk)
            for chunk in np.split(texts, keys)
        ]
    )
    for bound in (1e-2, 1e-3):
        rate = float(np.mean(p <= bound))
        limit = bound + 3.3 * math.sqrt(bound * (1 - bound) / trials)
        assert rate <= limit, (mode, bound, rate)
    # and the p-values are not degenerate: about half below 0.5
    assert 0.4 < float(np.mean(p <= 0.5)) < 0.6


def test_gumbel_sampling_is_distortion_free():
    """Keyed choices over many contexts follow the model's distribution (total variation
    from the 16-bit noise table and 40,000 draws stays below 0.015; a biased sampler is far)."""
    wm = TextWatermark(KEY, 8, mode="gumbel", context_width=6)  # 262,144 contexts
    logits = np.log(np.array([0.4, 0.2, 0.15, 0.1, 0.08, 0.04, 0.02, 0.01]))
    rng = np.random.default_rng(12)
    prev = rng.integers(0, 8, (40_000, 6))
    picks = wm.sample(prev, np.tile(logits, (40_000, 1)))
    freq = np.bincount(picks, minlength=8) / picks.size
    assert 0.5 * np.abs(freq - np.exp(logits)).sum() < 0.015
    biased = TextWatermark(KEY, 8, mode="bias", context_width=6)
    picks = biased.sample(prev, np.tile(logits, (40_000, 1)), rng=rng)
    freq = np.bincount(picks, minlength=8) / picks.size
    assert 0.5 * np.abs(freq - np.exp(logits)).sum() > 0.05


def test_gumbel_does_not_loop_on_repeated_contexts():
    wm = TextWatermark(KEY, V, mode="gumbel")
    rng = np.random.default_rng(13)
    fixed = rng.standard_normal(V)  # the same distribution every step: worst case
    ids = np.array([[1]])
    for _ in range(300):
        ids = np.concatenate([ids, wm.sample(ids, fixed[None, :], rng=rng)[:, None]], axis=1)
    assert len(set(ids[0].tolist())) > 100  # keyed determinism alone would cycle quickly


# ------------------------------------------------------------------ spans, text, errors


@pytest.mark.parametrize("mode", MODES)
def test_finds_a_watermarked_span_inside_human_text(mode):
    wm = TextWatermark(KEY, V, mode=mode)
    before = toy_generate(None, 300, seed=14)[0]
    marked = toy_generate(wm, 150, seed=15)[0]
    after = toy_generate(None, 300, seed=16)[0]
    spans = wm.find_spans(np.concatenate([before, marked, after]))
    assert len(spans) == 1
    s = spans[0]
    assert 250 <= s.start <= 320 and 430 <= s.end <= 500 and s.p_value <= 1e-3
    assert wm.find_spans(np.concatenate([before, after])) == []


def test_text_level_detection_with_a_callable_tokenizer():
    wm = TextWatermark(KEY, 256)

    def tokenizer(text: str) -> list[int]:
        return list(text.encode("latin-1"))

    rng = np.random.default_rng(17)
    ids = [65, 66]
    for _ in range(300):
        ids.append(int(wm.sample(np.array([ids]), rng.standard_normal((1, 256)) * 3, rng=rng)[0]))
    text = bytes(ids).decode("latin-1")
    assert detect_text(text, wm, tokenizer).detected
    # invisible C2PA wrapper characters appended to the text do not get in the way
    wrapped = text + "\ufeff" + "".join(chr(0xFE00 + i % 16) for i in range(200))
    assert detect_text(wrapped, wm, tokenizer).p_value == detect_text(text, wm, tokenizer).p_value
    plain = bytes(np.random.default_rng(18).integers(0, 256, 300).tolist()).decode("latin-1")
    assert not detect_text(plain, wm, tokenizer).detected
    spans = find_text_spans(plain + text, wm, tokenizer)
    assert len(spans) == 1 and spans[0].start >= 250


def test_misuse_raises_clear_errors():
    wm = TextWatermark(KEY, V)
    with pytest.raises(ValueError, match="vocab_size"):
        wm.detect([1, 2, V])
    with pytest.raises(ValueError, match="columns"):
        wm.bias_logits(np.array([[1]]), np.zeros((1, V + 1)))
    with pytest.raises(ValueError, match="integers"):
        wm.detect(np.array([1.5, 2.0]))
    with pytest.raises(ValueError, match="gumbel"):
        TextWatermark(KEY, V, mode="gumbel").bias_logits(np.array([[1]]), np.zeros((1, V)))
    with pytest.raises(ValueError, match="mode"):
        TextWatermark(KEY, V, mode="nope")
    with pytest.raises(TypeError, match="WatermarkKey"):
        TextWatermark(b"\x00" * 32, V)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fpr"):
        wm.detect([1, 2, 3], fpr=0)
    with pytest.raises(ValueError, match="temperature"):
        wm.sample(np.array([[1]]), np.zeros((1, V)), temperature=0)


def test_describe_has_no_secret():
    wm = TextWatermark(KEY, V, mode="gumbel")
    assert wm.describe() == {
        "scheme": "io.aimark.text.1",
        "key_id": KEY.key_id,
        "mode": "gumbel",
        "vocab_size": V,
        "context_width": 1,
    }
    assert KEY.to_text().split(":")[1] not in repr(wm)


# ------------------------------------------------------------------ command line


@pytest.fixture
def word_tokenizer(tmp_path):
    """A real tokenizers.Tokenizer (word level, 1,000 words) saved as tokenizer.json."""
    tokenizers = pytest.importorskip("tokenizers", reason="installed by the test extra")
    words = [f"w{i}" for i in range(V)]
    tok = tokenizers.Tokenizer(
        tokenizers.models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="w0")
    )
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return path, words


def test_cli_detect_text(tmp_path, word_tokenizer, capsys):
    import json

    from aimark.cli import main

    tok_path, words = word_tokenizer
    key_file = tmp_path / "text.key"
    KEY.save(key_file)
    wm = TextWatermark(KEY, V)
    files = {
        "ai.txt": " ".join(words[i] for i in toy_generate(wm, 150, seed=20)[0]),
        "human.txt": " ".join(words[i] for i in toy_generate(None, 150, seed=21)[0]),
        "short.txt": "w1 w2 w3",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00binary")
    common = ["--key", str(key_file), "--tokenizer", str(tok_path)]

    assert main(["detect-text", str(tmp_path / "ai.txt"), *common]) == 1
    assert "WATERMARKED" in capsys.readouterr().out
    assert main(["detect-text", str(tmp_path / "human.txt"), *common]) == 2
    assert "not watermarked" in capsys.readouterr().out
    assert main(["detect-text", str(tmp_path / "short.txt"), *common]) == 2
    assert "too short to tell" in capsys.readouterr().out
    big = tmp_path / "big.txt"  # over the byte limit (sparse: no disk used), never read
    with open(big, "wb") as f:
        f.truncate(300 * 1024 * 1024)
    assert main(["detect-text", str(big), *common]) == 4
    assert "over the limit of 268,435,456 bytes" in capsys.readouterr().out
    # the highest code over files; a bad file is one line, not a traceback
    paths = [str(tmp_path / n) for n in ("ai.txt", "binary.txt", "missing.txt")]
    assert main(["detect-text", *paths, *common]) == 4
    out = capsys.readouterr().out
    assert out.count("error —") == 2 and "Traceback" not in out

    assert main(["detect-text", str(tmp_path / "ai.txt"), *common, "--json", "--spans"]) == 1
    doc = json.loads(capsys.readouterr().out)
    det = doc["detections"][0]
    assert doc["watermarked"] and det["verdict"] == "watermarked" and det["p_value"] < 1e-3
    assert det["params"]["key_id"] == KEY.key_id and det["spans"]
    # the wrong mode finds nothing; bad usage is exit 64
    assert main(["detect-text", str(tmp_path / "ai.txt"), *common, "--mode", "gumbel"]) == 2
    capsys.readouterr()
    assert main(["detect-text", str(tmp_path / "ai.txt"), "--key", str(key_file)]) == 64
    assert main(["detect-text", str(tmp_path / "ai.txt"), *common, "--fpr", "2"]) == 64
