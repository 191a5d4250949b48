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
    MediaInfo,
    MetadataResult,
    Recovery,
    Status,
    Verdict,
    WatermarkResult,
)

__all__ = ["recovered_text", "verdict"]


def dst_names(uris: tuple[str, ...]) -> str:
    names = []
    for u in uris:
        t = DigitalSourceType.from_uri(u)
        names.append(t.value if t else u)
    return ", ".join(names)


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
    who = f" by {c2pa.software_agents[0]}" if c2pa.software_agents else ""
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
    reasons.extend(f"file problem: {p}" for p in media.problems)

    if c2pa.state is C2paState.INVALID:
        return Verdict(
            Status.INVALID,
            meta.ai_declared,
            Backing.UNSIGNED_METADATA if meta.ai_declared else Backing.NONE,
            "Content Credentials are present but INVALID (tampered or broken); do not rely on them",
            tuple(reasons),
        )
    if c2pa.ai_declared and c2pa.state is C2paState.TRUSTED:
        return Verdict(
            Status.LABELLED_TRUSTED,
            True,
            Backing.TRUSTED_SIGNATURE,
            f"AI-generated{who}, declared by Content Credentials from a trusted signer",
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
    if c2pa.ai_declared and c2pa.state is C2paState.VALID_UNTRUSTED:
        return Verdict(
            Status.LABELLED_UNTRUSTED,
            True,
            Backing.UNTRUSTED_SIGNATURE,
            f"AI-generated{who}, declared by validly signed Content Credentials "
            "from a signer you do not trust",
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
        kind = dst_names(c2pa.digital_source_types) or "no digital source type"
        summary = f"not declared AI-generated; signed Content Credentials say: {kind}"
    elif c2pa.state is C2paState.REMOTE:
        summary = "no AI label found locally; Content Credentials are remote and were not fetched"
    else:
        summary = "no AI label found (no Content Credentials, no AI metadata)"
    return Verdict(Status.NOT_LABELLED, False, Backing.NONE, summary, tuple(reasons))
