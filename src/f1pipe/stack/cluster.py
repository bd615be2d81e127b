"""The local Kafka stack as a cluster of N KRaft nodes on loopback (N = 1 by default).

Every node is broker and controller (combined mode) and a voter of one static controller
quorum (``controller.quorum.voters``), so a cluster of three survives the loss of any one
node, the quorum's leader included. Node ``i`` (1..N) listens on ``PORT+i-1`` (``PORT`` from
``KAFKA_BROKER``) and its controller on ``CPORT+i-1``, where ``CPORT`` is
``F1PIPE_KAFKA_CONTROLLER_PORT`` or ``PORT+N``; its config, data, log and pid live in
``<F1PIPE_STATE_DIR>/kafka-<N>/node-<i>`` with the cluster's id in ``kafka-<N>/cluster.id``.
One node is exactly the single-broker stack of :class:`~f1pipe.stack.kafka.KafkaBroker`
(state in ``<F1PIPE_STATE_DIR>/kafka``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.stack.kafka import BrokerInfo, KafkaBroker, NodeSpec, listen_address, new_cluster_id

METADATA_LOG = "__cluster_metadata-0"


@dataclass(frozen=True)
class NodeStatus:
    node_id: int
    bootstrap: str
    info: BrokerInfo | None  # None: not running
    leaders: int = 0  # partitions this node leads


@dataclass
class ClusterStatus:
    nodes: list[NodeStatus]
    controller_leader: int | None = None  # node id leading the KRaft quorum
    partitions: int = 0
    under_replicated: list[str] = field(default_factory=list)  # "topic[partition]"
    offline: list[str] = field(default_factory=list)  # partitions without a leader
    error: str | None = None  # the cluster did not answer metadata requests

    @property
    def running(self) -> int:
        return sum(1 for n in self.nodes if n.info is not None)


def node_specs(settings: Settings, brokers: int) -> list[NodeSpec]:
    """The ports and folders of a local cluster of ``brokers`` nodes."""
    if brokers == 1:
        return [KafkaBroker(settings).node]
    _, port = listen_address(settings)
    controller = settings.kafka_controller_port or port + brokers
    voters = tuple((i + 1, controller + i) for i in range(brokers))
    root = settings.state_dir / f"kafka-{brokers}"
    return [NodeSpec(i + 1, port + i, controller + i, root / f"node-{i + 1}", voters,
                     root / "cluster.id") for i in range(brokers)]


class KafkaCluster:
    """Start, stop and inspect a local cluster of ``brokers`` nodes (default
    ``F1PIPE_STACK_BROKERS``). ``up``/``down`` are safe to repeat."""

    def __init__(self, settings: Settings, brokers: int | None = None):
        self.settings = settings
        self.size = brokers or settings.stack_brokers
        if not 1 <= self.size <= 9:
            raise F1PipeError(f"--brokers must be 1 to 9, got {self.size}")
        self.nodes = [KafkaBroker(settings, spec) for spec in node_specs(settings, self.size)]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> KafkaBroker:
        return self.nodes[node_id - 1]

    def up(self, timeout: float = 120.0, log: Callable[[str], None] = print) -> ClusterStatus:
        """Start every node that is not running, then wait until all answer and the cluster
        lists all of them as brokers (a quorum needs a majority started before any answers)."""
        other = [c for c in running_clusters(self.settings) if c.size != self.size]
        if other:
            raise F1PipeError(
                f"a local Kafka stack of {other[0].size} broker(s) is running: stop it with "
                "`f1pipe stack down` first (one stack at a time)")
        spec = self.nodes[0].node
        if spec.cluster_id_file is not None and not spec.cluster_id_file.exists():
            spec.cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
            spec.cluster_id_file.write_text(new_cluster_id())
        # Formatting and JVM start-up take seconds each: all nodes at once.
        with ThreadPoolExecutor(self.size) as pool:
            procs = list(pool.map(lambda node: node.start(log), self.nodes))
        started = list(zip(self.nodes, procs, strict=True))
        deadline = time.monotonic() + timeout
        for node, proc in started:
            node.wait_until_ready(proc, max(1.0, deadline - time.monotonic()))
        if self.size > 1:
            self._wait_for_brokers(deadline)
        return self.status()

    def down(self, timeout: float = 30.0) -> int:
        """Stop every node (SIGTERM to all, then wait); returns how many were running."""
        stopping = [(node, node.terminate()) for node in self.nodes]
        for node, proc in stopping:
            if proc is not None:
                node.wait_stopped(proc, timeout)
        return sum(1 for _, proc in stopping if proc is not None)

    def status(self, timeout: float = 5.0) -> ClusterStatus:
        """Each node's process; with any running, leader counts, under-replicated and
        offline partitions from the cluster's metadata, and the quorum's leader."""
        infos = [(node, node.status()) for node in self.nodes]
        status = ClusterStatus([NodeStatus(n.node_id, n.bootstrap, i) for n, i in infos])
        if status.running == 0:
            return status
        status.controller_leader = self.controller_leader()
        try:
            metadata = _admin(self).list_topics(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - reported in the status, not raised
            status.error = " ".join(str(exc).split())[:200]
            return status
        leaders: dict[int, int] = {}
        for topic in metadata.topics.values():
            for partition in topic.partitions.values():
                status.partitions += 1
                name = f"{topic.topic}[{partition.id}]"
                if partition.leader < 0:
                    status.offline.append(name)
                else:
                    leaders[partition.leader] = leaders.get(partition.leader, 0) + 1
                if len(partition.isrs) < len(partition.replicas):
                    status.under_replicated.append(name)
        status.nodes = [NodeStatus(n.node_id, n.bootstrap, n.info, leaders.get(n.node_id, 0))
                        for n in status.nodes]
        return status

    def controller_leader(self) -> int | None:
        """The node leading the controller quorum, as the newest ``quorum-state`` file of a
        running node says (None when no running node knows one)."""
        best: tuple[int, int] | None = None  # (epoch, leader)
        for node in self.nodes:
            if node.status() is None:
                continue
            state = _quorum_state(node.data_dir)
            if state and state.get("leaderId", -1) >= 0:
                candidate = (state.get("leaderEpoch", 0), state["leaderId"])
                best = candidate if best is None or candidate > best else best
        return best[1] if best else None

    def wait_healthy(self, timeout: float = 120.0) -> ClusterStatus:
        """Wait until every node runs and no partition is under-replicated or offline;
        F1PipeError naming what is still wrong otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            healthy = (status.running == self.size and status.error is None
                       and not status.under_replicated and not status.offline)
            if healthy:
                return status
            if time.monotonic() >= deadline:
                what = (status.error or f"{len(status.under_replicated)} under-replicated, "
                        f"{len(status.offline)} offline partition(s), "
                        f"{status.running}/{self.size} nodes running")
                raise F1PipeError(f"the Kafka cluster is not healthy after {timeout:.0f} s: "
                                  f"{what}")
            time.sleep(0.5)

    def _wait_for_brokers(self, deadline: float) -> None:
        admin = _admin(self)
        while True:
            try:
                count = len(admin.list_topics(timeout=2.0).brokers)
            except Exception:  # noqa: BLE001 - not answering yet
                count = 0
            if count >= self.size:
                return
            if time.monotonic() >= deadline:
                self.down()
                raise F1PipeError(
                    f"only {count} of {self.size} Kafka brokers registered in time (logs: "
                    f"{self.nodes[0].home.parent}/node-*/kafka.log)")
            time.sleep(0.3)


def running_clusters(settings: Settings) -> list[KafkaCluster]:
    """The local stacks of this state folder with at least one node running (any size)."""
    sizes = [1] + sorted(int(p.name.split("-", 1)[1]) for p in settings.state_dir.glob("kafka-*")
                         if p.name.split("-", 1)[1].isdigit())
    clusters = [KafkaCluster(settings, n) for n in sizes if 1 <= n <= 9]
    return [c for c in clusters if any(node.status() is not None for node in c.nodes)]


def _admin(cluster: KafkaCluster):
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": cluster.bootstrap, "log_level": 0})


def _quorum_state(data_dir: Path) -> dict | None:
    try:
        return json.loads((data_dir / METADATA_LOG / "quorum-state").read_text())
    except (OSError, ValueError):
        return None
