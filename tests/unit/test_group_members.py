"""Which replicas gone silent a replica removes from its consumer group (infra/group_members.py): the ones silent
for EVICT_AFTER_S, by the first live replica in instance order (a dead one that sorts first does not hold it up),
once each, and nobody while the remover's own beat is getting old too."""

from infra.group_members import EVICT_AFTER_S, to_remove
from infra.heartbeat import FORGOTTEN_AFTER_S

NOW = 1_000_000.0


def beats(**silent_for: float) -> list[dict]:
    return [{"instance": instance, "at": NOW - silence} for instance, silence in silent_for.items()]


def removed(replicas: list[dict], me: str, evicted=frozenset()) -> list[str]:
    return [beat["instance"] for beat in to_remove(replicas, me, NOW, set(evicted))]


def test_the_first_live_replica_removes_the_silent_ones_even_when_a_dead_one_sorts_first():
    replicas = beats(**{"worker-1": EVICT_AFTER_S + 0.1, "worker-2": 0.5, "worker-3": 0.2})
    assert removed(replicas, "worker-2") == ["worker-1"]
    assert removed(replicas, "worker-3") == []


def test_a_replica_is_removed_once_for_each_silence():
    replicas = beats(**{"worker-1": EVICT_AFTER_S + 1, "worker-2": 0.5})
    assert removed(replicas, "worker-2", evicted={("worker-1", NOW - EVICT_AFTER_S - 1)}) == []


def test_nobody_is_removed_while_the_removers_own_beat_is_getting_old_too():
    replicas = beats(**{"worker-1": EVICT_AFTER_S + 1, "worker-2": EVICT_AFTER_S * 0.6})
    assert removed(replicas, "worker-2") == []


def test_replicas_silent_for_a_short_while_or_long_forgotten_are_left_alone():
    replicas = beats(**{"worker-1": EVICT_AFTER_S - 1, "worker-2": 0.1, "worker-3": FORGOTTEN_AFTER_S + 1})
    assert removed(replicas, "worker-2") == []
