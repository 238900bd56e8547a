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
from infra.heartbeat import FORGOTTEN_AFTER_S, STUCK_AFTER_S, heartbeats, status_of
from infra.web import install_error_handlers, json_response

RELAY = "relay"


@dataclass
class PipelineReport:
    """The background components' statuses (`ok`, `down`, `stuck`; `dead_letters`: `ok` or `parked`), each replica's
    (`<component>@<instance id>`), why each that is not ok is not, the parked events and how far the relay is behind
    the log."""

    components: dict[str, str] = field(default_factory=dict)
    replicas: dict[str, str] = field(default_factory=dict)
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
            report.components[name] = self.component_status(report, name, beats[name], now, end)
        relay = max(beats.get(RELAY, []), key=lambda beat: beat["at"], default=None)
        if relay is not None and "position" in relay:
            report.relay_backlog = max(end - relay["position"], 0)
        for topic, count in sorted((relay or {}).get("narrow_topics", {}).items()):
            report.problems.append(
                f"topic {topic} has {count} partition(s), fewer than new topics get: fewer replicas can share its work"
                " (docs/operations.md: widening a topic)"
            )
        report.parked = pending_count(self.db)
        report.components["dead_letters"] = "parked" if report.parked else "ok"
        if report.parked:
            report.problems.append(f"{report.parked} events parked: `ocs admin dead-letters` lists them")
        return report

    @staticmethod
    def component_status(report: PipelineReport, name: str, beats: list[dict], now: float, end: int) -> str:
        """A component is up while one replica is; a replica that is down is a problem only while partitions it
        held have no live owner (its group has not handed them on), or when no replica is up at all."""
        replicas = [beat for beat in beats if now - beat["at"] < FORGOTTEN_AFTER_S]
        statuses = {}
        for beat in sorted(replicas, key=lambda beat: beat["instance"]):
            statuses[f"{name}@{beat['instance']}"] = status_of(beat, now, end)
        report.replicas.update({replica: status for replica, (status, _) in statuses.items()})
        up = [beat for beat in replicas if statuses[f"{name}@{beat['instance']}"][0] != "down"]
        if not up:
            latest = max(replicas, key=lambda beat: beat["at"], default=None)
            why = status_of(latest, now, end)[1]
            report.problems.append(f"{name} down: {why}")
            return "down"
        status = "ok"
        for replica, (replica_status, why) in statuses.items():
            if replica_status == "stuck":
                report.problems.append(f"{replica if len(replicas) > 1 else name} stuck: {why}")
                status = "stuck"
        held = {partition for beat in up for partition in beat.get("partitions", ())}
        for beat in replicas:
            orphaned = sorted(set(beat.get("partitions", ())) - held)
            if beat not in up and orphaned and now - beat["at"] > STUCK_AFTER_S:
                report.problems.append(
                    f"{name}@{beat['instance']} down for {now - beat['at']:.0f} s: no live replica took its "
                    f"partitions {', '.join(orphaned)}"
                )
                status = "stuck"
        return status


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
        replicas = {}
        if report is not None:
            components.update(report.components)
            replicas = report.replicas
            problems += report.problems
        healthy = report is not None and not problems
        body = {"status": "ok" if healthy else "degraded", "components": components, "replicas": replicas}
        return json_response({**body, "problems": problems}, 200 if healthy else 503)

    return app
