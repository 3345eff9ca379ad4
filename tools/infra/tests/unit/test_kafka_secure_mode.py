import json
import ssl
import stat
from pathlib import Path

import pytest

from codeflow_contracts.topics import USER_DELETION_COMMANDS, dead_letter_topic
from codeflow_infra.cluster_config import ClusterConfig
from codeflow_infra.config import ConfigError, InfraConfig, find_repo_root
from codeflow_infra.kafka_acls import ADMIN, PRINCIPALS, SERVICES, acls, all_topics
from codeflow_infra.kafka_broker import render_secure_properties, render_server_properties
from codeflow_infra.kafka_secrets import BROKER_PRINCIPAL, LocalKafkaSecrets
from codeflow_infra.launcher import kafka_admin_security, kafka_client_env


def properties(text: str) -> dict[str, str]:
    """Java's reading of a properties file: the last value of a key wins."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def deploy_file(name: str) -> str:
    root = find_repo_root()
    assert root is not None
    return (root / "deploy" / "kafka" / name).read_text()


def make_repo(root: Path) -> Path:
    (root / "deploy" / "kafka").mkdir(parents=True)
    (root / "deploy" / "kafka" / "pom.xml").write_text("<project/>")
    return root


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> LocalKafkaSecrets:
    made = LocalKafkaSecrets(tmp_path_factory.mktemp("kafka") / "security")
    made.ensure()
    return made


def test_kafka_security_is_plaintext_unless_scram_is_asked_for(tmp_path: Path) -> None:
    repo = str(make_repo(tmp_path))
    assert InfraConfig.from_env({"CODEFLOW_REPO_ROOT": repo}).kafka_security == "plaintext"
    scram = InfraConfig.from_env({"CODEFLOW_REPO_ROOT": repo, "KAFKA_SECURITY": " SCRAM "})
    assert scram.kafka_security == "scram"
    with pytest.raises(ConfigError, match="KAFKA_SECURITY='mtls' is not one of plaintext, scram"):
        InfraConfig.from_env({"CODEFLOW_REPO_ROOT": repo, "KAFKA_SECURITY": "mtls"})


def test_secure_mode_refuses_the_soaks_plaintext_listeners(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="don't go together"):
        InfraConfig.from_env(
            {
                "CODEFLOW_REPO_ROOT": str(make_repo(tmp_path)),
                "KAFKA_SECURITY": "scram",
                "KAFKA_EXTRA_LISTENERS": "AUTH=19101@19201",
            }
        )


def test_secure_properties_replace_the_plaintext_listener_and_enforce_acls(
    secrets: LocalKafkaSecrets,
) -> None:
    base = render_server_properties(
        deploy_file("server.properties.template"),
        host="127.0.0.1",
        port=31094,
        controller_port=31095,
        log_dir=Path("/data/k"),
    )
    secure = render_secure_properties(
        deploy_file("secure.properties.template"),
        host="127.0.0.1",
        port=31094,
        controller_port=31095,
        secrets=secrets,
    )
    values = properties(base + "\n" + secure)

    assert "$" not in secure
    assert values["listeners"] == "SASL_SSL://127.0.0.1:31094,CONTROLLER://127.0.0.1:31095"
    assert "PLAINTEXT" not in values["listener.security.protocol.map"]
    assert values["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert values["authorizer.class.name"].endswith("StandardAuthorizer")
    assert values["allow.everyone.if.no.acl.found"] == "false"
    assert values["super.users"] == f"User:{ADMIN};{BROKER_PRINCIPAL}"
    assert values["listener.name.controller.ssl.client.auth"] == "required"
    assert values["ssl.truststore.location"] == str(secrets.ca_file)
    assert values["log.dirs"] == "/data/k"  # the rest of the base file stays


def test_local_secrets_are_private_and_kept(secrets: LocalKafkaSecrets) -> None:
    before = json.loads(secrets.credentials_file.read_text())
    ca = secrets.ca_file.read_bytes()
    secrets.ensure()

    assert sorted(before) == sorted(PRINCIPALS)
    assert json.loads(secrets.credentials_file.read_text()) == before
    assert secrets.ca_file.read_bytes() == ca
    for file in (secrets.ca_file, secrets.broker_file, secrets.credentials_file):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert len(set(before.values())) == len(PRINCIPALS)


def test_the_broker_certificate_is_trusted_for_127_0_0_1_through_the_ca(
    secrets: LocalKafkaSecrets,
) -> None:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(secrets.broker_file)
    client = secrets.security("janitor").ssl_context()
    assert client is not None
    assert client.check_hostname
    # The chain in broker.pem verifies against ca.pem (what every client trusts).
    assert ssl.PEM_cert_to_DER_cert(secrets.ca_file.read_text()) in {
        ssl.PEM_cert_to_DER_cert(c) for c in _certificates(secrets.broker_file.read_text())
    }


def _certificates(pem: str) -> list[str]:
    end = "-----END CERTIFICATE-----"
    parts = pem.split("-----BEGIN CERTIFICATE-----")[1:]
    return ["-----BEGIN CERTIFICATE-----" + part.split(end)[0] + end + "\n" for part in parts]


def test_every_principal_gets_a_scram_credential_at_format_time(
    secrets: LocalKafkaSecrets,
) -> None:
    options = secrets.scram_options()
    users = options[1::2]
    assert options[::2] == ["--add-scram"] * len(PRINCIPALS)
    for name in PRINCIPALS:
        assert f"SCRAM-SHA-512=[name={name},password={secrets.password(name)}]" in users
    assert secrets.environment("auth")["KAFKA_SASL_USERNAME"] == "auth"
    assert secrets.environment("auth")["KAFKA_SSL_CAFILE"] == str(secrets.ca_file)


def test_only_the_janitor_may_write_deletion_commands() -> None:
    writers = {
        a.principal
        for a in acls()
        if a.resource == USER_DELETION_COMMANDS and a.operation in {"WRITE", "CREATE"}
    }
    assert writers == {"janitor"}


def test_each_service_writes_its_own_dead_letters_and_reads_as_its_own_group() -> None:
    for service in SERVICES:
        granted = {(a.resource_type, a.resource, a.operation) for a in acls([service])}
        for topic in service.reads:
            dlq = dead_letter_topic(topic, service.group)
            assert {("TOPIC", dlq, "WRITE"), ("TOPIC", dlq, "CREATE")} <= granted
            assert ("TOPIC", topic, "READ") in granted
        assert ("GROUP", service.group, "READ") in granted
        groups = {name for kind, name, _ in granted if kind == "GROUP"}
        assert groups == {service.group}


def test_no_service_may_create_a_topic_it_does_not_dead_letter_to() -> None:
    for acl in acls():
        if acl.operation == "CREATE":
            assert acl.resource.endswith(f".{acl.principal}.dlq")


def test_all_topics_include_every_dead_letter_topic() -> None:
    topics = all_topics()
    assert len(topics) == len(set(topics))
    for service in SERVICES:
        assert set(service.dead_letter_topics) <= set(topics)


def test_in_secure_mode_each_local_service_signs_in_as_its_own_principal(tmp_path: Path) -> None:
    environ = {"CODEFLOW_LOCAL_DIR": str(tmp_path), "KAFKA_SECURITY": "scram", "PATH": "/bin"}
    cluster = ClusterConfig.from_env(environ)
    secrets = LocalKafkaSecrets.of(cluster.infra)

    for name in ("auth", "profiles", "repositories", "janitor"):
        env = cluster.service_env(name)
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAFKA_SASL_USERNAME"] == name
        assert env["KAFKA_SASL_PASSWORD"] == secrets.password(name)
        assert env["KAFKA_SSL_CAFILE"] == str(secrets.ca_file)
    assert kafka_client_env(cluster.infra)["KAFKA_SASL_USERNAME"] == ADMIN
    admin = kafka_admin_security(cluster.infra)
    assert admin is not None
    assert admin.sasl_username == ADMIN


def test_plaintext_and_external_clusters_add_no_kafka_credentials(tmp_path: Path) -> None:
    plain = ClusterConfig.from_env({"CODEFLOW_LOCAL_DIR": str(tmp_path), "PATH": "/bin"})
    external = ClusterConfig.from_env(
        {
            "CODEFLOW_LOCAL_DIR": str(tmp_path),
            "KAFKA_SECURITY": "scram",
            "KAFKA_BOOTSTRAP_SERVERS": "kafka.example.internal:9093",
            "PATH": "/bin",
        }
    )
    for cluster in (plain, external):
        assert "KAFKA_SASL_USERNAME" not in cluster.service_env("janitor")
        assert kafka_client_env(cluster.infra) == {}
        assert kafka_admin_security(cluster.infra) is None
    assert not (tmp_path / "kafka" / "security").exists()
