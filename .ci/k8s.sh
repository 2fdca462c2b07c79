#!/usr/bin/env bash
# Make a Kubernetes control plane available for the Kubernetes tests, built only from Debian.
#
#   source .ci/k8s.sh          # exports STUDIO_K8S_BIN in the current shell
#   eval "$(.ci/k8s.sh)"       # same, from a script that runs it
#
# Debian bookworm ships kubectl but no kube-apiserver, so this builds kube-apiserver,
# kube-controller-manager, kube-scheduler and kubelet from Debian's source package `kubernetes`
# (1.20.2, vendored) with Debian's Go 1.19, the way debian/rules does (GOPATH mode, CGO off).
# The binaries are cached outside any clone, so a cache hit takes seconds:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/prometheus-studio/k8s/v1.20.2/
#     bin/       the four binaries, moved in only when all of them built
#     pause.tar  the pods' sandbox image (studio-test/pause:1), for `ctr images import`
#     build.log  the last build's output
#     work/      source, GOPATH and Go build cache; removed after a successful build
#
# Also installs etcd-server (the tests' etcd), openssl, and containerd, runc, the CNI plugins and
# iproute2 for the tier that runs pods. Never touches the system's apt sources: the source package is
# fetched with a private deb-src list and package lists under work/.

STUDIO_K8S_VERSION=1.20.2
STUDIO_K8S_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet)

studio_k8s_install_packages() {
  local sudo=$1 missing=()
  command -v go >/dev/null 2>&1 || missing+=(golang-go)
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  # An existing kubectl (e.g. Google's `kubectl` package) owns /usr/bin/kubectl; Debian's
  # kubernetes-client would conflict with it.
  command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
  command -v dpkg-source >/dev/null 2>&1 || missing+=(dpkg-dev)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v flock >/dev/null 2>&1 || missing+=(util-linux)
  command -v containerd >/dev/null 2>&1 || missing+=(containerd)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/aarch64-linux-gnu/libc.a ] ||
    missing+=(libc6-dev)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "studio-k8s: installing ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2 || return 1
}

# Download and unpack Debian's source into work/gopath/src/k8s.io/kubernetes.
studio_k8s_fetch_source() {
  local work=$1
  local apt_dir=$work/apt dl=$work/dl src=$work/gopath/src/k8s.io/kubernetes
  rm -rf "$dl" "$src" && mkdir -p "$apt_dir/lists/partial" "$dl" "$(dirname "$src")" || return 1
  cat >"$apt_dir/deb-src.sources" <<'EOF' || return 1
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  local apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/deb-src.sources" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
  )
  apt-get "${apt_opts[@]}" update || return 1
  (cd "$dl" && apt-get "${apt_opts[@]}" source kubernetes) || return 1
  # Debian's version reads 1.20.5+really1.20.2: the upstream tree is 1.20.2.
  local unpacked
  unpacked=$(find "$dl" -mindepth 1 -maxdepth 1 -type d -name "kubernetes-*really$STUDIO_K8S_VERSION") || return 1
  if [ -z "$unpacked" ]; then
    echo "the source package is not Kubernetes $STUDIO_K8S_VERSION: $(ls "$dl")"
    return 1
  fi
  mv "$unpacked" "$src"
}

# Debian's tarball lacks pkg/generated/openapi/zz_generated.openapi.go (the API server's OpenAPI
# definitions); generate it with the vendored openapi-gen over the same packages upstream's
# Makefile.generated_files selects (every package tagged +k8s:openapi-gen= except the code
# generator's and the sample API server's examples).
studio_k8s_generate_openapi() {
  local work=$1 src=$1/gopath/src/k8s.io/kubernetes
  go build -o "$work/openapi-gen" k8s.io/kubernetes/vendor/k8s.io/kube-openapi/cmd/openapi-gen || return 1
  # Statuses inside the pipeline are not checked (a grep batch without a match exits 1); an
  # empty list is.
  local inputs
  inputs=$(cd "$src" && find -H . \( -path './_*' -o -path './.*' -o -path ./vendor \) -prune \
      -o -type f -name '*.go' -print |
    sed 's|^\./staging/src/|vendor/|; s|^\./||' |
    xargs grep -l '^// *+k8s:' | xargs grep -l '+k8s:openapi-gen=' |
    grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' |
    xargs -n1 dirname | LC_ALL=C sort -u | sed 's|^|k8s.io/kubernetes/|' | paste -sd,)
  if [ -z "$inputs" ]; then
    echo "no package in $src is tagged +k8s:openapi-gen="
    return 1
  fi
  # From inside the tree, as hack/run-in-gopath.sh runs it: the generator resolves imports from
  # the working directory, and only there does k8s.io/kubernetes/vendor apply.
  (cd "$src" && "$work/openapi-gen" --logtostderr \
    -i "$inputs" \
    -p k8s.io/kubernetes/pkg/generated/openapi \
    -O zz_generated.openapi \
    -h "$src/vendor/k8s.io/code-generator/hack/boilerplate.go.txt" \
    -r "$work/openapi-violations.report") || return 1
  test -s "$src/pkg/generated/openapi/zz_generated.openapi.go" || return 1
  # Upstream's check that the right packages went in: the API rule violations found must be
  # exactly the known ones.
  diff "$work/openapi-violations.report" "$src/api/api-rules/violation_exceptions.list"
}

studio_k8s_build_component() {
  local out=$1 component=$2
  # What hack/lib/version.sh stamps in, so `--version` and the API's /version say v1.20.2.
  local ldflags='-s -w' pkg key value
  for pkg in client-go/pkg/version component-base/version; do
    for key in gitVersion=v$STUDIO_K8S_VERSION gitMajor=1 gitMinor=20 gitTreeState=clean \
      buildDate="$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
      value=${key#*=}
      ldflags+=" -X k8s.io/kubernetes/vendor/k8s.io/$pkg.${key%%=*}=$value"
    done
  done
  go build -o "$out/$component" -ldflags "$ldflags" "k8s.io/kubernetes/cmd/$component"
}

studio_k8s_step() {
  local log=$1 name=$2 started=$SECONDS
  shift 2
  printf '\n== %s\n' "$name" >>"$log"
  if "$@" >>"$log" 2>&1; then
    echo "studio-k8s: $name ($((SECONDS - started)) s)" >&2
  else
    echo "studio-k8s: $name FAILED; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
}

studio_k8s_build() {
  local cache=$1 work=$1/work log=$1/build.log
  : >"$log" || return 1
  echo "studio-k8s: building Kubernetes $STUDIO_K8S_VERSION from Debian's source (log: $log)" >&2
  rm -rf "$work" "$cache/bin.partial" && mkdir -p "$work" "$cache/bin.partial" || return 1
  studio_k8s_step "$log" "fetch source" studio_k8s_fetch_source "$work" || return 1
  (
    # GOPATH mode with the vendored tree, as debian/rules builds it; CGO off as there.
    export GOPATH=$work/gopath GO111MODULE=off CGO_ENABLED=0 GOCACHE=$work/go-build GOFLAGS=
    studio_k8s_step "$log" "generate OpenAPI definitions" studio_k8s_generate_openapi "$work" || exit 1
    local component
    for component in "${STUDIO_K8S_COMPONENTS[@]}"; do
      studio_k8s_step "$log" "build $component" studio_k8s_build_component "$cache/bin.partial" "$component" ||
        exit 1
    done
  ) || return 1
  rm -rf "$cache/bin" && mv "$cache/bin.partial" "$cache/bin" || return 1
  # Source and Go build cache are far larger than the binaries and only needed to rebuild.
  rm -rf "$work"
}

# The pod sandbox image. Debian packages no `pause` image and the tests pull nothing, so build
# one: a static program that waits for signals and reaps orphans (what upstream's pause.c does),
# as a one-layer `docker save` archive that `ctr images import` reads.
studio_k8s_build_pause() {
  local cache=$1 work
  work=$(mktemp -d) || return 1
  cat >"$work/pause.c" <<'EOF'
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, stop);
  signal(SIGTERM, stop);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
EOF
  mkdir "$work/rootfs" "$work/image" &&
    gcc -static -Os -s -o "$work/rootfs/pause" "$work/pause.c" &&
    tar -C "$work/rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
      -cf "$work/image/layer.tar" pause || { rm -rf "$work"; return 1; }
  local arch diff_id
  arch=$(go env GOARCH) && diff_id=$(sha256sum "$work/image/layer.tar" | cut -d' ' -f1) || {
    rm -rf "$work"
    return 1
  }
  printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$diff_id" >"$work/image/config.json" &&
    printf '[{"Config":"config.json","RepoTags":["studio-test/pause:1"],"Layers":["layer.tar"]}]' \
      >"$work/image/manifest.json" &&
    tar -C "$work/image" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
      -cf "$cache/pause.tar.partial" manifest.json config.json layer.tar &&
    mv "$cache/pause.tar.partial" "$cache/pause.tar"
  local status=$?
  rm -rf "$work"
  return $status
}

studio_k8s_have_binaries() {
  local component
  for component in "${STUDIO_K8S_COMPONENTS[@]}"; do
    [ -x "$1/bin/$component" ] || return 1
  done
}

studio_k8s_main() {
  local cache=${XDG_CACHE_HOME:-$HOME/.cache}/prometheus-studio/k8s/v$STUDIO_K8S_VERSION
  local sudo='' lock_fd
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo='sudo'; else
      echo "studio-k8s: needs root (or sudo) to install Debian packages" >&2
      return 1
    fi
  fi
  studio_k8s_install_packages "$sudo" || {
    echo "studio-k8s: installing Debian packages failed" >&2
    return 1
  }

  if ! studio_k8s_have_binaries "$cache"; then
    mkdir -p "$cache" || return 1
    # To prevent two CI runs from building into the same directory at once; the second waits
    # and then finds the binaries.
    exec {lock_fd}>"$cache/.lock" || return 1
    flock "$lock_fd" || return 1
    if ! studio_k8s_have_binaries "$cache"; then
      local started=$SECONDS
      if ! studio_k8s_build "$cache"; then
        exec {lock_fd}>&-
        echo "studio-k8s: building Kubernetes $STUDIO_K8S_VERSION failed (log: $cache/build.log)" >&2
        return 1
      fi
      echo "studio-k8s: built in $((SECONDS - started)) s" >&2
    fi
    exec {lock_fd}>&-
  fi

  if [ ! -s "$cache/pause.tar" ]; then
    studio_k8s_build_pause "$cache" || {
      echo "studio-k8s: building the pause image failed" >&2
      return 1
    }
  fi

  echo "studio-k8s: binaries in $cache/bin ($(du -sh "$cache/bin" | cut -f1))" >&2
  echo "export STUDIO_K8S_BIN=$cache/bin"
  return 0
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: export into the caller's shell; print nothing on stdout.
  if studio_k8s_exports="$(studio_k8s_main)"; then
    eval "$studio_k8s_exports"
    unset studio_k8s_exports
  else
    unset studio_k8s_exports
    return 1
  fi
else
  set -euo pipefail
  studio_k8s_main
fi
