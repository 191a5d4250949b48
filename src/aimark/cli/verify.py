"""``aimark verify``: check the AI labels of files and folders, one report each."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from aimark._options import add_verifier_options, verifier_from_args
from aimark.cli import c2pa_views
from aimark.cli._common import EXIT, EXIT_INPUT, EXIT_NOTHING, UsageError, expand_paths
from aimark.media.sniff import ImageFormat
from aimark.report import INCONCLUSIVE_REASONS, C2paResult, C2paState, Report, Status

__all__ = ["add_parser", "run_command"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``verify`` to the CLI's sub-commands."""
    ver = sub.add_parser(
        "verify",
        help="verify the AI labels of images, video, audio, documents and texts",
        description="Verify C2PA Content Credentials and AI metadata labels. "
        "Exit code: 0 trusted AI label, 1 AI label from your watermark, an untrusted signer or "
        "unsigned metadata, "
        "2 no AI label, 3 invalid manifest, 4 input error (highest over files); "
        "5 nothing to verify (the folders hold no media file).",
    )
    ver.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    add_verifier_options(ver)
    ver.add_argument(
        "--online",
        action="store_true",
        help="fetch a manifest that a file's XMP says is stored at a URL (dcterms:provenance; "
        "http(s) only, size- and time-capped); off by default",
    )
    ver.add_argument("--json", action="store_true", help="print one JSON report per line")
    ver.add_argument("-v", "--verbose", action="store_true", help="print every reason")
    c2pa_views.add_view_options(ver)


_RASTER = {f.value for f in ImageFormat}


def identity_text(i: dict[str, Any]) -> str:
    """One line on a CAWG identity assertion: who, by whom certified, until when, trusted."""
    until = str(i.get("not_after") or "?")[:10]
    trust = {"trusted": "trusted", "valid": "untrusted"}.get(str(i.get("state")), "INVALID")
    line = f"identity: {i.get('subject')} (issuer {i.get('issuer')}, valid until {until}) — {trust}"
    if trust == "INVALID":
        bad = [c for c in i.get("codes") or [] if "invalid" in c or "mismatch" in c]
        line += f" ({', '.join(bad) or 'not well-formed'})"
    return line


def _describe(report: Report, verbose: bool) -> list[str]:
    v = report.verdict
    lines = [f"{report.source}: {v.status.value} — {v.summary}"]
    if report.media.kind and report.media.format not in _RASTER | {"text"}:
        lines.append(f"    media: {report.media.format} {report.media.kind} ({report.media.mime})")
    c = report.c2pa
    if c.present:
        bits = [f"c2pa: {c.state.value}" + _where(c)]
        if c.signer:
            who = c.signer.common_name or "?"
            if c.signer.issuer:
                who += f" ({c.signer.issuer})"
            bits.append(f"signer: {who}")
        if c.software_agents:
            bits.append(f"made with: {', '.join(c.software_agents)}")
        if c.claim_generator:
            bits.append(f"claim generator: {c.claim_generator}")
        if c.digital_source_types:
            bits.append(
                "source type: " + ", ".join(u.rsplit("/", 1)[-1] for u in c.digital_source_types)
            )
        if c.trusted_by:
            bits.append(f"trusted by: {c.trusted_by}")
        if c.state is C2paState.INVALID:
            codes = [f.code for f in c.failures] or [c.error or "unreadable"]
            bits.append("failures: " + ", ".join(codes))
        if c.text_wrapper not in (None, "found"):
            bits.append(f"text wrapper: {c.text_wrapper}")
        lines.append("    " + " · ".join(bits))
        lines.extend("    " + identity_text(i) for i in c.identity)
        if c.conforming_product:
            p = c.conforming_product
            lines.append(
                f"    C2PA conforming product: {p['name']} ({p['organisation']}), assurance "
                f"level {p['assurance_level']}"
            )
        if c.trust_note:
            lines.append(f"    note: {c.trust_note}")
        if c.text_watermark:
            params = ", ".join(f"{k} {v}" for k, v in c.text_watermark.items())
            lines.append(f"    text watermark (recorded in the manifest): {params}")
        if c.ingest:
            gb = c.ingest.get("gb45438") or {}
            extra = f" · GB 45438 Label {gb['Label']}" if gb.get("Label") else ""
            if gb.get("PropagateID"):
                extra += f", PropagateID {gb['PropagateID']}"
            lines.append(f"    published by {c.ingest.get('platform')} (ingest){extra}")
        for ing in c.ingredients:
            if ing.relationship != "parentOf":
                continue
            what = ""
            if ing.digital_source_types:
                what = " · declares " + ", ".join(
                    u.rsplit("/", 1)[-1] for u in ing.digital_source_types
                )
            by = f" by {ing.software_agents[0]}" if ing.software_agents else ""
            lines.append(
                f"    {'  ' * (ing.depth - 1)}ingredient {ing.title!r}: manifest signed by "
                f"{ing.signer} ({ing.issuer}), {ing.state}{what}{by}"
                + (f" · failures: {', '.join(ing.failures)}" if ing.failures else "")
            )
    w = report.watermark
    if w.detected:
        lines.append(
            f"    watermark: found ({w.scheme}, key {w.key_id}, content id {w.content_id}, "
            f"p = {w.p_value:.1e})"
        )
        if w.time_range is not None:
            t0, t1 = w.time_range
            lines.append(f"    watermark found from {_clock(t0)} to {_clock(t1)}")
        if w.region is not None:
            x0, y0, x1, y1 = (round(100 * v) for v in w.region)
            lines.append(
                f"    watermark found in part of the picture only: x {x0}–{x1} %, y {y0}–{y1} % "
                "(the rest does not carry it: padding, a collage, or a marked picture pasted "
                "into another)"
            )
    elif w.keys and w.status == "inconclusive":
        why = INCONCLUSIVE_REASONS.get(w.reason or "", w.reason or "")
        lines.append(f"    watermark: inconclusive — {why} ({len(w.keys)} key(s) tried)")
    elif w.keys:
        lines.append(f"    watermark: {w.status} ({len(w.keys)} key(s) tried)")
    elif w.status.startswith("not applicable"):
        lines.append(f"    watermark: {w.status}")
    if w.public_detected:
        lines.append("    public watermark: " + ", ".join(w.public_detected))
    m = report.metadata
    meta = []
    if m.digital_source_types:
        meta.append("IPTC " + ", ".join(u.rsplit("/", 1)[-1] for u in m.digital_source_types))
    if "Software" in m.exif:
        meta.append(f"EXIF Software: {m.exif['Software']}")
    meta.extend(f"{k.generator} ({k.where})" for k in m.markers)
    if m.tc260_aigc:
        meta.append(f"GB 45438 AIGC label ({', '.join(m.tc260_carriers) or 'xmp'})")
    for frame in ("TSSE", "TENC"):
        if frame in m.id3:
            meta.append(f"ID3 {frame}: {m.id3[frame]}")
    if meta:
        lines.append("    metadata: " + " · ".join(meta))
    if v.status is not Status.ERROR:
        lines.append("    compliance: " + report.compliance.line())
    if verbose:
        lines.extend(f"    - {r}" for r in v.reasons)
        for regime in report.compliance.regimes:
            for q in regime.requirements:
                mark = {True: "yes", False: "NO", None: "?"}[q.met]
                lines.append(f"    - {regime.regime} {q.id}: {mark} — {q.evidence}")
    r = report.recovery
    if r is not None and r.status == "recovered":
        c = r.c2pa
        who = (c.signer.common_name or "?") if c.signer else "?"
        lines.append(
            f"    recovered: {r.method} · manifest {r.manifest_id} · c2pa: {c.state.value} · "
            f"signer: {who} · hard binding {r.hard_binding}"
        )
    elif r is not None and r.note:
        lines.append(f"    repository: {r.note}")
    if report.c2pa.store:
        from aimark.manifest.store import tree_lines

        lines.append("    manifest store:")
        lines.extend(tree_lines(report.c2pa.store, indent="      "))
    return lines


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark verify`` with parsed arguments; returns the exit code."""
    view = c2pa_views.chosen(args)
    if view and args.json:
        raise UsageError(f"--{view} and --json cannot be combined")
    if view == "tree":
        args.detailed = True  # the tree is drawn from the detailed report's store
    verifier = verifier_from_args(args, UsageError)
    verifier.fetch_remote = args.online
    worst = 0
    verified = 0
    skipped: list[Path] = []
    for path in expand_paths(args.paths, skipped):
        verified += 1
        try:
            report = verifier.verify(path)
        except OSError as exc:
            msg = f"{path}: cannot read: {exc.strerror or exc}"
            if args.json:
                print(
                    json.dumps(
                        {"source": str(path), "error": {"code": "unreadable", "message": msg}}
                    )
                )
            else:
                print(f"{path}: error — {msg}")
            worst = max(worst, EXIT_INPUT)
            continue
        worst = max(worst, EXIT[report.verdict.status])
        if view:
            c2pa_views.show(path, report, view)
        elif args.json:
            print(report.to_json())
        else:
            print("\n".join(_describe(report, args.verbose)))
        sys.stdout.flush()
    if not verified:  # a CI check must not pass having checked nothing
        print(
            f"aimark: nothing to verify: no media file in {', '.join(args.paths)}"
            + (f" ({len(skipped)} file(s) that are not media skipped)" if skipped else "")
            + f" (exit {EXIT_NOTHING})",
            file=sys.stderr,
        )
        return EXIT_NOTHING
    if skipped and not args.json:
        print(
            f"(skipped {len(skipped)} file(s) in the folders that are not media: keys, "
            "certificates, configuration files, empty files or unknown binaries)",
            file=sys.stderr,
        )
    if not args.trust and not args.json and view is None:
        print(
            "(no --trust anchors given: valid signatures are reported as untrusted)",
            file=sys.stderr,
        )
    return worst


def _where(c: C2paResult) -> str:
    """Where a manifest held apart from the file came from, for the ``c2pa:`` line."""
    if c.sidecar:
        return f" (from sidecar {c.sidecar})"
    if c.remote_url and c.state is C2paState.REMOTE:
        return f" (at {c.remote_url}: {c.error or 'not fetched'})"
    if c.remote_url:
        return f" (fetched from {c.remote_url})"
    return ""


def _clock(seconds: float) -> str:
    """``83.25`` → ``1:23.2``: a time in a clip, as people read one."""
    minutes, sec = divmod(max(0.0, seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{sec:04.1f}" if hours else f"{minutes}:{sec:04.1f}"
