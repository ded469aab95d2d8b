#!/usr/bin/env bash
# Checks that `go install github.com/sockit/sockit/cmd/sockit@latest`
# works from a clean module cache: the committed tree is served as version
# v0.0.0-ci from a file proxy (the module path resolves nowhere else
# here), its dependencies come through the usual proxy, and the
# installed binary must run.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
mod=github.com/sockit/sockit
ver=v0.0.0-ci
at=$tmp/proxy/$mod/@v
mkdir -p "$at"
git archive --format=zip --prefix="$mod@$ver/" -o "$at/$ver.zip" HEAD
git show HEAD:go.mod > "$at/$ver.mod"
printf '{"Version":"%s","Time":"%s"}\n' "$ver" "$(git show -s --format=%cI HEAD)" > "$at/$ver.info"
echo "$ver" > "$at/list"
GOMODCACHE=$tmp/cache GOPATH=$tmp/gopath GOBIN=$tmp/bin GOFLAGS=-mod=mod \
  GOPROXY="file://$tmp/proxy,$(go env GOPROXY)" GONOSUMDB=$mod \
  go install "$mod/cmd/sockit@latest"
"$tmp/bin/sockit" version | head -1
