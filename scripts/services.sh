#!/usr/bin/env bash
# Installs (first time) and starts the services the tests use. Idempotent.
#   scripts/services.sh mariadb   MariaDB for ML Metadata's MySQL backend, user headrace/headrace on 127.0.0.1:3306
#   scripts/services.sh chromium  Debian's headless-capable Chromium, which renders the HTML reports in the tests
#   scripts/services.sh graphviz  Graphviz's `dot`, which draws the pipeline graphs `headrace ui` shows
#   scripts/services.sh docker    the Docker engine (Debian's docker.io), for the container runtime (containers/)
#   scripts/services.sh postgresql  PostgreSQL, Airflow 3's metadata database for a real scheduler:
#                                 user/password airflow/airflow, database airflow, on 127.0.0.1:5432
#   scripts/services.sh dask      a dask.distributed cluster from this checkout's .venv: a scheduler on
#                                 127.0.0.1:${HEADRACE_DASK_PORT:-8786} and 2 worker processes (HEADRACE_DASK_WORKERS);
#                                 prints its address, for BeamDagRunner's --dask_client_address
#   scripts/services.sh dask_stop stops that cluster
set -euo pipefail

apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "services.sh: installing $* needs root (apt-get)" >&2; exit 1; fi
  if [ ! -f /var/lib/apt/periodic/headrace-updated ]; then
    apt-get update -qq && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/headrace-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

mariadb() {
  command -v mysqld_safe >/dev/null 2>&1 || apt_install mariadb-server mariadb-client
  if ! mysqladmin --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null 2>&1 && ! mysqladmin ping >/dev/null 2>&1; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    [ -d /var/lib/mysql/mysql ] || mysql_install_db --user=mysql >/dev/null
    (setsid mysqld_safe --user=mysql --bind-address=127.0.0.1 >/dev/null 2>&1 &)
    for _ in $(seq 1 60); do mysqladmin ping >/dev/null 2>&1 && break; sleep 0.5; done
    mysqladmin ping >/dev/null 2>&1 || { echo "services.sh: MariaDB did not start" >&2; exit 1; }
  fi
  mysql -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'headrace'@'localhost' IDENTIFIED BY 'headrace';
CREATE USER IF NOT EXISTS 'headrace'@'127.0.0.1' IDENTIFIED BY 'headrace';
GRANT ALL PRIVILEGES ON *.* TO 'headrace'@'localhost';
GRANT ALL PRIVILEGES ON *.* TO 'headrace'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
  echo "MariaDB ready on 127.0.0.1:3306 (user headrace)"
}

postgresql() {
  type -P pg_ctlcluster >/dev/null || apt_install postgresql
  local ver; ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  # Debian's package makes the cluster 15/main; a machine where it was dropped gets it back.
  pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$ver/main" || pg_createcluster "$ver" main >/dev/null
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    # pg_ctlcluster runs pg_ctl as the postgres user when no systemd is running (as here).
    mkdir -p /run/postgresql && chown postgres:postgres /run/postgresql
    pg_ctlcluster "$ver" main start
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    pg_isready -q -h 127.0.0.1 -p 5432 || { echo "services.sh: PostgreSQL did not start" >&2; exit 1; }
  fi
  local psql=(runuser -u postgres -- psql -qtA -v ON_ERROR_STOP=1)
  [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname='airflow'")" = 1 ] ||
    "${psql[@]}" -c "CREATE ROLE airflow LOGIN PASSWORD 'airflow' CREATEDB"
  [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname='airflow'")" = 1 ] ||
    "${psql[@]}" -c "CREATE DATABASE airflow OWNER airflow"
  echo "PostgreSQL $ver ready on 127.0.0.1:5432 (user airflow, database airflow)"
}

chromium() {
  # `type -P` looks on PATH only: `command -v chromium`, or calling `chromium`, would find this function.
  type -P chromium >/dev/null || apt_install chromium fonts-dejavu-core
  local bin; bin=$(type -P chromium)
  echo "Chromium ready: $bin ($("$bin" --version 2>/dev/null))"
}

graphviz() {
  type -P dot >/dev/null || apt_install graphviz
  echo "Graphviz ready: $(dot -V 2>&1)"
}

# The function is named after the service, so inside it `command docker` is the client (on PATH).
docker() {
  type -P dockerd >/dev/null || apt_install docker.io
  if ! command docker info >/dev/null 2>&1; then
    local log=/var/log/headrace-dockerd.log pidfile=/var/run/docker.pid args=()
    # /run is not a tmpfs on this machine kind: a pid file left by an engine that did not survive (a
    # fresh clone of the machine) may name an unrelated process, and dockerd then refuses to start.
    if [ -f "$pidfile" ] && [ "$(cat "/proc/$(cat "$pidfile")/comm" 2>/dev/null)" != dockerd ]; then
      rm -f "$pidfile"
    fi
    # Storage: overlay2 (dockerd's default) needs the kernel's overlay filesystem and a /var/lib/docker
    # that is not itself on overlayfs (as inside a container). Here / is ext4 and overlay is in
    # /proc/filesystems, so overlay2 works; elsewhere fall back to vfs (a full copy per layer: slower
    # and bigger, but it runs anywhere).
    local fs; mkdir -p /var/lib/docker; fs=$(stat -f -c %T /var/lib/docker)
    if ! grep -qw overlay /proc/filesystems || [ "$fs" = overlayfs ]; then args+=(--storage-driver=vfs); fi
    # Networking: the default bridge (docker0) needs iptables; Debian's is the nf_tables one and works
    # here as root. Without a usable iptables, start with no bridge (containers then need --network host).
    if ! iptables -nL >/dev/null 2>&1; then args+=(--iptables=false --bridge=none); fi
    # cgroups: this machine has the v1 hierarchy mounted under /sys/fs/cgroup (plus a v2 "unified"
    # mount) and no systemd as init, so dockerd's default cgroupfs driver is the one that works.
    mkdir -p "$(dirname "$log")"
    echo "starting dockerd ${args[*]} (log: $log)"
    (setsid dockerd "${args[@]}" >>"$log" 2>&1 &)
    for _ in $(seq 1 60); do command docker info >/dev/null 2>&1 && break; sleep 0.5; done
    if ! command docker info >/dev/null 2>&1; then
      echo "services.sh: the Docker engine did not answer within 30 s (dockerd ${args[*]}); end of $log:" >&2
      tail -n 15 "$log" >&2
      exit 1
    fi
  fi
  echo "Docker engine ready: server $(command docker version -f '{{.Server.Version}}' 2>/dev/null)," \
    "storage driver $(command docker info -f '{{.Driver}}' 2>/dev/null)"
}

# The Dask cluster runs from the checkout's own .venv (make setup), so its workers import this checkout's
# headrace (the editable install) and every library a node needs. Its pid and log files live in
# $HEADRACE_DASK_DIR (default /tmp/headrace-dask-<port>). A cluster already answering on the port is
# reused only if its workers run this checkout's environment: another checkout's cluster on that port is
# refused (its workers would run that checkout's code); choose another HEADRACE_DASK_PORT.
DASK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DASK_PORT=${HEADRACE_DASK_PORT:-8786}
DASK_WORKERS=${HEADRACE_DASK_WORKERS:-2}
DASK_DIR=${HEADRACE_DASK_DIR:-/tmp/headrace-dask-$DASK_PORT}
DASK_ADDRESS=tcp://127.0.0.1:$DASK_PORT

# dask_check WAIT_S: exit 0 if the cluster answers with $DASK_WORKERS workers, all of this checkout's
# environment (waiting up to WAIT_S s for them to join); 3 if nothing answers; 4 if workers of another
# environment are there (said on stderr); 5 if too few workers joined.
dask_check() {
  "$DASK_REPO/.venv/bin/python" - "$DASK_ADDRESS" "$DASK_WORKERS" "$DASK_REPO/.venv" "$1" <<'PY'
import os, sys, time
address, wanted, venv, wait_s = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
from distributed import Client
try:
    client = Client(address, timeout=3)
except OSError:
    sys.exit(3)
deadline = time.monotonic() + wait_s
while len(client.scheduler_info(n_workers=-1)["workers"]) < wanted and time.monotonic() < deadline:
    time.sleep(0.25)
prefixes = client.run(lambda: __import__("sys").prefix)
client.close()
foreign = sorted({p for p in prefixes.values() if os.path.realpath(p) != os.path.realpath(venv)})
if foreign:
    print(f"services.sh: the Dask cluster on {address} has workers of another environment ({', '.join(foreign)}); "
          "stop it, or start this checkout's on another port: HEADRACE_DASK_PORT=<port> scripts/services.sh dask",
          file=sys.stderr)
    sys.exit(4)
sys.exit(0 if len(prefixes) >= wanted else 5)
PY
}

dask() {
  [ -x "$DASK_REPO/.venv/bin/dask" ] || { echo "services.sh: $DASK_REPO/.venv has no dask: run make setup" >&2; exit 1; }
  local rc=0
  dask_check 0 2>/dev/null || rc=$?
  [ "$rc" = 4 ] && { dask_check 0 || exit 1; }
  if [ "$rc" != 0 ]; then
    mkdir -p "$DASK_DIR"
    if [ "$rc" = 3 ]; then
      dask_stop >/dev/null  # processes of a cluster that no longer answers
      (cd "$DASK_DIR" && { setsid "$DASK_REPO/.venv/bin/dask" scheduler --host 127.0.0.1 --port "$DASK_PORT" \
        --no-dashboard --pid-file "$DASK_DIR/scheduler.pid" >>"$DASK_DIR/scheduler.log" 2>&1 & })
    else  # the scheduler answers, its workers are gone: start them again
      [ -f "$DASK_DIR/workers.pid" ] && kill "$(cat "$DASK_DIR/workers.pid")" 2>/dev/null || true
    fi
    # One thread each: a worker runs one task (a pipeline node, a Beam bundle) at a time; the nanny
    # restarts a worker process that dies, and the scheduler hands its task to another worker.
    (cd "$DASK_DIR" && { setsid "$DASK_REPO/.venv/bin/dask" worker "$DASK_ADDRESS" --nworkers "$DASK_WORKERS" \
      --nthreads 1 --no-dashboard --local-directory "$DASK_DIR/work" --death-timeout 60 \
      --pid-file "$DASK_DIR/workers.pid" >>"$DASK_DIR/workers.log" 2>&1 & })
    rc=0
    dask_check 60 || rc=$?
    if [ "$rc" != 0 ]; then
      echo "services.sh: the Dask cluster did not come up on $DASK_ADDRESS with $DASK_WORKERS workers (exit $rc);" \
        "ends of $DASK_DIR/scheduler.log and workers.log:" >&2
      tail -n 8 "$DASK_DIR/scheduler.log" "$DASK_DIR/workers.log" >&2 || true
      exit 1
    fi
  fi
  echo "Dask cluster ready: $DASK_ADDRESS ($DASK_WORKERS workers from $DASK_REPO/.venv; logs in $DASK_DIR)"
  echo "  --beam-arg=--runner=DaskRunner --beam-arg=--dask_client_address=$DASK_ADDRESS"
}

dask_stop() {
  local f pid
  for f in workers scheduler; do
    [ -f "$DASK_DIR/$f.pid" ] || continue
    pid=$(cat "$DASK_DIR/$f.pid")
    # Only a dask process of this cluster: a pid file left by a dead cluster may name another process now.
    if grep -q "dask" "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    rm -f "$DASK_DIR/$f.pid"
  done
  echo "Dask cluster on $DASK_ADDRESS stopped"
}

for svc in "$@"; do "$svc"; done
