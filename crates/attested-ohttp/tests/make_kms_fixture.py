#!/usr/bin/env python3
"""Builds the test PKI for the Azure KMS receipt tests (tests/data/kms/).

A CCF service certificate (self-signed, P-384), a node certificate it endorses, and a second
"other" service with its own node certificate, for the wrong-issuer test; the node certificate
also once expired (before the tests' `now`) and once not yet valid. For the path-validation
refusals: a self-signed service certificate with CA:false and a node certificate it issued, a
service and a node certificate with an unknown critical extension, a node certificate that is a
CA, one whose KeyUsage lacks digitalSignature, and the service certificate renewed (same key)
after the expired node certificate's notAfter. The node's private
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


UNKNOWN_CRITICAL = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")


def cert(subject_cn, subject_key, issuer_cn, issuer_key, ca, not_before=NOT_BEFORE, not_after=NOT_AFTER, extra=()):
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
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical=critical)
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
    # Path-validation refusals.
    not_ca_key = ec.generate_private_key(ec.SECP384R1())
    write("service_cert_not_ca.pem", pem(cert("CCF Service", not_ca_key, "CCF Service", not_ca_key, False)))
    write("node_cert_by_not_ca.pem", pem(cert("CCF Node", node_key, "CCF Service", not_ca_key, False)))
    critical = [(UNKNOWN_CRITICAL, True)]
    write("service_cert_critical.pem", pem(cert("CCF Service", service_key, "CCF Service", service_key, True, extra=critical)))
    write("node_cert_critical.pem", pem(cert("CCF Node", node_key, "CCF Service", service_key, False, extra=critical)))
    write("node_cert_ca.pem", pem(cert("CCF Node", node_key, "CCF Service", service_key, True)))
    cert_sign_only = x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )
    write("node_cert_key_usage.pem", pem(cert("CCF Node", node_key, "CCF Service", service_key, False, extra=[(cert_sign_only, True)])))
    # The service certificate renewed with the same key in mid-2026, after the expired node
    # certificate's notAfter: the two were never valid together.
    renewed = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
    write("service_cert_renewed.pem", pem(cert("CCF Service", service_key, "CCF Service", service_key, True, renewed)))
    scalar = node_key.private_numbers().private_value.to_bytes(48, "big")
    write("node_key.hex", scalar.hex().encode() + b"\n")


if __name__ == "__main__":
    main()
