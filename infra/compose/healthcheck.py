"""Container healthchecks of infra/compose/docker-compose.yml; exit status 0 means healthy.

python infra/compose/healthcheck.py http PATH        # this container's API answers on port 8000
python infra/compose/healthcheck.py heartbeat NAME   # component NAME beat recently (infra/heartbeat.py)
"""

import sys
import time
import urllib.error
import urllib.request

from pymongo import MongoClient

from infra.config import load_settings
from infra.heartbeat import heartbeats, status_of
from infra.instance import instance_id


def api_answers(path: str) -> bool:
    # Any HTTP answer means gunicorn and the app serve requests. What the answer says (/healthz answers 503
    # while some other component is down, the command side 405 or 401 to a bare GET) is for operators to read,
    # not a reason to hold back this container.
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:8000{path}", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def component_beats(name: str) -> bool:
    """This container's replica of component NAME (its instance id, as infra/config.py instance_id names it)."""
    settings = load_settings()
    client = MongoClient(settings.mongo_url, serverSelectionTimeoutMS=5000)
    try:
        mine = [
            beat for beat in heartbeats(client[settings.mongo_db], [name])[name] if beat["instance"] == instance_id()
        ]
        beat = mine[0] if mine else None
        # Alive is enough here: a component stuck on its work is /healthz's to report, not a reason to restart it.
        return status_of(beat, time.time(), log_end=0)[0] != "down"
    finally:
        client.close()


if __name__ == "__main__":
    check, argument = sys.argv[1:3]
    sys.exit(0 if {"http": api_answers, "heartbeat": component_beats}[check](argument) else 1)
