#!/usr/bin/env bash
# Builds the container image (deploy/Dockerfile) and checks it: `onramp version`, a production
# start on the SQLite default with the secret from a file, the HEALTHCHECK turning healthy, the
# user not root, `onramp backup` into the /data volume, and a clean stop on SIGTERM.
#
# It needs a Docker engine: the one at DOCKER_HOST when it answers, else a private dockerd it
# starts (installing Debian's docker.io when it is missing) with its state in a temporary
# folder and no network of its own (builds and the test container use the host's). When no
# engine can run, it says so and exits 0. When no registry of images is reachable (CI), the
# Debian base image is made with debootstrap from Debian's packages (kept in the engine for the
# next run).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/onramp-image-test.XXXXXX)
dockerd_pid=""
container=""
cleanup() {
	[ -n "$container" ] && docker rm -f "$container" >/dev/null 2>&1 || true
	if [ -n "$dockerd_pid" ]; then
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 1 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
	fi
	rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

# An engine: DOCKER_HOST's, or our own.
if ! docker info >/dev/null 2>&1; then
	if ! command -v dockerd >/dev/null 2>&1; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null ||
			{ echo "image test skipped: docker.io could not be installed"; exit 0; }
	fi
	export DOCKER_HOST="unix://$work/docker.sock"
	dockerd --data-root "${ONRAMP_IMAGE_TEST_DOCKER_ROOT:-/var/tmp/onramp-image-test-docker}" --exec-root "$work/exec" \
		-H "$DOCKER_HOST" --pidfile "$work/docker.pid" --iptables=false --ip6tables=false --bridge=none \
		>"$work/dockerd.log" 2>&1 &
	dockerd_pid=$!
	for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
	docker info >/dev/null 2>&1 || { echo "image test skipped: dockerd does not start here:"; tail -5 "$work/dockerd.log"; exit 0; }
fi

# The base image: pulled when a registry answers, else made from Debian's packages.
base=debian:bookworm-slim
if ! docker image inspect "$base" >/dev/null 2>&1 && ! docker pull -q "$base" >/dev/null 2>&1; then
	base=onramp-ci/debian:bookworm
	if ! docker image inspect "$base" >/dev/null 2>&1; then
		command -v debootstrap >/dev/null 2>&1 ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
		debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
			{ tail -20 "$work/debootstrap.log"; exit 1; }
		# The machine's own certificate authorities (a TLS-inspecting proxy's, say): the build
		# stage's ca-certificates takes them in, so that it reaches the Go module proxy as the
		# machine does.
		mkdir -p "$work/rootfs/usr/local/share/ca-certificates"
		cp /usr/local/share/ca-certificates/*.crt "$work/rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
		tar -C "$work/rootfs" -c . | docker import - "$base" >/dev/null
		rm -rf "$work/rootfs"
	fi
fi

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
echo "== docker build (base $base, ready after ${SECONDS}s)"
DOCKER_BUILDKIT=0 docker build --network host -q -f deploy/Dockerfile -t onramp:image-test \
	--build-arg DEBIAN="$base" --build-arg VERSION=image-test --build-arg COMMIT="$commit" . >/dev/null

fail() { echo "image test FAILED: $*"; [ -n "$container" ] && docker logs "$container" 2>&1 | tail -20; exit 1; }

echo "   built after ${SECONDS}s"
out=$(docker run --rm --network none onramp:image-test version)
[[ $out == "onramp image-test ($commit, go"* ]] || fail "version printed: $out"
echo "ok  $out"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl rand -hex 32 >"$work/secret"
chmod 0644 "$work/secret"
container=onramp-image-test-$$
docker run -d --name "$container" --network host \
	-e ONRAMP_ADDR="127.0.0.1:$port" -e ONRAMP_BASE_URL="http://127.0.0.1:$port" -e ONRAMP_DRAIN_DELAY=1s \
	-e ONRAMP_SECRET_FILE=/run/secrets/onramp_secret -v "$work/secret:/run/secrets/onramp_secret:ro" \
	-v "onramp-image-test-$$:/data" onramp:image-test >/dev/null
status=""
for _ in $(seq 1 90); do
	status=$(docker inspect -f '{{.State.Health.Status}}' "$container")
	[ "$status" = healthy ] && break
	[ "$(docker inspect -f '{{.State.Running}}' "$container")" = true ] || fail "the container stopped"
	sleep 1
done
[ "$status" = healthy ] || fail "health $status"
echo "ok  HEALTHCHECK healthy"
[ "$(curl -fsS "http://127.0.0.1:$port/readyz")" = ready ] || fail "/readyz"
echo "ok  /readyz"
uid=$(docker exec "$container" sh -c 'id -u')
[ "$uid" = 10001 ] || fail "runs as uid $uid"
echo "ok  runs as uid $uid"
docker exec "$container" onramp backup /data/backup.db >/dev/null || fail "onramp backup"
docker exec "$container" sh -c 'test -s /data/backup.db' || fail "no backup file"
echo "ok  onramp backup"
docker stop -t 30 "$container" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$container")
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
echo "ok  stopped cleanly on SIGTERM"
docker rm "$container" >/dev/null && container=""
docker volume rm "onramp-image-test-$$" >/dev/null
echo "image test passed in ${SECONDS}s"
