"""The local Apache Kafka broker: KRaft combined mode (broker + controller), on loopback.

The broker runs from the official jars: ``$KAFKA_HOME/libs`` when set, otherwise
``org.apache.kafka:kafka_2.13`` and its dependencies resolved once from Maven Central with
the small ``pom.xml`` beside this file into ``<F1PIPE_CACHE_DIR>/kafka-<version>/libs``.
State (config, data, log, pid) lives under ``<F1PIPE_STATE_DIR>/kafka``.

:class:`KafkaBroker` is one node; a single node is the default stack. A cluster of N nodes
(:mod:`f1pipe.stack.cluster`) is N of them sharing one cluster id and one static controller
quorum, each with its own ports and ``<F1PIPE_STATE_DIR>/kafka-<N>/node-<i>`` folder.
"""

from __future__ import annotations

import base64
import contextlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError

ASSETS = Path(__file__).with_name("kafka")
POM = ASSETS / "pom.xml"
LOG_CONFIG = ASSETS / "log4j2.properties"
MAIN_CLASS = "kafka.Kafka"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class BrokerInfo:
    bootstrap: str
    pid: int
    started_at: str
    data_dir: Path
    log_file: Path


def kafka_version() -> str:
    """The Kafka version pinned in the pom."""
    return re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text()).group(1)


@dataclass(frozen=True)
class NodeSpec:
    """Where one node of a cluster listens and keeps its state."""

    node_id: int
    port: int
    controller_port: int
    home: Path
    voters: tuple[tuple[int, int], ...]  # (node id, controller port) of every voter
    cluster_id_file: Path | None = None  # shared by the cluster's nodes; None: one node


def listen_address(settings: Settings) -> tuple[str, int]:
    """Host and port of the first ``KAFKA_BROKER`` entry: where the local stack listens."""
    host, _, port = settings.kafka_broker.split(",")[0].strip().rpartition(":")
    return host.strip("[]"), int(port)


class KafkaBroker:
    """Start, stop and inspect one broker. ``up``/``down`` are safe to repeat.

    Without ``node``: the single-node stack (state in ``<F1PIPE_STATE_DIR>/kafka``, on the
    port of ``KAFKA_BROKER``, the controller on the next port).
    """

    def __init__(self, settings: Settings, node: NodeSpec | None = None):
        self.settings = settings
        self.host, port = listen_address(settings)
        if node is None:
            controller = settings.kafka_controller_port or port + 1
            node = NodeSpec(1, port, controller, settings.state_dir / "kafka",
                            ((1, controller),))
        self.node = node
        self.node_id, self.port, self.controller_port = node.node_id, node.port, \
            node.controller_port
        self.home = node.home
        self.data_dir = self.home / "data"
        self.log_file = self.home / "kafka.log"
        self.pid_file = self.home / "kafka.pid"
        self.properties = self.home / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    # --- jars ----------------------------------------------------------------------------

    def libs(self) -> Path:
        """The folder of broker jars, fetched from Maven Central on first use."""
        if self.settings.kafka_home is not None:
            libs = self.settings.kafka_home / "libs"
            if not any(libs.glob("kafka_2.13-*.jar")):
                raise F1PipeError(
                    f"KAFKA_HOME={self.settings.kafka_home} has no libs/kafka_2.13-*.jar: "
                    "point it at an Apache Kafka 4.x install, or unset it to fetch the jars"
                )
            return libs
        libs = self.settings.cache_dir / f"kafka-{kafka_version()}" / "libs"
        if not any(libs.glob("kafka_2.13-*.jar")):
            self._fetch_jars(libs)
        return libs

    def _fetch_jars(self, libs: Path) -> None:
        mvn = shutil.which("mvn")
        if mvn is None:
            raise F1PipeError(
                "Maven (mvn) is needed once to fetch the Kafka broker jars: install it "
                "(apt-get install maven) or set KAFKA_HOME to an Apache Kafka 4.x install"
            )
        libs.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=libs.parent))
        cmd = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
               f"-DoutputDirectory={staging}", "-DincludeScope=runtime"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
            raise F1PipeError(
                f"could not fetch the Kafka jars from Maven Central ({last[0][:200]}): "
                "check the network or set KAFKA_HOME to an Apache Kafka 4.x install"
            )
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)

    def _java(self) -> str:
        java = shutil.which(self.settings.java)
        if java is None:
            raise F1PipeError(
                f"Java not found ({self.settings.java!r}): Kafka needs Java 17 or newer; "
                "install it (apt-get install openjdk-17-jre-headless) or set F1PIPE_JAVA"
            )
        return java

    # --- lifecycle -----------------------------------------------------------------------

    def up(self, timeout: float = 90.0, log: Callable[[str], None] = print) -> BrokerInfo:
        """Start the broker unless it is running; return once it answers metadata requests."""
        running = self.status()
        if running is not None:
            return running
        proc = self.start(log)
        self.wait_until_ready(proc, timeout)
        return self.status()

    def start(self, log: Callable[[str], None] = print) -> subprocess.Popen | None:
        """Start the broker process (formatting its storage on first start) without waiting
        for it; None if it is already running."""
        if self.status() is not None:
            return None
        if self.host not in LOOPBACK:
            raise F1PipeError(
                f"KAFKA_BROKER={self.settings.kafka_broker} is not on this machine: the local "
                "stack listens on 127.0.0.1 (set KAFKA_BROKER=127.0.0.1:PORT)"
            )
        java = self._java()
        for port, what in ((self.port, "Kafka"), (self.controller_port, "the Kafka controller")):
            _require_free_port(port, what)
        classpath = f"{self.libs()}/*"
        self.home.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        if not (self.data_dir / "meta.properties").exists():
            log(f"kafka: formatting storage in {self.data_dir}")
            self._format_storage(java, classpath)
        return self._start(java, classpath)

    def down(self, timeout: float = 30.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout``); False if none ran."""
        proc = self.terminate()
        if proc is None:
            return False
        self.wait_stopped(proc, timeout)
        return True

    def terminate(self) -> psutil.Process | None:
        """Send SIGTERM (controlled shutdown) without waiting; the process, or None."""
        proc = self._process()
        if proc is None:
            self.pid_file.unlink(missing_ok=True)
            return None
        proc.send_signal(signal.SIGTERM)
        return proc

    def wait_stopped(self, proc: psutil.Process, timeout: float = 30.0) -> None:
        """Wait for a terminated broker to exit; SIGKILL after ``timeout`` seconds. A broker
        started by another process stays a zombie until that one reaps it: exited all the
        same."""
        if not _exited(proc, timeout):
            with contextlib.suppress(psutil.Error):
                proc.kill()
            if not _exited(proc, 10):
                raise F1PipeError(f"the Kafka broker (pid {proc.pid}) did not exit after "
                                  "SIGKILL: see `ps`")
        self.pid_file.unlink(missing_ok=True)

    def status(self) -> BrokerInfo | None:
        """The running broker of this state folder, or None."""
        proc = self._process()
        if proc is None:
            return None
        started = datetime.fromtimestamp(proc.create_time(), UTC)
        return BrokerInfo(self.bootstrap, proc.pid, started.isoformat(timespec="seconds"),
                          self.data_dir, self.log_file)

    # --- internals -----------------------------------------------------------------------

    def _process(self) -> psutil.Process | None:
        try:
            proc = psutil.Process(int(self.pid_file.read_text()))
            alive = proc.status() != psutil.STATUS_ZOMBIE and MAIN_CLASS in proc.cmdline()
        except (FileNotFoundError, ValueError, psutil.Error):
            return None
        return proc if alive else None

    def _write_properties(self) -> None:
        # group.coordinator.append.linger.ms=0: offset commits are written at once instead of
        # lingering 5 ms; a synchronous commit per batch drops from ~9 ms to ~3 ms (p50 here).
        # Internal topics (offsets, transactions) are replicated like f1pipe's own: on three
        # nodes or more, three replicas and two in sync for a write.
        voters = self.node.voters
        replicas = min(3, len(voters))
        min_isr = 2 if replicas >= 3 else 1
        quorum = ",".join(f"{i}@{self.host}:{p}" for i, p in voters)
        listener, controller = f"{self.host}:{self.port}", f"{self.host}:{self.controller_port}"
        self.properties.write_text("\n".join([
            "process.roles=broker,controller",
            f"node.id={self.node_id}",
            f"controller.quorum.voters={quorum}",
            f"listeners=PLAINTEXT://{listener},CONTROLLER://{controller}",
            f"advertised.listeners=PLAINTEXT://{listener}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={self.data_dir.resolve()}",
            f"num.partitions={self.settings.topic_partitions}",
            f"default.replication.factor={replicas}",
            f"min.insync.replicas={min_isr}",
            f"offsets.topic.replication.factor={replicas}",
            "offsets.topic.num.partitions=3",
            f"transaction.state.log.replication.factor={replicas}",
            f"transaction.state.log.min.isr={min_isr}",
            f"share.coordinator.state.topic.replication.factor={replicas}",
            f"share.coordinator.state.topic.min.isr={min_isr}",
            "group.initial.rebalance.delay.ms=0",
            "group.coordinator.append.linger.ms=0",
            "auto.create.topics.enable=false",
            "",
        ]))

    def _format_storage(self, java: str, classpath: str) -> None:
        cluster_id = self._cluster_id()
        cmd = [java, "-Xmx256m", f"-Dlog4j2.configurationFile={LOG_CONFIG}", "-cp", classpath,
               "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c",
               str(self.properties)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise F1PipeError(f"formatting Kafka storage failed: {detail[0][:300]}")

    def _cluster_id(self) -> str:
        """A new id for one node; the cluster's shared id (made by the first node) for many."""
        path = self.node.cluster_id_file
        if path is None:
            return new_cluster_id()
        if not path.exists():  # a node started on its own (KafkaCluster.up writes it first)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(new_cluster_id())
        return path.read_text().strip()

    def _start(self, java: str, classpath: str) -> subprocess.Popen:
        heap = self.settings.kafka_heap
        cmd = [java, f"-Xmx{heap}", f"-Xms{min_heap(heap)}", "-XX:+UseG1GC",
               "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={LOG_CONFIG}",
               "-cp", classpath, MAIN_CLASS, str(self.properties)]
        with open(self.log_file, "ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid_file.write_text(str(proc.pid))
        return proc

    def wait_until_ready(self, proc: subprocess.Popen | None, timeout: float) -> None:
        """Return once the broker answers metadata requests; F1PipeError (broker stopped)
        if it exits or does not answer within ``timeout`` seconds."""
        from confluent_kafka.admin import AdminClient

        if proc is None:
            return
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise F1PipeError(
                    f"the Kafka broker exited during start-up (status {proc.returncode}): "
                    f"{_last_error(self.log_file)} (log: {self.log_file})"
                )
            try:
                admin.list_topics(timeout=1.0)
                return
            except Exception:  # not answering yet
                time.sleep(0.3)
        self.down()
        raise F1PipeError(
            f"the Kafka broker did not answer on {self.bootstrap} within {timeout:.0f}s "
            f"(log: {self.log_file})"
        )


def _exited(proc: psutil.Process, timeout: float) -> bool:
    """True once ``proc`` has exited (or is a zombie) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            proc.wait(0.2)
            return True
        except psutil.TimeoutExpired:
            with contextlib.suppress(psutil.Error):
                if proc.status() == psutil.STATUS_ZOMBIE:
                    return True
        except psutil.Error:
            return True
        if time.monotonic() >= deadline:
            return False


def new_cluster_id() -> str:
    """A fresh Kafka cluster id (22 characters of URL-safe base64, as kafka-storage makes)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def min_heap(heap: str) -> str:
    """A start heap of at most 256m, never above the maximum."""
    return "256m" if heap.lower().endswith("g") or int(heap.rstrip("mM") or 0) >= 256 else heap


def _require_free_port(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise F1PipeError(
                f"port {port} on 127.0.0.1 (for {what}) is in use by another program: stop it, "
                "or choose other ports with KAFKA_BROKER=127.0.0.1:PORT "
                "(N brokers take PORT..PORT+N-1, their controllers the N ports after them, "
                "or F1PIPE_KAFKA_CONTROLLER_PORT on)"
            ) from None


def _last_error(log_file: Path) -> str:
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "no log written"
    errors = [line for line in lines if " ERROR " in line or "Exception" in line]
    return (errors or lines or ["empty log"])[-1][:300]
