"""The one place aimark calls into c2pa-python's bundled native library (``libc2pa_c``) directly.

c2pa-python does not wrap the data-hash signing calls that C2PA in plain text needs (the text is
not a container c2pa knows, so aimark computes the hard binding itself and asks only for the
signed manifest store). The library bundled with c2pa-python exports them:

- ``c2pa_builder_data_hashed_placeholder(builder, reserve_size, format, &bytes) -> i64``:
  the manifest store with a placeholder ``c2pa.hash.data`` assertion; its size is the size of
  the signed store, so the space can be reserved before the hash is known;
- ``c2pa_builder_sign_data_hashed_embeddable(builder, signer, data_hash_json, format, asset,
  &bytes) -> i64``: the signed store, with the caller's ``c2pa.hash.data`` (``asset`` NULL:
  the hash given is used as is).

It also signs with a signer that c2pa-rs builds from a context's settings
(:func:`sign_with_settings_signer`), the only way c2pa-python 0.38.1 can write a CAWG identity
assertion.

Both data-hash calls return the byte count (or -1 with the error in ``c2pa_error()``) and
hand out a buffer that must be released with ``c2pa_free``; neither consumes the builder or
the signer. The library handle is c2pa-python's own (``c2pa.c2pa._lib``, the same loaded
file), with function objects of our own so c2pa-python's prototypes are never changed. Native
errors become aimark exceptions through :func:`aimark.manifest._errors.translate`.

Example:
    >>> from aimark.manifest import _native
    >>> _native.library_path().name
    'libc2pa_c.so'
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import c2pa
from c2pa import c2pa as _c2pa_module

from aimark.errors import ManifestError
from aimark.manifest._errors import translate

__all__ = [
    "NATIVE_FUNCTIONS",
    "data_hashed_placeholder",
    "library_path",
    "reserve_size",
    "sign_data_hashed",
    "sign_with_settings_signer",
]

#: The native functions this module calls (all exported by c2pa-python's bundled library).
NATIVE_FUNCTIONS = (
    "c2pa_builder_data_hashed_placeholder",
    "c2pa_builder_sign_data_hashed_embeddable",
    "c2pa_error",
    "c2pa_free",
)

_LIB_NAMES = {"win32": "c2pa_c.dll", "darwin": "libc2pa_c.dylib"}
_VOID_P = ctypes.c_void_p


def library_path() -> Path:
    """Where the bundled native library lies (next to the ``c2pa`` package)."""
    name = _LIB_NAMES.get(sys.platform, "libc2pa_c.so")
    return Path(c2pa.__file__).resolve().parent / "libs" / name


def _load() -> ctypes.CDLL:
    lib = getattr(_c2pa_module, "_lib", None)  # c2pa-python's own handle, when it has one
    if isinstance(lib, ctypes.CDLL):
        return lib
    return ctypes.CDLL(str(library_path()))  # pragma: no cover - older/newer c2pa-python


def _function(lib: ctypes.CDLL, name: str, argtypes: list[Any], restype: Any) -> Any:
    fn = lib[name]  # a fresh function object: c2pa-python's own prototypes stay untouched
    fn.argtypes = argtypes
    fn.restype = restype
    return fn


_LIB = _load()
_placeholder = _function(
    _LIB,
    "c2pa_builder_data_hashed_placeholder",
    [_VOID_P, ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(_VOID_P)],
    ctypes.c_int64,
)
_sign = _function(
    _LIB,
    "c2pa_builder_sign_data_hashed_embeddable",
    [_VOID_P, _VOID_P, ctypes.c_char_p, ctypes.c_char_p, _VOID_P, ctypes.POINTER(_VOID_P)],
    ctypes.c_int64,
)
_error = _function(_LIB, "c2pa_error", [], _VOID_P)
_free = _function(_LIB, "c2pa_free", [_VOID_P], ctypes.c_int)

# c2pa-python keeps the thread-local error slot honest with a marker (a stale message from an
# earlier call must not be reported for ours); use its helpers when it has them.
_mark_no_error = getattr(_c2pa_module, "_write_no_error_marker", None)
_read_error_helper = getattr(_c2pa_module, "_read_native_error", None)
_typed_error = getattr(_c2pa_module, "_raise_typed_c2pa_error", None)


def _read_error() -> str | None:
    if _read_error_helper is not None:
        return _read_error_helper()  # type: ignore[no-any-return]
    raw = _error()  # pragma: no cover - fallback when c2pa-python has no helper
    if not raw:  # pragma: no cover
        return None
    try:  # pragma: no cover
        return ctypes.string_at(raw).decode("utf-8", "replace") or None
    finally:  # pragma: no cover
        _free(raw)


def _raise_native(what: str) -> None:
    """Raise the aimark exception for the native error just set."""
    message = _read_error() or f"{what} failed (no detail from c2pa)"
    try:
        if _typed_error is not None:
            _typed_error(message)
        raise c2pa.C2paError(message)
    except c2pa.C2paError as exc:
        raise translate(exc, signing=True) from exc


def _take_bytes(ptr: ctypes.c_void_p, size: int) -> bytes:
    """Copy a native buffer and free it (always, even if the copy fails)."""
    try:
        return ctypes.string_at(ptr.value, size) if size > 0 and ptr.value else b""
    finally:
        if ptr.value:
            _free(ptr)


def _handle(obj: Any, kind: str) -> Any:
    handle = getattr(obj, "_handle", None)
    if not handle:
        raise ManifestError(f"the c2pa {kind} is closed or was never created")
    return handle


@contextlib.contextmanager
def _reserved(obj: Any, name: str) -> Iterator[None]:
    """Hold c2pa-python's in-flight reservation on a resource across our native call (so it is
    not freed under us); a resource it no longer considers usable is a ManifestError."""
    reserve = getattr(obj, name, None)
    if reserve is None:  # pragma: no cover - c2pa-python without reservations
        yield
        return
    try:
        ctx = reserve()
        ctx.__enter__()
    except c2pa.C2paError as exc:
        raise ManifestError(f"c2pa: {exc}") from exc
    try:
        yield
    finally:
        ctx.__exit__(None, None, None)


def _check_format(fmt: str) -> bytes:
    if not isinstance(fmt, str) or not fmt or "\0" in fmt:
        raise ValueError("format must be a non-empty MIME type or extension")
    return fmt.encode("utf-8")


def reserve_size(signer: Any) -> int:
    """The signature size to reserve for ``signer`` (a ``c2pa.Signer``)."""
    try:
        return int(signer.reserve_size())
    except c2pa.C2paError as exc:
        raise translate(exc, signing=True) from exc


def data_hashed_placeholder(builder: Any, reserve: int, fmt: str = "application/c2pa") -> bytes:
    """The placeholder manifest store of ``builder`` (a ``c2pa.Builder``): same size as the
    store :func:`sign_data_hashed` will return for it.

    Raises:
        ManifestError: the builder is closed; SigningError / UnsupportedFormatError / ...:
        c2pa refused (translated).
    """
    if not isinstance(reserve, int) or reserve < 0:
        raise ValueError("reserve must be a non-negative int")
    fmt_c = _check_format(fmt)
    out = _VOID_P()
    with _reserved(builder, "_exclusive_native_call"):
        if _mark_no_error is not None:
            _mark_no_error()
        size = _placeholder(_handle(builder, "builder"), reserve, fmt_c, ctypes.byref(out))
        data = _take_bytes(out, size)
    if size < 0:
        _raise_native("c2pa_builder_data_hashed_placeholder")
    return data


def sign_data_hashed(
    builder: Any, signer: Any, data_hash: dict[str, Any], fmt: str = "application/c2pa"
) -> bytes:
    """Sign ``builder``'s manifest with ``signer`` (a ``c2pa.Signer``) and the hard binding
    ``data_hash`` (the ``c2pa.hash.data`` assertion as JSON: ``exclusions``, ``name``, ``alg``,
    ``hash`` as a list of byte values, ``pad``), returning the signed manifest store.

    Raises:
        ManifestError: a closed builder or signer; SigningError / CredentialsError / ...: c2pa
        refused (translated, e.g. a data hash it cannot parse).
    """
    try:
        hash_c = json.dumps(data_hash).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"data_hash is not JSON-serialisable: {exc}") from None
    fmt_c = _check_format(fmt)
    out = _VOID_P()
    with _reserved(builder, "_exclusive_native_call"), _reserved(signer, "_native_call"):
        if _mark_no_error is not None:
            _mark_no_error()
        size = _sign(
            _handle(builder, "builder"),
            _handle(signer, "signer"),
            hash_c,
            fmt_c,
            None,
            ctypes.byref(out),
        )
        data = _take_bytes(out, size)
    if size < 0:
        _raise_native("c2pa_builder_sign_data_hashed_embeddable")
    return data


def sign_with_settings_signer(builder: Any, fmt: str, source: Any, dest: Any) -> bytes:
    """Sign ``builder`` (a ``c2pa.Builder`` made with a Context whose settings define
    ``signer``, and e.g. ``cawg_x509_signer``) with the signer c2pa-rs builds from those
    settings, through c2pa-python's own context-signing path (``c2pa_builder_sign_context``).

    c2pa-python 0.38.1 takes that path only for a Context that was handed a ``Signer`` object,
    and such a signer is used as is, without the CAWG identity wrapper; so the builder is told
    that its context has a signer. Returns the manifest store bytes.

    Raises:
        ManifestError: this c2pa-python has no such path; c2pa.C2paError: c2pa refused.
    """
    if not hasattr(builder, "_has_context_signer"):  # pragma: no cover - other c2pa-python
        raise ManifestError("this c2pa-python cannot sign with a signer defined in settings")
    builder._has_context_signer = True
    return bytes(builder.sign(fmt, source, dest) or b"")
