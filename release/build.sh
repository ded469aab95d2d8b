#!/usr/bin/env bash
# Builds sockit's release archives into dist/: static binaries for Linux,
# macOS and Windows, each with the man pages, the address reference and
# the shell completions, and a SHA256SUMS file.
#   release/build.sh            every platform below
#   release/build.sh linux/amd64 ...
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^const Version = "\(.*\)"/\1/p' internal/cli/main.go)
platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 freebsd/amd64)
rm -rf dist && mkdir -p dist
# The completions come from a binary that runs here.
go build -o dist/sockit-host ./cmd/sockit
for p in "${platforms[@]}"; do
  os=${p%/*} arch=${p#*/}
  name=sockit-$version-$os-$arch
  dir=dist/$name
  mkdir -p "$dir/completion"
  exe=sockit
  [ "$os" = windows ] && exe=sockit.exe
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags='-s -w' -o "$dir/$exe" ./cmd/sockit
  cp -r docs/man "$dir/man"
  cp docs/addresses.md docs/events.md README.md "$dir/"
  dist/sockit-host completion bash > "$dir/completion/sockit.bash"
  dist/sockit-host completion zsh > "$dir/completion/_sockit"
  dist/sockit-host completion fish > "$dir/completion/sockit.fish"
  tar -C dist -czf "dist/$name.tar.gz" "$name"
  rm -rf "$dir"
  echo "dist/$name.tar.gz"
done
rm dist/sockit-host
(cd dist && sha256sum ./*.tar.gz > SHA256SUMS)
