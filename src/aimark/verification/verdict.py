"""The judgement: one :class:`~aimark.report.Verdict` from what the layers found, the
strongest backing first (an invalid manifest; trusted Content Credentials; your watermark;
credentials recovered from a repository; untrusted credentials; unsigned metadata; a public
watermark; nothing). Compliance (:mod:`aimark.compliance`) is judged from the same report.

Example:
    >>> from aimark.report import C2paResult, MediaInfo, MetadataResult, WatermarkResult
    >>> verdict(C2paResult(), MetadataResult(), MediaInfo(), WatermarkResult()).status.value
    'not-labelled'
"""

from __future__ import annotations

from aimark.manifest.definitions import WATERMARK_ACTIONS
from aimark.metadata.digital_source_type import DigitalSourceType
from aimark.report import (
    INCONCLUSIVE_REASONS,
    Backing,
    C2paResult,
    C2paState,
    Ingredient,
    MediaInfo,
    MetadataResult,
    Recovery,
    Status,
    Verdict,
    WatermarkResult,
)

__all__ = ["ingredient_text", "recovered_text", "verdict"]


def dst_names(uris: tuple[str, ...]) -> str:
    names = []
    for u in uris:
        t = DigitalSourceType.from_uri(u)
        names.append(t.value if t else u)
    return ", ".join(names)


def _why_invalid(c2pa: C2paResult, media: MediaInfo) -> str:
    """Why a manifest is invalid, in a few words: a damaged or truncated file (cut short, or
    unreadable to the C2PA reader) is not a tampered one (a hash mismatch on a complete file)."""
    codes = [f.code for f in c2pa.failures]
    if any("truncated" in p for p in media.problems) or (not codes and c2pa.error):
        return "the file is damaged or truncated"
    if any(c.endswith("Hash.mismatch") for c in codes):
        return "tampered: the file was changed after signing"
    return "tampered or broken"


def recovered_text(r: Recovery) -> str:
    """One line on credentials a repository gave back: how found, who signed, whether trusted."""
    c = r.c2pa
    signer = (c.signer.common_name or c.signer.issuer) if c.signer else "an unknown signer"
    trust = {
        C2paState.TRUSTED: "trusted",
        C2paState.VALID_UNTRUSTED: "valid, not in your trust anchors",
    }.get(c.state, "INVALID")
    how = (
        "by watermark" if r.method == "watermark" else f"by fingerprint ({r.distance} of 256 bits)"
    )
    return f"credentials recovered from the repository {how}, signed by {signer} ({trust})"


_EVIDENCE = {
    "watermark": "the generator's invisible watermark",
    "recovered-credentials": "credentials recovered from a manifest repository",
    "unsigned-metadata": "unsigned AI metadata",
    "public-watermark": "a public watermark",
    "uploader-declaration": "the uploader's declaration",
}


def ingredient_text(ing: Ingredient) -> str:
    """One line on the ingredient manifest that declares AI (a generator's manifest inside a
    platform's): who signed it, whether trusted, what it declares."""
    trust = "trusted" if ing.state == "trusted" else "valid, not in your trust anchors"
    return (
        f"C2PA digital source type {dst_names(ing.digital_source_types)} declared by the "
        f"ingredient {ing.title!r} (its manifest signed by {ing.signer or 'an unknown signer'}, "
        f"{trust})"
    )


def verdict(
    c2pa: C2paResult,
    meta: MetadataResult,
    media: MediaInfo,
    wm: WatermarkResult,
    recovery: Recovery | None = None,
) -> Verdict:
    """The verdict on one file from its layers (see the module docstring for the order)."""
    reasons: list[str] = []
    recovered = None
    if recovery is not None:
        if recovery.status == "recovered":
            recovered = recovery
            reasons.append(recovered_text(recovery) + "; its hard binding " + recovery.hard_binding)
        elif recovery.note:
            reasons.append(recovery.note)
    signer = (c2pa.signer.common_name or c2pa.signer.issuer) if c2pa.signer else None
    parent = c2pa.declared_by  # the ingredient (e.g. the generator's) declaring AI, if not us
    publisher = (c2pa.ingest or {}).get("platform") or signer
    agents = parent.software_agents if parent is not None else c2pa.software_agents
    who = f" by {agents[0]}" if agents else ""
    if c2pa.state is C2paState.INVALID:
        codes = ", ".join(f.code for f in c2pa.failures if f.code != "signingCredential.untrusted")
        detail = codes or c2pa.error or "validation failed"
        reasons.append(f"C2PA manifest is invalid: {detail}")
    elif c2pa.state is C2paState.TRUSTED:
        reasons.append(f"C2PA manifest signed by a trusted signer ({signer})")
    elif c2pa.state is C2paState.VALID_UNTRUSTED:
        reasons.append(
            f"C2PA manifest valid, but the signer ({signer}) is not in your trust anchors"
        )
    elif c2pa.state is C2paState.REMOTE:
        reasons.append(f"C2PA manifest is stored remotely ({c2pa.remote_url}) and was not fetched")
    if c2pa.digital_source_types and c2pa.state in (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED):
        reasons.append(f"C2PA digital source type: {dst_names(c2pa.digital_source_types)}")
    if parent is not None and c2pa.state in (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED):
        reasons.append(ingredient_text(parent))
    if c2pa.ingest and c2pa.state in (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED):
        gb_fields = c2pa.ingest.get("gb45438") or {}
        label = f", GB 45438 Label {gb_fields['Label']}" if gb_fields.get("Label") else ""
        reasons.append(f"published by {c2pa.ingest.get('platform')} (aimark ingest{label})")
    if meta.digital_source_types:
        reasons.append(f"XMP IPTC digital source type: {dst_names(meta.digital_source_types)}")
    reasons.extend(f"{m.generator} metadata in {m.where}" for m in meta.markers)
    if meta.ai_system:
        reasons.append(f"XMP names the AI system {meta.ai_system}")
    if meta.tc260_aigc:
        reasons.append("TC260 AIGC label in XMP")
    if wm.detected:
        where = f", content id {wm.content_id}" if wm.content_id else ""
        # no p-value here: reasons go out in public answers (see WatermarkResult.to_dict)
        reasons.append(f"invisible watermark of key {wm.key_id} found{where}")
        bound = [v for alg, v in c2pa.soft_bindings if alg == wm.scheme]
        if bound and wm.payload and wm.payload not in bound:
            reasons.append("the watermark payload differs from the manifest's soft binding")
        elif bound and wm.payload:
            reasons.append("the watermark matches the manifest's soft binding")
    elif wm.keys and wm.status == "inconclusive":
        why = INCONCLUSIVE_REASONS.get(wm.reason or "", wm.reason or "")
        reasons.append(f"the watermark of the {len(wm.keys)} key(s) given is inconclusive: {why}")
    elif wm.keys:
        reasons.append(f"no watermark of the {len(wm.keys)} key(s) given ({wm.status})")
    declared = [a.action for a in c2pa.actions if a.action in WATERMARK_ACTIONS]
    good_c2pa = c2pa.state in (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED)
    if declared and not wm.detected and good_c2pa:
        # c2pa.watermarked.bound (C2PA 2.2+) or the older c2pa.watermarked, with its soft binding
        algs = ", ".join(dict.fromkeys(alg for alg, _ in c2pa.soft_bindings)) or "no soft binding"
        reasons.append(f"the manifest declares an invisible watermark ({declared[0]}; {algs})")
    reasons.extend(f"public invisible watermark: {n}" for n in wm.public_detected)
    # a package's member with labels of its own is a note about the member, not a problem
    reasons.extend(p if p.startswith("member ") else f"file problem: {p}" for p in media.problems)

    if c2pa.state is C2paState.INVALID:
        return Verdict(
            Status.INVALID,
            meta.ai_declared,
            Backing.UNSIGNED_METADATA if meta.ai_declared else Backing.NONE,
            f"Content Credentials are present but INVALID ({_why_invalid(c2pa, media)}); "
            "do not rely on them",
            tuple(reasons),
        )
    if c2pa.ai_declared and c2pa.ai_trusted:
        via = f", kept through {publisher}'s processing" if parent is not None else ""
        return Verdict(
            Status.LABELLED_TRUSTED,
            True,
            Backing.TRUSTED_SIGNATURE,
            f"AI-generated{who}, declared by Content Credentials from a trusted signer{via}",
            tuple(reasons),
        )
    if wm.detected:
        where = f" (content id {wm.content_id})" if wm.content_id else ""
        extra = f"; {recovered_text(recovered)}" if recovered else ""
        if recovery is not None and recovery.status == "mismatch":
            extra = "; the repository's credentials for it belong to another picture"
        return Verdict(
            Status.LABELLED_WATERMARK,
            True,
            Backing.WATERMARK,
            f"AI-labelled by an invisible watermark of your key {wm.key_id}{where}{extra}",
            tuple(reasons),
        )
    good = (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED)
    if recovered is not None and recovered.c2pa.state in good and recovered.c2pa.ai_declared:
        agents = recovered.c2pa.software_agents
        by = f" by {agents[0]}" if agents else ""
        return Verdict(
            Status.LABELLED_RECOVERED,
            True,
            Backing.RECOVERED_CREDENTIALS,
            f"AI-generated{by}: {recovered_text(recovered)}",
            tuple(reasons),
        )
    if c2pa.ai_declared and c2pa.state in (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED):
        if parent is not None and c2pa.state is C2paState.TRUSTED:
            how = (
                f"declared by validly signed Content Credentials from a signer you do not "
                f"trust ({parent.signer}), kept through trusted {publisher}'s processing"
            )
        else:
            how = "declared by validly signed Content Credentials from a signer you do not trust"
        return Verdict(
            Status.LABELLED_UNTRUSTED,
            True,
            Backing.UNTRUSTED_SIGNATURE,
            f"AI-generated{who}, {how}",
            tuple(reasons),
        )
    gb = ((c2pa.ingest or {}).get("gb45438") or {}).get("Label")
    if c2pa.state in good and not c2pa.ai_declared and gb in ("2", "3"):
        strength = "Possibly" if gb == "2" else "Suspected"
        kinds = ", ".join(
            _EVIDENCE.get(k, k) for k in (c2pa.ingest or {}).get("evidence") or [] if k
        )
        trusted = "trusted " if c2pa.state is C2paState.TRUSTED else ""
        return Verdict(
            Status.LABELLED_UNTRUSTED,
            True,
            Backing.UNTRUSTED_SIGNATURE,
            f"{strength} AI-generated (GB 45438 Label {gb}): {trusted}{publisher} recorded "
            f"{kinds or 'evidence'} when it published it; no signed declaration by the "
            "generator",
            tuple(reasons),
        )
    if meta.ai_declared:
        return Verdict(
            Status.LABELLED_UNSIGNED,
            True,
            Backing.UNSIGNED_METADATA,
            "AI-generated according to unsigned metadata (easily forged or removed)",
            tuple(reasons),
        )
    if wm.public_detected:
        return Verdict(
            Status.LABELLED_UNSIGNED,
            True,
            Backing.PUBLIC_WATERMARK,
            f"AI-generated according to a public invisible watermark ({wm.public_detected[0]}; "
            "anyone can add or remove it)",
            tuple(reasons),
        )
    if c2pa.state in (C2paState.TRUSTED, C2paState.VALID_UNTRUSTED):
        kind = dst_names(c2pa.digital_source_types)
        summary = (
            f"not declared AI-generated; signed Content Credentials say: {kind}"
            if kind
            else "not declared AI-generated; signed Content Credentials do not declare how it "
            "was made (no digital source type)"
        )
    elif c2pa.state is C2paState.REMOTE:
        summary = "no AI label found locally; Content Credentials are remote and were not fetched"
    else:
        summary = "no AI label found (no Content Credentials, no AI metadata)"
    return Verdict(Status.NOT_LABELLED, False, Backing.NONE, summary, tuple(reasons))
