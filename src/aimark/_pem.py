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

from cryptography import x509

from aimark.errors import CredentialsError

__all__ = ["load_certificates"]


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate in ``pem``, in order; :class:`CredentialsError` if none or invalid."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise CredentialsError(f"certificate chain is not valid PEM: {exc}") from None
    if not certs:
        raise CredentialsError("certificate chain holds no certificate")
    return certs
