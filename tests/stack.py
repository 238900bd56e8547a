"""A whole stack for tests: its own local Kafka-protocol and MongoDB-protocol servers on free ports with
fresh data directories, a fresh event store, and the relay, projector and API running in this process."""

import itertools
import shlex
import threading
import time
from pathlib import Path

import requests
from authlib.integrations.requests_client import OAuth2Session

from infra.config import Settings
from infra.wiring.bootstrap import System
from infra.wiring.cli import parser, run_admin
from infra.wiring.http_server import api_server
from infra.wiring.local_servers import LocalKafka, LocalMongo, free_port

_names = itertools.count(1)


class Stack:
    def __init__(self, root: Path, partitions: int = 4, event_store_url: str | None = None):
        self.root = root
        self.event_store_url = event_store_url or f"sqlite:///{root / 'events.sqlite'}"
        self.kafka = LocalKafka(root / "kafka")
        self.mongo = LocalMongo(root / "mongodb")
        self.partitions = partitions
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.server = None

    def settings(self) -> Settings:
        return Settings(
            data_dir=self.root,
            event_store_url=self.event_store_url,
            kafka_bootstrap=self.kafka.bootstrap,
            mongo_url=self.mongo.url,
            mongo_db="ocs",
            kafka_partitions=self.partitions,
            read_your_writes_timeout=10,
            secret_key="test-secret",
            files_dir=self.root / "files",
            llm_timeout=10,
            llm_attempts=2,
            worker_concurrency=32,
            delivery_attempts=3,
            delivery_backoff=0.2,
            delivery_timeout=5,
            demo_page=True,  # as under `ocs up`
        )

    def start_servers(self) -> "Stack":
        self.kafka.start()
        self.mongo.start()
        self.system = System(self.settings())
        return self

    def start(self, delivery: bool = True) -> "Stack":
        """`delivery=False`: without the webhook delivery worker, for a test to run it as a process of its own."""
        self.start_servers()
        self.start_background("relay", self.system.relay())
        self.start_background("feed", self.system.feed_writer())
        self.start_background("projector", self.system.projector())
        self.start_background("worker", self.system.worker())
        if delivery:
            self.start_background("delivery", self.system.delivery())
        self.server = api_server("127.0.0.1", free_port(), self.system.api())
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.threads.append(threading.Thread(target=self.server.serve_forever, name="api", daemon=True))
        self.threads[-1].start()
        return self

    def start_background(self, name: str, component) -> None:
        thread = threading.Thread(target=component.run, args=(self.stop_event,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        if self.server is not None:
            self.server.shutdown()
        for thread in self.threads:
            thread.join(30)
        if hasattr(self, "system"):
            self.system.close()
        self.mongo.stop()
        self.kafka.stop()

    def admin(self, command_line: str) -> dict:
        """An `ocs admin` command, run as the CLI runs it, against this stack."""
        args = parser().parse_args(["admin", *shlex.split(command_line)])
        return run_admin(self.system, args)

    def new_tenant(self, **chatbot_options) -> "Tenant":
        return Tenant(self, f"team-{next(_names)}", **chatbot_options)


class Tenant:
    """A team with a writable key, a read-only key and one chatbot."""

    def __init__(self, stack: Stack, slug: str, chatbot_name: str = "Support Bot", **chatbot_options):
        self.stack = stack
        self.slug = slug
        stack.admin(f"create-team --slug {slug} --name 'Team {slug}'")
        self.key = stack.admin(f"create-api-key --team {slug} --write")["key"]
        self.read_only_key = stack.admin(f"create-api-key --team {slug}")["key"]
        self.chatbot_id = self.new_chatbot(chatbot_name, **chatbot_options)

    def new_chatbot(self, name: str = "Bot", prompt: str | None = None, llm_base_url: str | None = None) -> str:
        command = f"create-chatbot --team {self.slug} --name {shlex.quote(name)} --description 'About {name}'"
        if prompt is not None:
            command += f" --prompt {shlex.quote(prompt)}"
        if llm_base_url:
            command += f" --provider openai --base-url {llm_base_url} --api-key fake-key --model fake-model"
        return self.stack.admin(command)["id"]

    def widget(self, auth_level: str = "embed_key", domains=("example.com",)) -> dict:
        allowed = " ".join(f"--allowed-domain {shlex.quote(d)}" for d in domains)
        return self.stack.admin(f"create-widget --chatbot {self.chatbot_id} --auth-level {auth_level} {allowed}")

    def client(self, key: str | None = None) -> "Client":
        return Client(self.stack.base_url, key or self.key)

    def oauth_client(self, grant: str, scope: str, *options: str) -> dict:
        """An OAuth client of this team: `{"client_id", "client_secret"}`."""
        return self.stack.admin(
            f"create-oauth-client --team {self.slug} --grant {grant} --scope {shlex.quote(scope)} {' '.join(options)}"
        )

    def machine_token(self, scope: str, *options: str) -> dict:
        """A client-credentials token from a new client of this team, fetched with authlib's OAuth2 client."""
        client = self.oauth_client("client_credentials", scope, *options)
        session = OAuth2Session(client["client_id"], client["client_secret"])
        return session.fetch_token(f"{self.stack.base_url}/o/token/", grant_type="client_credentials")

    def bearer(self, token: dict) -> "Client":
        """HTTP with an OAuth access token."""
        client = Client(self.stack.base_url, None)
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        return client

    def create_session(self, **body) -> dict:
        response = self.client().post("/api/sessions/", json={"experiment": self.chatbot_id, **body})
        assert response.status_code == 201, response.text
        return response.json()


class ChatClient(requests.Session):
    """A chat widget's view of the API: start a session, send messages, poll for replies."""

    def __init__(self, base_url: str, headers: dict | None = None):
        super().__init__()
        self.base_url = base_url
        self.headers.update(headers or {})
        self.session_id = None

    def request(self, method, url, *args, **kwargs):
        return super().request(method, url if url.startswith("http") else self.base_url + url, *args, **kwargs)

    def start(self, chatbot_id: str, **body) -> dict:
        response = self.post("/api/chat/start/", json={"chatbot_id": chatbot_id, **body})
        assert response.status_code == 201, response.text
        started = response.json()
        self.session_id = started["session_id"]
        if started["session_token"]:
            self.headers["X-Session-Token"] = started["session_token"]
        return started

    def say(self, text: str, **body) -> str:
        response = self.post(f"/api/chat/{self.session_id}/message/", json={"message": text, **body})
        assert response.status_code == 202, response.text
        return response.json()["task_id"]

    def task(self, task_id: str):
        return self.get(f"/api/chat/{self.session_id}/{task_id}/poll/")

    def reply_to(self, task_id: str, timeout_s: float = 20) -> dict:
        """The task poll's final answer (complete or error), polling every 20 ms."""
        answer = eventually(lambda: (r := self.task(task_id)).json().get("status") != "processing" and r, timeout_s)
        assert answer, f"task {task_id} still processing after {timeout_s}s"
        return answer.json()

    def poll(self, **params) -> dict:
        response = self.get(f"/api/chat/{self.session_id}/poll/", params=params)
        assert response.status_code == 200, response.text
        return response.json()


class Client(requests.Session):
    """HTTP to the stack's one base URL, authenticated with an API key in `X-api-key`."""

    def __init__(self, base_url: str, key: str | None):
        super().__init__()
        self.base_url = base_url
        if key:
            self.headers["X-api-key"] = key

    def request(self, method, url, *args, **kwargs):
        return super().request(method, url if url.startswith("http") else self.base_url + url, *args, **kwargs)


def eventually(check, timeout_s: float = 10, interval_s: float = 0.02):
    """The first truthy result of `check()`, retried until the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval_s)
