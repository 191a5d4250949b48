"""Sign and read C2PA manifests in memory with c2pa-python.

Signing never writes to the source: it reads ``data`` and returns new bytes. Reading never
fetches remote manifests or OCSP responses (a hostile file must not make us call a URL).

Example:
    >>> import io
    >>> from PIL import Image
    >>> from aimark.manifest.c2pa_io import ManifestReader
    >>> buf = io.BytesIO(); Image.new("RGB", (8, 8)).save(buf, "JPEG")
    >>> ManifestReader().read(buf.getvalue(), "image/jpeg").state
    <C2paState.ABSENT: 'absent'>
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import c2pa

from aimark._pem import load_certificates
from aimark.credentials import Credentials, SigningAlg
from aimark.errors import AimarkError, CorruptInputError, CredentialsError, SigningError
from aimark.manifest import _native
from aimark.manifest._errors import message_of, translate
from aimark.manifest.definitions import (
    CONTENT_ASSERTION,
    INGEST_ASSERTION,
    PARENT_INGREDIENT_ID,
    SOFT_BINDING_ASSERTION,
)
from aimark.manifest.store import build_store
from aimark.report import Action, C2paResult, C2paState, Failure, Ingredient, Signer
from aimark.trust import TrustAnchors

__all__ = ["ManifestReader", "ManifestSigner", "active_label"]

_ALGS = {
    SigningAlg.ES256: c2pa.C2paSigningAlg.ES256,
    SigningAlg.ES384: c2pa.C2paSigningAlg.ES384,
    SigningAlg.ES512: c2pa.C2paSigningAlg.ES512,
    SigningAlg.PS256: c2pa.C2paSigningAlg.PS256,
    SigningAlg.ED25519: c2pa.C2paSigningAlg.ED25519,
}
_SAFE_VERIFY = {"remote_manifest_fetch": False, "ocsp_fetch": False}


#: What a CAWG identity assertion written by aimark signs, besides the hard binding (which
#: c2pa always adds): the actions, i.e. the AI declaration.
IDENTITY_REFERENCED_ASSERTIONS = ("c2pa.actions.v2",)


def _check_identity(credentials: Credentials, identity: Credentials) -> None:
    """Refuse, with a clear CredentialsError, what c2pa would refuse opaquely (or not at all)."""
    from aimark.credential_doctor import _public_der

    if credentials.sign is not None or identity.sign is not None:
        raise CredentialsError(
            "a CAWG identity needs the claim signer's and the identity's private keys as PEM: "
            "c2pa-python 0.38.1 builds the identity signer only from settings, which take no "
            "signing callback (HSM/KMS)"
        )
    from cryptography.hazmat.primitives import serialization

    leaf = load_certificates(identity.cert_chain)[0]
    try:
        key = serialization.load_pem_private_key(identity.private_key or b"", password=None)
    except (TypeError, ValueError) as exc:
        raise CredentialsError(f"identity private key cannot be loaded: {exc}") from None
    if _public_der(key.public_key()) != _public_der(leaf.public_key()):
        raise CredentialsError(
            "the identity private key does not match the first certificate of the identity chain"
        )


def _local(creds: Credentials) -> dict[str, Any]:
    out: dict[str, Any] = {
        "alg": creds.alg.value,
        "sign_cert": creds.cert_chain.decode("ascii"),
        "private_key": (creds.private_key or b"").decode("ascii"),
    }
    if creds.tsa_url:
        out["tsa_url"] = creds.tsa_url
    return out


class ManifestSigner:
    """Signs manifest definitions into assets with one set of credentials (reusable).

    ``identity``: credentials of a person or organisation (an X.509 certificate chain and its
    key, separate from the claim signer's) that sign a CAWG identity assertion
    (``cawg.identity``, sig_type ``cawg.x509.cose``) into every manifest embedded with
    :meth:`sign` / :meth:`sign_with_store`, referencing the actions and the hard binding. Not
    written by :meth:`sign_data_hashed` (plain text): c2pa-python has no identity signer object
    to hand to that call. Both sets of credentials need PEM keys (no callbacks).

    Not thread-safe; make one per thread or process.
    """

    def __init__(self, credentials: Credentials, identity: Credentials | None = None) -> None:
        if identity is not None:
            _check_identity(credentials, identity)
        self._credentials = credentials
        self._identity = identity
        self._callback_error: BaseException | None = None
        self._signer = self._make_signer(credentials)
        self._contexts: dict[bool, Any] = {}
        self._identity_contexts: dict[bool, Any] = {}
        self._lock = threading.Lock()

    def _make_signer(self, creds: Credentials) -> Any:
        alg = _ALGS[creds.alg]
        try:
            if creds.sign is not None:
                user_sign = creds.sign

                def callback(data: bytes) -> bytes:
                    try:
                        return bytes(user_sign(bytes(data)))
                    except BaseException as exc:  # surfaced after c2pa returns
                        self._callback_error = exc
                        raise

                return c2pa.Signer.from_callback(
                    callback, alg, creds.cert_chain.decode("ascii"), creds.tsa_url
                )
            info = c2pa.C2paSignerInfo(
                alg,
                creds.cert_chain,
                creds.private_key,
                creds.tsa_url.encode() if creds.tsa_url else None,
            )
            return c2pa.Signer.from_info(info)
        except c2pa.C2paError as exc:
            raise translate(exc, signing=True) from exc

    def _context(self, thumbnail: bool) -> Any:
        ctx = self._contexts.get(thumbnail)
        if ctx is None:
            ctx = c2pa.Context.from_dict(
                {"builder": {"thumbnail": {"enabled": thumbnail}}, "verify": _SAFE_VERIFY}
            )
            self._contexts[thumbnail] = ctx
        return ctx

    def _identity_context(self, thumbnail: bool) -> Any:
        """A context whose settings define the claim signer and the CAWG X.509 identity signer
        (``signer`` / ``cawg_x509_signer``, both ``local``): c2pa-rs wraps the first in an
        identity assertion signer only when it builds the signer from settings itself."""
        assert self._identity is not None
        ctx = self._identity_contexts.get(thumbnail)
        if ctx is None:
            identity = _local(self._identity)
            identity["referenced_assertions"] = list(IDENTITY_REFERENCED_ASSERTIONS)
            settings = {
                "builder": {"thumbnail": {"enabled": thumbnail}},
                "verify": _SAFE_VERIFY,
                "signer": {"local": _local(self._credentials)},
                "cawg_x509_signer": {"local": identity},
            }
            try:
                ctx = c2pa.Context.from_dict(settings)
            except c2pa.C2paError as exc:
                raise translate(exc, signing=True) from exc
            self._identity_contexts[thumbnail] = ctx
        return ctx

    @contextlib.contextmanager
    def _signing(self) -> Iterator[None]:
        """One signature at a time; c2pa's errors translated, a failed signing callback
        named (c2pa reports it only as an invalid signature)."""
        with self._lock:
            self._callback_error = None
            try:
                yield
            except (c2pa.C2paError, AimarkError) as exc:
                if self._callback_error is not None:
                    raise SigningError(
                        f"the signing callback failed: {self._callback_error!r}"
                    ) from self._callback_error
                if isinstance(exc, AimarkError):
                    raise
                raise translate(exc, signing=True) from exc

    @staticmethod
    def _add_parent(
        builder: Any,
        parent: bytes,
        mime: str,
        definition: dict[str, Any],
        title: str | None = None,
    ) -> None:
        ingredient = {
            "title": title or definition.get("title", "parent"),
            "relationship": "parentOf",
            "instance_id": PARENT_INGREDIENT_ID,
        }
        try:
            builder.add_ingredient(json.dumps(ingredient), mime, io.BytesIO(parent))
        except c2pa.C2paError as exc:
            raise CorruptInputError(
                f"the input's existing C2PA manifest cannot be read ({message_of(exc)}); "
                "it would be lost, so nothing was signed (remove it first to relabel)"
            ) from exc

    def sign(
        self,
        data: bytes,
        mime: str,
        definition: dict[str, Any],
        *,
        thumbnail: bool = False,
        parent: bytes | None = None,
    ) -> bytes:
        """Return ``data`` with the signed manifest embedded.

        ``parent``: the original asset whose existing manifest becomes the parent ingredient
        (see :func:`~aimark.manifest.definitions.ai_manifest`).

        Raises:
            SigningError, CredentialsError, CorruptInputError, UnsupportedFormatError.
        """
        return self.sign_with_store(data, mime, definition, thumbnail=thumbnail, parent=parent)[0]

    def sign_with_store(
        self,
        data: bytes,
        mime: str,
        definition: dict[str, Any],
        *,
        thumbnail: bool = False,
        parent: bytes | None = None,
        parent_mime: str | None = None,
        parent_title: str | None = None,
    ) -> tuple[bytes, bytes]:
        """:meth:`sign`, also returning the manifest store it embedded (``application/c2pa``
        bytes, what a manifest repository keeps).

        ``parent_mime`` / ``parent_title``: the parent's own type and name, where they differ
        from the output's (an upload re-encoded by :func:`aimark.ingest`)."""
        out = io.BytesIO()
        with self._signing():
            if self._identity is not None:
                ctx = self._identity_context(thumbnail)
            else:
                ctx = self._context(thumbnail)
            builder = c2pa.Builder(json.dumps(definition), context=ctx)
            with builder:
                if parent is not None:
                    self._add_parent(builder, parent, parent_mime or mime, definition, parent_title)
                if self._identity is not None:
                    store = _native.sign_with_settings_signer(builder, mime, io.BytesIO(data), out)
                else:
                    store = builder.sign(self._signer, mime, io.BytesIO(data), out)
        return out.getvalue(), bytes(store or b"")

    def sign_detached(
        self,
        data: bytes,
        definition: dict[str, Any],
        *,
        parent: bytes | None = None,
        parent_mime: str = "application/octet-stream",
    ) -> bytes:
        """Sign a manifest for ``data`` without embedding it (a sidecar): returns the bare
        manifest store (``application/c2pa``), whose hard binding is a ``c2pa.hash.data`` over
        all of ``data``, no exclusions. ``data`` is given to c2pa as
        ``application/octet-stream`` whatever it is, as c2pa 0.91 otherwise binds some formats
        to where an embedded store would go (MP4: ``bmffHash``, PDF: a data hash with an
        exclusion), which no longer matches the unchanged file. ``parent``: the asset itself
        when it already carries an embedded manifest (``parent_mime``: its MIME type), made
        the parent ingredient.

        Raises:
            SigningError, CredentialsError, CorruptInputError.
        """
        with self._signing():
            builder = c2pa.Builder(json.dumps(definition), context=self._context(False))
            with builder:
                builder.set_no_embed()
                if parent is not None:
                    self._add_parent(builder, parent, parent_mime, definition)
                store = builder.sign(
                    self._signer, "application/octet-stream", io.BytesIO(data), io.BytesIO()
                )
        if not store:
            raise SigningError("c2pa returned no manifest store for the sidecar")
        return bytes(store)

    def sign_data_hashed(
        self,
        definition: dict[str, Any],
        binding: Callable[[int], dict[str, Any]],
        *,
        fmt: str = "application/c2pa",
    ) -> bytes:
        """Sign ``definition`` with a hard binding the caller computes, for content c2pa cannot
        embed into itself (plain text). Returns the bare manifest store (JUMBF).

        ``binding(size)`` gets the exact size of the signed store (known in advance from a
        placeholder) and returns the ``c2pa.hash.data`` JSON; the native calls live in
        :mod:`aimark.manifest._native`.

        Raises:
            SigningError, CredentialsError, ManifestError.
        """
        with self._signing():
            builder = c2pa.Builder(json.dumps(definition), context=self._context(False))
            with builder:
                reserve = _native.reserve_size(self._signer)
                size = len(_native.data_hashed_placeholder(builder, reserve, fmt))
                store = _native.sign_data_hashed(builder, self._signer, binding(size), fmt)
        if len(store) != size:
            raise SigningError(
                f"c2pa returned a {len(store)}-byte manifest for a {size}-byte placeholder"
            )
        return store


def _agent_text(agent: Any) -> str | None:
    if isinstance(agent, str):
        return agent
    if isinstance(agent, dict) and agent.get("name"):
        return " ".join(str(agent[k]) for k in ("name", "version") if agent.get(k))
    return None


def _generator_text(m: dict[str, Any]) -> str | None:
    info = m.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        return _agent_text(info[0])
    cg = m.get("claim_generator")
    return cg if isinstance(cg, str) else None


def _actions(m: dict[str, Any]) -> tuple[Action, ...]:
    out: list[Action] = []
    for a in m.get("assertions") or []:
        if not isinstance(a, dict) or not str(a.get("label", "")).startswith("c2pa.actions"):
            continue
        for act in (a.get("data") or {}).get("actions") or []:
            if not isinstance(act, dict):
                continue
            dst = act.get("digitalSourceType")
            raw_params = act.get("parameters")
            params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
            desc = act.get("description") or params.get("description")
            out.append(
                Action(
                    action=str(act.get("action", "")),
                    digital_source_type=dst if isinstance(dst, str) else None,
                    software_agent=_agent_text(act.get("softwareAgent")),
                    when=act.get("when") if isinstance(act.get("when"), str) else None,
                    description=desc[:500] if isinstance(desc, str) else None,
                )
            )
    return tuple(out)


def _assertion(m: dict[str, Any], *labels: str) -> dict[str, Any] | None:
    for a in m.get("assertions") or []:
        if isinstance(a, dict) and a.get("label") in labels and isinstance(a.get("data"), dict):
            return a["data"]
    return None


def _ingest(m: dict[str, Any]) -> dict[str, Any] | None:
    """What a platform recorded when it ingested the content (:func:`aimark.ingest`): its
    name, its id for the copy, the GB 45438 fields and the kinds of evidence (bounded)."""
    data = _assertion(m, INGEST_ASSERTION)
    if data is None:
        return None

    def text(v: Any) -> str | None:
        return v[:256] if isinstance(v, str) else None

    gb = data.get("gb45438")
    raw = data.get("evidence")
    evidence: list[Any] = raw if isinstance(raw, list) else []
    return {
        "platform": text(data.get("platform")),
        "propagate_id": text(data.get("propagate_id")),
        "gb45438": {str(k)[:64]: text(v) for k, v in list(gb.items())[:16]}
        if isinstance(gb, dict)
        else None,
        "evidence": [
            text(e.get("kind")) for e in evidence[:16] if isinstance(e, dict) and e.get("kind")
        ],
    }


def _training(m: dict[str, Any]) -> dict[str, str] | None:
    data = _assertion(m, "cawg.training-mining", "c2pa.training-mining")
    if data is None:
        return None
    entries = data.get("entries") or {}
    return {str(k): str(v.get("use")) for k, v in entries.items() if isinstance(v, dict)}


def _soft_bindings(m: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(algorithm, value as hex) of every soft-binding block."""
    out = []
    for a in m.get("assertions") or []:
        if not isinstance(a, dict) or not str(a.get("label", "")).startswith(
            SOFT_BINDING_ASSERTION
        ):
            continue
        data = a.get("data") or {}
        for block in data.get("blocks") or []:
            try:
                value = base64.b64decode(str(block.get("value", "")), validate=True).hex()
            except (ValueError, AttributeError):
                continue
            out.append((str(data.get("alg", "")), value))
    return tuple(out)


def _delta_codes(report: dict[str, Any]) -> dict[str, tuple[set[str], set[str]]]:
    """(success codes, failure codes) c2pa reports now for each ingredient manifest, by the
    manifest's label (from the ``ingredientDeltas`` of the validation results)."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    results = report.get("validation_results") or {}
    for delta in results.get("ingredientDeltas") or []:
        if not isinstance(delta, dict):
            continue
        codes = delta.get("validationDeltas") or {}
        for kind, index in (("success", 0), ("failure", 1)):
            for item in codes.get(kind) or []:
                if not isinstance(item, dict):
                    continue
                m = re.search(r"/c2pa/([^/]+)", str(item.get("url", "")))
                if m:
                    out.setdefault(m.group(1), (set(), set()))[index].add(str(item.get("code")))
    return out


def _ingredients(report: dict[str, Any], limit: int = 32) -> tuple[Ingredient, ...]:
    """The ingredients that carry manifests, the parent chain first (nearest first), then
    the others of the active manifest; each with its validation state as c2pa gives it."""
    manifests = report.get("manifests") or {}
    if not isinstance(manifests, dict):
        return ()
    deltas = _delta_codes(report)
    out: list[Ingredient] = []
    seen: set[str] = set()

    def describe(ing: dict[str, Any], depth: int) -> Ingredient | None:
        label = ing.get("active_manifest")
        m = manifests.get(label) if isinstance(label, str) else None
        if not isinstance(m, dict):
            return None
        stored = (ing.get("validation_results") or {}).get("activeManifest") or {}
        stored_failures = {
            str(f.get("code"))
            for f in stored.get("failure") or []
            if isinstance(f, dict) and f.get("code") != "signingCredential.untrusted"
        }
        success, failures = deltas.get(str(label), (set(), set()))
        failures = (failures | stored_failures) - {"signingCredential.untrusted"}
        if failures:
            state = "invalid"
        elif "signingCredential.trusted" in success:
            state = "trusted"
        else:
            state = "valid"
        actions = _actions(m)
        sig = m.get("signature_info") or {}
        return Ingredient(
            title=ing.get("title") if isinstance(ing.get("title"), str) else None,
            relationship=str(ing.get("relationship") or "") or None,
            manifest=label,
            state=state,
            signer=sig.get("common_name") if isinstance(sig, dict) else None,
            issuer=sig.get("issuer") if isinstance(sig, dict) else None,
            digital_source_types=tuple(
                dict.fromkeys(a.digital_source_type for a in actions if a.digital_source_type)
            ),
            software_agents=tuple(
                dict.fromkeys(a.software_agent for a in actions if a.software_agent)
            ),
            failures=tuple(sorted(failures)),
            depth=depth,
        )

    label = report.get("active_manifest")
    depth = 1
    others: list[Ingredient] = []
    while isinstance(label, str) and label not in seen and len(out) < limit:
        seen.add(label)
        m = manifests.get(label)
        if not isinstance(m, dict):
            break
        parent_label = None
        for ing in m.get("ingredients") or []:
            if not isinstance(ing, dict):
                continue
            found = describe(ing, depth)
            if found is None:
                continue
            if found.relationship == "parentOf" and parent_label is None:
                out.append(found)
                parent_label = found.manifest
            elif depth == 1:
                others.append(found)
        label = parent_label
        depth += 1
    return tuple(out + others[: max(0, limit - len(out))])


IDENTITY_ASSERTION = "cawg.identity"
#: The code c2pa-rs 0.91.3 gives an identity whose X.509 chain it does not trust: always, as
#: c2pa-python 0.38.1 offers no way to give it CAWG trust anchors (``cawg_trust`` is ignored,
#: ``trust`` anchors do not apply to identities).
_IDENTITY_UNTRUSTED = "cawg.x509.credential.untrusted"
_IDENTITY_TRUSTED = "cawg.x509.credential.trusted"


def _assertion_label(url: Any) -> str:
    """The assertion label a validation status points at (``.../c2pa.assertions/LABEL``)."""
    return str(url or "").rsplit("/", 1)[-1]


def _is_identity_status(status: dict[str, Any]) -> bool:
    """A status about a CAWG identity assertion (not about the C2PA claim itself)."""
    return _assertion_label(status.get("url")).startswith(IDENTITY_ASSERTION) and str(
        status.get("code", "")
    ).startswith("cawg.")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dn(name: Any) -> str | None:
    if not isinstance(name, dict) or not name:
        return None
    return ", ".join(f"{k}={v}" for k, v in name.items())


def _identities(
    m: dict[str, Any],
    report: dict[str, Any],
    crjson: dict[str, Any] | None,
    label: str | None,
    anchors_given: bool,
) -> tuple[dict[str, Any], ...]:
    """The CAWG identity assertions of the active manifest: who (X.509 subject, issuer,
    validity, from the crJSON view), what they sign for, and their validation. ``trusted``
    only when c2pa says the identity's chain is trusted and the user gave anchors."""
    results = (report.get("validation_results") or {}).get("activeManifest") or {}
    codes: dict[str, dict[str, list[str]]] = {}
    for kind in ("success", "informational", "failure"):
        for st in results.get(kind) or []:
            if isinstance(st, dict) and _assertion_label(st.get("url")).startswith(
                IDENTITY_ASSERTION
            ):
                per = codes.setdefault(_assertion_label(st.get("url")), {})
                per.setdefault(kind, []).append(str(st.get("code", "")))
    cr_assertions: dict[str, Any] = {}
    if crjson is not None:
        for cm in crjson.get("manifests") or []:
            if isinstance(cm, dict) and cm.get("label") == label:
                found = cm.get("assertions")
                cr_assertions = found if isinstance(found, dict) else {}
    out = []
    for a in m.get("assertions") or []:
        if not isinstance(a, dict) or not str(a.get("label", "")).startswith(IDENTITY_ASSERTION):
            continue
        name = str(a["label"])
        data = _dict(a.get("data"))
        payload = _dict(data.get("signer_payload"))
        cr = _dict(cr_assertions.get(name))
        cert = _dict(_dict(cr.get("signature")).get("certificateInfo"))
        validity = _dict(cert.get("validity"))
        sig = _dict(data.get("signature_info"))
        mine = codes.get(name, {})
        failures = [c for c in mine.get("failure", []) if c != _IDENTITY_UNTRUSTED]
        if failures or "cawg.identity.well-formed" not in mine.get("success", []):
            state = "invalid"
        elif _IDENTITY_TRUSTED in mine.get("success", []) and anchors_given:
            state = "trusted"
        else:
            state = "valid"
        refs = [
            _assertion_label(r.get("url"))
            for r in payload.get("referenced_assertions") or []
            if isinstance(r, dict)
        ]
        out.append(
            {
                "label": name,
                "sig_type": payload.get("sig_type"),
                "subject": _dn(cert.get("subject")) or sig.get("common_name"),
                "issuer": _dn(cert.get("issuer")) or sig.get("issuer"),
                "not_before": validity.get("notBefore"),
                "not_after": validity.get("notAfter"),
                "serial": cert.get("serialNumber") or sig.get("cert_serial_number"),
                "alg": sig.get("alg"),
                "roles": [str(r) for r in payload.get("role") or []],
                "referenced_assertions": refs,
                "state": state,
                "codes": sorted(c for kind in mine.values() for c in kind),
            }
        )
    return tuple(out)


def _failures(report: dict[str, Any]) -> tuple[Failure, ...]:
    results = report.get("validation_results") or {}
    items = (results.get("activeManifest") or {}).get("failure")
    if items is None:
        items = [s for s in report.get("validation_status") or [] if isinstance(s, dict)]
    return tuple(
        Failure(str(f.get("code", "")), str(f.get("explanation", "")))
        for f in items
        if isinstance(f, dict)
    )


def _drop_failures(report: dict[str, Any], ignore: Callable[[dict[str, Any]], bool]) -> int:
    """Remove the failures ``ignore`` accepts from ``report`` (in place); return how many."""
    dropped = 0
    results = report.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    for holder, key in ((active, "failure"), (report, "validation_status")):
        items = holder.get(key)
        if isinstance(items, list):
            kept = [f for f in items if not (isinstance(f, dict) and ignore(f))]
            dropped = max(dropped, len(items) - len(kept))
            holder[key] = kept
    return dropped


def _claim_state(report: dict[str, Any], state_text: str | None) -> str | None:
    """c2pa's state for the C2PA claim alone: c2pa-rs 0.91.3 counts a CAWG identity's codes
    (e.g. an untrusted identity certificate) as failures of the manifest, so a Trusted claim
    signer reads "Valid". Those codes are removed from ``report`` (in place; aimark reports
    them per identity) and a "Valid" state is re-derived from the codes left. "Invalid" is
    never upgraded."""
    if _drop_failures(report, _is_identity_status) and state_text == "Valid":
        return _state_from_codes(report)
    return state_text


def _state_from_codes(report: dict[str, Any]) -> str:
    """c2pa's validation state from the codes left: any failure but an untrusted signer is
    Invalid; a trusted signing credential is Trusted; otherwise Valid."""
    results = (report.get("validation_results") or {}).get("activeManifest") or {}
    failures = {f.get("code") for f in results.get("failure") or [] if isinstance(f, dict)}
    if failures - {"signingCredential.untrusted"}:
        return "Invalid"
    success = {f.get("code") for f in results.get("success") or [] if isinstance(f, dict)}
    return "Trusted" if "signingCredential.trusted" in success else "Valid"


_REMOTE_URL = re.compile(r"(https?://\S+)")


def active_label(store: bytes) -> str | None:
    """The active manifest's label of a bare manifest store (``application/c2pa``), or None
    when c2pa cannot read it."""
    try:
        reader = c2pa.Reader("application/c2pa", io.BytesIO(store), context=_context_for(""))
    except c2pa.C2paError:
        return None
    with reader:
        try:
            label = json.loads(reader.json()).get("active_manifest")
        except (c2pa.C2paError, ValueError):
            return None
    return label if isinstance(label, str) else None


def _context_for(pem: str) -> Any:
    settings: dict[str, Any] = {"verify": dict(_SAFE_VERIFY)}
    if pem:
        settings["trust"] = {"user_anchors": pem}
    return c2pa.Context.from_dict(settings)


def _crjson(reader: Any) -> dict[str, Any] | None:
    """The reader's C2PA JSON (crJSON) view, which names the signer's full subject."""
    try:
        return json.loads(reader.crjson())
    except (AttributeError, c2pa.C2paError, ValueError):
        return None


def _conforming_product(crjson: dict[str, Any], label: str | None) -> dict[str, Any] | None:
    """The conforming-products record naming the active manifest's signer, if any."""
    from aimark import trust

    manifests = [m for m in crjson.get("manifests") or [] if isinstance(m, dict)]
    if not manifests:
        return None
    active = next((m for m in manifests if m.get("label") == label), manifests[0])
    info = ((active.get("signature") or {}).get("certificateInfo") or {}).get("subject") or {}
    if not isinstance(info, dict):
        return None
    subject = {str(k): str(v) for k, v in info.items()}
    product = trust.match_product(subject)
    return product.to_dict() if product else None


class ManifestReader:
    """Reads and validates C2PA manifests against a set of trust anchors (reusable)."""

    def __init__(self, trust: TrustAnchors | None = None, *, detailed: bool = False) -> None:
        self.trust = trust or TrustAnchors.none()
        self.detailed = detailed
        self._context = _context_for(self.trust.pem)
        self._set_contexts: dict[int, Any] = {}

    def _set_context(self, i: int) -> Any:
        ctx = self._set_contexts.get(i)
        if ctx is None:
            ctx = self._set_contexts[i] = _context_for(self.trust.sets[i].pem)
        return ctx

    def _trust_details(
        self,
        state: C2paState,
        state_with: Callable[[Any], str | None],
        crjson: dict[str, Any] | None,
        active: str | None,
    ) -> dict[str, Any]:
        """Which anchor set made a trusted signer trusted (each set is tried alone when there
        are several), what to say about it, and the conforming product it names."""
        if state is not C2paState.TRUSTED or not self.trust.sets:
            return {}
        chosen = None
        if len(self.trust.sets) == 1:
            chosen = self.trust.sets[0]
        else:
            for i, candidate in enumerate(self.trust.sets):
                try:
                    if state_with(self._set_context(i)) == "Trusted":
                        chosen = candidate
                        break
                except (c2pa.C2paError, ValueError):
                    continue
        if chosen is None:
            return {"trusted_by": "your trust anchors together"}
        out: dict[str, Any] = {"trusted_by": chosen.name}
        if chosen.not_roots and not chosen.official:
            out["trust_note"] = (
                f"{len(chosen.not_roots)} of the {len(chosen.subjects)} certificates in "
                f"{chosen.name} are not root CAs ({chosen.not_roots[0]}"
                + (", ..." if len(chosen.not_roots) > 1 else "")
                + "): trusting a signer's own chain trusts whatever it signed, with no "
                "independent root behind it"
            )
        if chosen.official and crjson is not None:
            product = _conforming_product(crjson, active)
            if product is not None:
                out["conforming_product"] = product
        return out

    def read(self, data: bytes, mime: str) -> C2paResult:
        """Return the C2PA layer of ``data`` (never raises for bad content)."""
        try:
            reader = c2pa.Reader.try_create(mime, io.BytesIO(data), context=self._context)
        except c2pa.C2paError.ManifestNotFound:
            return C2paResult(state=C2paState.ABSENT)
        except c2pa.C2paError as exc:
            text = message_of(exc)
            if "remote manifest" in text.lower():
                m = _REMOTE_URL.search(text)
                return C2paResult(
                    state=C2paState.REMOTE,
                    remote_url=m.group(1) if m else None,
                    error="the manifest is stored remotely and was not fetched",
                )
            return C2paResult(state=C2paState.INVALID, error=str(translate(exc)))
        if reader is None:
            return C2paResult(state=C2paState.ABSENT)
        crjson = None
        with reader:
            try:
                raw = reader.json()
                report = json.loads(raw)
                state_text = reader.get_validation_state()
                official = any(s.official for s in self.trust.sets)
                identity = IDENTITY_ASSERTION in raw
                if self.detailed or identity or (state_text == "Trusted" and official):
                    crjson = _crjson(reader)
            except (c2pa.C2paError, ValueError) as exc:
                return C2paResult(state=C2paState.INVALID, error=f"unreadable manifest: {exc}")
        pristine = json.loads(json.dumps(report)) if identity else report
        state_text = _claim_state(report, state_text)
        result = self._result(report, state_text)
        if identity:
            active = _dict(_dict(report.get("manifests")).get(result.manifest or ""))
            ids = _identities(active, pristine, crjson, result.manifest, bool(self.trust))
            result = dataclasses.replace(result, identity=ids)

        def state_with(ctx: Any) -> str | None:
            with c2pa.Reader(mime, io.BytesIO(data), context=ctx) as r:
                return _claim_state(json.loads(r.json()), r.get_validation_state())

        details = self._trust_details(result.state, state_with, crjson, result.manifest)
        if self.detailed:
            details["store"] = build_store(report, crjson)
        return dataclasses.replace(result, **details) if details else result

    def read_manifest_data(
        self,
        manifest: bytes,
        asset: bytes,
        *,
        ignore: Callable[[dict[str, Any]], bool] = lambda failure: False,
        fmt: str = "application/c2pa",
    ) -> tuple[C2paResult, dict[str, Any]]:
        """Validate a manifest store held apart from c2pa's view of the asset (plain text carries
        it in a wrapper c2pa does not parse): signature, trust, assertion hashes; c2pa also
        hashes ``asset`` with the store's ``c2pa.hash.data`` exclusions.

        ``ignore(failure)`` drops validation failures the caller knows to be spurious (and
        checks itself); when only such failures made c2pa say "Invalid", the state is
        re-derived from the remaining codes. Returns the result and the active manifest's
        assertion store (label -> data, from the detailed report; empty when unreadable).
        Never raises for bad content.
        """
        try:
            reader = c2pa.Reader(
                fmt, io.BytesIO(asset), manifest_data=manifest, context=self._context
            )
        except c2pa.C2paError as exc:
            return C2paResult(state=C2paState.INVALID, error=str(translate(exc))), {}
        with reader:
            try:
                report = json.loads(reader.json())
                detailed = json.loads(reader.detailed_json())
                state_text = reader.get_validation_state()
                wanted = self.detailed or any(s.official for s in self.trust.sets)
                crjson = _crjson(reader) if wanted else None
            except (c2pa.C2paError, ValueError) as exc:
                return C2paResult(state=C2paState.INVALID, error=f"unreadable manifest: {exc}"), {}
        dropped = _drop_failures(report, ignore)
        if dropped and state_text == "Invalid":
            state_text = _state_from_codes(report)
        manifests = detailed.get("manifests") or {}
        active = (
            manifests.get(detailed.get("active_manifest")) if isinstance(manifests, dict) else None
        )
        store = (active or {}).get("assertion_store") if isinstance(active, dict) else None
        result = self._result(report, state_text)

        def state_with(ctx: Any) -> str | None:  # each set alone, the same failures ignored
            with c2pa.Reader(fmt, io.BytesIO(asset), manifest_data=manifest, context=ctx) as r:
                alone = json.loads(r.json())
                state = r.get_validation_state()
            if _drop_failures(alone, ignore) and state == "Invalid":
                state = _state_from_codes(alone)
            return state

        details = self._trust_details(result.state, state_with, crjson, result.manifest)
        if self.detailed:
            details["store"] = build_store(report, crjson)
        if details:
            result = dataclasses.replace(result, **details)
        return result, store if isinstance(store, dict) else {}

    def _result(self, report: dict[str, Any], state_text: str | None) -> C2paResult:
        manifests = report.get("manifests") or {}
        label = report.get("active_manifest")
        m = manifests.get(label) if isinstance(manifests, dict) else None
        if not isinstance(m, dict):
            return C2paResult(
                state=C2paState.INVALID,
                manifests=len(manifests),
                failures=_failures(report),
                error="no active manifest",
            )
        if state_text == "Trusted" and self.trust:
            state = C2paState.TRUSTED
        elif state_text in ("Valid", "Trusted"):
            # "Trusted" without anchors of ours could only come from a list we did not give.
            state = C2paState.VALID_UNTRUSTED
        else:
            state = C2paState.INVALID
        sig = m.get("signature_info") or {}
        actions = _actions(m)
        content = _assertion(m, CONTENT_ASSERTION) or {}
        return C2paResult(
            state=state,
            manifest=label,
            manifests=len(manifests),
            title=m.get("title") if isinstance(m.get("title"), str) else None,
            claim_generator=_generator_text(m),
            software_agents=tuple(
                dict.fromkeys(a.software_agent for a in actions if a.software_agent)
            ),
            digital_source_types=tuple(
                dict.fromkeys(a.digital_source_type for a in actions if a.digital_source_type)
            ),
            actions=actions,
            signer=Signer(
                common_name=sig.get("common_name"),
                issuer=sig.get("issuer"),
                alg=sig.get("alg"),
                serial=str(sig["cert_serial_number"]) if sig.get("cert_serial_number") else None,
                time=sig.get("time"),
            )
            if sig
            else None,
            failures=_failures(report),
            content_id=content.get("content_id")
            if isinstance(content.get("content_id"), str)
            else None,
            training_mining=_training(m),
            soft_bindings=_soft_bindings(m),
            ingredients=_ingredients(report),
            ingest=_ingest(m),
        )
