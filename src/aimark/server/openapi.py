"""The OpenAPI 3.1 document of the service, with the JSON Schema of the report.

The report's schema is strict (no unlisted properties) and its enums come from
:mod:`aimark.report`, so a test that validates real answers against it catches any drift.
"""

from __future__ import annotations

from typing import Any

from aimark._version import __version__
from aimark.compliance import REGIMES, STATUSES
from aimark.report import SCHEMA_VERSION, Backing, C2paState, Status
from aimark.server.problems import CODES

__all__ = ["openapi_document", "report_json_schema"]


def _obj(props: dict[str, Any], *, nullable: bool = False, required: bool = True) -> dict:
    schema: dict[str, Any] = {
        "type": ["object", "null"] if nullable else "object",
        "properties": props,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = sorted(props)
    return schema


def _t(*types: str) -> dict[str, Any]:
    return {"type": list(types) if len(types) > 1 else types[0]}


_STR, _OSTR, _INT, _OINT, _BOOL, _ONUM = (
    _t("string"),
    _t("string", "null"),
    _t("integer"),
    _t("integer", "null"),
    _t("boolean"),
    _t("number", "null"),
)
_STRS = {"type": "array", "items": _STR}
_ANY_OBJ = {"type": ["object", "null"]}


def _report_schema(include_scores: bool) -> dict[str, Any]:
    public_props: dict[str, Any] = {"name": _STR, "detected": _BOOL, "channel_order": _STR}
    watermark: dict[str, Any] = {
        "checked": _BOOL,
        "status": _STR,
        "reason": _OSTR,
        "keys": _STRS,
        "detected": _BOOL,
        "key_id": _OSTR,
        "scheme": _OSTR,
        "payload": _OSTR,
        "content_id": _OSTR,
        "threshold": _ONUM,
        "region": {"type": ["array", "null"], "items": {"type": "number"}},
        "time_range": {"type": ["array", "null"], "items": {"type": "number"}},
    }
    if include_scores:
        watermark.update(p_value=_ONUM, confidence=_ONUM, score=_ONUM)
        public_props.update(matched_bits=_INT, total_bits=_INT, p_value=_t("number"))
    watermark["public"] = {"type": "array", "items": _obj(public_props)}
    return _obj(
        {
            "schema": {"const": "aimark.report"},
            "schema_version": {"const": SCHEMA_VERSION},
            "aimark_version": _STR,
            "source": _STR,
            "verdict": _obj(
                {
                    "status": {"enum": [s.value for s in Status]},
                    "ai_generated": _BOOL,
                    "backing": {"enum": [b.value for b in Backing]},
                    "summary": _STR,
                    "reasons": _STRS,
                }
            ),
            "media": _obj(
                {
                    "format": _OSTR,
                    "kind": {
                        "enum": [None, "image", "video", "audio", "document", "archive", "text"]
                    },
                    "mime": _OSTR,
                    "width": _OINT,
                    "height": _OINT,
                    "frames": _OINT,
                    "bytes": _INT,
                    "problems": _STRS,
                }
            ),
            "c2pa": _obj(
                {
                    "present": _BOOL,
                    "state": {"enum": [s.value for s in C2paState]},
                    "ai_declared": _BOOL,
                    "manifest": _OSTR,
                    "manifests": _INT,
                    "title": _OSTR,
                    "claim_generator": _OSTR,
                    "software_agents": _STRS,
                    "digital_source_types": _STRS,
                    "actions": {
                        "type": "array",
                        "items": _obj(
                            {
                                "action": _STR,
                                "digital_source_type": _OSTR,
                                "software_agent": _OSTR,
                                "when": _OSTR,
                                "description": _OSTR,
                            }
                        ),
                    },
                    "signer": _obj(
                        {
                            "common_name": _OSTR,
                            "issuer": _OSTR,
                            "alg": _OSTR,
                            "serial": _OSTR,
                            "time": _OSTR,
                        },
                        nullable=True,
                    ),
                    "failures": {
                        "type": "array",
                        "items": _obj({"code": _STR, "explanation": _STR}),
                    },
                    "content_id": _OSTR,
                    "training_mining": _ANY_OBJ,
                    "remote_url": _OSTR,
                    "error": _OSTR,
                    "soft_bindings": {"type": "array", "items": _obj({"alg": _STR, "value": _STR})},
                    "text_wrapper": _OSTR,
                    "text_watermark": _ANY_OBJ,
                    "trusted_by": _OSTR,
                    "trust_note": _OSTR,
                    "conforming_product": _ANY_OBJ,
                    # the whole manifest store, with verify(detailed=True); see docs/cli.md
                    "store": {"type": "array", "items": {"type": "object"}},
                    # ingredients carrying manifests: a platform's over the generator's ...
                    "ingredients": {
                        "type": "array",
                        "items": _obj(
                            {
                                "title": _OSTR,
                                "relationship": _OSTR,
                                "manifest": _OSTR,
                                "state": {"enum": ["trusted", "valid", "invalid"]},
                                "signer": _OSTR,
                                "issuer": _OSTR,
                                "digital_source_types": _STRS,
                                "software_agents": _STRS,
                                "failures": _STRS,
                                "depth": _INT,
                                "ai_declared": _BOOL,
                            }
                        ),
                    },
                    "ingest": _ANY_OBJ,
                    # CAWG identity assertions (X.509); see docs/c2pa.md
                    "identity": {
                        "type": "array",
                        "items": _obj(
                            {
                                "label": _STR,
                                "sig_type": _OSTR,
                                "subject": _OSTR,
                                "issuer": _OSTR,
                                "not_before": _OSTR,
                                "not_after": _OSTR,
                                "serial": _OSTR,
                                "alg": _OSTR,
                                "roles": _STRS,
                                "referenced_assertions": _STRS,
                                "state": {
                                    "type": "string",
                                    "enum": ["trusted", "valid", "invalid"],
                                },
                                "codes": _STRS,
                            }
                        ),
                    },
                    "sidecar": _OSTR,  # the sidecar file read (never set by the service)
                }
            ),
            "metadata": _obj(
                {
                    "ai_declared": _BOOL,
                    "digital_source_types": _STRS,
                    "exif": {"type": "object", "additionalProperties": _STR},
                    "id3": {"type": "object", "additionalProperties": _STR},
                    "creator_tool": _OSTR,
                    "ai_system": _OSTR,
                    "document_id": _OSTR,
                    "data_mining": _OSTR,
                    "tc260_aigc": _ANY_OBJ,
                    "tc260_carriers": _STRS,
                    "disclosure": _OSTR,
                    "markers": {
                        "type": "array",
                        "items": _obj({"generator": _STR, "where": _STR, "detail": _STR}),
                    },
                    "problems": _STRS,
                }
            ),
            "trust_anchors": _INT,
            "error": _obj({"code": _STR, "message": _STR}, nullable=True),
            "watermark": _obj(watermark),
            "file": _obj({"size": _INT, "mtime_ns": _OINT, "etag": _OSTR}, nullable=True),
            # credentials a manifest repository gave back (docs/repository.md), or null
            "recovery": _ANY_OBJ,
            # which labelling requirements the file meets (docs/compliance.md)
            "compliance": _obj(
                {
                    "note": _STR,
                    "regimes": {
                        "type": "array",
                        "items": _obj(
                            {
                                "regime": {"enum": list(REGIMES)},
                                "name": _STR,
                                "clause": _STR,
                                "status": {"enum": list(STATUSES)},
                                "missing": _STRS,
                                "requirements": {
                                    "type": "array",
                                    "items": _obj(
                                        {
                                            "id": _STR,
                                            "text": _STR,
                                            "met": _t("boolean", "null"),
                                            "evidence": _STR,
                                        }
                                    ),
                                },
                            }
                        ),
                    },
                }
            ),
        }
    )


#: the graded numbers ``include_scores`` adds: optional in the standalone schema
_SCORES = {
    "watermark": ("p_value", "confidence", "score"),
    "public": ("matched_bits", "total_bits", "p_value"),
}


def report_json_schema() -> dict[str, Any]:
    """The report's standalone JSON Schema (draft 2020-12), published as
    docs/report.schema.json and printed by ``aimark schema``: the service's ``Report`` component,
    with the graded numbers (``include_scores``) allowed but not required, so it accepts reports
    with and without them.

    >>> schema = report_json_schema()
    >>> schema["$schema"], schema["properties"]["schema"]
    ('https://json-schema.org/draft/2020-12/schema', {'const': 'aimark.report'})
    """
    body = _report_schema(include_scores=True)
    watermark = body["properties"]["watermark"]
    public = watermark["properties"]["public"]["items"]
    for schema, names in ((watermark, _SCORES["watermark"]), (public, _SCORES["public"])):
        schema["required"] = [n for n in schema["required"] if n not in names]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/aimark/aimark/raw/main/docs/report.schema.json",
        "title": "aimark verification report",
        "description": "One file's report, as Report.to_dict(), `aimark verify --json` and the "
        "service's POST /v1/verify give it (schema_version "
        f"{SCHEMA_VERSION}). Generated from aimark.server.openapi; do not edit by hand.",
        **body,
    }


def _error_response(description: str, codes: list[str]) -> dict[str, Any]:
    return {
        "description": f"{description} (codes: {', '.join(codes)})",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _resolution_paths(security: list) -> dict[str, Any]:
    """The C2PA Soft Binding Resolution API routes (served with a manifest repository)."""
    matches = {
        "description": "Matches, best first",
        "content": {
            "application/json": {
                "schema": _obj(
                    {
                        "matches": {
                            "type": "array",
                            "items": _obj(
                                {"manifestId": _STR, "similarityScore": _INT}, required=False
                            ),
                        }
                    }
                )
            }
        },
    }
    problem = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    }
    max_results = {"name": "maxResults", "in": "query", "required": False, "schema": _INT}
    query = _obj({"alg": _STR, "value": _STR})
    return {
        "/v1/matches/byBinding": {
            "get": {
                "operationId": "matchesByBinding",
                "summary": "Manifests holding a soft binding (value: base64)",
                "parameters": [
                    {"name": "alg", "in": "query", "required": True, "schema": _STR},
                    {"name": "value", "in": "query", "required": True, "schema": _STR},
                    max_results,
                ],
                "responses": {"200": matches, "400": {"description": "Bad query", **problem}},
            },
            "post": {
                "operationId": "matchesByBindingPost",
                "summary": "Manifests holding a soft binding",
                "parameters": [max_results],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": query}},
                },
                "responses": {"200": matches, "400": {"description": "Bad query", **problem}},
            },
        },
        "/v1/matches/byContent": {
            "post": {
                "operationId": "matchesByContent",
                "summary": "Manifests matching an asset (its watermark and PDQ fingerprint)",
                "parameters": [max_results],
                "requestBody": {
                    "required": True,
                    "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": matches,
                    "415": {"description": "Not an image aimark reads", **problem},
                },
            }
        },
        "/v1/matches/byReference": {
            "post": {
                "operationId": "matchesByReference",
                "summary": "Not offered: this server does not fetch URLs",
                "responses": {"501": {"description": "Not implemented", **problem}},
            }
        },
        "/v1/manifests/{manifestId}": {
            "get": {
                "operationId": "getManifest",
                "summary": "A stored manifest store",
                "parameters": [
                    {"name": "manifestId", "in": "path", "required": True, "schema": _STR}
                ],
                "responses": {
                    "200": {
                        "description": "The manifest store",
                        "content": {"application/c2pa": {"schema": {"type": "string"}}},
                    },
                    "404": {"description": "No such manifest", **problem},
                },
            }
        },
        "/v1/manifests": {
            "post": {
                "operationId": "storeManifest",
                "summary": "Store a manifest store (API key)",
                "requestBody": {
                    "required": True,
                    "content": {"application/c2pa": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": {
                        "description": "Stored",
                        "content": {"application/json": {"schema": _obj({"manifestId": _STR})}},
                    },
                    "403": {"description": "The service has no API keys", **problem},
                },
                "security": security,
            }
        },
        "/v1/bindings": {
            "post": {
                "operationId": "storeBinding",
                "summary": "Add a soft binding to a stored manifest (API key)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _obj(
                                {"bindingValue": _STR, "manifestId": _STR, "alg": _STR},
                                required=False,
                            )
                        }
                    },
                },
                "responses": {
                    "204": {"description": "Added"},
                    "404": {"description": "No such manifest", **problem},
                },
                "security": security,
            }
        },
        "/v1/services/supportedAlgorithms": {
            "get": {
                "operationId": "supportedAlgorithms",
                "summary": "The soft-binding algorithms this service resolves",
                "responses": {
                    "200": {
                        "description": "Watermark and fingerprint algorithms",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def _ingest_paths(security: list, by_status: dict[int, list[str]]) -> dict[str, Any]:
    """``POST /v1/ingest`` (served where the service has a platform's credentials)."""
    return {
        "/v1/ingest": {
            "post": {
                "operationId": "ingest",
                "summary": "Publish the platform's processed, signed copy of one upload",
                "description": "The upload as the raw body or one multipart file part. The "
                "answer is the copy's bytes with a JSON summary in the Aimark-Ingest header, "
                "or, when the request accepts only application/json, the summary with the "
                "copy as data_base64. See docs/platforms.md.",
                "parameters": [
                    {"name": "name", "in": "query", "required": False, "schema": _STR},
                    {"name": "propagate_id", "in": "query", "required": False, "schema": _STR},
                    {
                        "name": "declared_ai",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "boolean"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": {
                        "description": "The platform's copy",
                        "headers": {"Aimark-Ingest": {"schema": {"type": "string"}}},
                        "content": {
                            "application/octet-stream": {"schema": {"type": "string"}},
                            "application/json": {"schema": {"type": "object"}},
                        },
                    },
                    "400": _error_response("Malformed request", by_status[400]),
                    "401": _error_response("Missing or wrong API key", by_status[401]),
                    "413": _error_response("The body is over the size limit", by_status[413]),
                    "422": _error_response("The upload cannot be ingested", by_status[422]),
                    "503": _error_response("Too many uploads in progress", by_status[503]),
                },
                "security": security,
            }
        }
    }


def openapi_document(
    *,
    auth: bool = False,
    include_scores: bool = False,
    resolution: bool = False,
    ingest: bool = False,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a service configured with (or without) API keys and
    scores in its answers.

    >>> doc = openapi_document()
    >>> doc["openapi"], sorted(doc["paths"])
    ('3.1.0', ['/healthz', '/v1/verify', '/v1/version'])
    """
    by_status: dict[int, list[str]] = {}
    for code, status in CODES.items():
        by_status.setdefault(status, []).append(code)
    report_ref = {"$ref": "#/components/schemas/Report"}
    security: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}] if auth else []
    verify_responses: dict[str, Any] = {
        "200": {
            "description": "The report (the input was read; its verdict says what was found).",
            "content": {"application/json": {"schema": report_ref}},
        },
        "400": _error_response("Malformed request", by_status[400]),
        "408": _error_response("The upload was too slow", by_status[408]),
        "413": _error_response("The body is over the size limit", by_status[413]),
        "422": {
            "description": "The input could not be verified: either a report whose verdict is "
            "'error' (its 'error.code' says why: empty, unsupported format, over the pixel "
            "limit, ...) or a problem (codes: " + ", ".join(by_status[422]) + ").",
            "content": {
                "application/json": {
                    "schema": {"oneOf": [report_ref, {"$ref": "#/components/schemas/Problem"}]}
                }
            },
        },
        "500": _error_response("A bug", by_status[500]),
        "503": {
            **_error_response("Too many uploads in progress; see Retry-After", by_status[503]),
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    }
    versioned_auth = {"401": _error_response("Missing or wrong API key", by_status[401])}
    if auth:
        verify_responses.update(versioned_auth)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "aimark upload verification",
            "version": __version__,
            "description": "Check an upload for AI labels: C2PA Content Credentials, metadata "
            "labels and invisible watermarks. Trust anchors and watermark keys are the "
            "server's configuration.",
        },
        "paths": {
            "/v1/verify": {
                "post": {
                    "operationId": "verify",
                    "summary": "Verify one file (an image or UTF-8 text)",
                    "description": "Send the file as the raw body (any Content-Type; the type "
                    "is sniffed from the bytes) or as the one file part of a "
                    "multipart/form-data body. The optional 'name' query parameter names a "
                    "raw body in the report.",
                    "parameters": [
                        {"name": "name", "in": "query", "required": False, "schema": _STR}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/octet-stream": {
                                "schema": {
                                    "type": "string",
                                    "contentMediaType": "application/octet-stream",
                                }
                            },
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "file": {
                                            "type": "string",
                                            "contentMediaType": "application/octet-stream",
                                        }
                                    },
                                    "required": ["file"],
                                }
                            },
                        },
                    },
                    "responses": verify_responses,
                    "security": security,
                }
            },
            "/v1/version": {
                "get": {
                    "operationId": "version",
                    "summary": "Versions, configuration counts and limits",
                    "responses": {
                        "200": {
                            "description": "Versions and limits",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **(versioned_auth if auth else {}),
                    },
                    "security": security,
                }
            },
            **(_resolution_paths(security) if resolution else {}),
            **(_ingest_paths(security, by_status) if ingest else {}),
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness",
                    "responses": {
                        "200": {
                            "description": "The service is up",
                            "content": {
                                "application/json": {"schema": _obj({"status": {"const": "ok"}})}
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Report": _report_schema(include_scores),
                "Problem": _obj(
                    {"error": _obj({"code": {"enum": sorted(CODES)}, "message": _STR})}
                ),
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
