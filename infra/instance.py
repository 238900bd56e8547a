"""Which replica this process is: its name among its component's replicas and in its consumer groups."""

import os
import socket


def instance_id() -> str:
    """`OCS_INSTANCE_ID`, or the host name (unique per container)."""
    return os.environ.get("OCS_INSTANCE_ID") or socket.gethostname()
