#!/usr/bin/env python3
"""Builds the test PKI for the Azure KMS receipt tests (tests/data/kms/).

A CCF service certificate (self-signed, P-384), a node certificate it endorses, and a second
"other" service with its own node certificate, for the wrong-issuer test; the node certificate
also once expired (before the tests' `now`) and once not yet valid. The node's private
scalar is written as hex so that the Rust test can sign Merkle roots with it. Test keys only.
Run: python3 make_kms_fixture.py  (needs the `cryptography` package)
"""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "kms")
NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2035, 1, 1, tzinfo=datetime.timezone.utc)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject_cn, subject_key, issuer_cn, issuer_key, ca, not_before=NOT_BEFORE, not_after=NOT_AFTER):
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject_cn))
        .issuer_name(name(issuer_cn))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key, hashes.SHA384())


def write(file, data):
    with open(os.path.join(OUT, file), "wb") as f:
        f.write(data)


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def main():
    os.makedirs(OUT, exist_ok=True)
    service_key = ec.generate_private_key(ec.SECP384R1())
    other_key = ec.generate_private_key(ec.SECP384R1())
    node_key = ec.generate_private_key(ec.SECP384R1())
    service = cert("CCF Service", service_key, "CCF Service", service_key, True)
    other = cert("CCF Service", other_key, "CCF Service", other_key, True)
    write("service_cert.pem", pem(service))
    write("other_service_cert.pem", pem(other))
    write("node_cert.pem", pem(cert("CCF Node", node_key, "CCF Service", service_key, False)))
    write("node_cert_other_issuer.pem", pem(cert("CCF Node", node_key, "CCF Service", other_key, False)))
    # A node certificate that expired before the tests' `now` (2027): its receipts stay valid.
    expired = (NOT_BEFORE, datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    write("node_cert_expired.pem", pem(cert("CCF Node", node_key, "CCF Service", service_key, False, *expired)))
    # One issued after `now`: refused.
    future = (datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc), NOT_AFTER)
    write("node_cert_future.pem", pem(cert("CCF Node", node_key, "CCF Service", service_key, False, *future)))
    scalar = node_key.private_numbers().private_value.to_bytes(48, "big")
    write("node_key.hex", scalar.hex().encode() + b"\n")


if __name__ == "__main__":
    main()
