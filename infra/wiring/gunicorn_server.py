"""The API's HTTP server under `ocs up` and `ocs run api`: gunicorn, as production runs it (infra/compose/), with
gthread workers, since a chat stream holds its thread for minutes and a write waits (bounded) for its read model.
Measured against werkzeug's development server and granian on the chat load: bench/README.md.

Each worker process builds its own System after the fork (no preload: the clients of Kafka and MongoDB are not
fork-safe). A stop, by SIGTERM or Ctrl-C, lets every worker answer the requests it is serving."""

import os
import signal

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.gthread import ThreadWorker

from infra.config import Settings
from infra.wiring.bootstrap import System
from infra.wiring.http_server import json_refusal
from infra.wiring.local_servers import end_with_parent

# The longest request line gunicorn accepts (its default is 4094).
LIMIT_REQUEST_LINE = 8190
# What a worker has, after a stop, to finish the requests it serves (an open chat stream is cut then): under
# `ocs up`'s own grace of 10 s, so the workers end before the API process is killed.
GRACEFUL_TIMEOUT_S = 8


def write_json_refusal(sock, status_int, reason, mesg):
    """gunicorn's answer to what it refuses itself (a request line over LIMIT_REQUEST_LINE, a malformed request),
    in the SPEC's JSON error shape instead of its HTML page."""
    util.write_nonblock(sock, json_refusal(status_int))


class ApiWorker(ThreadWorker):
    def init_process(self):
        # gunicorn's workers send every refusal through util.write_error: replaced in this worker process only.
        util.write_error = write_json_refusal
        super().init_process()

    def init_signals(self):
        super().init_signals()
        # Ctrl-C reaches every process of the terminal's foreground group: a worker finishes its requests, as
        # on SIGTERM, instead of quitting at once.
        signal.signal(signal.SIGINT, self.handle_exit)


class ApiArbiter(Arbiter):
    # As for SIGTERM: stop the workers gracefully (gunicorn's SIGINT cuts their requests off).
    handle_int = Arbiter.handle_term


class ApiServer(BaseApplication):
    def __init__(self, settings: Settings, host: str, port: int):
        self.settings = settings
        self.bind = f"{host}:{port}"
        self.system: System | None = None
        super().__init__()

    def load_config(self):
        options = {
            "bind": self.bind,
            "workers": self.settings.api_workers,
            "worker_class": ApiWorker,
            "threads": self.settings.api_threads,
            "timeout": 60,
            "graceful_timeout": GRACEFUL_TIMEOUT_S,
            "limit_request_line": LIMIT_REQUEST_LINE,
            # The app's own ProxyFix (OCS_TRUSTED_PROXIES) decides which forwarding headers to believe.
            "forwarded_allow_ips": "",
            # gunicorn's control socket lives in the home directory: two stacks on one machine would share it.
            "control_socket_disable": True,
            # A worker of a killed API process goes too (gracefully), so that its restart can take the port.
            "post_fork": lambda arbiter, worker: end_with_parent(),
            "worker_exit": lambda arbiter, worker: self.worker_exited(worker),
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        self.system = System(self.settings)
        return self.system.api()

    def worker_exited(self, worker) -> None:
        if self.system:
            self.system.close()
        # Every request is answered and every client closed; a library thread that is no daemon must not keep
        # a stopped worker alive.
        os._exit(0 if worker.booted else Arbiter.WORKER_BOOT_ERROR)

    def run(self):
        ApiArbiter(self).run()


def serve_api(settings: Settings, host: str, port: int) -> None:
    """Until SIGTERM or Ctrl-C."""
    ApiServer(settings, host, port).run()
