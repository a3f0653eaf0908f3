#!/bin/sh
# Builds a static onramp binary (CGO_ENABLED=0) with its version, commit and build date:
#
#   deploy/build.sh [OUTPUT]        (default bin/onramp)
#
# The Dockerfile runs it; so can anyone with a shell, curl and unzip. The Go toolchain is the
# go on PATH when there is one (asked for GO_VERSION through GOTOOLCHAIN, which it fetches from
# the Go module proxy and checks against the checksum database), else GO_VERSION's toolchain
# module downloaded from the Go module proxy and checked against the SHA-256 pinned below.
# VERSION, COMMIT and BUILD_DATE default to what git and the clock say; set them when building
# from a tree without .git (the Dockerfile passes them as build arguments).
set -eu

cd "$(dirname "$0")/.."
out=${1:-bin/onramp}
GO_VERSION=${GO_VERSION:-1.26.8}
GOPROXY=${GOPROXY:-https://proxy.golang.org}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
BUILD_DATE=${BUILD_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}

# fetch_go installs the toolchain of GO_VERSION under $1 from the module proxy.
fetch_go() {
	dir=$1
	case $(uname -m) in
	# The SHA-256 of go1.26.8's toolchain module zips (go mod download checked them against the
	# checksum database when they were pinned).
	x86_64 | amd64) arch=amd64 pinned=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7 ;;
	aarch64 | arm64) arch=arm64 pinned=02b36b6787b3ac767668f630e2998df45a3b1f9ffee08d1bf3ef6487cd658d99 ;;
	*) echo "build.sh: no Go toolchain pinned for $(uname -m): put go on PATH" >&2 && exit 1 ;;
	esac
	sum=${GO_SHA256:-}
	if [ -z "$sum" ] && [ "$GO_VERSION" = 1.26.8 ]; then
		sum=$pinned
	elif [ -z "$sum" ]; then
		echo "build.sh: no checksum pinned for go$GO_VERSION: set GO_SHA256 to its zip's SHA-256" >&2 && exit 1
	fi
	module=v0.0.1-go$GO_VERSION.linux-$arch
	mkdir -p "$dir"
	curl -fsSL --retry 3 -o "$dir/go.zip" "${GOPROXY%%,*}/golang.org/toolchain/@v/$module.zip"
	echo "$sum  $dir/go.zip" | sha256sum -c - >/dev/null || {
		echo "build.sh: the Go toolchain downloaded does not match its checksum" >&2
		exit 1
	}
	unzip -q "$dir/go.zip" -d "$dir"
	rm "$dir/go.zip"
	mv "$dir/golang.org/toolchain@$module" "$dir/go"
	# A module zip keeps no file modes.
	chmod +x "$dir/go/bin/"* "$dir/go/pkg/tool/"*/*
}

if command -v go >/dev/null 2>&1; then
	export GOTOOLCHAIN=go$GO_VERSION
	gobin=go
else
	toolchain=${GO_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/onramp-go/$GO_VERSION}
	[ -x "$toolchain/go/bin/go" ] || fetch_go "$toolchain"
	gobin=$toolchain/go/bin/go
	export GOTOOLCHAIN=local
fi

mkdir -p "$(dirname "$out")"
CGO_ENABLED=0 "$gobin" build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.buildDate=$BUILD_DATE" \
	-o "$out" ./cmd/onramp
"$out" version
