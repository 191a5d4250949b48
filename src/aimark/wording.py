"""How aimark words its verdicts for people: one table, read by the CLI's scan summary, the
HTML scan report and the verification page (served to it as ``/wording.json``).

Statuses are listed in display order, each with a short description (the report's cards),
the page's badge, headline and note, its tone and icon, and its rank in the report's table
(what needs a look first).

Example:
    >>> [s.id for s in STATUSES][:2]
    ['labelled-trusted', 'labelled-watermark']
    >>> REGIME_SHORT["eu-ai-act-50-2"], REGIME_STATUS["partial"]
    ('EU 50(2)', 'partly met')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aimark.report import INCONCLUSIVE_REASONS

__all__ = ["C2PA_STATE", "REGIME_SHORT", "REGIME_STATUS", "STATUSES", "Wording", "as_json"]


@dataclass(frozen=True)
class Wording:
    """The words for one verdict status."""

    id: str
    card: str  # one line: what the status means (the HTML report's cards)
    badge: str
    headline: str
    tone: str  # trusted, watermark, caution, none, bad (the page's colours)
    icon: str
    rank: int  # the HTML report's first order: 0 needs a look first
    note: str = ""


STATUSES: tuple[Wording, ...] = (
    Wording(
        "labelled-trusted",
        "AI label signed by a signer you trust",
        "Labelled \u00b7 trusted signature",
        "Labelled as AI-generated \u2014 signed by a trusted signer",
        "trusted",
        "\u2713",
        1,
    ),
    Wording(
        "labelled-watermark",
        "your invisible watermark found",
        "Labelled \u00b7 watermark",
        "Labelled as AI-generated \u2014 by this server\u2019s invisible watermark",
        "watermark",
        "\u2713",
        2,
        "The watermark is hidden in the content itself (pixels, frames or sound) and was made "
        "with a key this server holds; it is meant to survive re-encoding and metadata "
        "stripping.",
    ),
    Wording(
        "labelled-recovered",
        "credentials recovered from your manifest repository",
        "Labelled \u00b7 recovered credentials",
        "Labelled as AI-generated \u2014 by Content Credentials recovered from this "
        "server\u2019s manifest repository",
        "watermark",
        "\u2713",
        3,
        "The file carries no credentials of its own; its fingerprint matches a signed manifest "
        "the repository keeps, whose signature was checked.",
    ),
    Wording(
        "labelled-untrusted",
        "AI label signed, signer not in your trust list",
        "Labelled \u00b7 untrusted signer",
        "Labelled as AI-generated \u2014 signed, but by a signer this server does not trust",
        "caution",
        "!",
        4,
        "The signature is valid, but this server cannot vouch for who signed it.",
    ),
    Wording(
        "labelled-unsigned",
        "AI metadata only (unsigned, easily forged)",
        "Labelled \u00b7 unsigned",
        "Labelled as AI-generated \u2014 by unsigned metadata only",
        "caution",
        "!",
        5,
        "Unsigned labels are easy to add or remove: treat this as a hint, not proof.",
    ),
    Wording(
        "not-labelled",
        "no AI label found",
        "Not labelled",
        "Not labelled as AI-generated",
        "none",
        "?",
        7,
        "\u201cNot labelled\u201d does not mean \u201cmade by a human\u201d. Labels can be "
        "stripped (a screenshot or re-encoding removes most of them), and many AI tools add "
        "none. It only means this server found no AI label it can read.",
    ),
    Wording(
        "invalid",
        "Content Credentials tampered, damaged or broken",
        "Invalid credentials",
        "Content Credentials are invalid \u2014 do not rely on them",
        "bad",
        "\u2715",
        0,
        "The file carries Content Credentials that fail validation: it was changed after "
        "signing (tampered), it is damaged or truncated (an upload cut short), or the "
        "signature is broken. The verdict says which.",
    ),
    Wording(
        "error",
        "could not be read or verified",
        "Not verified",
        "This file could not be verified",
        "bad",
        "\u2715",
        6,
    ),
)

#: Short names of the compliance regimes (report columns).
REGIME_SHORT: dict[str, str] = {
    "eu-ai-act-50-2": "EU 50(2)",
    "gb-45438-implicit": "GB implicit",
    "gb-45438-explicit": "GB explicit",
    "ca-sb-942-latent": "SB 942",
}

#: A regime's status in words.
REGIME_STATUS: dict[str, str] = {
    "met": "met",
    "unconfirmed": "nothing missing, not all checked",
    "partial": "partly met",
    "missing": "missing",
    "not-determined": "not determined",
}

#: The C2PA layer's state in words, and its tone.
C2PA_STATE: dict[str, tuple[str, str]] = {
    "trusted": ("Valid, signed by a signer this server trusts", "trusted"),
    "valid-untrusted": (
        "Valid signature, but the signer is not among this server\u2019s trust anchors",
        "caution",
    ),
    "invalid": (
        "Invalid: fails validation (tampered, broken signature, expired or unreadable)",
        "bad",
    ),
    "remote": ("Stored at a remote address and not fetched", "caution"),
    "absent": ("No Content Credentials in this file", "none"),
}


def as_json() -> dict[str, Any]:
    """The whole table as JSON for the verification page."""
    return {
        "status": {s.id: asdict(s) for s in STATUSES},
        "regime_short": REGIME_SHORT,
        "regime_status": REGIME_STATUS,
        "c2pa_state": {k: list(v) for k, v in C2PA_STATE.items()},
        "inconclusive": dict(INCONCLUSIVE_REASONS),
    }
