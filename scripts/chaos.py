#!/usr/bin/env python3
"""chaos.py — what scripts/chaos runs once its cluster and keys exist (issue 25): two processes
of every service and of the gateway with a supervisor that restarts whatever dies, a driver
through the gateways' HTTP API only, a killer, and a checker that reads everything back through
the ops (the gateways, and `station call` for what only an operator may read). Python's
standard library only: Debian's python3 is on every machine, and there is no package index.

Environment (set by scripts/chaos): CHAOS_DIR (the run's folder: logs, keys, the cluster),
CHAOS_BIN, CHAOS_SECONDS, CHAOS_PGDATA, CHAOS_PGPORT, CHAOS_PGBIN, CHAOS_PG_AS (a prefix that
runs pg_ctl as the cluster's owner, or empty); STATION_CHAOS_SEED (optional) repeats a run.
With CHAOS_CONTAINERS (podman or docker) and CHAOS_SOURCE (the checkout), the same driver,
receivers and checker run against the container deploy instead (scripts/chaos.d/containers.py):
containers killed and started again in place of processes, PostgreSQL's container killed twice,
no failover (0 in the line), the CLI in an operator's container.
Prints one line of figures; exits 1 when a figure that must be zero is not."""

import datetime
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "chaos.d"))
import receivers  # noqa: E402 — the mail sink and the webhook receiver (scripts/chaos.d)

DIR = os.environ["CHAOS_DIR"]
CONTAINERS = os.environ.get("CHAOS_CONTAINERS")   # podman or docker: the container deploy
BIN = os.environ.get("CHAOS_BIN", "")
SECONDS = int(os.environ["CHAOS_SECONDS"])
PGDATA = os.environ.get("CHAOS_PGDATA", "")
PGPORT = os.environ.get("CHAOS_PGPORT", "")
PGBIN = os.environ.get("CHAOS_PGBIN", "")
PG_AS = os.environ.get("CHAOS_PG_AS", "").split()
STANDBY = os.environ.get("CHAOS_STANDBY")          # a synchronous streaming standby, if any
STANDBY_PORT = os.environ.get("CHAOS_STANDBY_PORT")
primary = [PGDATA, PGPORT]  # whichever cluster is the primary now
SEED = int(os.environ.get("STATION_CHAOS_SEED") or random.randrange(1 << 30))
RUN = uuid.uuid4().hex[:8]

SERVICES = ["registry", "match", "ledger", "notify"]
COUNTY, TOWN, VILLAGE = "431022000000", "431022100000", "431022100201"
ADMIN, PASSWORD = "chaos-county", "chaos-county-2026"
PEOPLE_PASSWORD = "chaos people 2026"
SLOTS = [d + "_" + p for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
         for p in ("am", "pm", "ev")]
PRICE = 5         # points of the store item
PPH = 10          # points an hour (the county's rule)
MULT = {1: 100, 2: 100, 3: 100, 4: 110, 5: 120}
# Activities on the compressed clock: published LEAD seconds ahead, lasting LENGTH seconds, a
# reminder OFFSET seconds before the start (the county's setting) and one at the end.
SHORT = SECONDS <= 300
# Published every EVERY seconds until PUBLISH_STOP seconds before the flows end.
LEAD, LENGTH, OFFSET = ((45, 60), 30, 20) if SHORT else ((150, 210), 90, 60)
EVERY, PUBLISH_STOP = (4, 90) if SHORT else (10, 240)
# A sign-up, withdrawal or cancellation acknowledged MARGIN seconds or more before a reminder's
# due time decides whether it goes (notify hears of it through match's events, which kills
# and restarts delay); one closer to it may go either way and is not judged.
MARGIN = 15 if SHORT else 30
# A killed container comes back in 10–45 s (podman start, the service's own start, its
# database again; the database's container about 30 s), all that time hearing no event: a
# sign-up heard after its reminder's time makes none (notify_feeds.c, by design), a withdrawal
# heard after the send is too late. The margin covers that there (one --seconds 300 run judged
# two reminders inside it and counted them lost).
if CONTAINERS:
    MARGIN = 60
# The mail sink and the webhook receiver are each dropped once, for DROP seconds.
DROP = 60 if SECONDS >= 1800 else max(8, SECONDS * 60 // 1800)
HOOK_SECRET = "whsec_" + __import__("base64").b64encode(os.urandom(32)).decode()
# notify's retries: the last attempt about 160 s after the first, beyond any drop.
RETRIES = "1,2,3,5,8,10,10,10,10,10,15,15,15,15,15,15"

rng = random.Random(SEED)
LOG = open(os.path.join(DIR, "chaos.log"), "a", buffering=1)
lock = threading.Lock()
stop_driving = threading.Event()
stop_killing = threading.Event()


def log(*words):
    with lock:
        LOG.write(time.strftime("%H:%M:%S ") + " ".join(str(w) for w in words) + "\n")


def say(text):
    print("chaos: " + text, file=sys.stderr, flush=True)


def free_port():
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in (7101, 7102, 7103, 7104, 7105, 8080):
            return port


# ------------------------------------------------------------------------------------------
# The processes and their supervisor

class Proc:
    def __init__(self, name, program, env):
        self.name, self.program, self.env = name, program, env
        self.popen = None
        self.starts = 0

    def start(self):
        out = open(os.path.join(DIR, self.name + ".log"), "ab")
        self.popen = subprocess.Popen([os.path.join(BIN, self.program)], env=self.env,
                                      stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                      start_new_session=True)
        out.close()
        self.starts += 1
        with open(os.path.join(DIR, "pids"), "a") as f:
            f.write("%d\n" % self.popen.pid)

    def kill(self):
        """SIGKILL, when it runs: True if it was killed."""
        if self.popen and self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signal.SIGKILL)
                return True
            except ProcessLookupError:
                pass
        return False


if CONTAINERS:
    import containers  # noqa: E402 — the container deploy (scripts/chaos.d)
    STACK = containers.Stack(CONTAINERS, DIR, os.environ["CHAOS_SOURCE"])
    HTTP_PORTS = STACK.http_ports
    # The receivers on the containers' network's gateway: the host, as the containers reach it.
    SINK = receivers.SmtpSink(containers.free_port(), STACK.host)
    HOOK = receivers.WebhookReceiver(containers.free_port(), HOOK_SECRET, STACK.host)
    REACH = STACK.reach
else:
    ENDPOINTS = {s: [(free_port(), free_port()) for _ in range(2)]
                 for s in SERVICES + ["gateway"]}
    HTTP_PORTS = [free_port(), free_port()]
    SINK = receivers.SmtpSink(free_port())
    HOOK = receivers.WebhookReceiver(free_port(), HOOK_SECRET)
    REACH = "127.0.0.1"


def base_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("STATION_") and not k.startswith("CHAOS_") and k != "PGPASSFILE"}
    env.update(STATION_KEYS=os.path.join(DIR, "keys"), STATION_LOG_LEVEL="warn",
               STATION_POLL_MS="1000")
    for s in ENDPOINTS:
        env["STATION_%s_RPC" % s.upper()] = ",".join(
            "tcp://127.0.0.1:%d" % rpc for rpc, _ in ENDPOINTS[s])
        env["STATION_%s_EVENTS" % s.upper()] = ",".join(
            "tcp://127.0.0.1:%d" % ev for _, ev in ENDPOINTS[s])
    return env


def db(role):
    """Both clusters when there is a standby: libpq takes the one that accepts writes."""
    hosts, ports = (PGDATA + "," + STANDBY, PGPORT + "," + STANDBY_PORT) if STANDBY else (
        PGDATA, PGPORT)
    return ("host=%s port=%s dbname=station user=%s passfile=%s target_session_attrs=read-write"
            " connect_timeout=2" % (hosts, ports, role,
                                     os.path.join(DIR, "pass", role + ".pgpass")))


def make_procs():
    procs = []
    for s in SERVICES:
        for i, (rpc, ev) in enumerate(ENDPOINTS[s]):
            env = base_env()
            env["STATION_DB"] = db(s)
            env["STATION_%s_BIND" % s.upper()] = "tcp://127.0.0.1:%d" % rpc
            env["STATION_%s_EVENTS_BIND" % s.upper()] = "tcp://127.0.0.1:%d" % ev
            if s == "match":  # a short round clock
                env.update(STATION_DISPATCH_ROUND_MS="500", STATION_DISPATCH_WIDEN_TOWNSHIP_S="5",
                           STATION_DISPATCH_WIDEN_COUNTY_S="10")
            if s == "notify":  # the sink, and retries that outlast a drop
                env.update(STATION_SMTP_URL="smtp://127.0.0.1:%d" % SINK.port,
                           STATION_SMTP_FROM="Station <notify@chaos.invalid>",
                           STATION_NOTIFY_RETRY_S=RETRIES, STATION_NOTIFY_SEND_TIMEOUT_MS="5000")
            procs.append(Proc("%s-%d" % (s, i + 1), "station-" + s, env))
    for i, port in enumerate(HTTP_PORTS):
        env = base_env()
        rpc, ev = ENDPOINTS["gateway"][i]
        env["STATION_GATEWAY_BIND"] = "tcp://127.0.0.1:%d" % rpc
        env["STATION_GATEWAY_EVENTS_BIND"] = "tcp://127.0.0.1:%d" % ev
        env.update(STATION_DB=db("gateway"), STATION_GATEWAY_HTTP="127.0.0.1:%d" % port,
                   STATION_BOOTSTRAP_REGION=COUNTY, STATION_BOOTSTRAP_REGION_NAME="宜章县",
                   STATION_BOOTSTRAP_ADMIN=ADMIN, STATION_BOOTSTRAP_PASSWORD=PASSWORD)
        procs.append(Proc("gateway-%d" % (i + 1), "station-gateway", env))
    return procs


def make_containers():
    """The stack's compose file with what make_procs gives the processes; its containers."""
    STACK.write({
        "match": dict(STATION_DISPATCH_ROUND_MS="500", STATION_DISPATCH_WIDEN_TOWNSHIP_S="5",
                      STATION_DISPATCH_WIDEN_COUNTY_S="10"),
        "notify": dict(STATION_SMTP_URL="smtp://%s:%d" % (REACH, SINK.port),
                       STATION_SMTP_FROM="Station <notify@chaos.invalid>",
                       STATION_NOTIFY_RETRY_S=RETRIES, STATION_NOTIFY_SEND_TIMEOUT_MS="5000"),
        "gateway": dict(STATION_BOOTSTRAP_REGION=COUNTY, STATION_BOOTSTRAP_REGION_NAME="宜章县",
                        STATION_BOOTSTRAP_ADMIN=ADMIN, STATION_BOOTSTRAP_PASSWORD=PASSWORD)})
    return STACK.containers


PROCS = make_containers() if CONTAINERS else make_procs()
figures = {"kills": 0, "restarts": 0, "pg_restarts": 0, "failovers": 0}
incidents = []  # (when, what): notify killed, PostgreSQL stopped, a receiver dropped


def supervise():
    """Restarts any process that ended, as systemd would (Restart=always), until told to stop."""
    while not stop_supervising.is_set():
        for p in PROCS:
            if p.popen and p.popen.poll() is not None:
                log("supervisor:", p.name, "ended with", p.popen.returncode, "- restarting")
                time.sleep(0.2)
                p.start()
                figures["restarts"] += 1
        time.sleep(0.2)


stop_supervising = threading.Event()


def pg_ctl(*args, data=None):
    return subprocess.run(PG_AS + [os.path.join(PGBIN, "pg_ctl"), "-D", data or primary[0]]
                          + list(args), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


def pg_restart(mode):
    """The primary (whichever it is now) stopped -m mode and started again."""
    if mode == "kill":
        return STACK.kill_postgres(figures, incidents, log)
    if mode == "failover":
        return pg_failover()
    log("killer: PostgreSQL stop -m", mode, primary[0])
    incidents.append((time.time(), "PostgreSQL stop -m " + mode))
    pg_ctl("-m", mode, "-w", "stop")
    time.sleep(rng.uniform(0.5, 2.0))
    for _ in range(10):
        if pg_ctl("-o", "-p %s" % primary[1], "-l", os.path.join(primary[0], "server.log"), "-w",
                  "-t", "60", "start") == 0:
            break
        time.sleep(1)
    log("killer: PostgreSQL started again")
    figures["pg_restarts"] += 1


def pg_failover():
    """The primary stopped as by a crash (immediate), the synchronous standby promoted: what
    was acknowledged is on it. The old primary stays down (no standby after this)."""
    log("killer: failover: primary stop -m immediate, standby promoted")
    incidents.append((time.time(), "failover"))
    pg_ctl("-m", "immediate", "-w", "stop")
    pg_ctl("-w", "-t", "60", "promote", data=STANDBY)
    primary[:] = [STANDBY, STANDBY_PORT]
    log("killer: failover done")
    figures["failovers"] += 1


def killer(started):
    """SIGKILL a random process every 1–3 s; PostgreSQL restarted once fast, once immediate,
    and between the two (with a standby) the primary lost and the standby promoted."""
    pg_plan = [(started + SECONDS * 0.35, "fast"), (started + SECONDS * 0.7, "immediate")]
    if CONTAINERS:  # its container SIGKILLed twice
        pg_plan = [(started + SECONDS * 0.35, "kill"), (started + SECONDS * 0.7, "kill")]
    elif STANDBY:
        pg_plan.insert(1, (started + SECONDS * 0.5, "failover"))
    while not stop_killing.wait(rng.uniform(1.0, 3.0)):
        if pg_plan and time.time() >= pg_plan[0][0]:
            pg_restart(pg_plan.pop(0)[1])
            continue
        p = rng.choice(PROCS)
        if CONTAINERS:  # `podman kill` takes seconds when loaded: the killer does not wait
            threading.Thread(target=kill_container, args=(p,), daemon=True).start()
        elif p.kill():
            figures["kills"] += 1
            incidents.append((time.time(), "SIGKILL " + p.name))
            log("killer: SIGKILL", p.name, p.popen.pid)
    for _, mode in pg_plan:  # a run shorter than planned still restarts twice
        pg_restart(mode)


def kill_container(c):
    asked = time.time()
    if c.kill():
        with lock:
            figures["kills"] += 1
        incidents.append((asked, "SIGKILL " + c.name))
        log("killer: SIGKILL", c.name, c.cname, "(%.1f s)" % (time.time() - asked))


def stop_all():
    stop_supervising.set()
    if CONTAINERS:  # scripts/chaos takes the stack down; its logs are kept with the run's
        STACK.keep_logs()
        return
    for p in PROCS:
        if p.popen and p.popen.poll() is None:
            p.popen.terminate()
    for p in PROCS:
        if p.popen:
            try:
                p.popen.wait(5)
            except subprocess.TimeoutExpired:
                p.popen.kill()
                p.popen.wait()


# ------------------------------------------------------------------------------------------
# HTTP through the gateways

class NoAnswer(Exception):
    pass


def call(method, path, body=None, token=None, key=None, timeout=20, port=None):
    """One call to one of the two gateways, chosen at random (or `port`): (status, JSON) or
    NoAnswer when the call got no answer that says what happened (no connection, a timeout, a
    5xx)."""
    port = port or rng.choice(HTTP_PORTS)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        raw = res.read()
        conn.close()
    except (OSError, http.client.HTTPException) as e:
        raise NoAnswer("%s %s: %s" % (method, path, e))
    if res.status >= 500:
        raise NoAnswer("%s %s: %d %s" % (method, path, res.status, raw[:200]))
    try:
        return res.status, json.loads(raw) if raw else {}
    except ValueError:
        return res.status, {"raw": raw[:200].decode("utf-8", "replace")}



# Sign-ins and registrations hash a password (argon2id on registry's workers): a few at a time,
# as people arrive, not a storm that the resends of timed-out ones would feed.
argon = threading.Semaphore(3)


class Person:
    """Someone who signs in: their session, re-made when a call says it ended."""

    def __init__(self, login, password):
        self.login, self.password, self.token, self.id = login, password, None, None
        self.anonymous = login is None

    def sign_in(self, patience=0):
        """Signs in; a wrong password is tried again for `patience` seconds (the first admin
        exists once a gateway's first start has made it)."""
        deadline = time.time() + patience
        while True:
            try:
                with argon:
                    status, body = call("POST", "/v1/sessions",
                                        {"login": self.login, "password": self.password},
                                        timeout=60)
            except NoAnswer as e:
                log("sign-in", self.login, "no answer:", e)
                time.sleep(0.5)
                continue
            if status == 201:
                self.token = body["token"]
                return
            if status == 429 or status == 401 and time.time() < deadline:
                time.sleep(1)
                continue
            raise RuntimeError("sign-in of %s: %d %s" % (self.login, status, body))

    def get(self, path, patience=120):
        """A read, tried until it is answered (reads change nothing)."""
        deadline = time.time() + patience
        while True:
            if not self.token:
                self.sign_in()
            try:
                status, body = call("GET", path, token=self.token)
            except NoAnswer as e:
                if time.time() > deadline:
                    raise
                log("read", path, "no answer:", e)
                time.sleep(0.3)
                continue
            if status == 401:
                self.token = None
                continue
            return status, body


# What the driver was told: writes acknowledged, and writes that got no answer (kept with their
# key and body, to be sent again with the same key afterwards).
acked = []        # (kind, person, key, body, path, reply)
unanswered = {}   # key -> (kind, person, method, path, body)
counts = {"writes": 0, "no_answer": 0, "refused": 0, "flows": 0, "double_booked": 0,
          "false_refusals": 0, "revocations": 0, "revocations_missed": 0}


def write(person, kind, method, path, body, key, patience=60, recheck=False):
    """A write with its Idempotency-Key, resent with the same key while it gets no answer, up
    to `patience` seconds: (status, reply), or (None, None) when it never got one."""
    deadline = time.time() + patience
    counts["writes"] += 0 if recheck else 1
    first = not recheck
    while True:
        if not person.token and not person.anonymous:
            person.sign_in()
        try:
            status, reply = call(method, path, body, token=person.token, key=key,
                                 timeout=60 if person.anonymous else 20)
        except NoAnswer as e:
            if first:
                counts["no_answer"] += 1
                first = False
            unanswered[key] = (kind, person, method, path, body)
            log("write", kind, key, "no answer:", e)
            if time.time() > deadline:
                return None, None
            time.sleep(rng.uniform(0.2, 0.8))
            continue
        if status == 401 and not person.anonymous:
            person.token = None
            continue
        unanswered.pop(key, None)
        if status in (409, 422) and not recheck:
            # A refusal is checked by sending the same key again: a write that took effect
            # answers with its stored reply, and the refusal was false (a twin's answer).
            time.sleep(1)
            again, again_reply = write(person, kind, method, path, body, key, patience, True)
            if again is not None and again < 300:
                counts["false_refusals"] += 1
                log("write", kind, key, "refused", status, reply, "but took effect:", again_reply)
                return again, again_reply
        if status < 300:
            if not recheck or not any(a[2] == key for a in acked):
                acked.append((kind, person, key, body, path, reply))
        elif not recheck:
            counts["refused"] += 1
            log("write", kind, key, "refused:", status, reply)
        return status, reply


def must(person, kind, method, path, body, key, ok=(200, 201, 204)):
    """A set-up write that has to succeed."""
    while True:
        status, reply = write(person, kind, method, path, body, key, patience=120)
        if status in ok or status == 409 and kind in ("region", "account"):
            return reply
        if status is None:
            continue
        raise RuntimeError("%s %s: %s %s" % (method, path, status, reply))


# ------------------------------------------------------------------------------------------
# The season

def id_number(n):
    """A GB 11643 ID number with its check digit: born 1960–1999 in the county."""
    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=(n * 37) % 14000)
    body = "431022" + born.strftime("%Y%m%d") + "%03d" % (n % 1000)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="seconds")


volunteers, residents = [], []
item = {}
confirm_queue, fulfil_queue = [], []
expected = {"ratings": {}}     # request id -> stars
records = {}                    # record id -> (volunteer id, request id)


def set_up(admin):
    admin.sign_in(patience=120)
    must(admin, "region", "POST", "/v1/regions", {"code": TOWN, "name": "玉溪镇"}, RUN + "-town")
    must(admin, "region", "POST", "/v1/regions", {"code": VILLAGE, "name": "第一村"},
         RUN + "-village")
    must(admin, "account", "POST", "/v1/accounts",
         {"login": "chaos-station", "password": PASSWORD, "role": "station_admin",
          "region": VILLAGE}, RUN + "-station")
    must(admin, "settings", "PUT", "/v1/dispatch/settings/" + COUNTY,
         {"region": COUNTY, "review_required": True}, None)
    must(admin, "rules", "PUT", "/v1/ledger/rules/" + COUNTY,
         {"region": COUNTY, "points_per_hour": PPH, "multiplier_1": MULT[1],
          "multiplier_2": MULT[2], "multiplier_3": MULT[3], "multiplier_4": MULT[4],
          "multiplier_5": MULT[5], "cared_bonus": 0, "daily_cap": 1000000}, None)
    reply = must(admin, "item", "POST", "/v1/store/items",
                 {"name": "大米 5 kg", "kind": "goods", "price_points": PRICE, "stock": 1000000,
                  "region": COUNTY}, RUN + "-item")
    item["id"] = reply["id"]
    # Reminders OFFSET s before an activity's start and at its end, no quiet hours; sms (and
    # so every notice) through the county's webhook to the receiver.
    must(admin, "notify settings", "PUT", "/v1/notify/settings/" + COUNTY,
         {"region": COUNTY, "reminder_offsets_s": [str(OFFSET)], "quiet_from": "00:00",
          "quiet_to": "00:00"}, None)
    must(admin, "channel", "PUT", "/v1/channels/" + COUNTY,
         {"region": COUNTY, "url": "http://%s:%d/hook" % (REACH, HOOK.port),
          "secret": HOOK_SECRET}, None)


def register(n, kind, category="elderly"):
    """A volunteer or resident registers (anonymous, with a key) and signs in; a volunteer
    wants e-mail and sms (the webhook) besides the inbox."""
    phone = "13%09d" % (int(RUN, 16) % 1000 * 1000000 + n + (500 if kind == "resident" else 0))
    if kind == "volunteer":
        body = {"name": "志愿者%d" % n, "id_number": id_number(int(RUN, 16) % 500 * 1000 + n),
                "phone": phone, "password": PEOPLE_PASSWORD, "region": VILLAGE,
                "skills": ["助老"], "categories": [category], "availability": SLOTS,
                "email": "v%d-%s@chaos.invalid" % (n, RUN)}
        path = "/v1/volunteers"
    else:
        body = {"name": "居民%d" % n, "phone": phone, "password": PEOPLE_PASSWORD,
                "region": VILLAGE, "address": "第一村 %d 号" % n, "care_tags": []}
        path = "/v1/residents"
    anyone = Person(None, None)
    key = "%s-%s-%d" % (RUN, kind, n)
    while not stop_driving.is_set():
        with argon:
            status, reply = write(anyone, kind, "POST", path, body, key)
        if status in (200, 201):
            person = Person(phone, PEOPLE_PASSWORD)
            person.id = reply["id"]
            person.sign_in()
            if kind == "volunteer":
                person.email = body["email"]
                emails[person.email] = person.id
                must(person, "prefs", "PUT", "/v1/me/notifications",
                     {"channels": ["email", "sms"]}, "%s-prefs-%d" % (RUN, n))
            return person
        if status is not None:
            raise RuntimeError("%s registration: %s %s" % (kind, status, reply))
    return None


def resident_flow(resident):
    n = 0
    while not stop_driving.is_set():
        n += 1
        key = "%s-r%s-%d" % (RUN, resident.id, n)
        start = time.time() + 300
        body = {"category": "elderly", "title": "chaos " + key, "description": "陪老人买菜",
                "region": VILLAGE, "earliest_start": iso(start),
                "latest_end": iso(start + 9 * 3600), "duration_minutes": 60, "headcount": 1,
                "skills": [], "urgency": "normal", "address": "第一村"}
        status, reply = write(resident, "request", "POST", "/v1/requests", body, key)
        if status != 201:
            time.sleep(1)
            continue
        request = reply["id"]
        waited = time.time()
        while not stop_driving.is_set():
            status, got = resident.get("/v1/requests/" + request)
            if status == 200 and got.get("status") == "completed":
                stars = rng.randint(1, 5)
                status, _ = write(resident, "rating", "POST", "/v1/requests/%s/rating" % request,
                                  {"stars": stars, "comment": "谢谢"}, key + "-rate")
                if status == 201:
                    expected["ratings"][request] = stars
                    counts["flows"] += 1
                break
            if status == 200 and got.get("status") in ("unfilled", "cancelled", "rejected"):
                break
            if time.time() - waited > 90 and got.get("status") in ("review", "open", "matching"):
                write(resident, "cancel", "POST", "/v1/requests/%s/cancel" % request, {},
                      key + "-cancel")
                break
            time.sleep(0.5)


def volunteer_flow(volunteer):
    n = 0
    while not stop_driving.is_set():
        status, page = volunteer.get("/v1/offers?status=pending")
        offers = page.get("items", []) if status == 200 else []
        if not offers:
            time.sleep(0.5)
            continue
        offer = offers[0]
        request = offer["request_id"]
        if rng.random() < 0.15:
            write(volunteer, "decline", "POST", "/v1/offers/%s/decline" % offer["id"], {},
                  "%s-decline-%s" % (RUN, offer["id"]))
            continue
        status, _ = write(volunteer, "accept", "POST", "/v1/offers/%s/accept" % offer["id"], {},
                          "%s-accept-%s" % (RUN, offer["id"]))
        if status != 200:
            continue
        check_schedule(volunteer)
        status, _ = write(volunteer, "checkin", "POST", "/v1/checkins", {"request_id": request},
                          "%s-in-%s" % (RUN, request))
        if status != 201:
            continue
        time.sleep(rng.uniform(0.2, 1.5))
        status, record = write(volunteer, "checkout", "POST", "/v1/checkouts",
                               {"request_id": request}, "%s-out-%s" % (RUN, request))
        if status != 201:
            continue
        records[record["id"]] = (volunteer.id, request)
        confirm_queue.append((record["id"], 1))
        if rng.random() < 0.5:
            status, points = volunteer.get("/v1/volunteers/%s/points" % volunteer.id)
            if status == 200 and points.get("available", 0) >= PRICE:
                n += 1
                status, r = write(volunteer, "reserve", "POST", "/v1/redemptions",
                                  {"item_id": item["id"], "quantity": 1},
                                  "%s-reserve-%s-%d" % (RUN, volunteer.id, n))
                if status == 201:
                    fulfil_queue.append(r["id"])


def overlaps(items):
    spans = sorted((i["starts_at"], i["ends_at"]) for i in items)
    return sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])


def check_schedule(volunteer):
    """What the volunteer has promised (their schedule): never two at one time."""
    status, page = volunteer.get("/v1/me/schedule?limit=500")
    if status == 200 and overlaps(page.get("items", [])):
        counts["double_booked"] += 1
        log("double-booked:", volunteer.id, page)


def official_flow(official):
    """Reviews what waits for review, confirms hours, hands over store items."""
    while not stop_driving.is_set() or confirm_queue or fulfil_queue and official is officials[0]:
        if stop_driving.is_set() and time.time() > stop_driving_at[0] + 60:
            break
        did = False
        status, page = official.get("/v1/requests?region=%s&status=review&limit=100" % COUNTY)
        for r in page.get("items", []) if status == 200 else []:
            write(official, "review", "POST", "/v1/requests/%s/review" % r["id"], {"approve": True},
                  "%s-review-%s" % (RUN, r["id"]))
            did = True
        while confirm_queue:
            record, hours = confirm_queue.pop(0)
            write(official, "confirm", "POST", "/v1/service-records/%s/confirm" % record,
                  {"hours": hours}, "%s-confirm-%s" % (RUN, record))
            did = True
        while fulfil_queue and official is officials[0]:  # the item's region: the county
            r = fulfil_queue.pop(0)
            write(official, "fulfil", "POST", "/v1/redemptions/%s/fulfil" % r, {},
                  "%s-fulfil-%s" % (RUN, r))
            did = True
        if not did:
            time.sleep(0.5)


stop_driving_at = [0.0]
officials = []
flows_end = [0.0]


# ------------------------------------------------------------------------------------------
# Activities: published by the county's official, signed up for (some withdrawn, some
# activities cancelled), checked in with the organiser's code and out; reminders by e-mail
# and webhook

acts = {}       # activity id -> what the driver did and was told (times: when sent, answered)
emails = {}     # a volunteer's e-mail address -> their id
act_volunteers = []


def publisher(official):
    n = 0
    cancels = []  # (when, activity id)
    while not stop_driving.is_set():
        now = time.time()
        if now < flows_end[0] - PUBLISH_STOP:
            n += 1
            start = now + rng.uniform(*LEAD)
            title = "chaos act %s-%d" % (RUN, n)
            status, reply = write(official, "activity", "POST", "/v1/activities",
                                  {"title": title, "category": "culture", "region": VILLAGE,
                                   "starts_at": iso(start), "ends_at": iso(start + LENGTH),
                                   "signup_closes_at": iso(start - OFFSET),
                                   "capacity": rng.randint(2, 5)},
                                  "%s-act-%d" % (RUN, n))
            if status == 201:
                with lock:
                    acts[reply["id"]] = {"title": title, "starts": int(start),
                                         "ends": int(start) + LENGTH, "cancel_sent": None,
                                         "cancelled": None, "signups": {}}
                if rng.random() < 0.2:
                    cancels.append((time.time() + rng.uniform(3, 8), reply["id"]))
        for when, aid in [c for c in cancels if c[0] <= time.time()]:
            cancels.remove((when, aid))
            acts[aid]["cancel_sent"] = time.time()
            status, _ = write(official, "activity cancel", "POST", "/v1/activities/%s/cancel" % aid,
                              {"reason": "天气"}, "%s-actcancel-%s" % (RUN, aid))
            if status == 200:
                acts[aid]["cancelled"] = time.time()
        stop_driving.wait(EVERY)


def act_volunteer_flow(volunteer, official):
    """Signs up for activities that do not overlap what they promised, withdraws from some,
    checks in shortly before the start with the organiser's code, out after it."""
    plan = {}   # activity id -> "signed" or "in"
    tried = set()  # never twice: a second sign-up with the same key is answered as the first
    while not stop_driving.is_set() or plan:
        now = time.time()
        if not stop_driving.is_set() and len(plan) < 3:
            status, page = volunteer.get("/v1/activities?limit=100")
            mine = [acts[a] for a in plan]
            free = [a for a in (page.get("items", []) if status == 200 else [])
                    if a["id"] in acts and not a.get("my_signup") and a["status"] == "open"
                    and a["id"] not in tried and not acts[a["id"]]["cancel_sent"]
                    and acts[a["id"]]["starts"] - OFFSET - now > MARGIN + 5
                    and not any(m["starts"] - 10 < acts[a["id"]]["ends"]
                                and acts[a["id"]]["starts"] < m["ends"] + 10 for m in mine)]
            if free:
                aid = rng.choice(free)["id"]
                tried.add(aid)
                signup = {"sent": time.time(), "at": None, "status": None,
                          "withdraw_sent": None, "withdrawn": None}
                acts[aid]["signups"][volunteer.id] = signup
                status, reply = write(volunteer, "signup", "POST", "/v1/activities/%s/signups" % aid,
                                      {}, "%s-su-%s-%s" % (RUN, aid, volunteer.id))
                if status == 201:
                    signup.update(at=time.time(), status=reply["status"])
                    if reply["status"] == "confirmed":
                        plan[aid] = "signed"
                if status == 201 and rng.random() < 0.15:
                    signup["withdraw_sent"] = time.time()
                    status, _ = write(volunteer, "withdraw", "DELETE",
                                      "/v1/activities/%s/signups/me" % aid, None,
                                      "%s-wd-%s-%s" % (RUN, aid, volunteer.id))
                    # 404 (not signed up): a resend of a withdrawal that took effect (a
                    # DELETE's Idempotency-Key is not its request id: http-api.md, POST only).
                    if status in (204, 404):
                        signup["withdrawn"] = time.time()
                    plan.pop(aid, None)
                continue
        for aid, state in list(plan.items()):
            a = acts[aid]
            if time.time() > a["ends"] + 30:
                plan.pop(aid)
            elif state == "signed" and time.time() >= a["starts"] - 10:
                status, code = official.get("/v1/activities/%s/checkin-code" % aid)
                if status != 200:
                    plan.pop(aid)
                    continue
                status, _ = write(volunteer, "checkin", "POST", "/v1/checkins",
                                  {"activity_id": aid, "code": code["code"]},
                                  "%s-ain-%s-%s" % (RUN, aid, volunteer.id))
                if status == 201:
                    plan[aid] = "in"
                else:
                    plan.pop(aid)
            elif state == "in" and time.time() >= a["starts"] + 5:
                status, record = write(volunteer, "checkout", "POST", "/v1/checkouts",
                                       {"activity_id": aid},
                                       "%s-aout-%s-%s" % (RUN, aid, volunteer.id))
                plan.pop(aid)
                if status == 201:
                    records[record["id"]] = (volunteer.id, aid)
                    confirm_queue.append((record["id"], 0.5))
                    counts["flows"] += 1
        time.sleep(0.5)


def revoker(person):
    """A session ended on one gateway (DELETE /v1/sessions/current) is refused by the other at
    the very next request: a new session each time, proved on one, used on the other (which
    then holds a proof of it for STATION_SESSION_TRUST_MS), ended on the first, tried on the
    other. Counts those tried and those the other still took."""
    while not stop_driving.wait(5 if SHORT else 10):
        one, other = rng.sample(HTTP_PORTS, 2)
        with argon:
            try:
                status, body = call("POST", "/v1/sessions", {"login": person.login,
                                                              "password": person.password},
                                    timeout=60, port=one)
            except NoAnswer:
                continue
        if status != 201:
            continue
        token, ended = body["token"], None
        try:
            call("GET", "/v1/me/notifications", token=token, port=other)
        except NoAnswer:
            pass
        deadline = time.time() + 60
        while ended is None and time.time() < deadline:
            try:
                ended, _ = call("DELETE", "/v1/sessions/current", token=token, port=one)
            except NoAnswer:
                time.sleep(0.3)
        if ended not in (204, 401):  # 401: a resend after the first ended it
            continue
        while time.time() < deadline + 60:
            try:
                status, _ = call("GET", "/v1/me/notifications", token=token, port=other)
                break
            except NoAnswer:
                time.sleep(0.3)
        else:
            continue
        counts["revocations"] += 1
        if status != 401:
            counts["revocations_missed"] += 1
            log("revoker: a session ended on port", one, "answered", status, "on port", other)


def overlapping_rounds(admin, result):
    """Dispatch rounds (those that did something) as match recorded them: when each began
    (at_ms) and how long it held the dispatch lock (took_ms). Two of them overlapping means two
    replicas ran rounds at once. (A round's transaction begins a moment before it takes the
    lock: 50 ms of slack.)"""
    rounds = pages(admin, "/v1/dispatch/rounds?region=%s&limit=100" % COUNTY)
    spans = sorted((r["at_ms"], r["at_ms"] + r["took_ms"], r["id"]) for r in rounds
                   if "at_ms" in r and "took_ms" in r)
    overlaps = [(a, b) for a, b in zip(spans, spans[1:]) if b[0] < a[1] - 50]
    for a, b in overlaps:
        log("checker: rounds overlap", a, b)
    result["rounds"] = len(spans)
    result["overlapping_rounds"] = len(overlaps) + (1 if len(spans) < len(rounds) else 0)


def dropper(started):
    """The mail sink, then the webhook receiver, each dropped once for DROP seconds."""
    for at, what in ((0.3, SINK), (0.55, HOOK)):
        if stop_killing.wait(max(0, started + SECONDS * at - time.time())):
            return
        log("dropper: %s down for %d s" % (type(what).__name__, DROP))
        what.stop()
        incidents.append((time.time(), type(what).__name__ + " dropped"))
        stop_killing.wait(DROP)
        what.start()
        log("dropper: %s up again" % type(what).__name__)


# ------------------------------------------------------------------------------------------
# The checker: everything read back through the ops

def station(*args, body=None):
    """`station call SERVICE OP BODY` as the operator: the reply as JSON, or None."""
    env = None if CONTAINERS else base_env()
    cmd = STACK.station_cmd() if CONTAINERS else [os.path.join(BIN, "station")]
    for _ in range(30):
        r = subprocess.run(cmd + ["--timeout", "5000", "call"] + list(args)
                           + [json.dumps(body if body is not None else {})], env=env,
                           capture_output=True, text=True)
        if r.returncode == 0:
            return json.loads(r.stdout)
        time.sleep(1)
    log("station", args, "failed:", r.returncode, r.stdout, r.stderr)
    return None


def pages(person, path):
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        status, page = person.get(path + (sep + "cursor=" + cursor if cursor else ""))
        if status != 200:
            raise RuntimeError("GET %s: %d %s" % (path, status, page))
        items += page.get("items", page.get("entries", []))
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def settle(result):
    """Waits until every consumer's cursor reaches its publisher's head (at most 3 minutes);
    the pairs still behind and the events parked, from each service's events.lag."""
    deadline = time.time() + 180
    while True:
        lag = {s: station(s, "events.lag") for s in SERVICES}
        heads = {s: lag[s]["last_seq"] for s in SERVICES if lag[s]}
        behind = [(s, c["publisher"], c["seq"], heads.get(c["publisher"]))
                  for s in SERVICES if lag[s] for c in lag[s]["cursors"]
                  if c["seq"] < heads.get(c["publisher"], 0)]
        unsequenced = sum(lag[s]["unsequenced"] for s in SERVICES if lag[s])
        missing = [s for s in SERVICES if not lag[s]]
        if not behind and not unsequenced and not missing or time.time() > deadline:
            break
        time.sleep(2)
    result["behind"] = len(behind) + len(missing) + (1 if unsequenced else 0)
    if behind or missing or unsequenced:
        log("checker: behind", behind, "unsequenced", unsequenced, "no answer", missing)
    result["parked"] = sum(lag[s]["parked"] for s in SERVICES if lag[s])


def check(admin, result):
    # Writes that never got an answer: sent again with the same key, now that nothing is killed.
    began = time.time()
    retried = 0
    for key, (kind, person, method, path, body) in list(unanswered.items()):
        write(person, kind, method, path, body, key, patience=120)
        retried += 1
    result["retried"] = retried
    settle(result)
    say("checker: %d unanswered writes sent again and the consumers settled in %.0f s" % (
        retried, time.time() - began))
    began = time.time()
    lost, doubled, wrong = [], [], []

    # Requests: each created with its key in its title.
    requests = pages(admin, "/v1/requests?region=%s&limit=500" % COUNTY)
    by_title = {}
    for r in requests:
        by_title.setdefault(r["title"], []).append(r)
    for kind, person, key, body, path, reply in acked:
        if kind == "request":
            found = by_title.get(body["title"], [])
            (lost if not found else doubled if len(found) > 1 else []).append((kind, key))
    # People: each acknowledged registration readable once.
    for kind, person, key, body, path, reply in acked:
        if kind in ("volunteer", "resident"):
            status, _ = admin.get("/v1/%ss/%s" % (kind, reply["id"]))
            if status != 200:
                lost.append((kind, key))
    listed = pages(admin, "/v1/volunteers?region=%s&limit=500" % COUNTY)
    names = {}
    for v in listed:
        names[v["name"]] = names.get(v["name"], 0) + 1
    doubled += [("volunteer", n) for n, c in names.items() if c > 1]

    # Records: one per volunteer and request; what was acknowledged is there.
    recs, cursor = [], None
    while True:
        body = {"region": COUNTY, "limit": 1000}
        if cursor:
            body["cursor"] = cursor
        page = station("match", "record.list", body=body)
        if page is None:
            raise RuntimeError("match record.list does not answer")
        recs += page.get("items", [])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    by_pair, by_id = {}, {}
    for r in recs:
        subject = r.get("request_id") or ("activity", r.get("activity_id"))
        by_pair.setdefault((r["volunteer_id"], subject), []).append(r)
        by_id[r["id"]] = r
    doubled += [("record", k) for k, v in by_pair.items() if len(v) > 1]
    for kind, person, key, body, path, reply in acked:
        if kind == "checkin" and (person.id, body.get("request_id")
                                  or ("activity", body.get("activity_id"))) not in by_pair:
            lost.append((kind, key))
        if kind == "checkout":
            r = by_id.get(reply["id"])
            if not r or r["status"] not in ("closed", "confirmed"):
                lost.append((kind, key))
        if kind == "confirm":
            r = by_id.get(path.split("/")[3])
            if not r or r["status"] != "confirmed":
                lost.append((kind, key))
            elif abs(r.get("hours", 0) - body["hours"]) > 1e-9:
                wrong.append((kind, key, r.get("hours"), body["hours"]))
        if kind == "rating":
            status, got = admin.get("/v1/requests/" + path.split("/")[3])
            if got.get("rating") != body["stars"]:
                lost.append((kind, key))
        if kind == "review":
            status, got = admin.get("/v1/requests/" + path.split("/")[3])
            if got.get("status") == "review":
                lost.append((kind, key))
    # Accepted offers, as each volunteer reads them.
    accepted = {}
    for v in volunteers + act_volunteers:
        status, page = v.get("/v1/offers?status=accepted")
        for o in page.get("items", []):
            accepted[o["id"]] = o
        check_schedule(v)
    for kind, person, key, body, path, reply in acked:
        if kind == "accept" and path.split("/")[3] not in accepted:
            lost.append((kind, key))

    # The ledger: every confirmed record once, with its points; each rating's adjustment once.
    journal = {}
    for v in volunteers + act_volunteers:
        for e in pages(admin, "/v1/volunteers/%s/ledger?unit=points&limit=500" % v.id):
            journal.setdefault(e["source"], []).append(e)
    for r in recs:
        if r["status"] != "confirmed":
            continue
        src = "match/service.completed/record/%s" % r["id"]
        got = journal.get(src, [])
        want = round(r["hours"] * PPH)
        if not got:
            lost.append(("points", src))
        elif len(got) > 1:
            doubled.append(("points", src))
        elif got[0]["amount"] != want:
            wrong.append(("points", src, got[0]["amount"], want))
        stars = expected["ratings"].get(r.get("request_id"))
        if stars:
            src = "match/service.rated/request/%s/record/%s" % (r["request_id"], r["id"])
            got = journal.get(src, [])
            want = round(r["hours"] * PPH * MULT[stars] / 100) - round(r["hours"] * PPH)
            if len(got) > 1:
                doubled.append(("rating points", src))
            elif want and not got:
                lost.append(("rating points", src))
            elif got and got[0]["amount"] != want:
                wrong.append(("rating points", src, got[0]["amount"], want))

    # Redemptions: each acknowledged reservation once; each fulfilled one fulfilled.
    reds = {}
    for v in volunteers:
        for r in pages(admin, "/v1/redemptions?volunteer_id=%s&limit=500" % v.id):
            reds[r["id"]] = r
    for kind, person, key, body, path, reply in acked:
        if kind == "reserve" and reply["id"] not in reds:
            lost.append((kind, key))
        if kind == "fulfil":
            r = reds.get(path.split("/")[3])
            if not r or r["status"] != "fulfilled":
                lost.append((kind, key))
    made = {}
    for kind, person, key, body, path, reply in acked:
        if kind == "reserve":
            made[person.id] = made.get(person.id, 0) + 1
    for v in volunteers:
        have = sum(1 for r in reds.values() if r["volunteer_id"] == v.id)
        tried = made.get(v.id, 0) + sum(1 for k, (kind, p, *_rest) in unanswered.items()
                                        if kind == "reserve" and p is v)
        if have > tried:
            doubled.append(("reserve", v.id, have, tried))

    # Sign-ups: each acknowledged one on its activity's roster once, none withdrawn there.
    for aid, a in acts.items():
        roster = [e for e in pages(admin, "/v1/activities/%s/signups?limit=500" % aid)
                  if e["status"] in ("confirmed", "waitlisted")]
        live = {}
        for e in roster:
            live[e["volunteer_id"]] = live.get(e["volunteer_id"], 0) + 1
        doubled += [("signup", aid, v) for v, c in live.items() if c > 1]
        for vid, su in a["signups"].items():
            if su["at"] and not su["withdraw_sent"] and not a["cancel_sent"] and vid not in live:
                lost.append(("signup", aid, vid))
            if su["withdrawn"] and vid in live:
                lost.append(("withdrawal", aid, vid))
    overlapping_rounds(admin, result)
    say("checker: writes, records, points and rounds read back in %.0f s" % (time.time() - began))
    began = time.time()
    r_lost, r_doubled = check_reminders(result)
    say("checker: reminders and deliveries checked in %.0f s" % (time.time() - began))
    lost += r_lost
    doubled += r_doubled

    audit = station("ledger", "ledger.audit")
    result["audit"] = len(audit["differences"]) + audit["negative"] if audit else 1
    if audit and not audit["ok"]:
        result["audit"] = max(result["audit"], 1)
    result.update(lost=lost, doubled=doubled, wrong=wrong)


def reminder_copies():
    """What the sink and the receiver got of the activities' reminders: (channel, volunteer,
    activity, kind) -> the ids (Message-ID, webhook-id) of the copies."""
    by_title = {a["title"]: aid for aid, a in acts.items()}
    copies = {}
    with SINK.lock:
        mails = list(SINK.mails.items())
    for mid, mail in mails:
        text = mail["text"].strip()
        title = text.split("「", 1)[-1].split("」", 1)[0] if "「" in text else None
        kind = ("reminder.before" if text.startswith("提醒：「") else
                "reminder.after" if text.startswith("「") and "结束，你的服务时长" in text else None)
        if kind and title in by_title:
            copies.setdefault(("email", emails.get(mail["to"]), by_title[title], kind),
                              set()).add(mid)
    with HOOK.lock:
        hooks = list(HOOK.hooks.items())
    for wid, data in hooks:
        title = data.get("params", {}).get("title")
        if data.get("kind") in ("reminder.before", "reminder.after") and title in by_title:
            copies.setdefault((data.get("channel"), data.get("recipient", {}).get("id"),
                               by_title[title], data["kind"]), set()).add(wid)
    return copies


def reminders_judged():
    """Each reminder of an activity the driver can judge: (volunteer, activity, kind, due,
    expected) — expected True: it must reach both channels once; False: it must not go."""
    out = []
    for aid, a in acts.items():
        for vid, su in a["signups"].items():
            for kind, due in (("reminder.before", a["starts"] - OFFSET),
                              ("reminder.after", a["ends"])):
                stops = [t for t in (a["cancel_sent"], su["withdraw_sent"]) if t]
                stopped = [t for t in (a["cancelled"], su["withdrawn"]) if t]
                if stopped and min(stopped) <= due - MARGIN:
                    out.append((vid, aid, kind, due, False))
                elif (su["status"] == "confirmed" and su["at"] <= due - MARGIN
                      and not any(t <= due + MARGIN for t in stops)):
                    out.append((vid, aid, kind, due, True))
    return out


def check_reminders(result):
    """Every reminder that was due reached the sink and the receiver (waiting for the last ones
    and for retries after a drop), none twice under two ids, none for a cancelled activity or
    a withdrawn sign-up; copies of one id counted; what notify says it sent arrived."""
    judged = reminders_judged()
    due = [j for j in judged if j[4]]
    deadline = max([j[3] for j in judged] + [time.time()]) + 120
    while True:
        copies = reminder_copies()
        missing = [(ch, j) for j in due for ch in ("email", "sms")
                   if not copies.get((ch, j[0], j[1], j[2]))]
        if not missing or time.time() > deadline:
            break
        time.sleep(2)
    lost = [("reminder", ch, j[0], j[1], j[2], iso(j[3])) for ch, j in missing]
    doubled = [("reminder", k, sorted(v)) for k, v in copies.items() if len(v) > 1]
    cancelled = [("reminder after cancel", ch, j[0], j[1], j[2], sorted(copies[(ch, j[0], j[1], j[2])]))
                 for j in judged if not j[4] for ch in ("email", "sms")
                 if copies.get((ch, j[0], j[1], j[2]))]
    # notify's own rows: every delivery it says it sent arrived; none left dead. (What the
    # receivers hold is read after the rows: one sent since is there too.)
    dead = 0
    rows = []
    for channel in ("email", "sms"):
        cursor = None
        while True:
            body = {"channel": channel, "limit": 200}
            if cursor:
                body["cursor"] = cursor
            page = station("notify", "delivery.list", body=body)
            if page is None:
                lost.append(("delivery.list does not answer", channel))
                break
            rows += page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                break
    with SINK.lock, HOOK.lock:
        mids, wids = set(SINK.copies), set(HOOK.copies)
    for d in rows:
        got = ("notice-%s.delivery-%s@station.notify" % (d["notice_id"], d["id"]) in mids
               if d["channel"] == "email" else "msg_station_delivery_%s" % d["id"] in wids)
        if d["status"] == "sent" and not got:
            lost.append(("delivery sent, never arrived", d["channel"], d["id"], d["kind"]))
        if d["status"] == "dead":
            dead += 1
            log("checker: dead delivery", d)
    with SINK.lock, HOOK.lock:
        # Each copy beyond the first with what preceded it (within notify's lease: the send
        # timeout and a margin) — a notify killed between a send and its record, PostgreSQL
        # stopped under the record, a receiver dropped before its answer reached notify.
        explained = 0
        for ident, when in list(SINK.times.items()) + list(HOOK.times.items()):
            for t in when[1:]:
                before = [i for i in incidents if when[0] - 1 <= i[0] <= t
                          and ("notify" in i[1] or "SIGKILL" not in i[1])]
                explained += 1 if before else 0
                log("checker: copy of %s %.1f s after the first; before it: %s" % (
                    ident, t - when[0], before[-3:]))
        result["explained"] = explained
        result["duplicates"] = (sum(c - 1 for c in SINK.copies.values())
                                + sum(c - 1 for c in HOOK.copies.values()))
        result["deliveries"] = len(SINK.copies) + len(HOOK.copies)
        result["bad_signatures"] = HOOK.bad
    result["reminders"] = len(due)
    result["for_cancelled"] = len(cancelled)
    result["dead_deliveries"] = dead
    for what in cancelled:
        log("checker: reminder for a cancelled activity or sign-up", what)
    return lost, doubled


# ------------------------------------------------------------------------------------------

def main():
    say("seed %d, %d s, logs in %s" % (SEED, SECONDS, DIR))
    if CONTAINERS:
        say("starting the stack (%d containers and PostgreSQL's)" % len(PROCS))
        STACK.up()
        containers.start_supervisor(STACK, stop_supervising, figures, log)
        # (The network's bridge, where they listen, exists once a container is on it.)
        SINK.start()
        HOOK.start()
    else:
        threading.Thread(target=supervise, daemon=True).start()
        SINK.start()
        HOOK.start()
        for p in PROCS:
            p.start()
    # Every gateway ready (each service answers), the first admin made by the first start.
    deadline = time.time() + (300 if CONTAINERS else 120)
    while True:
        ready = 0
        for port in HTTP_PORTS:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
                c.request("GET", "/readyz")
                ready += c.getresponse().status == 200
                c.close()
            except OSError:
                pass
        if ready == 2:
            break
        if time.time() > deadline:
            raise RuntimeError("the gateways are not ready after %d s (logs in %s)" % (
                300 if CONTAINERS else 120, DIR))
        time.sleep(0.5)
    admin = Person(ADMIN, PASSWORD)
    set_up(admin)
    log("set up: item", item)

    kill_thread = threading.Thread(target=killer, args=(time.time() + 20,), daemon=True)
    kill_thread.start()
    drop_thread = threading.Thread(target=dropper, args=(time.time() + 20,), daemon=True)
    drop_thread.start()
    n_vol, n_res = (8, 3) if SECONDS <= 300 else (20, 8)
    n_act = 6 if SHORT else 12
    people = []

    def join(n, kind, into, category="elderly"):
        p = register(n, kind, category)
        if p:
            into.append(p)

    threads = [threading.Thread(target=join, args=(i + 1, "volunteer", volunteers))
               for i in range(n_vol)]
    threads += [threading.Thread(target=join, args=(i + 1, "resident", residents))
                for i in range(n_res)]
    # Volunteers for activities only (a category no request asks for: never dispatched).
    threads += [threading.Thread(target=join, args=(100 + i, "volunteer", act_volunteers,
                                                    "culture")) for i in range(n_act)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    station_admin = Person("chaos-station", PASSWORD)
    station_admin.sign_in()
    say("%d volunteers and %d residents registered and signed in; %d s of flows" % (
        len(volunteers), len(residents), SECONDS))
    started = time.time()
    flows_end[0] = started + SECONDS
    workers = [threading.Thread(target=volunteer_flow, args=(v,)) for v in volunteers]
    workers += [threading.Thread(target=act_volunteer_flow, args=(v, admin))
                for v in act_volunteers]
    workers.append(threading.Thread(target=publisher, args=(admin,)))
    if act_volunteers:
        workers.append(threading.Thread(target=revoker, args=(
            Person(act_volunteers[0].login, PEOPLE_PASSWORD),)))
    workers += [threading.Thread(target=resident_flow, args=(r,)) for r in residents]
    officials.extend((admin, station_admin))
    workers += [threading.Thread(target=official_flow, args=(o,)) for o in officials]
    for t in workers:
        t.start()
    time.sleep(max(0, started + SECONDS - time.time()))
    stop_driving_at[0] = time.time()
    stop_driving.set()
    stop_killing.set()
    kill_thread.join()
    drop_thread.join()
    for t in workers:
        t.join(200)
    say("driving stopped after %d s (the flows under way %.0f s later): %d writes, %d without "
        "an answer at first, %d kills, %d restarts, %d pg restarts; checking" % (
            stop_driving_at[0] - started, time.time() - stop_driving_at[0], counts["writes"],
            counts["no_answer"], figures["kills"], figures["restarts"], figures["pg_restarts"]))
    result = {}
    check(admin, result)
    for name in ("lost", "doubled", "wrong"):
        for what in result[name]:
            log("checker:", name, what)
    line = ("chaos: %d flows, %d kills, %d pg restarts, %d failover, %d writes (%d unanswered at first, "
            "%d retried after), %d lost, %d doubled, %d double-booked, %d wrong points, "
            "%d false refusals, %d audit differences, %d behind, %d dead letters, "
            "%d reminders due (%d deliveries, sink and receiver dropped %d s each), "
            "%d for cancelled, %d bad signatures, %d duplicate deliveries (%d after a crash "
            "or drop), %d rounds "
            "(%d overlapping), %d revocations (%d missed)" % (
                counts["flows"], figures["kills"], figures["pg_restarts"], figures["failovers"],
                counts["writes"],
                counts["no_answer"], result["retried"], len(result["lost"]),
                len(result["doubled"]), counts["double_booked"], len(result["wrong"]),
                counts["false_refusals"], result["audit"], result["behind"],
                result["parked"] + result["dead_deliveries"], result["reminders"],
                result["deliveries"], DROP, result["for_cancelled"], result["bad_signatures"],
                result["duplicates"], result["explained"], result["rounds"],
                result["overlapping_rounds"],
                counts["revocations"], counts["revocations_missed"]))
    print(line, flush=True)
    log(line)
    # Duplicate deliveries (a copy under an id the receiver has: notify sent it, then died
    # before recording that it had) are possible by design, counted and not failed: the id is
    # there for the receiver to drop the copy. Two ids for one reminder count as doubled.
    bad = (len(result["lost"]) + len(result["doubled"]) + counts["double_booked"]
           + len(result["wrong"]) + counts["false_refusals"] + result["audit"] + result["behind"]
           + result["parked"] + result["dead_deliveries"] + result["for_cancelled"]
           + result["bad_signatures"] + result["overlapping_rounds"]
           + counts["revocations_missed"])
    if counts["flows"] == 0:
        say("no flow completed: the run proves nothing")
        bad += 1
    if bad:
        for name in ("lost", "doubled", "wrong"):
            for what in result[name][:10]:
                say("%s: %s" % (name, what))
    return 1 if bad else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    code = 1
    try:
        code = main()
    except Exception as e:  # noqa: BLE001 — said, logged, and the run fails
        import traceback
        traceback.print_exc(file=LOG)
        say("error: %s (logs in %s)" % (e, DIR))
    finally:
        stop_driving.set()
        stop_killing.set()
        stop_all()
    sys.exit(code)
