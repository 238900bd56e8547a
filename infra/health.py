"""`GET /healthz`: the status of every component, 200 only when all are up and nothing is stuck or parked.
`GET /readyz`: whether this process can reach what it depends on (event store, MongoDB, Kafka), for a load
balancer to route by; it reports the pipeline's health in its body too, but a stuck projector is no reason to
take every API process out of rotation, so its status code says only whether this process can serve."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import Flask
from pymongo.database import Database

from infra.dead_letters import pending_count
from infra.heartbeat import heartbeats, status_of
from infra.web import install_error_handlers, json_response

RELAY = "relay"


@dataclass
class PipelineReport:
    """The background components' statuses (`ok`, `down`, `stuck`; `dead_letters`: `ok` or `parked`), why each
    that is not ok is not, the parked events and how far the relay is behind the log."""

    components: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    parked: int = 0
    relay_backlog: int | None = None


class PipelineHealth:
    def __init__(self, db: Database, components, log_end: Callable[[], int]):
        self.db = db
        self.components = tuple(components)
        self.log_end = log_end

    def report(self) -> PipelineReport:
        report = PipelineReport()
        end = self.log_end()
        beats = heartbeats(self.db, self.components)
        now = datetime.now(timezone.utc).timestamp()
        for name in self.components:
            status, why = status_of(beats.get(name), now, end)
            report.components[name] = status
            if why:
                report.problems.append(f"{name} {status}: {why}")
        if RELAY in beats and "position" in beats[RELAY]:
            report.relay_backlog = max(end - beats[RELAY]["position"], 0)
        report.parked = pending_count(self.db)
        report.components["dead_letters"] = "parked" if report.parked else "ok"
        if report.parked:
            report.problems.append(f"{report.parked} events parked: `ocs admin dead-letters` lists them")
        return report


def create_app(checks: dict[str, Callable[[], bool]], pipeline_report: Callable[[], PipelineReport]) -> Flask:
    app = Flask("health")
    install_error_handlers(app)

    def dependencies() -> dict[str, str]:
        components = {}
        for name, check in checks.items():
            try:
                components[name] = "ok" if check() else "down"
            except Exception:
                components[name] = "down"
        return components

    def pipeline() -> PipelineReport | None:
        try:
            return pipeline_report()
        except Exception:  # MongoDB or the event store is down: the dependencies say so
            return None

    @app.get("/readyz")
    def readyz():
        components = dependencies()
        ready = all(status == "ok" for status in components.values())
        report = pipeline()
        healthy = ready and report is not None and not report.problems
        return json_response(
            {
                "status": "ok" if ready else "unavailable",
                "components": components,
                "pipeline": "ok" if healthy else "degraded",
            },
            200 if ready else 503,
        )

    @app.get("/healthz")
    def healthz():
        components = dependencies()
        problems = [f"{name} down" for name, status in components.items() if status != "ok"]
        report = pipeline()
        if report is not None:
            components.update(report.components)
            problems += report.problems
        healthy = report is not None and not problems
        return json_response(
            {"status": "ok" if healthy else "degraded", "components": components, "problems": problems},
            200 if healthy else 503,
        )

    return app
