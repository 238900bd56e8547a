"""`GET /healthz`: the status of every component, 200 only when all are up. `GET /readyz`: whether this
process can reach what it depends on (event store, MongoDB, Kafka), for a load balancer to route by."""

from collections.abc import Callable

from flask import Flask

from infra.web import json_response


def create_app(checks: dict[str, Callable[[], bool]], background: Callable[[], dict[str, str]]) -> Flask:
    app = Flask("health")

    def dependencies() -> dict[str, str]:
        components = {}
        for name, check in checks.items():
            try:
                components[name] = "ok" if check() else "down"
            except Exception:
                components[name] = "down"
        return components

    @app.get("/readyz")
    def readyz():
        components = dependencies()
        ready = all(status == "ok" for status in components.values())
        return json_response(
            {"status": "ok" if ready else "unavailable", "components": components}, 200 if ready else 503
        )

    @app.get("/healthz")
    def healthz():
        components = dependencies()
        try:
            components.update(background())
        except Exception:
            pass
        healthy = all(status == "ok" for status in components.values())
        return json_response(
            {"status": "ok" if healthy else "degraded", "components": components}, 200 if healthy else 503
        )

    return app
