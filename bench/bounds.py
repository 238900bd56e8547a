"""What bounds a load run, from its own numbers: whether the machine's CPU was the limit, what an answered
message costs each process in CPU (with the hottest functions of its profile), and what it costs MongoDB."""

from bench.report import STACK_ROLES

TARGET_RATE = 100
PROFILE_FRAMES = 3


def bounds(report: dict) -> dict:
    cpu, load = report.get("cpu"), report.get("load")
    if not cpu or not load or not load["answered_per_s"]:
        return {}
    cores = report["machine"]["nproc"]
    rate = load["answered_per_s"]
    per_message = cpu["ms_per_answered_message"]
    all_ms = round(sum(per_message.values()), 1)
    stack_ms = round(sum(ms for role, ms in per_message.items() if role in STACK_ROLES), 1)
    profiles = report.get("profile") or {}
    processes = [
        {"process": role, "cpu_ms_per_message": ms, "hottest": hottest(profiles.get(role))}
        for role, ms in sorted(per_message.items(), key=lambda item: -item[1])
    ]
    busy = cpu["machine_busy_percent"]
    out = {
        "machine_busy_percent": busy,
        "cpu_saturated": busy >= 90 * cores,
        "cpu_ms_per_answered_message": {"stack": stack_ms, "everything": all_ms},
        "answered_per_s_these_cores_allow": round(cores * 1000 / all_ms, 1),
        "cpu_ms_per_message_for_100_per_s": round(cores * 1000 / TARGET_RATE, 1),
        "processes": processes,
    }
    users = sum(load.get("users", {}).get(name, 0) for name in ("WidgetPollUser", "WidgetStreamUser"))
    if users:
        out["message_cycle_ms_by_littles_law"] = round(users / rate * 1000, 1)
    mongo = report.get("mongodb_operations")
    if mongo:
        # A getmore's time includes waiting for new data (the message streams' change stream), so it is left out.
        worked = [
            (f"{namespace} {op}", v["count"], v["server_ms"])
            for namespace, ops in mongo["namespaces"].items()
            for op, v in ops.items()
            if op != "getmore"
        ]
        ranked = sorted(worked, key=lambda item: -item[2])
        out["mongodb"] = {
            "commands_per_answered_message": mongo["commands_per_answered_message"],
            "most_server_time": [{"operation": op, "commands": n, "server_ms": ms} for op, n, ms in ranked[:5]],
        }
    out["summary"] = summary(out, rate, users, cores)
    return out


def hottest(profile: dict | None) -> list:
    if not profile or "top_own_percent_of_working" not in profile:
        return []
    return profile["top_own_percent_of_working"][:PROFILE_FRAMES]


def summary(found: dict, rate: float, users: int, cores: int) -> list[str]:
    busy, ms = found["machine_busy_percent"], found["cpu_ms_per_answered_message"]
    lines = [
        f"CPU: the machine was {busy} % busy of {cores * 100} %"
        + (" (saturated)" if found["cpu_saturated"] else " (not saturated: look for waits, not work)")
        + f"; each answered message cost {ms['everything']} ms of CPU ({ms['stack']} in the stack), so these"
        f" {cores} cores allow ~{found['answered_per_s_these_cores_allow']}/s; {TARGET_RATE}/s needs at most"
        f" {found['cpu_ms_per_message_for_100_per_s']} ms."
    ]
    top = ", ".join(
        f"{p['process']} {p['cpu_ms_per_message']} ms"
        + (f" (hottest: {p['hottest'][0][0]} {p['hottest'][0][1]} %)" if p["hottest"] else "")
        for p in found["processes"][:4]
    )
    lines.append(f"Largest CPU per answered message: {top}.")
    if users:
        lines.append(
            f"Latency: {users} widget users each keep one message in flight, so by Little's law a message cycle"
            f" (send, reply, the poll that sees it) takes {users} / {rate} per s = "
            f"{found['message_cycle_ms_by_littles_law']} ms on average: reply latency falls only as the rate"
            " rises, and the rate is bound by CPU as above."
        )
    mongo = found.get("mongodb")
    if mongo:
        worst = mongo["most_server_time"][0]
        lines.append(
            f"MongoDB: {mongo['commands_per_answered_message']} commands per answered message; most server time:"
            f" {worst['operation']} ({worst['commands']} commands, {worst['server_ms']} ms)."
        )
    return lines
