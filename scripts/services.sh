#!/usr/bin/env bash
# Installs (first time) and starts the services the tests use. Idempotent.
#   scripts/services.sh mariadb   MariaDB for ML Metadata's MySQL backend, user headrace/headrace on 127.0.0.1:3306
#   scripts/services.sh chromium  Debian's headless-capable Chromium, which renders the HTML reports in the tests
#   scripts/services.sh docker    the Docker engine (Debian's docker.io), for the container runtime (containers/)
#   scripts/services.sh postgresql  PostgreSQL, Airflow 3's metadata database for a real scheduler:
#                                 user/password airflow/airflow, database airflow, on 127.0.0.1:5432
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

for svc in "$@"; do "$svc"; done
