"""`GET /healthz`: the status of every component, 200 only when all are up."""

from collections.abc import Callable

from flask import Flask

from infra.web import json_response


def create_app(checks: dict[str, Callable[[], bool]], background: Callable[[], dict[str, str]]) -> Flask:
    app = Flask("health")

    @app.get("/healthz")
    def healthz():
        components = {}
        for name, check in checks.items():
            try:
                components[name] = "ok" if check() else "down"
            except Exception:
                components[name] = "down"
        try:
            components.update(background())
        except Exception:
            pass
        healthy = all(status == "ok" for status in components.values())
        return json_response(
            {"status": "ok" if healthy else "degraded", "components": components}, 200 if healthy else 503
        )

    return app
