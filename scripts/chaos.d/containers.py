"""containers.py — the chaos run against the container deploy (issue 25, `scripts/chaos
--containers`): the stack of docker/compose.yml under a project of its own (station-chaos),
with a second container of every service and of the gateway, started, killed and started again
in place of chaos.py's processes. Python's standard library, and the yaml module that
podman-compose brings (with docker alone, `docker compose config --format json` reads the file).

What differs from docker/compose.yml, in the file this writes (DIR/compose.json, JSON being
YAML): the ports are published on 127.0.0.1 only, on free ports (the processes' run,
scripts/run and deploy-test keep 7101-7105, 7201-7205 and 8080); registry-2, match-2,
ledger-2, notify-2 and gateway-2 are copies of their first, each binding the same ports in its
own container, and every caller lists both (STATION_<SERVICE>_RPC and _EVENTS); the settings of
chaos.py's processes (a short round clock, notify's retries and the run's mail sink, warn logs,
connect_timeout=2); the network is made here first (external to compose) so that the mail sink
and the webhook receiver listen on its gateway address: the host, reached from the containers as
host.containers.internal, and from nowhere else. podman's restart policy does not restart a
container that `podman kill` ended, so the supervisor here starts again (`podman start`) any
container that is not running."""

import copy
import json
import os
import socket
import subprocess
import threading
import time

PROJECT = "station-chaos"
NETWORK = PROJECT + "_default"
OPERATOR = PROJECT + "-operator"
PORTS = {"registry": (7101, 7201), "match": (7102, 7202), "ledger": (7103, 7203),
         "notify": (7104, 7204), "gateway": (7105, 7205)}
HTTP = 8080
TAKEN = set(range(7101, 7106)) | set(range(7201, 7206)) | {8080}


def free_port():
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in TAKEN:
            TAKEN.add(port)
            return port


class Container:
    """One container of the stack, as chaos.py's killer and supervisor see it."""

    def __init__(self, stack, name, service):
        self.stack, self.name, self.service = stack, name, service
        self.starts = 0

    @property
    def cname(self):
        """The engine's name of it: podman-compose PROJECT_SERVICE_1, docker PROJECT-SERVICE-1."""
        sep = "_" if self.stack.engine == "podman" else "-"
        return sep.join((PROJECT, self.service, "1"))

    def kill(self):
        return self.stack.run("kill", "-s", "KILL", self.cname).returncode == 0


class Stack:
    def __init__(self, engine, folder, source):
        self.engine, self.dir, self.source = engine, folder, source
        self.file = os.path.join(folder, "compose.json")
        self.compose = (["podman-compose", "-p", PROJECT, "-f", self.file] if engine == "podman"
                        else ["docker", "compose", "-p", PROJECT, "-f", self.file])
        # The network first: its gateway is where the host's receivers listen.
        self.run("network", "rm", "-f", NETWORK)
        made = self.run("network", "create", "--label", "com.docker.compose.project=" + PROJECT,
                        NETWORK)
        if made.returncode != 0:
            raise RuntimeError("cannot make network %s: %s" % (NETWORK, made.stderr.strip()))
        info = json.loads(self.run("network", "inspect", NETWORK).stdout)[0]
        gateways = ([s.get("gateway") for s in info.get("subnets") or []]
                    + [c.get("Gateway") for c in (info.get("IPAM") or {}).get("Config") or []])
        self.host = next((g for g in gateways if g and ":" not in g), None)
        if not self.host:
            raise RuntimeError("network %s has no IPv4 gateway: %s" % (NETWORK, info))
        self.reach = "host.containers.internal"
        self.rpc = {s: free_port() for s in ("registry", "match", "ledger", "notify")}
        self.http_ports = [free_port(), free_port()]
        self.containers = []
        self.postgres = Container(self, "postgres", "postgres")

    def run(self, *args, timeout=120):
        try:
            return subprocess.run([self.engine] + list(args), capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as e:
            return subprocess.CompletedProcess(e.cmd, 124, "", "timed out")

    def base(self):
        """docker/compose.yml as data."""
        path = os.path.join(self.source, "docker", "compose.yml")
        try:
            import yaml
            with open(path) as f:
                return yaml.safe_load(f)
        except ImportError:
            out = subprocess.run(["docker", "compose", "-f", path, "config", "--format", "json",
                                  "--no-interpolate"], capture_output=True, text=True, check=True)
            return json.loads(out.stdout)

    def write(self, settings):
        """The run's compose file. `settings`: service -> environment the run adds."""
        base = self.base()
        services = base["services"]
        lists = {}
        for s, (rpc, ev) in PORTS.items():
            lists["STATION_%s_RPC" % s.upper()] = "tcp://%s:%d,tcp://%s-2:%d" % (s, rpc, s, rpc)
            lists["STATION_%s_EVENTS" % s.upper()] = "tcp://%s:%d,tcp://%s-2:%d" % (s, ev, s, ev)
        out = {}
        for s, svc in services.items():
            svc = copy.deepcopy(svc)
            svc.pop("container_name", None)
            if s == "postgres":
                svc["ports"] = []
                out[s] = svc
                continue
            env = svc.setdefault("environment", {})
            env.update(lists)
            rpc, ev = PORTS[s]
            env["STATION_%s_BIND" % s.upper()] = "tcp://0.0.0.0:%d" % rpc
            env["STATION_%s_EVENTS_BIND" % s.upper()] = "tcp://0.0.0.0:%d" % ev
            env["STATION_DB"] = env["STATION_DB"] + " connect_timeout=2"
            env.update(STATION_LOG_LEVEL="warn", STATION_POLL_MS="1000")
            env.update(settings.get(s, {}))
            if self.engine != "podman":  # podman adds host.containers.internal itself
                svc["extra_hosts"] = ["host.containers.internal:" + self.host]
            second = copy.deepcopy(svc)
            second.pop("build", None)
            if s == "gateway":
                svc["ports"] = ["127.0.0.1:%d:%d" % (self.http_ports[0], HTTP)]
                second["ports"] = ["127.0.0.1:%d:%d" % (self.http_ports[1], HTTP)]
            else:
                svc["ports"] = ["127.0.0.1:%d:%d" % (self.rpc[s], rpc)]
                second["ports"] = []
            out[s] = svc
            out[s + "-2"] = second
            self.containers += [Container(self, s + "-1", s), Container(self, s + "-2", s + "-2")]
        doc = {"services": out, "volumes": base.get("volumes", {}),
               "networks": {"default": {"name": NETWORK, "external": True}}}
        with open(self.file, "w") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)

    def up(self):
        env = dict(os.environ, STATION_SOURCE=self.source)
        with open(os.path.join(self.dir, "up.log"), "ab") as log:
            r = subprocess.run(self.compose + ["up", "-d"], cwd=self.dir, env=env,
                               stdout=log, stderr=log)
        if r.returncode != 0:
            raise RuntimeError("%s up failed (see %s/up.log)" % (self.compose[0], self.dir))
        # The operator's CLI, on the host's network: the ports published on 127.0.0.1.
        args = ["run", "-d", "--name", OPERATOR, "--network", "host",
                "-v", os.path.join(self.dir, "keys", "operator") + ":/etc/station/keys:ro"]
        for s, port in self.rpc.items():
            args += ["-e", "STATION_%s_RPC=tcp://127.0.0.1:%d" % (s.upper(), port)]
        self.run("rm", "-f", OPERATOR)
        r = self.run(*(args + ["localhost/station", "sleep", "infinity"]))
        if r.returncode != 0:
            raise RuntimeError("the operator's container: " + r.stderr.strip())

    def station_cmd(self):
        return [self.engine, "exec", OPERATOR, "station"]

    def states(self):
        """Container name -> running or not (None: the engine did not answer). The state's first
        word: docker says running, exited, created; podman 4 says "Up 2 minutes ago",
        "Exited (137) 3 seconds ago", "Created"."""
        r = self.run("ps", "-a", "--filter", "label=com.docker.compose.project=" + PROJECT,
                     "--format", "{{.Names}}|{{.State}}", timeout=60)
        if r.returncode != 0:
            return None
        out = {}
        for line in r.stdout.splitlines():
            name, _, state = line.partition("|")
            word = (state.split() or [""])[0].lower()
            out[name.strip()] = word in ("up", "running", "paused", "restarting", "removing",
                                         "stopping")
        return out

    def supervise(self, stop, figures, log):
        """Starts again every container of the stack that is not running, until told to stop:
        each in a thread of its own (a `podman start` takes seconds on a loaded machine, and
        one container's should not wait for another's)."""
        everyone = self.containers + [self.postgres]
        starting = set()
        guard = threading.Lock()

        def start(c):
            r = self.run("start", c.cname)
            with guard:
                starting.discard(c.name)
                if r.returncode == 0:
                    figures["restarts"] += 1
                    c.starts += 1
            if r.returncode != 0:
                log("supervisor: start", c.name, "failed:", r.stderr.strip())

        while not stop.is_set():
            states = self.states() or {}
            for c in everyone:
                with guard:
                    if states.get(c.cname) is not False or c.name in starting:
                        continue
                    starting.add(c.name)
                log("supervisor:", c.name, "not running - starting it again")
                threading.Thread(target=start, args=(c,), daemon=True).start()
            stop.wait(1.0)

    def running(self, c):
        return (self.states() or {}).get(c.cname) is True

    def kill_postgres(self, figures, incidents, log):
        """The database container SIGKILLed (every process in it dies at once, as in a crash);
        the supervisor starts it again: waits until it runs."""
        log("killer: SIGKILL the PostgreSQL container")
        incidents.append((time.time(), "PostgreSQL killed (container)"))
        if not self.postgres.kill():
            log("killer: the PostgreSQL container was not running")
            return
        deadline = time.time() + 120
        while time.time() < deadline and not self.running(self.postgres):
            time.sleep(1)
        log("killer: PostgreSQL container running again")
        figures["pg_restarts"] += 1

    def keep_logs(self):
        for c in self.containers + [self.postgres]:
            with open(os.path.join(self.dir, c.name + ".log"), "w") as f:
                subprocess.run([self.engine, "logs", c.cname], stdout=f, stderr=f)


def start_supervisor(stack, stop, figures, log):
    t = threading.Thread(target=stack.supervise, args=(stop, figures, log), daemon=True)
    t.start()
    return t
