#!/usr/bin/env bash
# Installs (first time) and starts the services the tests use. Idempotent.
#   scripts/services.sh mariadb   MariaDB for ML Metadata's MySQL backend, user headrace/headrace on 127.0.0.1:3306
#   scripts/services.sh chromium  Debian's headless-capable Chromium, which renders the HTML reports in the tests
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

chromium() {
  # `type -P` looks on PATH only: `command -v chromium`, or calling `chromium`, would find this function.
  type -P chromium >/dev/null || apt_install chromium fonts-dejavu-core
  local bin; bin=$(type -P chromium)
  echo "Chromium ready: $bin ($("$bin" --version 2>/dev/null))"
}

for svc in "$@"; do "$svc"; done
