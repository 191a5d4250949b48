"""Build the C2PA manifest definition (JSON) that aimark signs into AI-generated content.

Example:
    >>> from aimark import Generator
    >>> from aimark.manifest.definitions import ai_manifest
    >>> d = ai_manifest(generator=Generator("m", "1"), content_id="urn:uuid:0",
    ...                 source_type_uri="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    ...                 title="t", mime="image/png")
    >>> d["assertions"][0]["data"]["actions"][0]["action"]
    'c2pa.created'
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from aimark._version import __version__
from aimark.generator import Generator

__all__ = [
    "CONTENT_ASSERTION",
    "INGEST_ASSERTION",
    "PARENT_INGREDIENT_ID",
    "SOFT_BINDING_ASSERTION",
    "TEXT_WATERMARK_ASSERTION",
    "TRAINING_MINING_ASSERTION",
    "WATERMARK_ACTION",
    "WATERMARK_ACTIONS",
    "ai_manifest",
    "aimark_action",
    "platform_manifest",
]

CONTENT_ASSERTION = "org.aimark.content"
TRAINING_MINING_ASSERTION = "cawg.training-mining"
SOFT_BINDING_ASSERTION = "c2pa.soft-binding"
TEXT_WATERMARK_ASSERTION = "org.aimark.text-watermark"
PARENT_INGREDIENT_ID = "aimark-parent"
INGEST_ASSERTION = "org.aimark.ingest"
#: The action aimark writes for its invisible watermark: C2PA 2.2+ ``c2pa.watermarked.bound``
#: (a watermark bound to this manifest by its ``c2pa.soft-binding``). The pinned c2pa-rs
#: (0.91.3) signs and validates it cleanly, with no failure and no extra informational code,
#: and, as for the older ``c2pa.watermarked``, refuses to sign it without a soft-binding
#: assertion (``assertion.action.softBindingMissing``). See docs/c2pa.md.
WATERMARK_ACTION = "c2pa.watermarked.bound"
#: Actions that declare a watermark bound to the manifest, on reading: the 2.2+ name and the
#: pre-2.2 ``c2pa.watermarked`` (written by aimark before, and by other tools).
#: ``c2pa.watermarked.unbound`` is a watermark not bound to this manifest and is not included.
WATERMARK_ACTIONS = (WATERMARK_ACTION, "c2pa.watermarked")
_TRAINING_USES = ("cawg.ai_generative_training", "cawg.ai_training", "cawg.data_mining")


def aimark_action(
    name: str,
    description: str | None = None,
    *,
    when: dt.datetime | None = None,
    **parameters: Any,
) -> dict[str, Any]:
    """A C2PA action done by aimark itself (``softwareAgent`` aimark and its version), with a
    ``description`` and other ``parameters``; ``when`` is written when given.

    Example:
        >>> aimark_action("c2pa.published", "published by P")["parameters"]
        {'description': 'published by P'}
    """
    params = dict(parameters)
    if description is not None:
        params["description"] = description
    action: dict[str, Any] = {
        "action": name,
        "softwareAgent": {"name": "aimark", "version": __version__},
    }
    if when is not None:
        action["when"] = when.isoformat(timespec="seconds")
    if params:
        action["parameters"] = params
    return action


def ai_manifest(
    *,
    generator: Generator,
    content_id: str,
    source_type_uri: str,
    title: str,
    mime: str,
    allow_training: bool | None = None,
    when: dt.datetime | None = None,
    parent: bool = False,
    watermark: tuple[str, bytes] | None = None,
    watermark_timespan: tuple[float, float] | None = None,
    text_watermark: dict[str, Any] | None = None,
    edits: tuple[dict[str, Any], ...] = (),
    fingerprint: tuple[str, bytes] | None = None,
) -> dict[str, Any]:
    """Return a manifest definition declaring the content created by ``generator``.

    ``allow_training``: None writes no preference; False writes "notAllowed" for generative
    training, training and data mining; True writes "allowed".
    ``parent``: the asset already carries a manifest, which the signer adds as the parent
    ingredient (id :data:`PARENT_INGREDIENT_ID`): the actions become ``c2pa.opened`` (that
    parent) then ``c2pa.edited`` with the digital source type, so no provenance is lost.
    ``watermark``: (algorithm id, payload bytes) of an invisible watermark embedded in the
    pixels: recorded as a ``c2pa.watermarked.bound`` action (:data:`WATERMARK_ACTION`) and a
    ``c2pa.soft-binding`` assertion.
    ``watermark_timespan``: (start, end) in seconds of the audio or video the watermark
    covers, recorded as the soft binding block's ``timespan`` scope (milliseconds).
    ``text_watermark``: the parameters of a statistical text watermark woven into the text while
    it was generated (key id, mode, ...; never the key): recorded as an
    ``org.aimark.text-watermark`` assertion.
    ``fingerprint``: (algorithm id, value) of a perceptual fingerprint of the content as
    signed (e.g. PDQ): a second ``c2pa.soft-binding`` assertion, so that whoever recovers this
    manifest by its watermark can check, from the signed manifest itself, that the picture in
    hand is the one it was made for.
    ``edits``: further actions done to the content after it was generated (e.g. the visible
    label drawn on the pixels), recorded after the creation.
    """
    when = when or dt.datetime.now(dt.timezone.utc)
    agent: dict[str, str] = {"name": generator.name}
    if generator.version:
        agent["version"] = generator.version
    action = {
        "action": "c2pa.edited" if parent else "c2pa.created",
        "digitalSourceType": source_type_uri,
        "softwareAgent": agent,
        "when": when.isoformat(timespec="seconds"),
    }
    actions = [action, *edits]
    if parent:
        opened = {"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_INGREDIENT_ID]}}
        actions.insert(0, opened)
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions", "data": {"actions": actions}},
        {"label": CONTENT_ASSERTION, "data": {"content_id": content_id}},
    ]
    if watermark is not None:
        alg, value = watermark
        actions.append(aimark_action(WATERMARK_ACTION, f"invisible watermark {alg}"))
        scope: dict[str, Any] = {}
        if watermark_timespan is not None:
            start, end = watermark_timespan
            scope["timespan"] = {"start": round(start * 1000), "end": round(end * 1000)}
        block = {"scope": scope, "value": base64.b64encode(value).decode("ascii")}
        assertions.append(
            {"label": SOFT_BINDING_ASSERTION, "data": {"alg": alg, "blocks": [block]}}
        )
    if fingerprint is not None:
        alg, value = fingerprint
        block = {"scope": {}, "value": base64.b64encode(value).decode("ascii")}
        assertions.append(
            {"label": SOFT_BINDING_ASSERTION, "data": {"alg": alg, "blocks": [block]}}
        )
    if text_watermark is not None:
        # no c2pa.watermarked(.bound) action: c2pa requires it to point at a soft-binding assertion,
        # and a statistical watermark has no payload to bind
        assertions.append({"label": TEXT_WATERMARK_ASSERTION, "data": dict(text_watermark)})
    if allow_training is not None:
        use = "allowed" if allow_training else "notAllowed"
        assertions.append(
            {
                "label": TRAINING_MINING_ASSERTION,
                "data": {"entries": {k: {"use": use} for k in _TRAINING_USES}},
            }
        )
    return {
        "claim_generator_info": [{"name": "aimark", "version": __version__}],
        "title": title,
        "format": mime,
        "assertions": assertions,
    }


def platform_manifest(
    *,
    platform: str,
    title: str,
    mime: str,
    actions: tuple[dict[str, Any], ...],
    ingest: dict[str, Any],
    soft_binding: tuple[str, bytes] | None = None,
    when: dt.datetime | None = None,
) -> dict[str, Any]:
    """The manifest a platform signs over its processed copy of an upload (the upload is the
    parent ingredient, id :data:`PARENT_INGREDIENT_ID`, added by the signer): ``c2pa.opened``
    that parent, the processing ``actions`` (``c2pa.resized``, ``c2pa.transcoded``,
    ``c2pa.edited.metadata``), then ``c2pa.published`` by ``platform``. ``ingest`` is the
    :data:`INGEST_ASSERTION` (platform, GB 45438 fields, evidence, watermark status).
    ``soft_binding``: (algorithm, payload) of the upload's watermark found by the platform,
    so its copy resolves through a manifest repository like the original.

    Example:
        >>> d = platform_manifest(platform="Example Social", title="p.jpg", mime="image/jpeg",
        ...                       actions=(), ingest={"platform": "Example Social"})
        >>> [a["action"] for a in d["assertions"][0]["data"]["actions"]]
        ['c2pa.opened', 'c2pa.published']
    """
    when = when or dt.datetime.now(dt.timezone.utc)
    published = aimark_action("c2pa.published", f"published by {platform}", when=when)
    opened = aimark_action("c2pa.opened", when=when, ingredientIds=[PARENT_INGREDIENT_ID])
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions", "data": {"actions": [opened, *actions, published]}},
        {"label": INGEST_ASSERTION, "data": dict(ingest)},
    ]
    if soft_binding is not None:
        alg, value = soft_binding
        block = {"scope": {}, "value": base64.b64encode(value).decode("ascii")}
        assertions.append(
            {"label": SOFT_BINDING_ASSERTION, "data": {"alg": alg, "blocks": [block]}}
        )
    return {
        "claim_generator_info": [{"name": "aimark", "version": __version__}],
        "title": title,
        "format": mime,
        "assertions": assertions,
    }
