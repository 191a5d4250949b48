"""Certificates from PEM text: the one loader credentials and trust anchors share.

Example:
    >>> from aimark.errors import CredentialsError
    >>> try:
    ...     load_certificates(b"not pem")
    ... except CredentialsError as exc:
    ...     print(str(exc).split(":")[0])
    certificate chain is not valid PEM
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aimark.errors import CredentialsError

if TYPE_CHECKING:
    from cryptography import x509

__all__ = ["load_certificates"]


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate in ``pem``, in order; :class:`CredentialsError` if none or invalid."""
    from cryptography import x509  # here, not above: only what reads a certificate loads it

    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise CredentialsError(f"certificate chain is not valid PEM: {exc}") from None
    if not certs:
        raise CredentialsError("certificate chain holds no certificate")
    return certs
