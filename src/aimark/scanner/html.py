"""A self-contained HTML page for a scan: counts by verdict and generator, a filterable table.

The page has no external resources (inline CSS and JavaScript, thumbnails as ``data:`` URIs)
and works offline from ``file://``. Its Content-Security-Policy allows no network at all and
only the page's own script (by hash), so even a mistake in escaping could not run a script.
Everything taken from a report (paths, generator names, signers, error messages) is escaped.

Memory stays bounded whatever the number of files: only counts are kept (by verdict, and by
generator for at most 200 names, the rest counted as "other"); table rows are streamed to a
temporary file beside the output, and :meth:`HtmlReport.close` writes the page to another
temporary file and renames it onto the destination (the old page is replaced whole or kept).

The filter lives in the URL fragment, so ``report.html#verdict=error&q=scans/2024`` opens
showing only the errors whose row mentions ``scans/2024``; clicking a count card or a
generator sets it.

Example:
    >>> import aimark, tempfile
    >>> from pathlib import Path
    >>> from aimark.scanner.html import HtmlReport
    >>> out = Path(tempfile.mkdtemp()) / "report.html"
    >>> with HtmlReport(out, title="Uploads") as page:
    ...     page.add(aimark.verify(b"GIF89a").to_dict())
    ...     page.close({"files": 1, "elapsed_s": 0.01})
    >>> text = out.read_text(encoding="utf-8")
    >>> "<title>Uploads</title>" in text, 'data-verdict="error"' in text
    (True, True)
    >>> sorted(p.name for p in out.parent.iterdir())  # no temporary files left behind
    ['report.html']
"""

from __future__ import annotations

import array
import base64
import contextlib
import hashlib
import os
import weakref
from html import escape
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import quote

from aimark._version import __version__
from aimark.errors import OutputError
from aimark.media.output import AtomicFile, temp_sibling
from aimark.scanner.rows import readable, row_for
from aimark.wording import REGIME_SHORT, STATUSES

__all__ = ["HtmlReport"]

#: Verdict statuses in display order, with their card description (aimark.wording).
VERDICTS: dict[str, str] = {s.id: s.card for s in STATUSES}
_COLUMNS = (
    "thumb", "path", "verdict", "layers", "generator", "signer", "ids", "compliance", "error",
)  # fmt: skip
_REGIME_SHORT = REGIME_SHORT
#: The table's first order: what needs a look first (tampered credentials), then what is
#: labelled, most strongly backed first, then errors, then files without a label.
RANK: dict[str, int] = {s.id: s.rank for s in STATUSES}
_MAX_GENERATORS = 200
_OTHER = "other"
_MAX_STATUSES = 50
_MAX_FIELD = 500
_MAX_THUMBNAIL_BYTES = 256 * 1024
_JPEG_MAGIC = b"\xff\xd8\xff"

_CSS = """
:root{--bg:#f6f7f9;--card:#fff;--ink:#1c2330;--dim:#5d6778;--line:#e2e6ec;--chip:#eef1f5;
--accent:#2457c5;--v-labelled-trusted:#1a7f37;--v-labelled-watermark:#0d7f7a;
--v-labelled-untrusted:#b7791f;--v-labelled-unsigned:#d69e2e;--v-not-labelled:#8a94a3;
--v-invalid:#d93025;--v-error:#7a1c1c;--v-other:#6b5fb5}
@media (prefers-color-scheme:dark){:root{--bg:#12151b;--card:#1b2029;--ink:#e6e9ef;
--dim:#9aa4b5;--line:#2c3340;--chip:#262d39;--accent:#7aa2ff}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1400px;margin:0 auto;padding:24px 28px 48px}
header h1{font-size:24px;margin:0 0 4px;letter-spacing:-.01em}
.meta{color:var(--dim);margin:0;display:flex;flex-wrap:wrap;gap:4px 18px}
.meta code{font-size:12.5px;background:var(--chip);padding:1px 6px;border-radius:4px}
.banner{margin:14px 0 0;padding:10px 14px;border-radius:8px;background:#fff4e0;
color:#7a4b00;border:1px solid #f1d29b}
section{margin-top:22px}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--dim);
margin:0 0 10px;font-weight:600}
.totals{display:flex;flex-wrap:wrap;gap:10px 28px;margin-top:16px}
.total b{display:block;font-size:26px;line-height:1.1;font-variant-numeric:tabular-nums}
.total span{color:var(--dim);font-size:12.5px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.card{display:block;background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:12px 10px 12px 14px;color:inherit;text-decoration:none;position:relative;
overflow:hidden;transition:box-shadow .12s,border-color .12s}
.card::before{content:"";position:absolute;left:0;top:0;bottom:0;width:5px;background:var(--c)}
.card:hover{box-shadow:0 2px 10px rgba(20,30,50,.10)}
.card.active{border-color:var(--c);box-shadow:0 0 0 2px var(--c) inset}
.card .n{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.15}
.card .name{font-weight:600;color:var(--c);font-size:12.5px;white-space:nowrap;overflow:hidden;
text-overflow:ellipsis;letter-spacing:-.005em}
.card .desc{color:var(--dim);font-size:12px;margin-top:2px}
.card .pct{float:right;color:var(--dim);font-size:12px;margin-top:9px}
.card.zero{opacity:.55}
.stack{display:flex;height:10px;border-radius:5px;overflow:hidden;background:var(--chip);
margin:14px 0 0}
.stack i{display:block;background:var(--c)}
.two>section{margin-top:0}
.two{margin-top:22px;display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:22px}
@media (max-width:900px){.two{grid-template-columns:1fr}}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.bars{list-style:none;margin:0;padding:0}
.bars li{display:grid;grid-template-columns:minmax(0,1fr) 3.5em;gap:10px;align-items:center;
padding:3px 0}
.bars a{color:inherit;text-decoration:none;overflow-wrap:anywhere}
.bars a:hover{color:var(--accent);text-decoration:underline}
.bars .bar{grid-column:1/-1;height:6px;border-radius:3px;background:var(--chip);margin-top:-1px}
.bars .bar i{display:block;height:100%;border-radius:3px;background:var(--accent);opacity:.75}
.bars .num{text-align:right;font-variant-numeric:tabular-nums;color:var(--dim)}
details summary{cursor:pointer;color:var(--accent);margin-top:6px}
dl.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 16px;margin:0}
dl.kv dt{color:var(--dim)}
dl.kv dd{margin:0;overflow-wrap:anywhere;font-variant-numeric:tabular-nums}
.empty{color:var(--dim);margin:0}
.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:0 0 10px}
.filters select,.filters input{font:inherit;color:inherit;background:var(--card);
border:1px solid var(--line);border-radius:8px;padding:7px 10px}
.filters input{flex:1 1 260px;min-width:0}
.filters .count{color:var(--dim);margin-left:auto}
.note{color:var(--dim);font-size:13px;margin:0 0 10px}
.tablewrap{background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:auto;
max-height:80vh}
table{border-collapse:collapse;width:100%;font-size:13px}
th button.sort{all:unset;cursor:pointer}
th button.sort:hover,th button.sort:focus-visible{text-decoration:underline}
th[aria-sort=ascending] button.sort::after{content:" \\25B2";font-size:9px}
th[aria-sort=descending] button.sort::after{content:" \\25BC";font-size:9px}
thead th{position:sticky;top:0;background:var(--card);z-index:1;text-align:left;
font-weight:600;color:var(--dim);font-size:12px;padding:9px 10px;
border-bottom:1px solid var(--line);white-space:nowrap}
tbody td{padding:8px 9px;border-bottom:1px solid var(--line);vertical-align:top;
overflow-wrap:break-word}
tbody tr:last-child td{border-bottom:0}
tbody tr:hover td{background:rgba(120,140,170,.06)}
#rows tr[hidden]{display:none!important}
td.verdict{white-space:nowrap}
.thumb img,.ph{display:block;width:64px;height:64px;border-radius:6px;object-fit:cover;
background:var(--chip)}
.ph{display:flex;align-items:center;justify-content:center;color:var(--dim);font-size:10px;
font-weight:600;letter-spacing:.05em}
table{table-layout:fixed;min-width:1220px}
col.c-thumb{width:84px}col.c-path{width:21%}col.c-verdict{width:160px}col.c-layers{width:15%}
col.c-generator{width:10%}col.c-signer{width:9%}col.c-ids{width:11%}col.c-compliance{width:9%}
.rg{display:block;font-size:11px;white-space:nowrap}.rg b{font-weight:600}
.rg.s-met b{color:var(--v-labelled-trusted)}.rg.s-missing b{color:var(--v-invalid)}
.rg.s-partial b,.rg.s-unconfirmed b{color:var(--v-labelled-untrusted)}
.path .dir{color:var(--dim);font-size:12px;overflow-wrap:anywhere;display:block}
.path .file{font-weight:600;overflow-wrap:anywhere}
.path .sub{color:var(--dim);font-size:12px}
.pill{display:inline-block;white-space:nowrap;padding:2px 9px;border-radius:999px;
font-size:12px;font-weight:600;color:#fff;background:var(--c)}
.chip{display:inline-block;background:var(--chip);border-radius:4px;padding:0 6px;
margin:0 4px 3px 0;font-size:12px;white-space:nowrap}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;
overflow-wrap:anywhere}
.err{color:var(--v-error);display:block;min-width:130px}
.trust{display:block;font-size:12px;font-weight:600;color:var(--dim)}
.trust.t-trusted{color:var(--v-labelled-trusted)}
.trust.t-valid-untrusted{color:var(--v-labelled-untrusted)}
.trust.t-invalid{color:var(--v-invalid)}
.chip{max-width:100%;overflow:hidden;text-overflow:ellipsis;vertical-align:top}
@media (prefers-color-scheme:dark){.err{color:#ff8a80}}
.dim{color:var(--dim)}
#nomatch{padding:18px;color:var(--dim);text-align:center}
.v-labelled-trusted{--c:var(--v-labelled-trusted)}
.v-labelled-watermark{--c:var(--v-labelled-watermark)}
.v-labelled-recovered{--c:var(--v-labelled-watermark)}
.v-labelled-untrusted{--c:var(--v-labelled-untrusted)}
.v-labelled-unsigned{--c:var(--v-labelled-unsigned)}
.v-not-labelled{--c:var(--v-not-labelled)}
.v-invalid{--c:var(--v-invalid)}
.v-error{--c:var(--v-error)}
.v-other{--c:var(--v-other)}
footer{margin-top:26px;color:var(--dim);font-size:12px}
@media (max-width:760px){
main{padding:16px 12px 32px}
.tablewrap{max-height:none;overflow:visible;background:none;border:0}
table,thead,tbody,tr,td{display:block}
table{min-width:0}
colgroup{display:none}
thead{display:none}
#rows tr{background:var(--card);border:1px solid var(--line);border-radius:10px;
margin-bottom:10px;padding:8px 10px;display:grid;grid-template-columns:72px minmax(0,1fr);
column-gap:10px}
#rows td{border:0;padding:2px 0;grid-column:2}
#rows td.thumb{grid-column:1;grid-row:1/span 3;width:auto}
#rows td[data-label]:not(.path):not(.thumb)::before{content:attr(data-label) ": ";
color:var(--dim);font-size:12px}
#rows td.blank{display:none}
}
"""

# Reads the filter from the fragment (#verdict=...&q=...), hides rows that do not match and
# writes the state back to the fragment. No report data is ever placed inside the script.
_JS = """
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("#rows > tr"));
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
  var sel = document.getElementById("f-verdict");
  var box = document.getElementById("f-q");
  var shown = document.getElementById("shown");
  var nomatch = document.getElementById("nomatch");
  var cards = Array.prototype.slice.call(document.querySelectorAll("[data-filter]"));
  function read() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    return { verdict: p.get("verdict") || "", q: p.get("q") || "" };
  }
  function write(state) {
    var p = new URLSearchParams();
    if (state.verdict) { p.set("verdict", state.verdict); }
    if (state.q) { p.set("q", state.q); }
    var frag = p.toString();
    var url = location.href.split("#")[0] + (frag ? "#" + frag : "");
    try { history.replaceState(null, "", url); } catch (e) { location.replace(url); }
  }
  function apply(state) {
    var q = state.q.trim().toLowerCase();
    var n = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (!state.verdict || r.getAttribute("data-verdict") === state.verdict) &&
        (!q || texts[i].indexOf(q) !== -1);
      r.hidden = !ok;
      if (ok) { n++; }
    }
    if (sel.value !== state.verdict) {
      sel.value = state.verdict;
      if (sel.value !== state.verdict) {
        var o = document.createElement("option");
        o.value = state.verdict; o.textContent = state.verdict;
        sel.appendChild(o); sel.value = state.verdict;
      }
    }
    if (box.value !== state.q) { box.value = state.q; }
    shown.textContent = n.toLocaleString() + " of " + rows.length.toLocaleString() + " rows";
    nomatch.hidden = n !== 0 || rows.length === 0;
    cards.forEach(function (c) {
      c.classList.toggle("active", c.getAttribute("data-filter") === state.verdict);
    });
    document.body.setAttribute("data-filtered", state.verdict || state.q ? "yes" : "no");
  }
  function current() { return { verdict: sel.value, q: box.value }; }
  var timer = null;
  sel.addEventListener("change", function () { write(current()); apply(current()); });
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { write(current()); apply(current()); }, 120);
  });
  cards.forEach(function (c) {
    c.addEventListener("click", function (ev) {
      ev.preventDefault();
      var v = c.getAttribute("data-filter");
      var st = { verdict: sel.value === v ? "" : v, q: box.value };
      write(st); apply(st);
      document.getElementById("files").scrollIntoView({ behavior: "smooth" });
    });
  });
  var body = document.getElementById("rows");
  var heads = Array.prototype.slice.call(document.querySelectorAll("th[data-sort]"));
  function key(r, col) {
    if (col === "verdict") { return r.getAttribute("data-rank") || "9"; }
    var c = r.children[parseInt(heads[col].getAttribute("data-sort"), 10)];
    return c ? c.textContent.toLowerCase() : "";
  }
  heads.forEach(function (h, col) {
    var b = h.querySelector("button");
    b.addEventListener("click", function () {
      var asc = h.getAttribute("aria-sort") !== "ascending";
      var name = h.getAttribute("data-col") === "verdict" ? "verdict" : col;
      var order = rows.map(function (r, i) { return [key(r, name), i]; });
      order.sort(function (x, y) {
        var d = x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] - y[1];
        return asc ? d : -d;
      });
      heads.forEach(function (o) { o.removeAttribute("aria-sort"); });
      h.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var frag = document.createDocumentFragment();
      var nr = [], nt = [];
      order.forEach(function (p) {
        nr.push(rows[p[1]]); nt.push(texts[p[1]]); frag.appendChild(rows[p[1]]);
      });
      rows = nr; texts = nt;
      body.appendChild(frag);
    });
  });
  window.addEventListener("hashchange", function () { apply(read()); });
  apply(read());
})();
"""

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_JS.encode("utf-8")).digest()).decode("ascii")
_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)

_SUMMARY_LABELS = {
    "files": "Files",
    "ai_generated": "Declared AI-generated",
    "errors": "Errors",
    "scanned": "Scanned by this run",
    "resumed": "Resumed from an earlier run",
    "superseded": "Replaced (file changed)",
    "skipped": "Skipped",
    "elapsed_s": "Elapsed",
    "files_per_s": "Speed",
    "roots": "Roots",
    "started": "Started",
    "finished": "Finished",
    "aimark_version": "aimark version",
    "interrupted": "Interrupted",
    "by_status": "By verdict (scan)",
}


def _e(value: Any) -> str:
    """``value`` escaped for HTML, and readable (no lone surrogates or control characters),
    so that no value can stop the page from being written."""
    return escape(readable(value), quote=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _verdict_class(status: str) -> str:
    return f"v-{status}" if status in VERDICTS else "v-other"


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def _fmt_bytes(text: str) -> str:
    try:
        n = float(int(text))
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


def _fmt_value(key: str, value: Any, depth: int = 0) -> str:
    """Escaped HTML for one summary value of any JSON-like type."""
    if value is None:
        return '<span class="dim">—</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return _e(_fmt_int(value))
    if isinstance(value, float):
        if key == "elapsed_s":
            return _e(_fmt_duration(value))
        if key == "files_per_s":
            return _e(f"{value:,.1f} files/s")
        return _e(f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}")
    if isinstance(value, dict) and depth < 2:
        if not value:
            return '<span class="dim">none</span>'
        return ", ".join(
            f"{_e(k)}: {_fmt_value(str(k), v, depth + 1)}" for k, v in list(value.items())[:200]
        )
    if isinstance(value, (list, tuple)) and depth < 2:
        if not value:
            return '<span class="dim">none</span>'
        return ", ".join(_fmt_value(key, v, depth + 1) for v in list(value)[:200])
    return _e(value)


def _fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _fmt_time(value: Any) -> str:
    text = str(value)
    if len(text) >= 19 and text[10:11] == "T":  # ISO 8601: drop the T and fractions
        return text[:10] + " " + text[11:19] + (" UTC" if text.endswith(("Z", "+00:00")) else "")
    return text


class HtmlReport:
    """Collects verify reports and writes one self-contained HTML page for them.

    Args:
        path: where the page goes; its folder must exist and be writable (checked now, by
            creating the temporary row file there).
        title: the page title.
        max_rows: rows kept for the table; later files are still counted, and the page says
            the table shows only the first ``max_rows``.
        max_thumbnails: thumbnails embedded at most (each a small base64 JPEG, a few KB).

    :meth:`add` each report, then :meth:`close` with the scan's summary to write the page, or
    :meth:`abort` to drop everything. Used as a context manager, an exception inside the
    ``with`` block aborts (a page already at ``path`` is left as it was); leaving the block
    normally without having called ``close`` or ``abort`` closes with an empty summary, so the
    page still has the counts and rows of everything added.

    Memory is bounded: counts only (at most 200 generator names and 50 verdict statuses, the
    rest counted as "other"; every value clipped to 500 characters), rows stream to a file.
    One instance is meant for one thread (the scan's collecting loop).

    Raises:
        OutputError: the folder does not exist or cannot be written (now, or at close).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        title: str = "aimark scan report",
        max_rows: int = 50_000,
        max_thumbnails: int = 1_000,
    ) -> None:
        if max_rows < 0 or max_thumbnails < 0:
            raise ValueError("max_rows and max_thumbnails must not be negative")
        self.path = Path(path)
        self.title = str(title)
        self.max_rows = max_rows
        self.max_thumbnails = max_thumbnails
        self.files = 0
        self.rows = 0
        self.thumbnails = 0
        self.thumbnails_dropped = 0
        self.ai_generated = 0
        self.by_status: dict[str, int] = {}
        self.by_generator: dict[str, int] = {}
        self._state = "open"
        self._folder = self.path.parent if str(self.path.parent) else Path(".")
        if self.path.is_dir():
            raise OutputError(f"{self.path} is a directory")
        try:
            fd, name = temp_sibling(self.path, ".rows.tmp")
        except OSError as exc:
            raise OutputError(f"cannot write in {self._folder}: {exc.strerror or exc}") from None
        self._rows_path = Path(name)
        self._rows: IO[bytes] = os.fdopen(fd, "wb")
        # where each row starts in the row file, and its verdict's rank: 9 bytes a row
        self._starts = array.array("Q")
        self._ranks = bytearray()
        # removes the row file if the object is dropped without close() or abort()
        self._finalizer = weakref.finalize(self, _discard, self._rows, self._rows_path)

    # -- collecting ------------------------------------------------------------------------

    def add(self, report: dict[str, Any], thumbnail: bytes | None = None) -> None:
        """Count one report (a ``Report.to_dict()``, maybe with a ``"file"`` key) and add its
        row to the table while fewer than ``max_rows`` rows are kept.

        ``thumbnail`` (JPEG bytes, e.g. from :func:`aimark.scanner.thumbnail.make_thumbnail`) is
        shown only for labelled files, for the first ``max_thumbnails`` of them.
        """
        if self._state != "open":
            raise ValueError(f"the report is {self._state}")
        row = row_for(report)
        # every value is clipped: a hostile file can put megabytes into a metadata field
        row = {k: _clip(v, 4096 if k == "path" else _MAX_FIELD) for k, v in row.items()}
        status = _clip(row["verdict"], 60) or "unknown"
        if status not in self.by_status and len(self.by_status) >= _MAX_STATUSES:
            status = _OTHER
        self.files += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        generator = ""
        if row["ai_generated"] == "yes":  # "by generator" counts what is declared AI-made
            self.ai_generated += 1
            generator = _clip(row["generator"].strip(), 120) or "(not named)"
        if generator:
            if generator not in self.by_generator and len(self.by_generator) >= _MAX_GENERATORS:
                generator = _OTHER
            self.by_generator[generator] = self.by_generator.get(generator, 0) + 1
        if self.rows >= self.max_rows:
            return
        if isinstance(report.get("file"), dict) and not row["size"]:
            row["size"] = str(report["file"].get("size") or "")
        thumb = None
        if thumbnail and status.startswith("labelled-"):
            if (
                self.thumbnails < self.max_thumbnails
                and len(thumbnail) <= _MAX_THUMBNAIL_BYTES
                and bytes(thumbnail[:3]) == _JPEG_MAGIC
            ):
                thumb = base64.b64encode(bytes(thumbnail)).decode("ascii")
                self.thumbnails += 1
            else:
                self.thumbnails_dropped += 1
        html = _row_html(row, status, thumb).encode("utf-8")
        try:
            self._starts.append(self._rows.tell())
            self._ranks.append(RANK.get(status, 8))
            self._rows.write(html)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write in {self._folder}: {exc.strerror or exc}") from None
        self.rows += 1

    # -- finishing -------------------------------------------------------------------------

    def close(self, summary: dict[str, Any]) -> None:
        """Write the page atomically: a temporary file beside ``path``, then ``os.replace``.

        ``summary`` is the scan's summary (any of files, by_status, ai_generated, errors,
        skipped, resumed, elapsed_s, files_per_s, roots, started, finished, aimark_version,
        interrupted; other keys are listed as they are).

        Raises:
            OutputError: the page cannot be written; ``path`` is then untouched.
        """
        if self._state != "open":
            raise ValueError(f"the report is {self._state}")
        self._state = "closing"
        try:
            self._rows.close()
            with AtomicFile(self.path, newline="\n") as page:
                page.file.write(self._head(summary or {}))
                with open(self._rows_path, "rb") as rows:
                    # invalid first, then labelled (most strongly backed first), errors,
                    # then unlabelled; in scan order within each (the page re-sorts by any
                    # column)
                    ends = [*self._starts[1:], os.fstat(rows.fileno()).st_size]
                    for i in sorted(range(len(self._starts)), key=self._ranks.__getitem__):
                        rows.seek(self._starts[i])
                        page.file.write(rows.read(ends[i] - self._starts[i]).decode("utf-8"))
                page.file.write(self._tail())
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        finally:
            self._finalizer()
            self._state = "closed"

    def abort(self) -> None:
        """Drop everything collected; a page already at ``path`` is left untouched."""
        if self._state in ("closed", "aborted"):
            return
        self._finalizer()
        self._state = "aborted"

    def __enter__(self) -> HtmlReport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif self._state == "open":
            self.close({})

    # -- the page --------------------------------------------------------------------------

    def _statuses(self) -> list[str]:
        known = [s for s in VERDICTS]
        extra = sorted(s for s in self.by_status if s not in VERDICTS)
        return known + extra

    def _head(self, summary: dict[str, Any]) -> str:
        title = _e(self.title)
        parts = [
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            '<meta name="referrer" content="no-referrer">\n',
            '<meta name="generator" content="aimark scan">\n',
            f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n",
            self._header(summary),
            self._verdict_section(),
            '<div class="two">\n',
            self._generator_section(),
            self._details_section(summary),
            "</div>\n",
            self._table_start(),
        ]
        return "".join(parts)

    def _header(self, summary: dict[str, Any]) -> str:
        meta = []
        roots = summary.get("roots")
        if roots:
            if isinstance(roots, (str, os.PathLike)):
                roots = [roots]
            shown = list(roots)[:20]
            more = f" and {len(roots) - 20} more" if len(roots) > 20 else ""
            meta.append(
                "<span>Scanned "
                + " ".join(f"<code>{_e(r)}</code>" for r in shown)
                + more
                + "</span>"
            )
        if summary.get("started"):
            when = _fmt_time(summary["started"])
            if summary.get("finished"):
                when += " → " + _fmt_time(summary["finished"])
            meta.append(f"<span>{_e(when)}</span>")
        version = summary.get("aimark_version") or __version__
        meta.append(f"<span>aimark {_e(version)}</span>")
        html = [
            f"<header>\n<h1>{_e(self.title)}</h1>\n",
            f'<p class="meta">{"".join(meta)}</p>\n',
        ]
        if summary.get("interrupted"):
            html.append(
                '<p class="banner" role="status">The scan was interrupted: this page covers '
                "only the files scanned before it stopped.</p>\n"
            )
        files = summary.get("files")
        files = files if isinstance(files, int) and not isinstance(files, bool) else self.files
        errors = self.by_status.get("error", 0)
        totals = [
            (files, "files"),
            (self.ai_generated, "declared AI-generated"),
            (sum(v for k, v in self.by_status.items() if k.startswith("labelled-")), "labelled"),
            (errors, "errors"),
        ]
        skipped = summary.get("skipped")
        if isinstance(skipped, dict) and skipped:
            total = sum(v for v in skipped.values() if isinstance(v, int))
            totals.append((total, "skipped"))
        elapsed = summary.get("elapsed_s")
        html.append('<div class="totals">')
        for n, label in totals:
            html.append(f'<div class="total"><b>{_e(_fmt_int(n))}</b><span>{label}</span></div>')
        if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool):
            html.append(
                f'<div class="total"><b>{_e(_fmt_duration(float(elapsed)))}</b>'
                "<span>elapsed</span></div>"
            )
        html.append("</div>\n</header>\n")
        return "".join(html)

    def _verdict_section(self) -> str:
        total = self.files
        cards = []
        stack = []
        for status in self._statuses():
            n = self.by_status.get(status, 0)
            cls = _verdict_class(status)
            pct = f"{100 * n / total:.0f}%" if total else "–"
            desc = VERDICTS.get(status, "")
            frag = "#verdict=" + quote(status, safe="")
            cards.append(
                f'<a class="card {cls}{" zero" if not n else ""}" href="{_e(frag)}" '
                f'data-filter="{_e(status)}" title="show only: {_e(status)}">'
                f'<span class="pct">{pct}</span><div class="n">{_fmt_int(n)}</div>'
                f'<div class="name">{_e(status)}</div><div class="desc">{_e(desc)}</div></a>\n'
            )
            if n:
                stack.append(
                    f'<i class="{cls}" style="width:{100 * n / total:.3f}%" '
                    f'title="{_e(status)}: {_fmt_int(n)}"></i>'
                )
        return (
            '<section id="verdicts" aria-label="files by verdict">\n<h2>By verdict</h2>\n'
            f'<div class="cards">\n{"".join(cards)}</div>\n'
            f'<div class="stack" aria-hidden="true">{"".join(stack)}</div>\n</section>\n'
        )

    def _generator_section(self) -> str:
        items = sorted(self.by_generator.items(), key=lambda kv: (kv[0] == _OTHER, -kv[1], kv[0]))
        body: list[str] = []
        if not items:
            body.append('<p class="empty">No file names a generator.</p>\n')
        else:
            top = max(n for _, n in items)

            def li(name: str, n: int) -> str:
                frag = "#q=" + quote(name, safe="")
                label = (
                    f'<span class="dim">other ({len(self.by_generator) - 1}+ more names)</span>'
                    if name == _OTHER and len(self.by_generator) >= _MAX_GENERATORS
                    else f'<a href="{_e(frag)}" title="search for {_e(name)}">{_e(name)}</a>'
                )
                return (
                    f'<li>{label}<span class="num">{_fmt_int(n)}</span>'
                    f'<span class="bar"><i style="width:{100 * n / top:.2f}%"></i></span></li>\n'
                )

            body.append('<ul class="bars">\n')
            body.extend(li(name, n) for name, n in items[:12])
            body.append("</ul>\n")
            if len(items) > 12:
                body.append(
                    f'<details><summary>{len(items) - 12} more</summary><ul class="bars">\n'
                )
                body.extend(li(name, n) for name, n in items[12:])
                body.append("</ul></details>\n")
        return (
            '<section id="generators" class="panel" aria-label="files by generator">\n'
            "<h2>By generator</h2>\n" + "".join(body) + "</section>\n"
        )

    def _details_section(self, summary: dict[str, Any]) -> str:
        rows = []
        for key, value in summary.items():
            key = str(key)
            if key in ("roots", "started", "finished", "aimark_version", "interrupted"):
                continue  # in the header (an interruption is a banner)
            if key == "by_status" and value == self.by_status:
                continue  # the cards show it
            if key == "by_generator":
                continue  # the generator panel shows it
            label = _SUMMARY_LABELS.get(key, key.replace("_", " "))
            rows.append(f"<dt>{_e(label)}</dt><dd>{_fmt_value(key, value)}</dd>\n")
        rows.append(f"<dt>Rows in the table</dt><dd>{_fmt_int(self.rows)}</dd>\n")
        if self.thumbnails or self.thumbnails_dropped:
            text = _fmt_int(self.thumbnails)
            if self.thumbnails_dropped:
                text += f" ({_fmt_int(self.thumbnails_dropped)} more not embedded)"
            rows.append(f"<dt>Thumbnails</dt><dd>{text}</dd>\n")
        return (
            '<section id="details" class="panel" aria-label="scan details">\n'
            f'<h2>Scan</h2>\n<dl class="kv">\n{"".join(rows)}</dl>\n</section>\n'
        )

    def _table_start(self) -> str:
        options = ['<option value="">All verdicts</option>']
        for status in self._statuses():
            n = self.by_status.get(status, 0)
            if n:
                options.append(
                    f'<option value="{_e(status)}">{_e(status)} ({_fmt_int(n)})</option>'
                )
        note = ""
        if self.files > self.rows:
            note = (
                f'<p class="note" id="truncated">The table shows the first '
                f"{_fmt_int(self.rows)} of {_fmt_int(self.files)} files; "
                "the JSON Lines output has all.</p>\n"
            )
        titles = ("File", "Verdict", "Layers", "Generator", "Signer / trust", "Watermark / ID",
                  "Compliance", "Error")  # fmt: skip
        head = '<th><span class="dim">Preview</span></th>' + "".join(
            f'<th data-sort="{i}" data-col="{col}"><button type="button" class="sort" '
            f'title="sort by {h.lower()}">{h}</button></th>'
            for i, (col, h) in enumerate(zip(_COLUMNS[1:], titles, strict=True), start=1)
        )
        return (
            '<section id="files" aria-label="files">\n<h2>Files</h2>\n'
            '<div class="filters">'
            '<label><span class="dim">Verdict </span>'
            f'<select id="f-verdict">{"".join(options)}</select></label>'
            '<input id="f-q" type="search" placeholder="Search path, generator, signer, error…" '
            'aria-label="search" autocomplete="off">'
            f'<span class="count" id="shown">{_fmt_int(self.rows)} rows</span></div>\n'
            f"{note}"
            '<div class="tablewrap"><table>\n<colgroup>'
            + "".join(f'<col class="c-{c}">' for c in _COLUMNS)
            + "</colgroup>\n"
            f'<thead><tr>{head}</tr></thead>\n<tbody id="rows">\n'
        )

    def _tail(self) -> str:
        empty = (
            '<p class="empty" id="norows" style="padding:18px;text-align:center">'
            "No files were scanned.</p>\n"
            if self.rows == 0
            else ""
        )
        return (
            "</tbody></table>\n"
            f"{empty}"
            '<p id="nomatch" hidden>No file matches this filter.</p>\n'
            "</div>\n</section>\n"
            "<footer>Made by aimark scan. Verdicts say what the files declare and how strongly "
            "that is backed; a file without a label is not proven to be human-made.</footer>\n"
            f"</main>\n<script>{_JS}</script>\n</body>\n</html>\n"
        )


def _compliance_html(value: str) -> str:
    """The row's ``compliance`` column (``regime=status;...``) as one short line a regime."""
    out = []
    for part in value.split(";"):
        regime, _, status = part.partition("=")
        if regime and status:
            name = _REGIME_SHORT.get(regime, regime)
            out.append(
                f'<span class="rg s-{_e(status)}" title="{_e(regime)}">{_e(name)}: '
                f"<b>{_e(status)}</b></span>"
            )
    return "".join(out)


def _discard(handle: IO[bytes], path: Path) -> None:
    with contextlib.suppress(OSError):
        handle.close()
    with contextlib.suppress(OSError):
        path.unlink()


def _row_html(row: dict[str, str], status: str, thumb: str | None) -> str:
    """One table row; every value from the report is escaped."""
    path = row["path"]
    # a POSIX path's backslashes are readable()'s escapes, not separators
    cut = path.rfind("/") if "/" in path else path.rfind("\\")
    folder, name = (path[: cut + 1], path[cut + 1 :]) if cut >= 0 else ("", path)
    kind = row["type"] or "file"
    if thumb is not None:
        preview = f'<img src="data:image/jpeg;base64,{thumb}" alt="" loading="lazy">'
    else:
        preview = f'<span class="ph">{_e(kind.upper()[:5])}</span>'
    sub = " · ".join(x for x in (row["type"], _fmt_bytes(row["size"])) if x)
    layers = list(dict.fromkeys(x for x in row["layers"].split(";") if x))
    chips = "".join(f'<span class="chip" title="{_e(x)}">{_e(x)}</span>' for x in layers)
    ids = []
    if row["watermark_payload"]:
        ids.append(
            f'<div class="mono" title="watermark payload">{_e(row["watermark_payload"])}</div>'
        )
    if row.get("watermark_time"):
        ids.append(
            f'<div class="mono dim" title="seconds of the clip where the watermark was found">'
            f"{_e(row['watermark_time'])} s</div>"
        )
    if row["content_id"]:
        ids.append(f'<div class="mono dim" title="content ID">{_e(row["content_id"])}</div>')
    trust = row["trust"] if row["trust"] not in ("", "absent") else ""
    signer = _e(row["signer"])
    if trust:
        cls = f"t-{trust}" if trust in ("trusted", "valid-untrusted", "invalid") else ""
        signer += f'<span class="trust {cls}" title="C2PA trust">{_e(trust)}</span>'

    def td(cls: str, label: str, content: str) -> str:
        blank = " blank" if not content else ""
        return f'<td class="{cls}{blank}" data-label="{label}">{content}</td>'

    return (
        f'<tr data-verdict="{_e(status)}" data-rank="{RANK.get(status, 8)}">'
        + td("thumb", "Preview", preview)
        + td(
            "path",
            "File",
            (f'<span class="dir">{_e(folder)}</span>' if folder else "")
            + f'<span class="file">{_e(name)}</span>'
            + (f'<div class="sub">{_e(sub)}</div>' if sub else ""),
        )
        + td(
            "verdict",
            "Verdict",
            f'<span class="pill {_verdict_class(status)}" title="{_e(row["summary"])}">'
            f"{_e(status)}</span>",
        )
        + td("layers", "Layers", chips)
        + td("generator", "Generator", _e(row["generator"]))
        + td("signer", "Signer", signer)
        + td("ids", "Watermark", "".join(ids))
        + td("compliance", "Compliance", _compliance_html(row["compliance"]))
        + td(
            "error", "Error", f'<span class="err">{_e(row["error"])}</span>' if row["error"] else ""
        )
        + "</tr>\n"
    )
