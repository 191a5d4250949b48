"""The whole manifest store, as ``aimark verify --detailed`` shows it: every manifest with its
claim, signature and timestamp, assertions, ingredients (linked to the manifests they carry,
which makes a tree) and the validation results c2pa gives each.

Built from c2pa's two JSON views of one Reader: ``json()`` (ingredients and their links) and
``crjson()`` (certificate subjects, serials, validity, timestamps, per-manifest results). Every
value is plain JSON; the schema is documented in docs/cli.md ("The detailed view").

Example:
    >>> from aimark.manifest.store import build_store
    >>> report = {"active_manifest": "urn:a", "manifests": {"urn:a": {"title": "x.jpg",
    ...           "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [
    ...           {"action": "c2pa.created"}]}}], "ingredients": []}}}
    >>> store = build_store(report, None)
    >>> store[0]["label"], store[0]["active"], store[0]["assertions"][0]["actions"]
    ('urn:a', True, ['c2pa.created'])
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_store", "compact_tree", "tree_lines", "walk"]


def _codes(results: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not isinstance(results, dict):
        return out
    for kind in ("success", "informational", "failure"):
        items = results.get(kind)
        if isinstance(items, list):
            out[kind] = [str(i.get("code", "")) for i in items if isinstance(i, dict)]
    return out


def _dn(name: Any) -> str | None:
    if not isinstance(name, dict):
        return None
    return ", ".join(f"{k}={v}" for k, v in name.items() if v) or None


def _signature(cr: dict[str, Any] | None, sig_info: dict[str, Any]) -> dict[str, Any]:
    sig = (cr or {}).get("signature") or {}
    cert = sig.get("certificateInfo") or {}
    ts = sig.get("timeStampInfo") or {}
    validity = cert.get("validity") or {}
    return {
        "alg": sig.get("algorithm") or sig_info.get("alg"),
        "subject": _dn(cert.get("subject")) or sig_info.get("common_name"),
        "issuer": _dn(cert.get("issuer")) or sig_info.get("issuer"),
        "serial": cert.get("serialNumber") or sig_info.get("cert_serial_number"),
        "not_before": validity.get("notBefore"),
        "not_after": validity.get("notAfter"),
        "time": sig_info.get("time"),
        "timestamp": {
            "time": ts.get("timestamp"),
            "tsa": _dn((ts.get("certificateInfo") or {}).get("subject")),
        }
        if ts
        else None,
    }


def _identity(cr_assertion: Any) -> dict[str, Any]:
    """Who signed a CAWG identity assertion (``cawg.identity``), from its crJSON view."""
    cr = cr_assertion if isinstance(cr_assertion, dict) else {}
    cert = (cr.get("signature") or {}).get("certificateInfo") or {}
    payload = cr.get("signer_payload") or {}
    return {
        "subject": _dn(cert.get("subject")),
        "issuer": _dn(cert.get("issuer")),
        "not_after": (cert.get("validity") or {}).get("notAfter"),
        "sig_type": payload.get("sig_type") if isinstance(payload, dict) else None,
    }


def _assertion(a: dict[str, Any], cr_assertions: dict[str, Any]) -> dict[str, Any]:
    label = str(a.get("label", ""))
    out: dict[str, Any] = {"label": label}
    data = a.get("data")
    if label.startswith("cawg.identity"):
        out["identity"] = _identity(cr_assertions.get(label))
    if label.startswith("c2pa.actions") and isinstance(data, dict):
        out["actions"] = [
            str(x.get("action", "")) for x in data.get("actions") or [] if isinstance(x, dict)
        ]
        sources = {
            str(x["digitalSourceType"])
            for x in data.get("actions") or []
            if isinstance(x, dict) and isinstance(x.get("digitalSourceType"), str)
        }
        if sources:
            out["digital_source_types"] = sorted(sources)
    return out


def _generator(m: dict[str, Any]) -> str | None:
    if isinstance(m.get("claim_generator"), str):
        return m["claim_generator"]
    info = m.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        return " ".join(str(info[0][k]) for k in ("name", "version") if info[0].get(k)) or None
    return None


def build_store(report: dict[str, Any], crjson: dict[str, Any] | None) -> tuple[dict, ...]:
    """Every manifest of a store, active first: see the module docstring."""
    manifests = report.get("manifests") or {}
    if not isinstance(manifests, dict):
        return ()
    active = report.get("active_manifest")
    cr_by_label = {
        m.get("label"): m for m in ((crjson or {}).get("manifests") or []) if isinstance(m, dict)
    }
    top = report.get("validation_results") or {}
    order = (
        [active] + [k for k in manifests if k != active] if active in manifests else list(manifests)
    )
    out = []
    for label in order:
        m = manifests.get(label)
        if not isinstance(m, dict):
            continue
        cr = cr_by_label.get(label)
        found = (cr or {}).get("assertions")
        cr_assertions = found if isinstance(found, dict) else {}
        validation = _codes((cr or {}).get("validationResults"))
        if not validation and label == active:
            validation = _codes(top.get("activeManifest"))
        ingredients = []
        for ing in m.get("ingredients") or []:
            if not isinstance(ing, dict):
                continue
            ingredients.append(
                {
                    "title": ing.get("title"),
                    "format": ing.get("format"),
                    "relationship": ing.get("relationship"),
                    "manifest": ing.get("active_manifest"),
                    "validation": _codes(ing.get("validation_results")) or None,
                }
            )
        out.append(
            {
                "label": label,
                "active": label == active,
                "title": m.get("title"),
                "format": m.get("format") or ((cr or {}).get("claim") or {}).get("dc:format"),
                "claim_generator": _generator(m),
                "claim_version": m.get("claim_version"),
                "instance_id": m.get("instance_id"),
                "signature": _signature(cr, m.get("signature_info") or {}),
                "assertions": [
                    _assertion(a, cr_assertions)
                    for a in m.get("assertions") or []
                    if isinstance(a, dict)
                ],
                "ingredients": ingredients,
                "validation": validation,
            }
        )
    return tuple(out)


def walk(store: tuple[dict, ...]) -> list[tuple[int, dict, dict | None]]:
    """The store in tree order: ``(depth, manifest, None)`` for a manifest, then
    ``(depth, manifest, ingredient)`` for each of its ingredients, each followed by the manifest
    it carries (one level deeper), active manifest first; a manifest no ingredient links to
    starts a tree of its own. Each manifest appears once (a loop is cut)."""
    by_label = {m["label"]: m for m in store}
    out: list[tuple[int, dict, dict | None]] = []
    seen: set[str] = set()

    def show(m: dict, depth: int) -> None:
        seen.add(m["label"])
        out.append((depth, m, None))
        for ing in m.get("ingredients") or []:
            out.append((depth, m, ing))
            child = by_label.get(ing.get("manifest"))
            if child is not None and child["label"] not in seen:
                show(child, depth + 1)

    for m in sorted(store, key=lambda m: not m.get("active")):
        if m["label"] not in seen:
            show(m, 0)
    return out


def tree_lines(store: tuple[dict, ...], indent: str = "    ") -> list[str]:
    """The store as an indented tree (the active manifest, its ingredients, theirs ...)."""
    lines: list[str] = []
    for depth, m, ing in walk(store):
        pad = indent + "    " * depth
        if ing is not None:
            about = ", ".join(str(v) for v in (ing.get("relationship"), ing.get("format")) if v)
            title = repr(ing["title"]) if ing.get("title") else "(untitled)"
            lines.append(f"{pad}  ingredient {title}" + (f" ({about})" if about else ""))
            continue
        sig = m.get("signature") or {}
        failures = (m.get("validation") or {}).get("failure") or []
        state = "failures: " + ", ".join(failures) if failures else "no failures"
        lines.append(f"{pad}manifest {m['label']}{' (active)' if m.get('active') else ''}")
        for fields in (
            (("title", m.get("title")), ("format", m.get("format")), ("", state)),
            (("claim generator", m.get("claim_generator")),),
            (("signed by", sig.get("subject")), ("issuer", sig.get("issuer"))),
            (("signed at", sig.get("time")), ("serial", sig.get("serial"))),
        ):
            shown = [f"{k}: {v}" if k else str(v) for k, v in fields if v not in (None, "")]
            if shown:  # absent fields are left out, not shown as "None"
                lines.append(f"{pad}  " + " · ".join(shown))
        ts = sig.get("timestamp")
        if ts:
            by = f" by {ts['tsa']}" if ts.get("tsa") else ""
            lines.append(f"{pad}  timestamp: {ts.get('time') or 'time not recorded'}{by}")
        for a in m.get("assertions") or []:
            extra = f": {', '.join(a['actions'])}" if a.get("actions") else ""
            ident = a.get("identity")
            if ident:
                extra = (
                    f": {ident.get('subject') or 'subject not recorded'} (issuer "
                    f"{ident.get('issuer') or 'not recorded'}, valid until "
                    f"{ident.get('not_after') or 'not recorded'})"
                )
            lines.append(f"{pad}  assertion {a['label']}{extra}")
    return lines


def compact_tree(store: tuple[dict, ...], asset: str) -> list[str]:
    """The store as c2patool ``--tree`` draws it: ``Asset:NAME, Manifest:LABEL``, its
    ``Assertion:LABEL`` lines and its ingredients (``Asset:TITLE[, Manifest:LABEL]``), each
    with the tree of the manifest it carries."""
    items: list[tuple[int, str]] = []  # (depth, text)
    for depth, m, ing in walk(store):
        if ing is not None:  # the manifest it carries (when held) follows one level deeper
            label = f", Manifest:{ing['manifest']}" if ing.get("manifest") else ""
            items.append((depth + 1, f"Asset:{ing.get('title') or 'Untitled'}{label}"))
            continue
        if depth == 0:
            name = asset if m.get("active") else (m.get("title") or "Untitled")
            items.append((0, f"Asset:{name}, Manifest:{m['label']}"))
        items.extend((depth + 1, f"Assertion:{a['label']}") for a in m.get("assertions") or [])
    return _draw(items)


def _draw(items: list[tuple[int, str]]) -> list[str]:
    """(depth, text) items in tree order as lines with ``├──``/``└──`` connectors."""
    lines: list[str] = []
    for i, (depth, text) in enumerate(items):
        if depth == 0:
            lines.append(text)
            continue
        prefix = ""
        for level in range(1, depth):  # a bar where an ancestor at that level has a sibling below
            prefix += "│   " if _more(items, i, level) else "    "
        prefix += "├── " if _more(items, i, depth) else "└── "
        lines.append(prefix + text)
    return lines


def _more(items: list[tuple[int, str]], i: int, depth: int) -> bool:
    """Whether a later item sits at ``depth`` before the tree climbs above it."""
    for d, _ in items[i + 1 :]:
        if d < depth:
            return False
        if d == depth:
            return True
    return False
