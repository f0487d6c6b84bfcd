#!/usr/bin/env bash
# release.sh VERSION [ARCH...]: builds mentord's release binaries and Debian
# packages into release/VERSION/ (or $RELEASE_DIR):
#   mentord-VERSION-linux-ARCH      the binary, version and commit stamped in
#   mentord_VERSION_ARCH.deb        /usr/bin/mentord, the systemd units, the
#                                   conffile /etc/mentord/config.yaml, the docs,
#                                   the man page and bash completion
#   SHA256SUMS
# ARCH is amd64 and arm64 by default. mentord uses cgo (SQLite), so each
# architecture needs a C cross compiler. Prerequisites on Debian 12, besides Go:
#   apt-get install gcc                                          # amd64
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross  # arm64
# nfpm, which writes the packages, is a Go tool dependency (go.mod): no install.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+(\.[0-9]+)*([~+][0-9A-Za-z.~+]+)?$ ]]; then
	echo "usage: scripts/release.sh VERSION [amd64] [arm64]   (VERSION like 1.2.0, Debian's version syntax)" >&2
	exit 2
fi
version=$1
shift
arches=("${@:-amd64 arm64}")
read -r -a arches <<<"${arches[*]}"
out=${RELEASE_DIR:-release/$version}
mkdir -p "$out"
out=$(cd "$out" && pwd)

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit+=-dirty
fi

cc_for() {
	case $1 in
	amd64) [ "$(go env GOHOSTARCH)" = amd64 ] && echo gcc || echo x86_64-linux-gnu-gcc ;;
	arm64) [ "$(go env GOHOSTARCH)" = arm64 ] && echo gcc || echo aarch64-linux-gnu-gcc ;;
	*) echo "release.sh: no C compiler known for $1" >&2; return 1 ;;
	esac
}

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
host=$(go env GOHOSTARCH)
for arch in "${arches[@]}"; do
	cc=$(cc_for "$arch")
	if ! command -v "$cc" >/dev/null; then
		echo "release.sh: $cc is missing for $arch (see the prerequisites at the top of this script)" >&2
		exit 1
	fi
	bin=$out/mentord-$version-linux-$arch
	CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc go build -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.stampedVersion=$version -X main.stampedCommit=$commit" -o "$bin" ./cmd/mentord
	echo "built $bin ($(du -h "$bin" | cut -f1))"
done

# The man page and completion come from the binary's own commands table.
gen=$build/gen
if [[ " ${arches[*]} " == *" $host "* ]]; then
	cp "$out/mentord-$version-linux-$host" "$gen"
else
	go build -ldflags "-X main.stampedVersion=$version -X main.stampedCommit=$commit" -o "$gen" ./cmd/mentord
fi
"$gen" man | gzip -9n >"$build/mentord.1.gz"
"$gen" completion bash >"$build/mentord.bash"

for arch in "${arches[@]}"; do
	cp "$out/mentord-$version-linux-$arch" "$build/mentord"
	# nfpm expands no variable in the files' paths: fill them in here.
	sed -e "s#\${VERSION}#$version#g" -e "s#\${ARCH}#$arch#g" -e "s#\${BUILD}#$build#g" dist/nfpm.yaml >"$build/nfpm.yaml"
	go tool nfpm package -f "$build/nfpm.yaml" -p deb -t "$out/mentord_${version}_$arch.deb" >"$build/nfpm.log" || {
		cat "$build/nfpm.log" >&2
		exit 1
	}
	echo "built $out/mentord_${version}_$arch.deb ($(du -h "$out/mentord_${version}_$arch.deb" | cut -f1))"
done
(cd "$out" && sha256sum mentord-* ./*.deb | sed 's# \./# #' >SHA256SUMS)
echo "release $version (commit $commit) in $out"
