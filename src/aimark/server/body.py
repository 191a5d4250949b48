"""Read one upload from a request: a raw body, or the file of a multipart form, bounded in
size and time and held in memory only (no temporary files, ever)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from aimark.server.problems import Problem

__all__ = ["MAX_JSON_BYTES", "Upload", "read_body", "read_json", "read_upload", "safe_name"]

_MAX_NAME = 200
#: the largest JSON body a route takes (its bodies are a few short fields)
MAX_JSON_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """The uploaded bytes and the client's name for them (sanitised; never a path)."""

    data: bytes
    name: str


def safe_name(raw: str | None) -> str:
    """The last path component of a client-supplied file name, without control characters,
    at most 200 characters; ``"upload"`` when nothing is left.

    >>> safe_name("../../etc/passwd")
    'passwd'
    >>> safe_name("C:\\\\Users\\\\me\\\\cat.png")
    'cat.png'
    """
    if not raw:
        return "upload"
    name = re.split(r"[/\\\\]", raw)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if name in ("", ".", ".."):
        return "upload"
    return name[:_MAX_NAME]


def declared_length(headers: Mapping[str, str], max_bytes: int) -> int | None:
    """The request's ``Content-Length``, checked: 413 at once when over ``max_bytes``."""
    value = headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise Problem(400, "bad-content-length", "Content-Length is not a number")
    length = int(value)
    if length > max_bytes:
        raise Problem(413, "body-too-large", f"the body is over the limit of {max_bytes:,} bytes")
    return length


async def read_upload(
    stream: AsyncIterator[bytes],
    content_type: str | None,
    *,
    max_bytes: int,
    timeout: float,
    name: str | None = None,
) -> Upload:
    """Receive the body from ``stream`` (a raw body, or ``multipart/form-data`` with exactly
    one file part), stopping with 413 as soon as it passes ``max_bytes`` and with 408 when it
    takes longer than ``timeout`` seconds."""
    media_type, params = parse_options_header(content_type or "")
    multipart = media_type == b"multipart/form-data"
    sink: _Sink
    if multipart:
        boundary = params.get(b"boundary")
        if not boundary or len(boundary) > 70:
            raise Problem(400, "bad-multipart", "multipart/form-data without a valid boundary")
        sink = _FormSink(boundary)
    else:
        sink = _RawSink(safe_name(name))
    received = 0
    try:
        with anyio.fail_after(timeout):
            async for chunk in stream:
                received += len(chunk)
                if received > max_bytes:
                    raise Problem(
                        413, "body-too-large", f"the body is over the limit of {max_bytes:,} bytes"
                    )
                sink.write(chunk)
    except TimeoutError:
        raise Problem(408, "upload-timeout", f"the upload took longer than {timeout:g} s") from None
    except ClientDisconnect:  # nobody is left to answer; say so in the log's status line
        raise Problem(400, "bad-request", "the client disconnected during the upload") from None
    return sink.finish()


class _Sink:
    def write(self, chunk: bytes) -> None:
        raise NotImplementedError

    def finish(self) -> Upload:
        raise NotImplementedError


class _RawSink(_Sink):
    def __init__(self, name: str) -> None:
        self.name = name
        self.buf = bytearray()

    def write(self, chunk: bytes) -> None:
        self.buf += chunk

    def finish(self) -> Upload:
        return Upload(bytes(self.buf), self.name)


class _FormSink(_Sink):
    """Streams a multipart body through python-multipart's parser, keeping the bytes of the
    one part that carries a file name (other fields are read and dropped)."""

    def __init__(self, boundary: bytes) -> None:
        self.files: list[tuple[str, bytearray]] = []
        self._field = bytearray()
        self._value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._current: bytearray | None = None
        self._ended = False
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": lambda b, s, e: self._field.extend(b[s:e]),
                "on_header_value": lambda b, s, e: self._value.extend(b[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_end": self._end,
            },
        )

    def _part_begin(self) -> None:
        self._headers = {}
        self._current = None

    def _header_end(self) -> None:
        self._headers[bytes(self._field).strip().lower()] = bytes(self._value).strip()
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        filename = params.get(b"filename")
        if filename is not None:
            if self.files:
                raise Problem(400, "too-many-files", "send one file per request")
            self._current = bytearray()
            self.files.append((filename.decode("utf-8", "replace"), self._current))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current is not None:
            self._current += data[start:end]

    def _end(self) -> None:
        self._ended = True

    def write(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except MultipartParseError:
            raise Problem(400, "bad-multipart", "the multipart body is malformed") from None

    def finish(self) -> Upload:
        if not self._ended:
            raise Problem(400, "bad-multipart", "the multipart body ends before its last boundary")
        if not self.files:
            raise Problem(400, "no-file", "the form has no file part (send it as 'file')")
        name, data = self.files[0]
        return Upload(bytes(data), safe_name(name))


async def read_body(request: Request, *, max_bytes: int, timeout: float) -> bytes:
    """The raw body of ``request``, bounded like an upload: 413 for a declared or streamed
    length over ``max_bytes``, 408 when it takes longer than ``timeout`` seconds."""
    declared_length(request.headers, max_bytes)
    upload = await read_upload(request.stream(), None, max_bytes=max_bytes, timeout=timeout)
    return upload.data


async def read_json(request: Request, *, timeout: float, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The JSON body of ``request`` (``{}`` when empty), bounded as :func:`read_body`; 400
    when it is not JSON or nests deeper than Python's recursion limit lets it be parsed."""
    raw = await read_body(request, max_bytes=max_bytes, timeout=timeout)
    try:
        return json.loads(raw or b"{}")
    except RecursionError:
        raise Problem(400, "bad-request", "the JSON body is nested too deeply") from None
    except ValueError:  # also a body that is not UTF-8
        raise Problem(400, "bad-request", "the body must be JSON") from None
