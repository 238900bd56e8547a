"""The front door: one base URL. Each request goes to the side that serves its path and method (reads to
the query API, the rest to the command API). In production a reverse proxy does the same routing."""

from collections.abc import Callable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule

from infra.cors import Cors


class FrontDoor:
    def __init__(self, command_app, query_app, extra_routes: dict, allowed_anywhere: Callable[[str], bool]):
        self.command_app = command_app
        self.query_app = query_app
        # Paths answered by neither API side, such as /healthz or /demo/<chatbot_id>: werkzeug rules, each
        # owning every method of its paths.
        self.extra_routes = extra_routes
        self.extra_map = Map([Rule(path, endpoint=path) for path in extra_routes])
        self.cors = Cors(self.route, allowed_anywhere)

    def side_for(self, environ):
        """The app whose routes match; for a method no side serves, the side that owns the path (405); for a path
        no side owns, the side of the path with a trailing slash (which redirects to it, or refuses the method)."""
        path = environ.get("PATH_INFO", "")
        side = self.owner_of(environ)
        if side is None and not path.endswith("/"):
            side = self.owner_of({**environ, "PATH_INFO": f"{path}/"})
        return side or self.command_app

    def owner_of(self, environ):
        owners = []
        for app in (self.command_app, self.query_app):
            adapter = app.url_map.bind_to_environ(environ)
            try:
                adapter.match()
                return app
            except RequestRedirect:  # its path but for the trailing slash: that side redirects
                return app
            except MethodNotAllowed:
                owners.append(app)
            except NotFound:
                pass
        return owners[0] if owners else None

    def __call__(self, environ, start_response):
        return self.cors(environ, start_response)

    def extra_app_for(self, environ):
        """The app of the path's extra route, or None. Only an exact match counts: a path that differs by its
        trailing slash goes to the sides, as the proxy sends it."""
        try:
            path, _ = self.extra_map.bind_to_environ(environ).match()
        except HTTPException:  # NotFound, or a RequestRedirect to the path with a slash
            return None
        return self.extra_routes[path]

    def route(self, environ, start_response):
        app = self.extra_app_for(environ) or self.side_for(environ)
        return app(environ, start_response)
