#!/usr/bin/env python3
"""Local CA, broker certificates and SCRAM credentials for deploy/kafka (and docker-compose).

Self-contained: needs only Python 3.10+ and the `cryptography` package (a xinfang dependency);
PyYAML is used to read the topology when present, else a small line parser reads the
`divisions:` list. Nothing here imports xinfang, so kafka.sh and the compose init service can
run it without the project's virtualenv.

Layout written under the state folder (see deploy/kafka/README.md, "Credentials"):

    <state>/pki/ca.crt               CA certificate (PEM, 0644) — the trust anchor clients load
    <state>/pki/ca.key               CA private key (PEM, 0600) — issues more broker certificates
    <state>/pki/broker-<i>.pem       broker i: unencrypted PKCS#8 key + certificate + CA (0600)
    <state>/credentials/<name>.json  one SCRAM principal each (0600; folder 0700):
        {"username", "password", "mechanism": "SCRAM-SHA-512", "security_protocol": "SASL_SSL",
         "ca_file": <absolute path of ca.crt>, "bootstrap_servers": "host:port,..."}

Principals: `node-<division code>` for every division of the topology, then `auditor`,
`integrator`, `admin` and any extra names. Broker certificates have CN `kafka-<i>`; the brokers
map a certificate's CN to the principal `User:kafka-<i>` (ssl.principal.mapping.rules).

Commands (all idempotent: an existing key, certificate or password is never replaced):
    pki.py init --state S --brokers N [--topology FILE] [--extra a,b] [--files-root DIR]
    pki.py principals [--topology FILE] [--extra a,b]      print the principal names
    pki.py scram-args --state S                            print one --add-scram=... per line
    pki.py client-properties --state S [--principal admin]  Java client settings (CLI tools)
    pki.py set-bootstrap --state S --bootstrap HOST:PORT,...
    pki.py ping --port P --ca-file F                        exit 0 if the TLS broker answers
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import re
import secrets
import sys
from pathlib import Path

MECHANISM = "SCRAM-SHA-512"
SERVICE_PRINCIPALS = ("auditor", "integrator", "admin")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_DEFAULT_TOPOLOGY = Path(__file__).resolve().parents[1] / "topology" / "chifeng.yaml"


def die(message: str) -> None:
    print(f"错误 / error: {message}", file=sys.stderr)
    raise SystemExit(1)


# ------------------------------------------------------------------------------ principals


def division_codes(topology: Path) -> list[str]:
    """Division codes of a topology file, in file order."""
    text = topology.read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:  # a minimal reader for the project's flow-style `divisions:` list
        codes = re.findall(r"^\s*-\s*\{?\s*code:\s*['\"]?([0-9A-Za-z]+)", text, re.MULTILINE)
    else:
        data = yaml.safe_load(text) or {}
        codes = [str(d["code"]) for d in data.get("divisions") or []]
    if not codes:
        die(f"拓扑文件中没有行政区划 / no divisions in topology {topology}")
    return codes


def principals(topology: Path, extra: list[str]) -> list[str]:
    names = [f"node-{code}" for code in division_codes(topology)]
    names += [*SERVICE_PRINCIPALS, *extra]
    out: list[str] = []
    for name in names:
        if not _NAME.match(name):
            die(f"主体名称不合法 / invalid principal name: {name!r}")
        if name not in out:
            out.append(name)
    return out


# ------------------------------------------------------------------------------ files


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (created 0600, never world-readable mid-way)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


# ------------------------------------------------------------------------------ certificates


def _now() -> dt.datetime:
    # timezone.utc, not dt.UTC: runs on older system Pythons too; back-dated for clock skew
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)  # noqa: UP017


def ensure_ca(pki: Path):  # type: ignore[no-untyped-def]
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    crt, key_file = pki / "ca.crt", pki / "ca.key"
    if crt.exists() and key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        return x509.load_pem_x509_certificate(crt.read_bytes()), key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "xinfang"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"xinfang Kafka CA {secrets.token_hex(4)}"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(
        key_file,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(crt, 0o644)
    return cert, key


def ensure_broker_cert(pki: Path, index: int, ca_cert, ca_key, hosts: list[str]) -> None:  # type: ignore[no-untyped-def]
    """broker-<i>.pem: key + certificate (CN kafka-<i>, SANs for 127.0.0.1, localhost and the
    compose host names) + CA, usable as a server and as a client (mutual TLS between brokers)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    out = pki / f"broker-{index}.pem"
    if out.exists():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for host in [f"kafka-{index}", *hosts]:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [  # O first: Java prints the DN as "CN=kafka-<i>,O=xinfang" (RFC 2253 order)
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "xinfang"),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"kafka-{index}"),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(
        out,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM),
    )


# ------------------------------------------------------------------------------ credentials


def credential_files(state: Path) -> list[Path]:
    return sorted((state / "credentials").glob("*.json"))


def ensure_credentials(state: Path, names: list[str], ca_file: str, bootstrap: str) -> None:
    creds = private_dir(state / "credentials")
    for name in names:
        path = creds / f"{name}.json"
        if path.exists():
            continue
        # URL-safe alphabet: no ',', '=' or ']' that would break --add-scram's [name=..,password=..]
        doc = {
            "username": name,
            "password": secrets.token_urlsafe(24),
            "mechanism": MECHANISM,
            "security_protocol": "SASL_SSL",
            "ca_file": ca_file,
            "bootstrap_servers": bootstrap,
        }
        write_private(path, (json.dumps(doc, indent=2) + "\n").encode())


def set_bootstrap(state: Path, bootstrap: str) -> None:
    for path in credential_files(state):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("bootstrap_servers") != bootstrap:
            doc["bootstrap_servers"] = bootstrap
            write_private(path, (json.dumps(doc, indent=2) + "\n").encode())


def scram_args(state: Path) -> list[str]:
    args = []
    for path in credential_files(state):
        doc = json.loads(path.read_text(encoding="utf-8"))
        args.append(
            f"--add-scram={doc['mechanism']}=[name={doc['username']},password={doc['password']}]"
        )
    return args


def client_properties(state: Path, principal: str) -> str:
    """Java client settings (Kafka's CLI tools: --command-config) for one principal."""
    path = state / "credentials" / f"{principal}.json"
    if not path.exists():
        die(f"没有该主体的凭据 / no credentials for principal {principal!r} ({path})")
    doc = json.loads(path.read_text(encoding="utf-8"))
    return (
        "security.protocol=SASL_SSL\n"
        f"sasl.mechanism={doc['mechanism']}\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{doc["username"]}" password="{doc["password"]}";\n'
        "ssl.truststore.type=PEM\n"
        f"ssl.truststore.location={state.resolve() / 'pki' / 'ca.crt'}\n"
    )


def ping(host: str, port: int, ca_file: Path, timeout: float = 3.0) -> bool:
    """A TLS connection checked against our CA, then a Kafka ApiVersions v0 request (answered
    before SASL authentication): True if the broker answers with our correlation id."""
    import socket
    import ssl

    context = ssl.create_default_context(cafile=str(ca_file))
    request = b"\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x01\x00\x04ping"
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                tls.sendall(request)
                answer = b""
                while len(answer) < 8:
                    chunk = tls.recv(8 - len(answer))
                    if not chunk:
                        return False
                    answer += chunk
    except (OSError, ssl.SSLError):
        return False
    return answer[4:8] == b"\x00\x00\x00\x01"


# ------------------------------------------------------------------------------ CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init")
    init.add_argument("--state", type=Path, required=True)
    init.add_argument("--brokers", type=int, default=1)
    init.add_argument("--topology", type=Path, default=_DEFAULT_TOPOLOGY)
    init.add_argument("--extra", default="", help="more principals, comma-separated")
    init.add_argument("--hosts", default="127.0.0.1,localhost", help="SANs of every broker")
    init.add_argument("--bootstrap", default="")
    init.add_argument(
        "--files-root",
        default="",
        help="the state folder as clients see it (e.g. /secrets in a container); ca_file uses it",
    )
    names = sub.add_parser("principals")
    names.add_argument("--topology", type=Path, default=_DEFAULT_TOPOLOGY)
    names.add_argument("--extra", default="")
    scram = sub.add_parser("scram-args")
    scram.add_argument("--state", type=Path, required=True)
    props = sub.add_parser("client-properties")
    props.add_argument("--state", type=Path, required=True)
    props.add_argument("--principal", default="admin")
    pong = sub.add_parser("ping")
    pong.add_argument("--host", default="127.0.0.1")
    pong.add_argument("--port", type=int, required=True)
    pong.add_argument("--ca-file", type=Path, required=True)
    boot = sub.add_parser("set-bootstrap")
    boot.add_argument("--state", type=Path, required=True)
    boot.add_argument("--bootstrap", required=True)
    args = parser.parse_args(argv)

    if args.command == "principals":
        extra = [e for e in args.extra.split(",") if e]
        print("\n".join(principals(args.topology, extra)))
    elif args.command == "init":
        if not 1 <= args.brokers <= 9:
            die(f"代理数量须在 1–9 之间 / brokers must be 1–9: {args.brokers}")
        state = args.state.resolve()
        state.mkdir(parents=True, exist_ok=True)
        pki = state / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        os.chmod(pki, 0o755)  # ca.crt is public; the keys inside are 0600
        ca_cert, ca_key = ensure_ca(pki)
        hosts = [h for h in args.hosts.split(",") if h]
        for index in range(1, args.brokers + 1):
            ensure_broker_cert(pki, index, ca_cert, ca_key, hosts)
        root = args.files_root.rstrip("/") or str(state)
        extra = [e for e in args.extra.split(",") if e]
        names = principals(args.topology, extra)
        ensure_credentials(state, names, f"{root}/pki/ca.crt", args.bootstrap)
    elif args.command == "scram-args":
        print("\n".join(scram_args(args.state)))
    elif args.command == "client-properties":
        print(client_properties(args.state, args.principal), end="")
    elif args.command == "ping":
        return 0 if ping(args.host, args.port, args.ca_file) else 1
    elif args.command == "set-bootstrap":
        set_bootstrap(args.state, args.bootstrap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
