"""A projector killed in the middle of counting leaves its MongoDB transaction open, and its writes locked until the
server reaps it (a minute); every live projector's counting that writes the same documents waits meanwhile. The live
one ends the session the silent replica's heartbeat names, and goes on: its counting lands, the dead one's does not."""

import subprocess
import sys
import threading
import time

from infra.group_members import EVICT_AFTER_S
from infra.heartbeat import COLLECTION as HEARTBEATS
from projectors.counting import Counting
from projectors.runner import GROUP, apply
from schemas.read_models import COUNTING_PROGRESS
from tests.integration.conftest import record_workload

# Opens a transaction that writes the session's counting progress, names its session, and waits to be killed.
KILLED_MID_TRANSACTION = """
import sys, time
from pymongo import MongoClient
client = MongoClient(sys.argv[1])
session = client.start_session()
session.start_transaction()
client[sys.argv[2]]["counting_progress"].update_one({"_id": sys.argv[3]}, {"$set": {"dead": True}}, upsert=True,
                                                   session=session)
client[sys.argv[2]]["orphans"].insert_one({"session": session.session_id})
print("open", flush=True)
time.sleep(600)
"""
WITHIN_S = 30  # well under the server's minute


def test_a_live_projector_ends_the_transaction_a_killed_one_left_open(servers):
    system = servers.system
    session_id = record_workload(system, sessions=1)[0]
    created = next(e for e in system.app.all_envelopes() if e["aggregate_id"] == session_id)
    db = system.db
    orphan = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_TRANSACTION, servers.mongo.url, db.name, session_id],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert orphan.stdout.readline() == "open\n"
    orphan.kill()
    orphan.wait()
    lsid = db["orphans"].find_one()["session"]
    silent_since = time.time() - EVICT_AFTER_S - 1
    db[HEARTBEATS].insert_one(
        {"_id": "projector@dead-1", "component": "projector", "instance": "dead-1", "at": silent_since, "session": lsid}
    )
    members = system.group_members("projector", GROUP)
    with db.client.start_session() as session:
        counting = threading.Thread(target=apply, args=(db, [created], Counting(session, members.unblock)))
        counting.start()
        counting.join(WITHIN_S)
        assert not counting.is_alive()
    progress = db[COUNTING_PROGRESS].find_one({"_id": session_id})
    assert progress["version"] == 1 and "dead" not in progress
