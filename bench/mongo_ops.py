"""What the MongoDB server did during the measured window, per collection and operation: read from its `top`
command (commands and server time, as mongod reports them) before and after, so the report can say how many
MongoDB commands, and how much server time, each answered message costs, and where."""

from pymongo import MongoClient

OPERATIONS = ("queries", "getmore", "insert", "update", "remove", "commands")


class MongoOps:
    def __init__(self, mongo_url: str):
        self.client = MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
        self.before: dict = {}
        self.after: dict = {}

    def start(self) -> None:
        self.before = self._top()

    def mark_end(self) -> None:
        self.after = self._top()
        self.client.close()

    def summary(self, answered_messages: int) -> dict:
        """Commands and server milliseconds per namespace and operation over the window, with per-message totals."""
        namespaces = {}
        for namespace, ops in self.after.items():
            earlier = self.before.get(namespace, {})
            changed = {}
            for op in OPERATIONS:
                now, then = ops.get(op, {}), earlier.get(op, {})
                count = now.get("count", 0) - then.get("count", 0)
                if count:
                    micros = now["time"] - then.get("time", 0)
                    changed[op] = {"count": count, "server_ms": round(micros / 1000, 1)}
            if changed:
                namespaces[namespace] = changed
        commands = sum(op["count"] for ops in namespaces.values() for op in ops.values())
        server_ms = sum(op["server_ms"] for ops in namespaces.values() for op in ops.values())
        per_message = max(answered_messages, 1)
        return {
            "commands": commands,
            "server_ms": round(server_ms, 1),
            "commands_per_answered_message": round(commands / per_message, 2),
            "server_ms_per_answered_message": round(server_ms / per_message, 2),
            "namespaces": namespaces,
        }

    def _top(self) -> dict:
        totals = self.client.admin.command("top")["totals"]
        return {namespace: ops for namespace, ops in totals.items() if isinstance(ops, dict)}
