/* aimark verification page.
 *
 * Sends the chosen file to POST /v1/verify and shows the report. Everything that comes from a
 * report (file names, claim generators, EXIF, ...) is attacker-controlled: it is inserted with
 * textContent and DOM APIs only, never as HTML. The page's CSP allows only this script. */
(function () {
  "use strict";

  var KEY_STORE = "aimark.apiKey";
  var TEXT_PREVIEW_CHARS = 2000;
  var MAX_SHOWN = 400; // characters of one report string shown in a layer (the raw JSON has all)
  var IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|avif|heic|heif|bmp|svg)$/i;
  var TEXT_EXT = /\.(txt|text|md)$/i;

  // how verdicts, compliance regimes and signature states are worded: aimark.wording, the
  // one table the CLI and the HTML scan report read too (the server writes it in here)
  var WORDING = /*aimark.wording*/ null;
  var STATUS = (WORDING && WORDING.status) || {};
  var C2PA_STATE = (WORDING && WORDING.c2pa_state) || {};
  var REGIME_STATUS = {};
  var INCONCLUSIVE = (WORDING && WORDING.inconclusive) || {};
  Object.keys((WORDING && WORDING.regime_status) || {}).forEach(function (k) {
    REGIME_STATUS[k] = [WORDING.regime_status[k]];
  });

  var SOURCE_TYPES = {
    trainedAlgorithmicMedia: "AI-generated",
    compositeWithTrainedAlgorithmicMedia: "Composite with AI-generated elements",
    compositeSynthetic: "Composite with synthetic elements",
    algorithmicMedia: "Algorithmic, generated without training data",
    algorithmicallyEnhanced: "Algorithmically enhanced",
    dataDrivenMedia: "Data-driven media",
    digitalCapture: "Digital capture (camera or recorder)",
    computationalCapture: "Computational capture",
    negativeFilm: "Scanned negative film",
    positiveFilm: "Scanned positive film",
    print: "Scanned print",
    humanEdits: "Edited by a person",
    minorHumanEdits: "Minor edits by a person",
    digitalCreation: "Made by a person with digital tools",
    digitalArt: "Digital art made by a person",
    screenCapture: "Screen capture",
    virtualRecording: "Virtual recording",
    composite: "Composite",
    compositeCapture: "Composite of captures",
  };

  var PROBLEMS = {
    "bad-request": "The server could not understand the request.",
    "bad-content-length": "The request had a bad Content-Length header.",
    "bad-multipart": "The upload was malformed.",
    "no-file": "The upload carried no file.",
    "too-many-files": "Send one file at a time.",
    unauthorized: "This server needs an API key: enter it above.",
    "upload-timeout": "The upload took too long. Try again on a faster connection.",
    "time-limit-exceeded": "Verifying this file took longer than the server allows.",
    "worker-crash": "The file crashed the verifier, so it was not verified.",
    "internal-error": "The server failed on this request (a bug; the server log has details).",
    busy: "The server is busy verifying other files. Try again in a moment.",
    "network-error": "Could not reach the server. Check your connection and try again.",
    "bad-response": "The server answered with something that is not a report.",
    "empty-input": "The file is empty.",
    "unsupported-format": "This is not a file type this server verifies (images, video, audio, documents or UTF-8 text).",
    "corrupt-input": "The file is damaged or is not what its type says.",
    "too-large": "The image has more pixels than this server accepts.",
  };

  var state = {
    limits: null, // /v1/version's limits, once known
    seq: 0, // the latest upload; answers for older ones are dropped
    controller: null,
    objectUrl: null,
    previewKind: "", // "image" (state.objectUrl is the picture) or the format's name
    previewFailed: false, // the browser could not draw the image
    pending: null, // the file waiting for an API key
    memoryKey: "",
    rawText: "",
  };

  function $(id) {
    return document.getElementById(id);
  }

  /* -- DOM helpers: text only ---------------------------------------------------------------- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function shorten(value) {
    var s = String(value);
    return s.length > MAX_SHOWN ? s.slice(0, MAX_SHOWN) + "\u2026" : s;
  }

  function clock(seconds) {
    // 83.25 -> "1:23.2": a time in a clip, as people read one
    var s = Math.max(0, Number(seconds) || 0);
    var m = Math.floor(s / 60);
    var rest = (s - 60 * m).toFixed(1);
    return m + ":" + (rest.length < 4 ? "0" : "") + rest;
  }

  function plural(n, one, many) {
    return n.toLocaleString("en") + " " + (n === 1 ? one : many || one + "s");
  }

  function formatBytes(n) {
    if (typeof n !== "number" || !isFinite(n)) return "unknown size";
    if (n < 1024) return plural(n, "byte");
    var units = ["KiB", "MiB", "GiB"];
    var v = n;
    var u = -1;
    do {
      v /= 1024;
      u += 1;
    } while (v >= 1024 && u < units.length - 1);
    return (v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, "")) + " " + units[u];
  }

  function bytesWithExact(n) {
    return n >= 1024 ? formatBytes(n) + " (" + plural(n, "byte") + ")" : formatBytes(n);
  }

  function sourceTypeName(uri) {
    var s = String(uri);
    var term = s.replace(/^https?:\/\/cv\.iptc\.org\/newscodes\/digitalsourcetype\//, "");
    return Object.prototype.hasOwnProperty.call(SOURCE_TYPES, term)
      ? SOURCE_TYPES[term] + " (" + term + ")"
      : s;
  }

  function announce(text) {
    var live = $("announce");
    live.textContent = "";
    // a change the screen reader notices even when the same text comes twice
    window.setTimeout(function () {
      live.textContent = text;
    }, 50);
  }

  /* -- the API key (session storage only) ---------------------------------------------------- */

  function getKey() {
    try {
      return window.sessionStorage.getItem(KEY_STORE) || "";
    } catch (e) {
      return state.memoryKey;
    }
  }

  function setKey(key) {
    state.memoryKey = key;
    try {
      if (key) window.sessionStorage.setItem(KEY_STORE, key);
      else window.sessionStorage.removeItem(KEY_STORE);
    } catch (e) {
      /* storage disabled: the key lives in this page only */
    }
  }

  function authHeaders() {
    var key = getKey();
    return key ? { Authorization: "Bearer " + key } : {};
  }

  function askForKey(rejected) {
    var form = $("auth");
    form.hidden = false;
    $("auth-help").textContent = rejected
      ? "That API key was not accepted. Enter a valid key; it is kept in this browser tab only (session storage)."
      : "The key is kept in this browser tab only (session storage) and sent with each request.";
    var input = $("api-key");
    if (document.activeElement !== input) input.focus();
  }

  /* -- /v1/version: limits and the footer ---------------------------------------------------- */

  function loadVersion() {
    return fetch("/v1/version", { headers: authHeaders(), cache: "no-store" })
      .then(function (res) {
        if (res.status === 401) {
          askForKey(Boolean(getKey()));
          $("server-info").textContent = "Server information needs an API key.";
          return;
        }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json().then(showVersion);
      })
      .catch(function () {
        $("server-info").textContent = "Server information is unavailable.";
      });
  }

  function showVersion(v) {
    $("auth").hidden = true;
    state.limits = v.limits || null;
    var parts = ["aimark " + v.aimark];
    if (v.c2pa_python) parts.push("c2pa-python " + v.c2pa_python);
    parts.push(plural(Number(v.trust_anchors) || 0, "trust anchor"));
    parts.push(plural(Number(v.watermark_keys) || 0, "watermark key"));
    if (v.public_watermarks) parts.push("public watermarks checked");
    if (state.limits && state.limits.max_body_bytes) {
      parts.push("files up to " + formatBytes(state.limits.max_body_bytes));
      $("limit-hint").textContent = ", up to " + formatBytes(state.limits.max_body_bytes);
    }
    var info = $("server-info");
    clear(info);
    info.appendChild(el("span", "server-version", parts.join(" \u00b7 ")));
  }

  /* -- choosing and sending a file ----------------------------------------------------------- */

  function isImage(file) {
    return /^image\//.test(file.type) || IMAGE_EXT.test(file.name);
  }

  function isText(file) {
    return /^text\//.test(file.type) || TEXT_EXT.test(file.name);
  }

  function choose(file) {
    if (!file) return;
    state.seq += 1;
    var seq = state.seq;
    if (state.controller) state.controller.abort();
    state.controller = null;
    state.pending = null;

    $("result").hidden = false;
    // from now on the upload box is one compact "Verify another file" line above the result,
    // so the verdict is the first thing in view, on a phone too
    document.body.classList.add("has-result");
    $("result-name").textContent = file.name || "(unnamed file)";
    resetResult();
    showPreview(file);

    var max = state.limits && state.limits.max_body_bytes;
    if (max && file.size > max) {
      showError(
        "body-too-large",
        "This file is " + bytesWithExact(file.size) + "; this server accepts files up to " +
          bytesWithExact(max) + ". It was not uploaded.",
      );
      return;
    }
    upload(file, seq);
  }

  function upload(file, seq) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    state.controller = controller;
    setBusy(true, "Verifying " + (file.name || "the file") + "\u2026");
    var body = new FormData();
    body.append("file", file, file.name || "upload");
    fetch("/v1/verify", {
      method: "POST",
      body: body,
      headers: authHeaders(),
      cache: "no-store",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (res) {
        return res.text().then(function (text) {
          if (seq !== state.seq) return;
          handleAnswer(res, text, file);
        });
      })
      .catch(function (err) {
        if (seq !== state.seq || (err && err.name === "AbortError")) return;
        setBusy(false);
        showError("network-error", PROBLEMS["network-error"]);
      });
  }

  function handleAnswer(res, text, file) {
    setBusy(false);
    var body = null;
    try {
      body = JSON.parse(text);
    } catch (e) {
      body = null;
    }
    if (body === null || typeof body !== "object") {
      showError("bad-response", PROBLEMS["bad-response"] + " (HTTP " + res.status + ")");
      return;
    }
    showRaw(text, body);
    var isReport = body.schema === "aimark.report" && body.verdict;
    if (isReport && (res.ok || res.status === 422)) {
      showReport(body);
      if (body.error) showError(body.error.code, body.error.message, "What the verifier said");
      return;
    }
    var err = body.error || {};
    var code = typeof err.code === "string" ? err.code : "http-" + res.status;
    if (res.status === 401) {
      state.pending = file;
      askForKey(Boolean(getKey()));
      showError(code, getKey() ? "That API key was not accepted." : PROBLEMS.unauthorized);
      return;
    }
    showError(code, problemWords(code, err.message, res));
  }

  function problemWords(code, message, res) {
    if (code === "body-too-large") {
      var max = state.limits && state.limits.max_body_bytes;
      return max
        ? "The file is too large: this server accepts uploads up to " + bytesWithExact(max) + "."
        : "The file is too large for this server" + (message ? " (" + message + ")." : ".");
    }
    if (code === "busy") {
      var wait = parseInt(res.headers.get("Retry-After") || "", 10);
      return (
        "The server is busy verifying other files. Try again" +
        (wait > 0 ? " in " + plural(wait, "second") + "." : " in a moment.")
      );
    }
    var words = PROBLEMS[code];
    if (words && message) return words + " (" + message + ")";
    return words || message || "The server answered HTTP " + res.status + ".";
  }

  /* -- showing results ----------------------------------------------------------------------- */

  function setBusy(busy, text) {
    $("busy").hidden = !busy;
    $("result").setAttribute("aria-busy", busy ? "true" : "false");
    if (busy) {
      $("busy-text").textContent = text;
      announce(text);
    }
  }

  function resetResult() {
    var verdict = $("verdict");
    verdict.hidden = true;
    verdict.removeAttribute("data-status");
    clear(verdict);
    var error = $("error");
    error.hidden = true;
    error.removeAttribute("data-code");
    clear(error);
    var layers = $("layers");
    layers.hidden = true;
    clear(layers);
    $("raw").hidden = true;
    $("raw").open = false;
    $("raw-json").textContent = "";
    $("copy-status").textContent = "";
    state.rawText = "";
  }

  function showError(code, message, title) {
    var box = $("error");
    clear(box);
    box.setAttribute("data-code", code);
    var head = el("p", "error-title");
    head.appendChild(el("span", "error-icon", "\u2715")).setAttribute("aria-hidden", "true");
    head.appendChild(document.createTextNode(" " + (title || errorTitle(code))));
    box.appendChild(head);
    box.appendChild(el("p", "error-message", message || PROBLEMS[code] || "Something went wrong."));
    var codeLine = el("p", "error-code", "Error code: ");
    codeLine.appendChild(el("code", null, code));
    box.appendChild(codeLine);
    box.hidden = false;
    if ($("verdict").hidden) announce(errorTitle(code) + ". " + (message || ""));
  }

  function errorTitle(code) {
    if (code === "unauthorized") return "API key needed";
    if (code === "busy") return "Server busy";
    if (code === "network-error") return "No connection to the server";
    if (code === "body-too-large") return "File too large";
    return "Could not verify the file";
  }

  function showRaw(text, body) {
    var pretty;
    try {
      pretty = JSON.stringify(body, null, 2);
    } catch (e) {
      pretty = text;
    }
    state.rawText = pretty;
    $("raw-json").textContent = pretty;
    $("raw").hidden = false;
  }

  function showReport(r) {
    var v = r.verdict || {};
    var info = STATUS[v.status] || {
      tone: "none",
      icon: "?",
      badge: String(v.status),
      headline: "Result: " + String(v.status),
    };
    var box = $("verdict");
    clear(box);
    box.className = "verdict tone-" + info.tone;
    box.setAttribute("data-status", String(v.status));

    var icon = el("span", "verdict-icon", info.icon);
    icon.setAttribute("aria-hidden", "true");
    box.appendChild(icon);

    var body = el("div", "verdict-body");
    body.appendChild(el("p", "verdict-badge", info.badge));
    var headline = info.headline;
    if (v.status === "labelled-unsigned" && v.backing === "public-watermark") {
      headline = "Labelled as AI-generated \u2014 by a public invisible watermark only";
    }
    body.appendChild(el("h3", "verdict-headline", headline));
    var failed = v.status === "error";
    if (v.summary && !failed) body.appendChild(el("p", "verdict-summary", shorten(v.summary)));
    var note = info.note;
    if (v.status === "labelled-unsigned" && v.backing === "public-watermark") {
      note = "Public watermarks can be added or removed by anyone: treat this as a hint, not proof.";
    }
    if (failed) {
      var code = r.error && typeof r.error.code === "string" ? r.error.code : "";
      note =
        (PROBLEMS[code] ? PROBLEMS[code] + " " : "") +
        "No label could be checked, so this says nothing about whether the file is AI-generated.";
    }
    if (note) body.appendChild(el("p", "verdict-note", note));
    var reasons = Array.isArray(v.reasons) && !failed ? v.reasons : [];
    if (reasons.length) {
      body.appendChild(el("h4", "verdict-reasons-title", "Why"));
      var list = el("ul", "verdict-reasons");
      reasons.forEach(function (reason) {
        list.appendChild(el("li", null, shorten(reason)));
      });
      body.appendChild(list);
    }
    box.appendChild(body);
    box.hidden = false;

    showLayers(r);
    announce("Result: " + headline + ".");
  }

  /* -- the layers ---------------------------------------------------------------------------- */

  // one row: a label and a value (text, a list of texts, or a node); empty values are skipped
  function row(dl, label, value) {
    if (value === null || value === undefined || value === "") return;
    if (Array.isArray(value) && value.length === 0) return;
    dl.appendChild(el("dt", null, label));
    var dd = el("dd");
    if (Array.isArray(value)) {
      var ul = el("ul", "plain-list");
      value.forEach(function (item) {
        ul.appendChild(item instanceof Node ? wrapLi(item) : el("li", null, shorten(item)));
      });
      dd.appendChild(ul);
    } else if (value instanceof Node) {
      dd.appendChild(value);
    } else {
      dd.textContent = shorten(value);
    }
    dl.appendChild(dd);
  }

  function wrapLi(node) {
    var li = el("li");
    li.appendChild(node);
    return li;
  }

  function mono(text) {
    return el("code", "mono", shorten(text));
  }

  // one layer: a folded <details> whose summary line names it and gives its state in a word
  function layer(id, title, stateText, tone, open) {
    var section = el("details", "card layer");
    section.id = "layer-" + id;
    section.open = Boolean(open);
    var head = el("summary", "layer-head");
    var h = el("h3", "layer-title", title);
    h.id = "layer-" + id + "-title";
    head.appendChild(h);
    var chip = el("span", "chip tone-" + tone, stateText);
    chip.id = "layer-" + id + "-state";
    head.appendChild(chip);
    section.appendChild(head);
    var body = el("div", "layer-body");
    section.appendChild(body);
    var dl = el("dl", "facts");
    body.appendChild(dl);
    $("layers").appendChild(section);
    return { section: section, body: body, dl: dl };
  }

  function yesNo(b) {
    return b ? "Yes" : "No";
  }

  function showLayers(r) {
    var layers = $("layers");
    clear(layers);
    var media = r.media || {};
    var isTextFile = media.format === "text";
    if (r.verdict && r.verdict.status !== "error") {
      c2paLayer(r, r.c2pa || {});
      if (r.recovery) recoveryLayer(r.recovery);
      metadataLayer(r.metadata || {}, isTextFile);
      watermarkLayer(r.watermark || {}, isTextFile);
      if (r.compliance) complianceLayer(r.compliance);
    }
    mediaLayer(r, media);
    layers.hidden = false;
  }

  // which labelling requirements the file meets, per regime (technical evidence only)
  function complianceLayer(comp) {
    var regimes = comp.regimes || [];
    var met = regimes.filter(function (g) { return g.status === "met"; }).length;
    var L = layer("compliance", "Labelling requirements", met + " of " + regimes.length + " met",
      met === regimes.length ? "trusted" : met ? "caution" : "none");
    regimes.forEach(function (g) {
      var inner = el("dl", "facts nested");
      (g.requirements || []).forEach(function (q) {
        var mark = q.met === true ? "Yes" : q.met === false ? "No" : "Not determined";
        row(inner, q.text, mark + " — " + q.evidence);
      });
      var words = REGIME_STATUS[g.status] || [String(g.status)];
      row(L.dl, g.name + ": " + words[0], inner);
    });
    row(L.dl, "Note", "Technical evidence about this file, not legal advice.");
  }

  // credentials the server's manifest repository gave back for a file without a manifest
  function recoveryLayer(rec) {
    var chip = {
      recovered: "Recovered",
      mismatch: "Mismatch",
      invalid: "Invalid",
      unavailable: "Unavailable",
    }[rec.status] || String(rec.status);
    var tone = rec.status === "recovered" ? "trusted" : "caution";
    var L = layer("recovery", "Recovered Content Credentials", chip, tone, true);
    var c = rec.c2pa || {};
    var how = rec.method === "watermark" ? "By the invisible watermark" : "By the picture's fingerprint";
    if (rec.method === "fingerprint" && typeof rec.distance === "number") {
      how += " (" + rec.distance + " of 256 bits apart)";
    }
    if (rec.status === "recovered" || rec.status === "mismatch") row(L.dl, "Found", how);
    if (rec.status === "recovered") {
      row(L.dl, "Signature", (C2PA_STATE[c.state] || [String(c.state)])[0]);
      if (c.signer) row(L.dl, "Signed by", shorten(c.signer.common_name || "(no common name)"));
      row(L.dl, "Made with", c.software_agents || []);
      row(L.dl, "Digital source types", (c.digital_source_types || []).map(sourceTypeName));
      row(L.dl, "This file", "Not the signed file itself: " + String(rec.hard_binding || ""));
      row(L.dl, "Manifest id", rec.manifest_id ? mono(rec.manifest_id) : null);
    }
    row(L.dl, "Note", rec.note);
  }

  function c2paLayer(r, c) {
    var words = C2PA_STATE[c.state] || [String(c.state), "none"];
    var chip = {
      trusted: "Trusted",
      "valid-untrusted": "Untrusted signer",
      invalid: "Invalid",
      remote: "Remote",
      absent: "None",
    }[c.state] || String(c.state);
    var L = layer("c2pa", "C2PA Content Credentials", chip, words[1], c.state !== "absent");
    row(L.dl, "State", words[0]);
    if (c.state === "absent") return;
    L.body.insertBefore(chainTree(r, c), L.dl);
    var s = c.signer || null;
    if (s) {
      var who = el("span", "signer");
      who.id = "c2pa-signer";
      who.textContent = shorten(s.common_name || "(no common name)");
      row(L.dl, "Signed by", who);
    }
    row(L.dl, "Remote manifest address", c.remote_url);
    row(
      L.dl,
      "Validation failures",
      (c.failures || []).map(function (f) {
        var span = el("span");
        span.appendChild(el("code", "mono", shorten(f.code)));
        if (f.explanation) span.appendChild(document.createTextNode(" \u2014 " + shorten(f.explanation)));
        return span;
      }),
    );
    row(L.dl, "Problem", c.error);
    row(L.dl, "Text wrapper", c.text_wrapper);

    // the rest of the active manifest, folded: the chain above already says the essentials
    var more = el("details", "more");
    more.id = "c2pa-more";
    more.appendChild(el("summary", null, "More about this file\u2019s manifest"));
    var dl = el("dl", "facts");
    more.appendChild(dl);
    if (s) {
      row(dl, "Certificate issuer", s.issuer);
      row(dl, "Signature algorithm", s.alg);
      row(dl, "Signed at (time stamp)", s.time);
    }
    row(dl, "AI declared", yesNo(c.ai_declared));
    row(dl, "Digital source types", (c.digital_source_types || []).map(sourceTypeName));
    row(dl, "Claim generator", c.claim_generator);
    row(dl, "Software agents", c.software_agents || []);
    row(
      dl,
      "Actions",
      (c.actions || []).map(function (a) {
        var parts = [a.action];
        if (a.software_agent) parts.push("by " + a.software_agent);
        if (a.when) parts.push("at " + a.when);
        if (a.description) parts.push("(" + a.description + ")");
        return parts.join(" ");
      }),
    );
    row(dl, "Title", c.title);
    row(dl, "Content id", c.content_id ? mono(c.content_id) : null);
    if (c.manifests > 1) row(dl, "Manifests in the file", String(c.manifests));
    L.body.appendChild(more);
  }

  /* -- the manifest chain: this file's manifest, then the manifests it was made from ---------- */

  var CHAIN_STATE = {
    trusted: ["Trusted", "trusted"],
    "valid-untrusted": ["Untrusted signer", "caution"],
    valid: ["Untrusted signer", "caution"],
    invalid: ["Invalid", "bad"],
    remote: ["Remote", "none"],
  };

  var RELATIONSHIP = { parentOf: "made from", componentOf: "component", inputTo: "input" };

  function actionName(a) {
    return String(a || "").replace(/^c2pa\./, "").replace(/[._]/g, " ");
  }

  // "declares AI-generated (trainedAlgorithmicMedia)", or that it declares no source type
  function declares(types, inherited) {
    if (types && types.length) return "Declares " + types.map(sourceTypeName).join(", ");
    return inherited
      ? "No digital source type of its own: the declaration below carries over"
      : "Declares no digital source type";
  }

  function thumbnail(kind) {
    var box = el("span", "chain-thumb");
    if (state.previewKind === "image" && state.objectUrl && !state.previewFailed) {
      var img = el("img");
      img.alt = "";
      img.decoding = "async";
      img.addEventListener("error", function () {
        clear(box);
        box.classList.add("chain-thumb-none");
        box.textContent = kind;
      });
      img.src = state.objectUrl;
      box.appendChild(img);
    } else {
      box.classList.add("chain-thumb-none");
      box.textContent = kind;
    }
    box.setAttribute("aria-hidden", "true");
    return box;
  }

  // one node: a thumbnail (the root only), a title, a state chip and a few lines of facts
  function chainNode(opts) {
    var li = el("li", "chain-node" + (opts.root ? " chain-root" : ""));
    var card = el("div", "chain-card");
    if (opts.thumb) card.appendChild(opts.thumb);
    var text = el("div", "chain-text");
    var head = el("p", "chain-head");
    head.appendChild(el("span", "chain-name", shorten(opts.title)));
    if (opts.tag) head.appendChild(el("span", "chain-tag", opts.tag));
    var words = CHAIN_STATE[opts.state] || [String(opts.state), "none"];
    head.appendChild(el("span", "chip tone-" + words[1] + " chain-state", words[0]));
    text.appendChild(head);
    opts.lines.forEach(function (line) {
      if (line) text.appendChild(el("p", "chain-line", shorten(line)));
    });
    card.appendChild(text);
    li.appendChild(card);
    return li;
  }

  function children(li) {
    var ul = li.querySelector(":scope > ul");
    if (!ul) {
      ul = el("ul", "chain-tree chain-children");
      li.appendChild(ul);
    }
    return ul;
  }

  function chainTree(r, c) {
    var box = el("div", "chain");
    var title = el("h4", "chain-title", "Manifest chain");
    title.id = "c2pa-chain-title";
    box.appendChild(title);
    var tree = el("ul", "chain-tree");
    tree.id = "c2pa-chain";
    tree.setAttribute("aria-labelledby", "c2pa-chain-title");
    box.appendChild(tree);

    var media = r.media || {};
    var kind = media.format ? String(media.format).toUpperCase() : "FILE";
    var ingest = c.ingest && c.ingest.platform ? c.ingest : null;
    var gb = (ingest && ingest.gb45438) || {};
    var s = c.signer || {};
    var ings = Array.isArray(c.ingredients) ? c.ingredients : [];
    var hasParent = ings.some(function (i) {
      return i.relationship === "parentOf";
    });
    var acts = (c.actions || []).map(function (a) {
      return actionName(a.action);
    });
    var root = chainNode({
      root: true,
      thumb: thumbnail(kind),
      title: ingest ? String(ingest.platform) : c.title || r.source || "This file",
      tag: "this file",
      state: c.state,
      lines: [
        ingest ? "Published by " + ingest.platform + (gb.Label ? " (GB 45438 Label " + gb.Label + ")" : "") : null,
        s.common_name ? "Signed by " + s.common_name + (s.issuer ? ", issued by " + s.issuer : "") : null,
        acts.length ? "Actions: " + acts.join(", ") : null,
        declares(c.digital_source_types, hasParent && c.ai_declared),
        (c.software_agents || []).length ? "Made with " + c.software_agents.join(", ") : null,
      ],
    });
    tree.appendChild(root);

    var chain = [root]; // chain[d]: the parent ingredient at depth d
    ings.forEach(function (i) {
      var failures = (i.failures || []).length ? "Fails: " + i.failures.join(", ") : null;
      var node = chainNode({
        title: i.title || "(untitled ingredient)",
        tag: RELATIONSHIP[i.relationship] || i.relationship || "ingredient",
        state: i.state,
        lines: [
          i.signer ? "Signed by " + i.signer + (i.issuer ? ", issued by " + i.issuer : "") : "No signer named",
          declares(i.digital_source_types, false),
          (i.software_agents || []).length ? "Made with " + i.software_agents.join(", ") : null,
          failures,
        ],
      });
      var depth = Math.max(1, Number(i.depth) || 1);
      var above = i.relationship === "parentOf" ? chain[Math.min(depth - 1, chain.length - 1)] : chain[depth - 1] || root;
      children(above).appendChild(node);
      if (i.relationship === "parentOf") chain[depth] = node;
    });
    return box;
  }

  function metadataLayer(m, isTextFile) {
    var L = layer(
      "metadata",
      "Metadata labels",
      m.ai_declared ? "AI declared" : "No AI label",
      m.ai_declared ? "caution" : "none",
    );
    if (isTextFile) {
      row(L.dl, "State", "Plain text carries no metadata fields.");
      return;
    }
    row(L.dl, "AI declared", m.ai_declared ? "Yes (unsigned: easy to add or remove)" : "No");
    row(L.dl, "Digital source types", (m.digital_source_types || []).map(sourceTypeName));
    row(L.dl, "AI system", m.ai_system);
    row(L.dl, "Creator tool", m.creator_tool);
    row(
      L.dl,
      "Generator markers",
      (m.markers || []).map(function (mk) {
        var text = mk.generator + " \u2014 in " + mk.where;
        return mk.detail ? text + " (" + mk.detail + ")" : text;
      }),
    );
    if (m.tc260_aigc) {
      var aigc = el("dl", "facts nested");
      Object.keys(m.tc260_aigc).forEach(function (k) {
        row(aigc, k, String(m.tc260_aigc[k]));
      });
      row(aigc, "Found in", (m.tc260_carriers || []).join(", "));
      row(L.dl, "GB 45438 AIGC label", aigc);
    }
    row(L.dl, "Visible disclosure", m.disclosure);
    row(L.dl, "Document id", m.document_id ? mono(m.document_id) : null);
    row(L.dl, "Data mining", m.data_mining);
    var exif = m.exif && typeof m.exif === "object" ? Object.keys(m.exif) : [];
    if (exif.length) {
      var inner = el("dl", "facts nested");
      exif.forEach(function (k) {
        row(inner, k, m.exif[k]);
      });
      row(L.dl, "EXIF text fields", inner);
    }
    row(L.dl, "Problems", m.problems || []);
  }

  function watermarkLayer(w, isTextFile) {
    var chip;
    var tone;
    var inconclusive = !w.detected && w.status === "inconclusive";
    if (w.detected) {
      chip = "Detected";
      tone = "watermark";
    } else if (inconclusive) {
      chip = "Inconclusive";
      tone = "caution";
    } else if (w.checked && (w.keys || []).length) {
      chip = "Not detected";
      tone = "none";
    } else {
      chip = "Not checked";
      tone = "none";
    }
    var L = layer("watermark", "Invisible watermark", chip, tone);
    var keys = w.keys || [];
    var stateText;
    if (w.detected) stateText = "Found the watermark of one of this server\u2019s keys";
    else if (inconclusive) stateText = "Cannot tell: " + (INCONCLUSIVE[w.reason] || String(w.reason));
    else if (w.checked && keys.length === 1) stateText = "Looked for the watermark of this server\u2019s key: not found";
    else if (w.checked && keys.length) stateText = "Looked for the watermarks of " + plural(keys.length, "key") + ": none found";
    else if (isTextFile) stateText = "Not checked: image watermarks do not apply to text";
    else if (w.checked) stateText = "This server has no watermark keys of its own";
    else stateText = "Not checked" + (w.status && w.status !== "not-checked" ? " (" + w.status + ")" : "");
    row(L.dl, "State", stateText);
    if (w.detected) {
      row(L.dl, "Key id", mono(w.key_id));
      row(L.dl, "Scheme", w.scheme);
      row(L.dl, "Payload", w.payload ? mono(w.payload) : null);
      var cid = null;
      if (w.content_id) {
        cid = mono(w.content_id);
        cid.id = "watermark-content-id";
      }
      row(L.dl, "Content id", cid);
      if (w.time_range && w.time_range.length === 2) {
        row(L.dl, "Found from", clock(w.time_range[0]) + " to " + clock(w.time_range[1]));
      }
      if (w.region && w.region.length === 4) {
        var pct = w.region.map(function (v) {
          return Math.round(100 * v);
        });
        row(
          L.dl,
          "Found in",
          "part of the picture only: x " + pct[0] + "\u2013" + pct[2] + " %, y " + pct[1] + "\u2013" + pct[3] +
            " % (the rest does not carry it: padding, a collage, or a marked picture pasted into another)",
        );
      }
    }
    if (!w.detected && !inconclusive && w.status && w.checked && w.status !== "not-detected") row(L.dl, "Detector status", w.status);
    row(L.dl, "Keys tried", keys.map(mono));
    var pub = w.public || [];
    if (pub.length) {
      row(
        L.dl,
        "Public watermarks",
        pub.map(function (p) {
          return p.name + ": " + (p.detected ? "detected" : "not detected");
        }),
      );
    }
  }

  function mediaLayer(r, media) {
    var kind = media.format === "text" ? "Text" : media.format ? String(media.format).toUpperCase() : "Unknown";
    var L = layer("media", "File", kind, "none");
    row(L.dl, "Name", r.source);
    row(L.dl, "Format", media.format ? kind + (media.mime ? " (" + media.mime + ")" : "") : "Not recognised");
    if (media.kind && media.kind !== "text") row(L.dl, "Kind", String(media.kind));
    if (media.width && media.height) {
      row(L.dl, "Dimensions", media.width.toLocaleString("en") + " \u00d7 " + media.height.toLocaleString("en") + " pixels");
    }
    if (media.frames && media.frames > 1) row(L.dl, "Frames", String(media.frames));
    row(L.dl, "Size", bytesWithExact(Number(media.bytes) || 0));
    row(L.dl, "Problems", media.problems || []);
    if (typeof r.trust_anchors === "number") row(L.dl, "Trust anchors used", String(r.trust_anchors));
  }

  /* -- the preview --------------------------------------------------------------------------- */

  function showPreview(file) {
    var box = $("preview");
    clear(box);
    if (state.objectUrl) {
      URL.revokeObjectURL(state.objectUrl);
      state.objectUrl = null;
    }
    var seq = state.seq;
    state.previewKind = "";
    state.previewFailed = false;
    if (isImage(file)) {
      var url = URL.createObjectURL(file);
      state.objectUrl = url;
      state.previewKind = "image";
      var img = el("img", "preview-image");
      img.alt = "Preview of " + (file.name || "the chosen image");
      img.decoding = "async";
      img.addEventListener("error", function () {
        if (seq !== state.seq) return;
        state.previewFailed = true;
        clear(box);
        var ext = (/\.([a-z0-9]+)$/i.exec(file.name || "") || [])[1];
        var what = ext ? ext.toUpperCase() + " image" : "image";
        box.appendChild(
          el(
            "p",
            "preview-note",
            "This browser cannot display this " + what + " (HEIC, AVIF and TIFF often cannot be shown, " +
              "and damaged files never can). The verification does not depend on the preview.",
          ),
        );
      });
      img.src = url;
      box.appendChild(img);
    } else if (isText(file) || !file.type) {
      var pre = el("pre", "preview-text", "Reading\u2026");
      box.appendChild(pre);
      file
        .slice(0, TEXT_PREVIEW_CHARS * 4)
        .text()
        .then(function (text) {
          if (seq !== state.seq) return;
          var shown = text.slice(0, TEXT_PREVIEW_CHARS);
          pre.textContent = shown;
          if (file.size > TEXT_PREVIEW_CHARS || text.length > TEXT_PREVIEW_CHARS) {
            box.appendChild(el("p", "preview-note", "Showing the first " + TEXT_PREVIEW_CHARS.toLocaleString("en") + " characters."));
          }
        })
        .catch(function () {
          pre.textContent = "";
          box.appendChild(el("p", "preview-note", "This file cannot be previewed."));
        });
    } else {
      box.appendChild(el("p", "preview-note", "No preview for this type of file."));
    }
    box.appendChild(el("p", "preview-facts", (file.type || "unknown type") + " \u00b7 " + formatBytes(file.size)));
  }

  /* -- copy ---------------------------------------------------------------------------------- */

  function copyRaw() {
    var status = $("copy-status");
    var text = state.rawText;
    function fallback() {
      var pre = $("raw-json");
      var range = document.createRange();
      range.selectNodeContents(pre);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      status.textContent = ok ? "Copied." : "Selected: press Ctrl+C (\u2318C) to copy.";
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () {
        status.textContent = "Copied.";
      }, fallback);
    } else {
      fallback();
    }
  }

  /* -- wiring -------------------------------------------------------------------------------- */

  function firstFile(list) {
    return list && list.length ? list[0] : null;
  }

  function init() {
    var input = $("file");
    var drop = $("drop");

    input.addEventListener("change", function () {
      var file = firstFile(input.files);
      if (file) choose(file);
      input.value = ""; // choosing the same file again verifies it again
    });

    function hasFiles(e) {
      var types = e.dataTransfer && e.dataTransfer.types;
      return types && Array.prototype.indexOf.call(types, "Files") !== -1;
    }
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (e) {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        drop.classList.add("dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      drop.addEventListener(name, function (e) {
        if (e.target === drop || !drop.contains(e.relatedTarget)) drop.classList.remove("dragging");
      });
    });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      drop.classList.remove("dragging");
      var files = e.dataTransfer && e.dataTransfer.files;
      var file = firstFile(files);
      if (file) choose(file);
      if (files && files.length > 1) announce("Only the first file is verified: " + file.name);
    });
    // a file dropped beside the zone must not make the browser leave the page to open it
    window.addEventListener("dragover", function (e) {
      if (hasFiles(e)) e.preventDefault();
    });
    window.addEventListener("drop", function (e) {
      if (e.defaultPrevented) return;
      e.preventDefault();
      var file = firstFile(e.dataTransfer && e.dataTransfer.files);
      if (file) choose(file);
    });

    $("auth").addEventListener("submit", function (e) {
      e.preventDefault();
      var key = $("api-key").value.trim();
      if (!key) return;
      setKey(key);
      $("api-key").value = "";
      $("auth").hidden = true;
      var pending = state.pending;
      loadVersion().then(function () {
        if (pending && pending === state.pending) choose(pending);
      });
    });

    $("copy").addEventListener("click", copyRaw);

    loadVersion();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
