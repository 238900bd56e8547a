"""One member of a consumer group, as the workers and projectors consume: `python -m tests.group_member <bootstrap>
<group> <topic> <file>` polls as `infra.kafka.Poller` does and writes the partitions it holds to <file> whenever
they change. Run with OCS_INSTANCE_ID set, as `ocs up` runs each replica."""

import json
import sys
from pathlib import Path

from infra.kafka import Poller, held_partitions, make_consumer


def main(bootstrap: str, group: str, topic: str, held_file: str) -> None:
    poller = Poller(make_consumer(bootstrap, group, [topic]))
    held = None
    while True:
        poller.poll()
        if held != (now := held_partitions(poller.consumer)):
            held = now
            Path(held_file).write_text(json.dumps(held))


if __name__ == "__main__":
    main(*sys.argv[1:])
