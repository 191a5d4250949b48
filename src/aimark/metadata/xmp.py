"""XMP packets: write the IPTC Digital Source Type (and friends), read labels back.

The label is written into its own ``rdf:Description`` so that an existing XMP packet is kept
whole; only earlier values of the properties aimark writes are replaced.

Example:
    >>> from aimark.metadata.xmp import TRAINED, XmpLabel, build_xmp, read_xmp
    >>> packet = build_xmp(XmpLabel(digital_source_type=TRAINED, creator_tool="m 1"))
    >>> read_xmp(packet).digital_source_types == (TRAINED,)
    True
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from aimark.errors import CorruptInputError

__all__ = [
    "IPTC_DST_BASE",
    "TRAINED",
    "XmpError",
    "XmpLabel",
    "XmpLabels",
    "build_xmp",
    "merge_xmp",
    "read_xmp",
]

IPTC_DST_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = IPTC_DST_BASE + "trainedAlgorithmicMedia"

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "TC260": "http://www.tc260.org.cn/ns/AIGC/1.0/",
}
_RDF = "{" + NS["rdf"] + "}"
_IPTC = "{" + NS["Iptc4xmpExt"] + "}"
_XMP = "{" + NS["xmp"] + "}"
_XMPMM = "{" + NS["xmpMM"] + "}"
_PLUS = "{" + NS["plus"] + "}"
_TC260 = "{" + NS["TC260"] + "}"

# PLUS "Data Mining" vocabulary values, as recommended by IPTC for AI training opt-outs.
DATA_MINING_PROHIBITED = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"

_WRITTEN = (
    _IPTC + "DigitalSourceType",
    _IPTC + "AISystemUsed",
    _IPTC + "AISystemVersionUsed",
    _XMP + "CreatorTool",
    _XMPMM + "DocumentID",
    _XMPMM + "InstanceID",
    _PLUS + "DataMining",
    _TC260 + "AIGC",
)

_PACKET_HEAD = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_PACKET_TAIL = b'\n<?xpacket end="w"?>'


class XmpError(CorruptInputError):
    """An XMP packet is malformed or unsafe to parse (DOCTYPE / entities)."""


@dataclass(frozen=True)
class XmpLabel:
    """The XMP properties aimark writes."""

    digital_source_type: str = TRAINED
    creator_tool: str | None = None
    ai_system: str | None = None
    ai_system_version: str | None = None
    content_id: str | None = None
    data_mining: str | None = None
    tc260_aigc: str | None = None  # GB 45438's AIGC object, as JSON


@dataclass(frozen=True)
class XmpLabels:
    """What an XMP packet says about the origin of the content."""

    digital_source_types: tuple[str, ...] = ()
    creator_tool: str | None = None
    ai_system: str | None = None
    ai_system_version: str | None = None
    document_id: str | None = None
    data_mining: str | None = None
    tc260_aigc: dict | None = None
    problems: tuple[str, ...] = field(default=())


def _register() -> None:
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)


def _check_safe(packet: bytes) -> None:
    # Refuse DTDs outright: they are never needed in XMP and enable entity expansion attacks.
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        raise XmpError("XMP with a DOCTYPE or entity declaration is refused")


def _strip_packet(packet: bytes) -> bytes:
    return packet.strip(b"\x00 \t\r\n")


def _escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML entities (as ``xml.sax.saxutils.escape``, which would
    import urllib.request and http.client with it)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _parse(packet: bytes) -> ET.Element:
    _check_safe(packet)
    try:
        root = ET.fromstring(_strip_packet(packet))
    except ET.ParseError as exc:
        raise XmpError(f"malformed XMP: {exc}") from None
    return root


def _find_rdf(root: ET.Element) -> ET.Element:
    if root.tag == _RDF + "RDF":
        return root
    rdf = root.find(_RDF + "RDF")
    if rdf is None:
        raise XmpError("XMP has no rdf:RDF element")
    return rdf


def _label_description(label: XmpLabel) -> ET.Element:
    desc = ET.Element(_RDF + "Description", {_RDF + "about": ""})
    values = {
        _IPTC + "DigitalSourceType": label.digital_source_type,
        _IPTC + "AISystemUsed": label.ai_system,
        _IPTC + "AISystemVersionUsed": label.ai_system_version,
        _XMP + "CreatorTool": label.creator_tool,
        _XMPMM + "DocumentID": label.content_id,
        _XMPMM + "InstanceID": label.content_id,
    }
    for tag, value in values.items():
        if value:
            ET.SubElement(desc, tag).text = value
    if label.data_mining:
        ET.SubElement(desc, _PLUS + "DataMining").text = label.data_mining
    if label.tc260_aigc:
        ET.SubElement(desc, _TC260 + "AIGC").text = label.tc260_aigc
    return desc


def _serialize(root: ET.Element) -> bytes:
    _register()
    body = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return _PACKET_HEAD + body + _PACKET_TAIL


def build_xmp(label: XmpLabel) -> bytes:
    """Return a complete XMP packet holding ``label`` (a template: this is on the hot path)."""
    props = [
        ("Iptc4xmpExt:DigitalSourceType", label.digital_source_type),
        ("Iptc4xmpExt:AISystemUsed", label.ai_system),
        ("Iptc4xmpExt:AISystemVersionUsed", label.ai_system_version),
        ("xmp:CreatorTool", label.creator_tool),
        ("xmpMM:DocumentID", label.content_id),
        ("xmpMM:InstanceID", label.content_id),
        ("plus:DataMining", label.data_mining),
        ("TC260:AIGC", label.tc260_aigc),
    ]
    body = "".join(f"<{k}>{_escape(v)}</{k}>" for k, v in props if v)
    names = ("x", "rdf", "Iptc4xmpExt", "xmp", "xmpMM", "plus") + (
        ("TC260",) if label.tc260_aigc else ()
    )
    xmlns = " ".join(f'xmlns:{p}="{NS[p]}"' for p in names[2:])
    text = (
        f'<x:xmpmeta xmlns:x="{NS["x"]}"><rdf:RDF xmlns:rdf="{NS["rdf"]}">'
        f'<rdf:Description rdf:about="" {xmlns}>{body}</rdf:Description></rdf:RDF></x:xmpmeta>'
    )
    return _PACKET_HEAD + text.encode("utf-8") + _PACKET_TAIL


def merge_xmp(existing: bytes | None, label: XmpLabel) -> bytes:
    """Add ``label`` to an existing packet, keeping every other property.

    Raises:
        XmpError: the existing packet cannot be parsed safely (the caller keeps it as is).
    """
    if not existing or not existing.strip(b"\x00 \t\r\n"):
        return build_xmp(label)
    root = _parse(existing)
    rdf = _find_rdf(root)
    for desc in rdf.findall(_RDF + "Description"):
        for tag in _WRITTEN:
            desc.attrib.pop(tag, None)
            for child in desc.findall(tag):
                desc.remove(child)
    rdf.append(_label_description(label))
    return _serialize(root)


def _text_values(desc: ET.Element, tag: str) -> list[str]:
    out: list[str] = []
    if tag in desc.attrib:
        out.append(desc.attrib[tag].strip())
    for child in desc.findall(tag):
        if child.text and child.text.strip():
            out.append(child.text.strip())
        # the items of an rdf:Bag / Seq / Alt value (or bare rdf:li): not child.iter(), which
        # would also walk nested descriptions, each of which is looked at again on its own
        # (a packet nesting them 15,000 deep took minutes)
        items = child.findall(_RDF + "li") + child.findall("*/" + _RDF + "li")
        out.extend(li.text.strip() for li in items if li.text and li.text.strip())
        resource = child.attrib.get(_RDF + "resource")
        if resource:
            out.append(resource.strip())
    return out


def _first(desc_list: list[ET.Element], tag: str) -> str | None:
    for desc in desc_list:
        values = _text_values(desc, tag)
        if values:
            return values[0]
    return None


_MAX_JSON_DEPTH = 16  # the TC260 label is a flat object; deeper values are kept raw


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _plain_json(text: str) -> Any:
    """Parse ``text`` as strict JSON that a report can carry: no NaN or Infinity (Python's
    json accepts them, and would write them back out as invalid JSON), nesting at most
    :data:`_MAX_JSON_DEPTH` deep (deeper input exhausts the recursion limit, while parsing or
    later while the report is serialised).

    Raises:
        ValueError: not such JSON.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    level, depth = [value], 0
    while level:
        depth += 1
        if depth > _MAX_JSON_DEPTH:
            raise ValueError("nested too deeply")
        level = [
            child
            for v in level
            if isinstance(v, (dict, list))
            for child in (v.values() if isinstance(v, dict) else v)
        ]
    return value


def read_xmp(packet: bytes | str) -> XmpLabels:
    """Read the origin-related properties from an XMP packet (never raises on bad XMP).

    Malformed or unsafe packets give an empty result with a ``problems`` entry.
    """
    if isinstance(packet, str):
        packet = packet.encode("utf-8", "replace")
    try:
        rdf = _find_rdf(_parse(packet))
    except XmpError as exc:
        return XmpLabels(problems=(str(exc),))
    descs = list(rdf.iter(_RDF + "Description"))
    dst: dict[str, None] = {}  # ordered and de-duplicated in linear time
    for desc in descs:
        dst.update(dict.fromkeys(_text_values(desc, _IPTC + "DigitalSourceType")))
    tc260: dict | None = None
    problems: list[str] = []
    raw_tc = _first(descs, _TC260 + "AIGC")
    if raw_tc is not None:
        try:
            parsed = _plain_json(raw_tc)
            if isinstance(parsed, dict) and isinstance(parsed.get("AIGC"), dict):
                parsed = parsed["AIGC"]  # the wrapped form, {"AIGC": {...}}
            tc260 = parsed if isinstance(parsed, dict) else {"value": parsed}
        except ValueError as exc:
            tc260 = {"raw": raw_tc[:1000]}
            problems.append(f"TC260 AIGC property is not JSON ({exc})")
    return XmpLabels(
        digital_source_types=tuple(dst),
        creator_tool=_first(descs, _XMP + "CreatorTool"),
        ai_system=_first(descs, _IPTC + "AISystemUsed"),
        ai_system_version=_first(descs, _IPTC + "AISystemVersionUsed"),
        document_id=_first(descs, _XMPMM + "DocumentID"),
        data_mining=_first(descs, _PLUS + "DataMining"),
        tc260_aigc=tc260,
        problems=tuple(problems),
    )
