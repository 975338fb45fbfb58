#!/usr/bin/env bash
# Builds the headrace runtime image (containers/Dockerfile) as headrace-runtime:<version> and
# headrace-runtime:latest, from this checkout's sources and requirements/lock.txt. Idempotent and cached:
#   - the engine is started (scripts/services.sh docker) when it does not answer;
#   - base image: python:3.11-slim when present or pullable, else headrace-base:bookworm, made once
#     with debootstrap from the machine's own Debian mirror (no image registry is reachable here);
#   - wheelhouse: .cache/wheelhouse, built on the host once per lock/setup.py/extras, so the image
#     installs with --no-index (no package index or CA bundle needed inside the build);
#   - the image is labelled with a hash of its inputs (Dockerfile, setup.py, pyproject.toml, the lock,
#     framework/ components/ orchestrators/, extras, base image id) and not rebuilt when it matches.
# Environment: EXTRAS=tf (or tf,data...) adds headrace extras (tags get a -tf suffix);
# BASE_IMAGE=... forces a base; HEADRACE_DEBIAN_MIRROR=... overrides the mirror for debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s.%N)

EXTRAS=${EXTRAS:-}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' framework/version.py)
[ -n "$VERSION" ] || { echo "build.sh: no __version__ in framework/version.py" >&2; exit 1; }
suffix=""; [ -z "$EXTRAS" ] || suffix="-${EXTRAS//,/-}"
REPO=headrace-runtime
TAG="$REPO:$VERSION$suffix"; LATEST="$REPO:latest$suffix"
SLIM=python:3.11-slim; DEBIAN_BASE=headrace-base:bookworm
CACHE=.cache; mkdir -p "$CACHE"

# The engine first, outside the lock below: a dockerd started while this script holds the lock's
# descriptor would inherit it and hold the lock for as long as it runs (every later build waited forever).
docker info >/dev/null 2>&1 || bash scripts/services.sh docker

# One build at a time on this machine (tests, make image and other checkouts share the engine): a
# concurrent build's prune of the build stage would remove the stage this one is copying from.
exec 9>/tmp/headrace-image-build.lock
flock 9

say() { echo "build.sh: $*"; }
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

debian_mirror() {
  # The first mirror serving the plain "bookworm" suite in the machine's apt sources (one-line or deb822).
  local m="${HEADRACE_DEBIAN_MIRROR:-}"
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|ftp):/) { print $i; exit } }' \
      /etc/apt/sources.list)
  fi
  if [ -z "$m" ] && compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    m=$(awk 'BEGIN { RS = "" } /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ {
          if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { s = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", s); print s; exit } }' \
      /etc/apt/sources.list.d/*.sources)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

make_debian_base() {
  # Debian bookworm's python3 is 3.11, the version the lock is for. minbase + python3-venv is about
  # the content of python:3.11-slim; apt's downloaded packages and lists, docs and man pages are dropped.
  if ! type -P debootstrap >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "build.sh: installing debootstrap needs root" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  fi
  local mirror; mirror=$(debian_mirror)
  rootfs=$(mktemp -d /var/tmp/headrace-base.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  say "creating $DEBIAN_BASE with debootstrap from $mirror (about a minute; log: $CACHE/debootstrap.log)"
  if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror" \
      >"$CACHE/debootstrap.log" 2>&1; then
    tail -n 15 "$CACHE/debootstrap.log" >&2; rm -rf "$rootfs"; echo "build.sh: debootstrap failed" >&2; exit 1
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  # An imported image has no config: give it the PATH and locale the python images have.
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'ENV LANG=C.UTF-8' \
    -c 'CMD ["/bin/bash"]' - "$DEBIAN_BASE" >/dev/null
  rm -rf "$rootfs"
}

# 1. The base image. Local images first, so a warm build never touches the network; one pull attempt
#    with a short timeout (there is no registry here: it fails at DNS at once).
if [ -z "${BASE_IMAGE:-}" ]; then
  if docker image inspect "$SLIM" >/dev/null 2>&1; then BASE_IMAGE=$SLIM
  elif docker image inspect "$DEBIAN_BASE" >/dev/null 2>&1; then BASE_IMAGE=$DEBIAN_BASE
  elif timeout 30 docker pull -q "$SLIM" >/dev/null 2>&1; then BASE_IMAGE=$SLIM
  else say "$SLIM is not here and cannot be pulled"; make_debian_base; BASE_IMAGE=$DEBIAN_BASE
  fi
fi
base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")

# 2. Up to date? The hash covers every input of the image (the wheelhouse derives from the lock).
inputs=$(
  {
    find containers/Dockerfile setup.py pyproject.toml requirements/lock.txt framework components orchestrators \
      -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
    echo "EXTRAS=$EXTRAS BASE=$base_id"
  } | sha256sum | cut -c1-32
)
if [ "$(docker image inspect -f '{{index .Config.Labels "headrace.inputs"}}' "$TAG" 2>/dev/null)" = "$inputs" ]; then
  docker tag "$TAG" "$LATEST"
  say "$TAG is up to date (inputs $inputs)"
else
  # 3. The wheelhouse, built on the host with the host's pip (same glibc, same CPython minor).
  WH=$CACHE/wheelhouse
  target=.; [ -z "$EXTRAS" ] || target=".[$EXTRAS]"
  stamp="$WH/.stamp-$(cat requirements/lock.txt setup.py | sha256sum | cut -c1-16)-${EXTRAS:-core}"
  if [ ! -f "$stamp" ]; then
    [ -x .venv/bin/python ] || bash scripts/setup.sh
    say "filling $WH (${EXTRAS:-core} dependencies, pinned by requirements/lock.txt)"
    mkdir -p "$WH"
    # pip's isolated build of headrace's source inside the image needs setuptools from the wheelhouse.
    if ! { .venv/bin/python -m pip wheel --disable-pip-version-check -w "$WH" -c requirements/lock.txt "$target" &&
      .venv/bin/python -m pip download --disable-pip-version-check -d "$WH" --only-binary :all: \
        -c requirements/lock.txt setuptools wheel; } >"$CACHE/wheelhouse.log" 2>&1; then
      tail -n 25 "$CACHE/wheelhouse.log" >&2; echo "build.sh: building the wheelhouse failed" >&2; exit 1
    fi
    rm -f "$WH"/headrace-*.whl  # the image installs headrace from source, not from a stale wheel
    touch "$stamp"
  fi

  # 4. A small build context (the checkout has a multi-GB .venv): sources, lock, wheelhouse (hard links).
  ctx=$CACHE/image-context$suffix
  rm -rf "$ctx"; mkdir -p "$ctx/requirements"
  cp containers/Dockerfile setup.py pyproject.toml "$ctx/"
  cp requirements/lock.txt "$ctx/requirements/"
  tar --exclude=__pycache__ --exclude='*.pyc' -c framework components orchestrators | tar -x -C "$ctx"
  cp -al "$WH" "$ctx/wheelhouse" 2>/dev/null || cp -a "$WH" "$ctx/wheelhouse"

  say "building $TAG from $BASE_IMAGE (log: $CACHE/image-build$suffix.log)"
  if ! docker build -f "$ctx/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "EXTRAS=$EXTRAS" \
      --label "headrace.inputs=$inputs" --label "headrace.version=$VERSION" -t "$TAG" -t "$LATEST" "$ctx" \
      >"$CACHE/image-build$suffix.log" 2>&1; then
    tail -n 25 "$CACHE/image-build$suffix.log" >&2; echo "build.sh: docker build failed" >&2; exit 1
  fi
  rm -rf "$ctx"
  # The previous build of these tags and the build stage, now untagged.
  docker image prune -f --filter "label=headrace.inputs" >/dev/null
  docker image prune -f --filter "label=headrace.stage=build" >/dev/null
fi

size=$(docker image inspect -f '{{.Size}}' "$TAG")
say "$TAG and $LATEST ready: $(awk -v s="$size" 'BEGIN { printf "%.0f MB", s / 1e6 }'), base $BASE_IMAGE, $(elapsed) s"
