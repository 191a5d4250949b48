"""The scan's HTML report and thumbnails: real verify reports, escaping, no external resources,
atomic writes, bounded memory, and the page's filter in a real (headless) Chromium."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
import time
import tracemalloc
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

import aimark
from aimark.errors import OutputError
from aimark.scanner.html import _JS, HtmlReport
from aimark.scanner.thumbnail import make_thumbnail
from conftest import CHROMIUM, CHROMIUM_FLAGS, REPO, encode, natural_image

SAMPLES = REPO / "samples"
HOSTILE_FILE = "<img src=x onerror=alert(1)> \"q\" 'a' &amp;.png"


# -- helpers ---------------------------------------------------------------------------------


class Page(HTMLParser):
    """What the tests look at: rows, thumbnails, cards, scripts, every src/href."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict[str, str | None]] = []
        self.imgs_by_row: list[int] = []
        self.cards: dict[str, int] = {}
        self.links: list[str] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._card: str | None = None
        self._card_n = False
        self._script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "action", "poster", "srcset"):
            if a.get(key) is not None:
                self.links.append(a[key])
        if tag == "tr" and "data-verdict" in a:
            self.rows.append(a)
            self.imgs_by_row.append(0)
        if tag == "img" and self.rows:
            self.imgs_by_row[-1] += 1
        if tag == "a" and "data-filter" in a:
            self._card = a["data-filter"]
        if tag == "div" and a.get("class") == "n" and self._card is not None:
            self._card_n = True
        if tag == "script":
            self._script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "a":
            self._card = None
        if tag == "script":
            self._script = False

    def handle_data(self, data):
        if self._script:
            self.scripts[-1] += data
            return
        self.text.append(data)
        if self._card_n:
            self.cards[self._card] = int(data.replace(",", ""))
            self._card_n = False

    @property
    def visible_verdicts(self) -> list[str]:
        return [r["data-verdict"] for r in self.rows if "hidden" not in r]

    @property
    def all_text(self) -> str:
        return " ".join(self.text)

    @property
    def raw_text(self) -> str:
        return "".join(self.text)


def fake_report(i: int, status: str = "labelled-unsigned", generator: str = "") -> dict:
    """A small report dict in the ``Report.to_dict()`` shape (only what rows read)."""
    return {
        "source": f"batch/{i:06d}.png",
        "verdict": {
            "status": status,
            "ai_generated": status.startswith("labelled"),
            "backing": "unsigned-metadata",
            "summary": "AI-generated according to unsigned metadata",
        },
        "media": {"format": "png", "bytes": 1000 + i},
        "c2pa": {"present": False, "state": "absent"},
        "metadata": {"markers": [{"generator": generator}] if generator else []},
        "watermark": {},
        "error": None,
        "file": {"size": 1000 + i, "mtime_ns": None, "etag": None},
    }


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, labeler, trusted):
    """Real reports: every sample, two files labelled with the dev credentials, an unreadable
    file and a file with a hostile name; each with the thumbnail a scan would make."""
    folder = tmp_path_factory.mktemp("media")
    for p in SAMPLES.iterdir():
        shutil.copy(p, folder / p.name)
    labeler.label_image(SAMPLES / "generated.png", folder / "labelled-1.png")
    labeler.label_image(SAMPLES / "photo-nasa-apollo17.jpg", folder / "labelled-2.jpg")
    shutil.copy(SAMPLES / "generated.png", folder / HOSTILE_FILE)
    (folder / "broken.gif").write_bytes(b"GIF89a")
    items = []
    for p in sorted(folder.iterdir()):
        data = p.read_bytes()
        items.append((trusted.verify(p).to_dict(), make_thumbnail(data)))
    items.append((aimark.verify(b"GIF89a").to_dict(), None))
    return items


@pytest.fixture(scope="module")
def page_file(scanned, tmp_path_factory):
    out = tmp_path_factory.mktemp("page") / "report.html"
    page = HtmlReport(out, title="Samples <scan>")
    for report, thumb in scanned:
        page.add(report, thumb)
    page.close({"files": len(scanned), "roots": ["samples/<x>"], "elapsed_s": 1.5})
    return out


def temp_files(folder: Path, keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


# -- thumbnails ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.iterdir()))
def test_thumbnail_of_each_sample_is_a_small_rgb_jpeg(name):
    data = (SAMPLES / name).read_bytes()
    thumb = make_thumbnail(data, size=128)
    assert thumb is not None and thumb[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(thumb)) as im, Image.open(io.BytesIO(data)) as src:
        assert im.format == "JPEG" and im.mode == "RGB"
        assert max(im.size) == min(128, max(src.size))
        w, h = src.size
        assert abs(im.size[0] / im.size[1] - w / h) < 0.05  # aspect ratio kept
    assert len(thumb) < 16_000


def test_thumbnail_of_a_megapixel_jpeg_is_cheap():
    data = encode(natural_image(1000, 1000, seed=3), "jpeg", quality=90)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        thumb = make_thumbnail(data, size=128)
        best = min(best, time.perf_counter() - t)
    assert thumb is not None
    assert Image.open(io.BytesIO(thumb)).size == (128, 128)
    assert best < 0.05, f"{best * 1000:.1f} ms: is the JPEG draft mode used?"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a",
        b"not an image at all",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        b"\xff\xd8\xff\xe0" + os.urandom(2000),
    ],
    ids=["empty", "gif-header", "text", "png-garbage", "jpeg-garbage"],
)
def test_thumbnail_of_bad_input_is_none(data):
    assert make_thumbnail(data) is None


def test_thumbnail_of_truncated_or_oversized_image_is_none():
    data = (SAMPLES / "photo-nasa-apollo17.jpg").read_bytes()
    assert make_thumbnail(data[: len(data) // 3]) is None
    assert make_thumbnail(data, limits=aimark.Limits(max_pixels=375 * 375 - 1)) is None
    assert make_thumbnail(data, limits=aimark.Limits(max_bytes=len(data) - 1)) is None
    assert make_thumbnail(data, limits=aimark.Limits(max_pixels=375 * 375)) is not None


def test_thumbnail_applies_orientation_and_flattens_alpha():
    im = Image.new("RGB", (400, 200), "blue")
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(make_thumbnail(buf.getvalue()))).size == (64, 128)

    clear = Image.new("RGBA", (300, 300), (255, 0, 0, 0))
    buf = io.BytesIO()
    clear.save(buf, "PNG")
    thumb = Image.open(io.BytesIO(make_thumbnail(buf.getvalue(), size=32)))
    assert thumb.mode == "RGB" and min(thumb.getpixel((16, 16))) > 240  # white, not black


# -- the page from real reports --------------------------------------------------------------


def test_page_counts_match_the_reports(scanned, page_file):
    page = Page(page_file.read_text(encoding="utf-8"))
    want = Counter(r["verdict"]["status"] for r, _ in scanned)
    assert {"labelled-trusted", "labelled-unsigned", "not-labelled", "invalid", "error"} <= set(
        want
    )
    assert Counter(r["data-verdict"] for r in page.rows) == want
    assert {k: v for k, v in page.cards.items() if v} == dict(want)
    assert page.cards["labelled-watermark"] == 0  # every verdict has a card, even empty
    assert len(page.rows) == len(scanned)
    assert "Samples <scan>" in page.all_text  # the title, escaped and shown
    assert "AUTOMATIC1111/Forge" in page.all_text  # generator list and rows
    assert "No files were scanned" not in page.all_text


def test_page_escapes_the_hostile_file_name(page_file):
    text = page_file.read_text(encoding="utf-8")
    assert "<img src=x" not in text and "onerror=alert(1)>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt; &quot;q&quot; &#x27;a&#x27; &amp;amp;.png" in text
    page = Page(text)
    assert HOSTILE_FILE in page.all_text  # shown to the reader exactly as named
    assert page.scripts == [_JS]  # one script, the page's own


def test_page_loads_nothing_from_outside(page_file):
    text = page_file.read_text(encoding="utf-8")
    page = Page(text)
    assert page.links  # thumbnails (data:) and filter links (#...)
    for link in page.links:
        assert link.startswith(("data:image/jpeg;base64,", "#")), link
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"url\(|@import", text)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1]


def test_thumbnails_only_for_labelled_files(scanned, page_file):
    page = Page(page_file.read_text(encoding="utf-8"))
    given = [thumb is not None for _, thumb in scanned]
    assert sum(given) > sum(r["verdict"]["status"].startswith("labelled") for r, _ in scanned)
    for row, imgs in zip(page.rows, page.imgs_by_row, strict=True):
        assert imgs == (1 if row["data-verdict"].startswith("labelled-") else 0), row
    assert sum(page.imgs_by_row) >= 4  # 2 trusted + 3 unsigned samples, all decodable


def test_hostile_metadata_is_escaped_and_kept_out_of_the_script(tmp_path):
    evil = fake_report(1, "labelled-unsigned", generator='"><script>alert(2)</script>')
    evil["source"] = "up/<script>alert(1)</script>.png"
    evil["error"] = {"message": "<b onmouseover=x>bad</b>"}
    evil["verdict"]["status"] = 'labelled-"odd"<x>'
    out = tmp_path / "r.html"
    with HtmlReport(out, title="<script>t</script>") as page:
        page.add(evil, make_thumbnail((SAMPLES / "generated.png").read_bytes()))
        page.close({"roots": ["<script>r</script>"], "note": "<i>x</i>", "skipped": {"<a>": 1}})
    text = out.read_text(encoding="utf-8")
    parsed = Page(text)
    assert parsed.scripts == [_JS] and text.count("<script") == 1
    assert "<b onmouseover" not in text and "<i>x</i>" not in text and "<a>" not in text
    assert [r["data-verdict"] for r in parsed.rows] == ['labelled-"odd"<x>']
    for needle in ("up/<script>alert(1)</script>.png", '"><script>alert(2)</script>', "<i>x</i>"):
        assert needle in parsed.raw_text


def test_huge_or_countless_values_are_clipped(tmp_path):
    out = tmp_path / "r.html"
    with HtmlReport(out) as page:
        for i in range(100):
            report = fake_report(i, f"labelled-{i}", generator="G" * 1_000_000)
            report["source"] = "p" * 100_000
            page.add(report)
    assert len(page.by_status) == 51 and page.by_status["other"] == 50
    assert len(page.by_generator) == 1 and len(next(iter(page.by_generator))) <= 120
    assert out.stat().st_size < 1_000_000  # not 100 MB of one repeated name


def test_empty_report_renders(tmp_path):
    out = tmp_path / "empty.html"
    HtmlReport(out).close({})
    page = Page(out.read_text(encoding="utf-8"))
    assert page.rows == [] and set(page.cards.values()) == {0}
    assert "No files were scanned." in page.all_text
    assert page.scripts == [_JS]
    assert temp_files(tmp_path, "empty.html") == []


def test_rows_stop_at_max_rows_but_counts_go_on(tmp_path):
    out = tmp_path / "r.html"
    page = HtmlReport(out, max_rows=3, max_thumbnails=1)
    thumb = make_thumbnail((SAMPLES / "generated.png").read_bytes())
    for i in range(10):
        page.add(fake_report(i, "error" if i % 2 else "labelled-unsigned", "gen"), thumb)
    page.close({"files": 10})
    parsed = Page(out.read_text(encoding="utf-8"))
    assert len(parsed.rows) == 3 and sum(parsed.imgs_by_row) == 1
    assert parsed.cards["error"] == 5 and parsed.cards["labelled-unsigned"] == 5
    assert "The table shows the first 3 of 10 files; the JSON Lines output has all." in (
        " ".join(parsed.all_text.split())
    )


# -- atomic writes ---------------------------------------------------------------------------


def test_abort_leaves_an_existing_page_untouched(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("previous page")
    page = HtmlReport(out)
    page.add(fake_report(1))
    assert len(temp_files(tmp_path, "report.html")) == 1  # rows go to a file beside it
    page.abort()
    page.abort()  # idempotent
    assert out.read_text() == "previous page"
    assert temp_files(tmp_path, "report.html") == []
    with pytest.raises(ValueError):
        page.add(fake_report(2))


def test_exception_in_with_block_aborts(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("previous page")
    with pytest.raises(RuntimeError), HtmlReport(out) as page:
        page.add(fake_report(1))
        raise RuntimeError("scan failed")
    assert out.read_text() == "previous page"
    assert temp_files(tmp_path, "report.html") == []


def test_close_replaces_the_page_whole_and_keeps_its_mode(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("previous page")
    out.chmod(0o640)
    with HtmlReport(out) as page:
        page.add(fake_report(1))
    # leaving the block without close() closes with an empty summary
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    assert (out.stat().st_mode & 0o777) == 0o640
    assert temp_files(tmp_path, "report.html") == []
    with pytest.raises(ValueError):
        page.close({})


def test_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError):
        HtmlReport(tmp_path / "no" / "such" / "report.html")
    with pytest.raises(OutputError):
        HtmlReport(tmp_path)


def test_dropped_report_removes_its_row_file(tmp_path):
    page = HtmlReport(tmp_path / "r.html")
    page.add(fake_report(1))
    assert len(list(tmp_path.iterdir())) == 1
    del page
    assert list(tmp_path.iterdir()) == []


# -- bounded memory --------------------------------------------------------------------------


def test_memory_stays_bounded_rows_stream_to_a_file(tmp_path):
    out = tmp_path / "big.html"
    n, warm, traced = 20_000, 2_000, 6_000
    reports = [fake_report(i, generator=f"model-{i}") for i in range(n)]
    t0 = time.perf_counter()
    page = HtmlReport(out)
    for r in reports[:warm]:
        page.add(r)
    (row_file,) = [p for p in tmp_path.iterdir() if p.name != "big.html"]
    size_before = row_file.stat().st_size
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for r in reports[warm : warm + traced]:
            page.add(r)
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    written = row_file.stat().st_size - size_before
    assert written > 1_500_000  # 6,000 rows went to the file...
    assert grown < 200_000, f"{grown:,} bytes kept in memory"  # ...not into memory
    for r in reports[warm + traced :]:
        page.add(r)
    assert len(page.by_generator) == 201 and page.by_generator["other"] == n - 200
    page.close({"files": n})
    elapsed = time.perf_counter() - t0
    assert not row_file.exists() and temp_files(tmp_path, "big.html") == []
    text = out.read_text(encoding="utf-8")
    assert text.count("<tr data-verdict=") == n
    assert "other (200+ more names)" in text
    assert elapsed < 5, f"{elapsed:.1f} s"


# -- a real browser --------------------------------------------------------------------------


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    cmd = [
        CHROMIUM,
        "--headless",
        *CHROMIUM_FLAGS,
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)


def test_chromium_applies_the_filter_from_the_fragment(page_file, tmp_path):
    dom = Page(chromium(tmp_path, "--dump-dom", page_file.as_uri() + "#verdict=error").stdout)
    verdicts = [r["data-verdict"] for r in dom.rows]
    assert verdicts.count("error") == 2 and len(verdicts) > 2
    assert dom.visible_verdicts == ["error", "error"]  # the script ran under the page's CSP
    assert "2 of" in dom.all_text

    url = page_file.as_uri() + "#q=" + "automatic1111"
    dom = Page(chromium(tmp_path, "--dump-dom", url).stdout)
    assert dom.visible_verdicts == ["labelled-unsigned"]


CLICK_AND_TYPE = """
document.querySelector('[data-filter="invalid"]').click();
var afterClick = location.hash;
var box = document.getElementById("f-q");
box.value = "TAMPERED";
box.dispatchEvent(new Event("input"));
setTimeout(function () {
  document.body.setAttribute("data-test", afterClick + "|" + location.hash);
}, 500);
"""


def with_script(page_file: Path, out: Path, script: str) -> str:
    """A copy of the page with ``script`` run at the end (its CSP removed to let it run)."""
    text = page_file.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    out.write_text(text.replace("</body>", f"<script>{script}</script></body>"), encoding="utf-8")
    return out.as_uri()


def test_chromium_card_click_and_search_box_filter_and_set_the_fragment(page_file, tmp_path):
    harness = with_script(page_file, tmp_path / "harness.html", CLICK_AND_TYPE)
    out = chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", harness)
    dom = Page(out.stdout)
    assert dom.visible_verdicts == ["invalid"]
    assert 'data-test="#verdict=invalid|#verdict=invalid&amp;q=TAMPERED"' in out.stdout
    assert re.search(r'class="card v-invalid active"', out.stdout)


def test_chromium_blocks_an_injected_script(page_file, tmp_path):
    hacked = tmp_path / "hacked.html"
    text = page_file.read_text(encoding="utf-8")
    hacked.write_text(
        text.replace("</h1>", "</h1><script>document.title='pwned'</script>", 1),
        encoding="utf-8",
    )
    dom = chromium(tmp_path, "--dump-dom", hacked.as_uri()).stdout
    assert "<title>Samples &lt;scan&gt;</title>" in dom and "pwned</title>" not in dom


def test_chromium_screenshot(page_file, tmp_path):
    png = tmp_path / "report.png"
    chromium(
        tmp_path,
        f"--screenshot={png}",
        "--window-size=1280,900",
        "--hide-scrollbars",
        page_file.as_uri(),
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    with Image.open(png) as im:
        assert im.size == (1280, 900)
        assert len(im.convert("RGB").getcolors(1 << 20) or range(1 << 20)) > 50  # not blank


def test_rows_come_invalid_then_labelled_then_errors_then_unlabelled(scanned, page_file):
    from aimark.scanner.html import RANK

    page = Page(page_file.read_text(encoding="utf-8"))
    ranks = [RANK.get(r["data-verdict"], 8) for r in page.rows]
    assert ranks == sorted(ranks) and ranks[0] == RANK["invalid"]
    assert ranks[-1] == RANK["not-labelled"]
    walk = [RANK.get(r["verdict"]["status"], 8) for r, _ in scanned]
    assert walk != sorted(walk)  # the walk order was different: the page did sort


SORT_CLICKS = """
var heads = document.querySelectorAll("th[data-sort] button");
heads[0].click();  // File, ascending
var byFile = Array.prototype.map.call(document.querySelectorAll("#rows > tr td.path"),
  function (e) { return e.textContent.toLowerCase(); }).join("|");
heads[1].click(); heads[1].click();  // Verdict: ascending, then descending
var byVerdict = Array.prototype.map.call(document.querySelectorAll("#rows > tr"),
  function (r) { return r.getAttribute("data-rank"); }).join("");
document.body.setAttribute("data-files", byFile);
document.body.setAttribute("data-ranks", byVerdict);
"""


def test_chromium_sorts_by_the_column_clicked(page_file, tmp_path):
    harness = with_script(page_file, tmp_path / "sort.html", SORT_CLICKS)
    out = chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", harness)
    files = html.unescape(re.search(r'data-files="([^"]*)"', out.stdout).group(1)).split("|")
    assert len(files) > 3 and files == sorted(files)
    ranks = re.search(r'data-ranks="([^"]*)"', out.stdout).group(1)
    assert ranks == "".join(sorted(ranks, reverse=True)) and len(set(ranks)) > 2
    assert 'aria-sort="descending"' in out.stdout
