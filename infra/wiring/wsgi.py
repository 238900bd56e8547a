"""WSGI entry points for production, one per API side, each scaled on its own behind a reverse proxy:

    gunicorn 'infra.wiring.wsgi:command_api()'   # POST, PATCH, DELETE and the chat writes
    gunicorn 'infra.wiring.wsgi:query_api()'     # GET, /healthz, the API documents (/api/schema/, /api/docs/, ...)
                                                 # and, where OCS_DEMO_PAGE is on, the chat page /demo/...

Configuration comes from the environment (see infra/config.py); the proxy routes by method and path
exactly as `infra.wiring.frontdoor.FrontDoor` does for `ocs up`.
"""

from infra.config import load_settings
from infra.cors import Cors
from infra.wiring.bootstrap import System
from infra.wiring.frontdoor import FrontDoor


def command_api():
    system = System(load_settings())
    return system.behind_proxies(Cors(system.command_side(), system.team_origins.allowed_anywhere))


def query_api():
    system = System(load_settings())
    query = system.query_side()
    # A lone side is a front door whose other side never matches: same CORS, 405s and shared routes.
    return system.behind_proxies(FrontDoor(query, query, system.shared_routes(), system.team_origins.allowed_anywhere))
