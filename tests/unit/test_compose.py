"""The production deployment (infra/compose/) has the services and settings docs/operations.md promises, and
its proxy sends each request to the API side that infra/wiring/frontdoor.py picks for `ocs up`."""

import re
import uuid
from pathlib import Path
from unittest.mock import Mock
from urllib.parse import urlparse

import pytest
import yaml
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import resolve_topic
from werkzeug.test import EnvironBuilder

import infra.config
import infra.wiring.wsgi
from command_api.http import app as command_app
from command_api.write_model.event_store import event_store_environment
from infra.config import load_settings
from infra.wiring.bootstrap import System
from infra.wiring.frontdoor import FrontDoor
from query_api.http import app as query_app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "infra" / "compose"
OUR_SERVICES = ("command-api", "query-api", "relay", "projector", "worker", "delivery")
API_SIDES = {"command-api": "infra.wiring.wsgi:command_api()", "query-api": "infra.wiring.wsgi:query_api()"}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((COMPOSE_DIR / "docker-compose.yml").read_text())["services"]


@pytest.fixture(scope="module")
def nginx_conf() -> str:
    return (COMPOSE_DIR / "nginx.conf").read_text()


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def interpolated(value: str) -> str:
    """A value as compose would see it with every `${VAR...}` set (to a placeholder)."""
    return re.sub(r"\$\{(\w+)[^}]*\}", lambda m: f"<{m.group(1)}>", value)


def kafka_brokers(services: dict) -> dict[str, dict]:
    return {name: environment(s) for name, s in services.items() if s.get("image", "").startswith("apache/kafka")}


def mongo_members(services: dict) -> list[str]:
    return [name for name, s in services.items() if "--replSet" in (s.get("command") or [])]


def replicas(service: dict) -> int:
    return int((service.get("deploy") or {}).get("replicas", 1))


def test_kafka_is_three_kraft_brokers_replicating_every_partition_three_times_with_no_auto_created_topics(services):
    brokers = kafka_brokers(services)
    assert len(brokers) == 3
    node_ids = {env["KAFKA_NODE_ID"] for env in brokers.values()}
    assert len(node_ids) == 3
    for name, env in brokers.items():
        # KRaft: every broker is a controller of the metadata quorum, and there is no ZooKeeper.
        assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
        assert not any("ZOOKEEPER" in key for key in env)
        voters = dict(voter.split("@") for voter in env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(","))
        assert set(voters) == node_ids and {v.split(":")[0] for v in voters.values()} == set(brokers)
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
    assert len({env["CLUSTER_ID"] for env in brokers.values()}) == 1
    for name in OUR_SERVICES:
        assert set(environment(services[name])["OCS_KAFKA_BOOTSTRAP"].split(",")) == {f"{b}:9092" for b in brokers}


def test_mongodb_is_a_three_member_replica_set_that_is_initiated_before_our_services_start(services):
    members = mongo_members(services)
    assert len(members) == 3
    assert all(services[m]["command"][services[m]["command"].index("--replSet") + 1] == "rs0" for m in members)
    init = " ".join(services["mongo-init"]["command"])
    assert "rs.initiate" in init and all(f'host: "{m}:27017"' in init for m in members)
    for name in OUR_SERVICES:
        assert services[name]["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully"
        url = urlparse(environment(services[name])["OCS_MONGO_URL"])
        assert {host.split(":")[0] for host in url.netloc.split(",")} == set(members)
        assert url.query == "replicaSet=rs0"


def test_the_event_store_is_the_postgres_service(services):
    postgres = environment(services["postgres"])
    for name in OUR_SERVICES:
        url = interpolated(environment(services[name])["OCS_EVENT_STORE_URL"])
        # Parsed as the services parse it: eventsourcing's PostgreSQL recorders on the postgres service.
        store = event_store_environment(url)
        assert issubclass(resolve_topic(store["PERSISTENCE_MODULE"]), PostgresFactory)
        assert store["POSTGRES_HOST"] == "postgres" and store["POSTGRES_PORT"] == "5432"
        assert store["POSTGRES_USER"] == postgres["POSTGRES_USER"]
        assert store["POSTGRES_DBNAME"] == postgres["POSTGRES_DB"]
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_each_api_side_runs_gunicorn_on_its_own_wsgi_entry_point(services):
    for name, app in API_SIDES.items():
        service = services[name]
        assert service["entrypoint"][0] == "gunicorn"
        # Threads, not one request per process: chat streams and read-your-writes waits hold a request open.
        assert "--worker-class=gthread" in service["entrypoint"]
        assert service["command"] == [app]
        assert callable(getattr(infra.wiring.wsgi, app.split(":")[1].rstrip("()")))


def test_the_image_installs_the_postgres_extra_and_the_package_brings_gunicorn():
    assert 'pip install ".[postgres]"' in (COMPOSE_DIR / "Dockerfile").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"gunicorn' in re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.M | re.S).group(1)
    assert '"psycopg[binary,pool]' in re.search(r"^postgres = \[(.*?)^\]", pyproject, re.M | re.S).group(1)


def test_the_relay_is_a_single_writer_with_exactly_one_replica(services):
    assert services["relay"]["command"] == ["ocs", "run", "relay"]
    assert services["relay"]["deploy"]["replicas"] == 1


def test_projectors_and_workers_are_scaled_within_the_partition_count_with_an_instance_id_per_replica(services):
    for name in ("projector", "worker"):
        service = services[name]
        assert service["command"] == ["ocs", "run", name]
        env = environment(service)
        assert 2 <= replicas(service) <= int(env["OCS_KAFKA_PARTITIONS"])
        # One fixed id shared by replicas would make them fence each other out of the consumer group; unset,
        # each replica uses its container's own host name.
        assert "OCS_INSTANCE_ID" not in env


def test_every_service_of_ours_is_configured_with_the_event_store_kafka_and_mongodb(services):
    for name in OUR_SERVICES:
        env = environment(services[name])
        assert {"OCS_EVENT_STORE_URL", "OCS_KAFKA_BOOTSTRAP", "OCS_MONGO_URL"} <= set(env), name


def test_every_variable_set_for_our_services_is_one_infra_config_documents(services):
    documented = set(re.findall(r"^\| (OCS_\w+) \|", infra.config.__doc__, re.M))
    assert len(documented) >= 10
    for name in OUR_SERVICES:
        unknown = set(environment(services[name])) - documented
        assert not unknown, f"{name} sets variables infra/config.py does not document: {unknown}"


def test_both_api_sides_share_the_files_volume_and_the_secret_key(services):
    sides = [services[name] for name in API_SIDES]
    files_dirs = {environment(side)["OCS_FILES_DIR"] for side in sides}
    secrets = {environment(side)["OCS_SECRET_KEY"] for side in sides}
    assert len(files_dirs) == 1 and len(secrets) == 1
    (files_dir,) = files_dirs
    mounted = [{v.split(":")[0] for v in side["volumes"] if v.split(":")[1] == files_dir} for side in sides]
    assert mounted[0] == mounted[1] and len(mounted[0]) == 1


def test_every_long_running_service_has_a_healthcheck_that_exists(services):
    for name, service in services.items():
        if name == "mongo-init":  # runs once and exits
            continue
        test = service["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
        scripts = [arg for arg in test if arg.startswith("/app/")]
        assert all((ROOT / script.removeprefix("/app/")).is_file() for script in scripts), name


def nginx_map(conf: str) -> tuple[list[tuple[re.Pattern, str]], str]:
    """The `$ocs_side` map: its regex entries in order (nginx uses the first that matches) and its default."""
    block = re.search(r'map "\$request_method:\$uri" \$ocs_side \{(.*?)\n\}', conf, re.S).group(1)
    entries, default = [], None
    for line in block.splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        key, side = line.rstrip(";").rsplit(None, 1)
        if key == "default":
            default = side
        else:
            assert key.startswith('"~'), f"only regex entries are expected: {line}"
            entries.append((re.compile(key.strip('"')[1:]), side))
    return entries, default


def proxy_side(conf: str, method: str, path: str) -> str:
    entries, default = nginx_map(conf)
    return next((side for pattern, side in entries if pattern.search(f"{method}:{path}")), default)


def sample_path(rule: str) -> str:
    values = {"uuid": str(uuid.uuid4()), "int": "7"}
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: values.get(m.group(1), "abc"), rule)


@pytest.fixture(scope="module")
def front_door(tmp_path_factory) -> FrontDoor:
    # Route tables only: no request is dispatched, so the sides' dependencies are never called.
    command = command_app.create_app(*(Mock() for _ in range(8)))
    query = query_app.create_app(*(Mock() for _ in range(8)))
    # With the chat page on, so that its route is checked too.
    environ = {"OCS_SECRET_KEY": "unused", "OCS_DEMO_PAGE": "true"}
    settings = load_settings(tmp_path_factory.mktemp("ocs"), environ=environ)
    return FrontDoor(command, query, System(settings).shared_routes(), Mock())


def front_door_side(door: FrontDoor, method: str, path: str) -> str:
    environ = EnvironBuilder(method=method, path=path).get_environ()
    # The paths every side shares are served by the query side's process (infra/wiring/wsgi.py).
    if door.extra_app_for(environ):
        return "query_api"
    return "query_api" if door.side_for(environ) is door.query_app else "command_api"


def test_the_proxy_sends_every_route_and_method_to_the_side_the_front_door_picks(front_door, nginx_conf):
    paths = {
        sample_path(rule.rule)
        for app in (front_door.command_app, front_door.query_app)
        for rule in app.url_map.iter_rules()
    }
    paths |= {sample_path(rule) for rule in front_door.extra_routes} | {"/", "/api/unknown/", "/api/v1/schema/"}
    # Without its trailing slash, a path goes to the side that redirects it to the path with it.
    paths |= {path.rstrip("/") for path in paths if len(path) > 1}
    assert len(paths) > 80
    for path in sorted(paths):
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            assert proxy_side(nginx_conf, method, path) == front_door_side(front_door, method, path), (method, path)


def test_the_proxy_sends_reads_of_the_documented_query_paths_to_the_query_side(nginx_conf):
    session, task = uuid.uuid4(), "a-task"
    for prefix in ("/api", "/api/v1"):
        for path in (
            "/experiments/",
            f"/experiments/{uuid.uuid4()}/",
            "/sessions/",
            f"/sessions/{session}/",
            "/participants",
            "/participants/",
            "/files/7/content",
            f"/chat/{session}/poll/",
            f"/chat/{session}/{task}/poll/",
            f"/chat/{session}/stream/",
        ):
            assert proxy_side(nginx_conf, "GET", prefix + path) == "query_api", prefix + path
    for path in (
        "/healthz",
        "/api/schema/",
        "/api/docs/",
        "/api/docs/swagger-ui-bundle.js",
        "/api/events/asyncapi.json",
        "/api/v1/events/asyncapi.json",
        f"/demo/{uuid.uuid4()}",
    ):
        assert proxy_side(nginx_conf, "GET", path) == "query_api", path
    assert proxy_side(nginx_conf, "POST", "/api/sessions/") == "command_api"


def test_the_proxy_streams_server_sent_events_unbuffered_to_the_api_services(nginx_conf, services):
    location = re.search(r"location ~ (\S+/stream/\$) \{(.*?)\}", nginx_conf, re.S)
    assert "proxy_buffering off;" in location.group(2) and "proxy_pass http://$ocs_side;" in location.group(2)
    # Both streams, the chat messages' and the team events', pass through it.
    for path in ("/api/chat/0b7e5d7a-7d3b-4b8e-9f0a-2a1c3e4d5f60/stream/", "/api/v1/events/stream/"):
        assert re.fullmatch(location.group(1).lstrip("^").rstrip("$"), path), path
    upstreams = dict(re.findall(r"upstream (\w+) \{\s*server ([\w-]+):8000;", nginx_conf))
    assert upstreams == {"command_api": "command-api", "query_api": "query-api"}
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["proxy"]["volumes"]


def test_the_api_believes_the_forwarding_headers_of_exactly_its_configured_proxies(services, tmp_path):
    assert services["command-api"]["environment"]["OCS_TRUSTED_PROXIES"] == "1"
    seen = {}

    def app(environ, start_response):
        seen.update(addr=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"])
        start_response("200 OK", [])
        return [b""]

    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    for proxies, expected in ((1, ("203.0.113.9", "https")), (0, ("127.0.0.1", "http"))):
        settings = load_settings(tmp_path, {"OCS_TRUSTED_PROXIES": str(proxies)})
        environ = EnvironBuilder(headers=forwarded, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
        System(settings).behind_proxies(app)(environ, lambda *_: None)
        assert (seen["addr"], seen["scheme"]) == expected
