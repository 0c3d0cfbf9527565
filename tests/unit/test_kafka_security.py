"""Kafka client security settings (kafka_security.py, decision 018): one credentials file per
principal, turned into aiokafka, confluent-kafka and faust arguments; bad settings name the key."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from xinfang.cli import main
from xinfang.kafka_security import KafkaSecurity, KafkaSecurityError, read_credentials


def _creds(tmp_path: Path, text: str, name: str = "node-150404.properties") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_no_settings_is_plaintext() -> None:
    security = KafkaSecurity.from_env({})
    assert not security.secured
    assert security.aiokafka() == {"security_protocol": "PLAINTEXT"}
    assert security.confluent() == {"security.protocol": "PLAINTEXT"}
    assert security.faust() == {}
    assert security.principal is None


def test_a_credentials_file_gives_sasl_ssl_scram_sha_512(tmp_path: Path) -> None:
    path = _creds(tmp_path, "# node 150404\nusername=node-150404\npassword=s3cret=x\n")
    security = KafkaSecurity.from_env({"XINFANG_KAFKA_CREDENTIALS": str(path)})
    kwargs = security.aiokafka()
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "node-150404"
    assert kwargs["sasl_plain_password"] == "s3cret=x"  # only the first '=' splits
    context = kwargs["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert security.principal == "User:node-150404"
    conf = security.confluent()
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "SCRAM-SHA-512"
    assert (conf["sasl.username"], conf["sasl.password"]) == ("node-150404", "s3cret=x")
    assert "s3cret" not in repr(security)


def test_faust_gets_sasl_credentials_over_tls(tmp_path: Path) -> None:
    path = _creds(tmp_path, "username=node-150404\npassword=pw\n")
    credentials = KafkaSecurity.from_env({"XINFANG_KAFKA_CREDENTIALS": str(path)}).faust()[
        "broker_credentials"
    ]
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.username == "node-150404"


def test_json_credentials_and_a_ca_file_beside_them(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read by the settings", encoding="utf-8")
    path = _creds(tmp_path, '{"username": "auditor", "password": "pw", "ca_file": "ca.pem"}')
    assert read_credentials(path) == {"username": "auditor", "password": "pw", "ca_file": str(ca)}
    security = KafkaSecurity.from_env({"XINFANG_KAFKA_CREDENTIALS": str(path)})
    assert security.ca_file == ca
    assert security.confluent()["ssl.ca.location"] == str(ca)


def test_flags_win_over_the_environment(tmp_path: Path) -> None:
    env = {"XINFANG_KAFKA_USERNAME": "node-150400", "XINFANG_KAFKA_PASSWORD": "a"}
    security = KafkaSecurity.from_env(env, username="admin", password="b")
    assert (security.username, security.password, security.protocol) == ("admin", "b", "SASL_SSL")
    assert not KafkaSecurity.from_env(env, protocol="PLAINTEXT").secured


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"XINFANG_KAFKA_SECURITY_PROTOCOL": "SSL"}, "XINFANG_KAFKA_SECURITY_PROTOCOL"),
        ({"XINFANG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "XINFANG_KAFKA_CREDENTIALS"),
        ({"XINFANG_KAFKA_USERNAME": "x"}, "XINFANG_KAFKA_PASSWORD"),
        ({"XINFANG_KAFKA_CREDENTIALS": "/nonexistent/creds"}, "XINFANG_KAFKA_CREDENTIALS"),
        (
            {"XINFANG_KAFKA_USERNAME": "x", "XINFANG_KAFKA_PASSWORD": "y",
             "XINFANG_KAFKA_CA_FILE": "/nonexistent/ca.pem"},
            "XINFANG_KAFKA_CA_FILE",
        ),
        ({"XINFANG_KAFKA_SASL_MECHANISM": "PLAIN"}, "XINFANG_KAFKA_SASL_MECHANISM"),
    ],
)  # fmt: skip
def test_a_bad_setting_names_its_key(env: dict[str, str], named: str) -> None:
    with pytest.raises(KafkaSecurityError, match=named):
        KafkaSecurity.from_env(env)


def test_a_credentials_file_without_a_password_is_refused(tmp_path: Path) -> None:
    path = _creds(tmp_path, "username=node-150404\n")
    with pytest.raises(KafkaSecurityError, match="password"):
        KafkaSecurity.from_env({"XINFANG_KAFKA_CREDENTIALS": str(path)})


def test_cli_refuses_a_bad_kafka_setting_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINFANG_KAFKA_CREDENTIALS", "")  # main() sets it: restored after
    code = main(["--kafka-credentials", str(tmp_path / "missing"), "schemas", "list"])
    assert code == 2
    assert "XINFANG_KAFKA_CREDENTIALS" in capsys.readouterr().err
