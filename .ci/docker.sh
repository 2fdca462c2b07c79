#!/usr/bin/env bash
# Make a Docker Engine available for the Docker driver's tests and image builds.
#
#   source .ci/docker.sh          # exports DOCKER_HOST in the current shell
#   eval "$(.ci/docker.sh)"       # same, from a script that runs it
#
# Installs docker.io and debootstrap when missing, and starts a dockerd of our own when nothing
# answers on the socket. Its data root lives outside any clone, so the debootstrapped rootfs and
# the built images stay cached between CI runs. `--bridge none`: workspaces get the driver's own
# network (icc off), never the default bridge. Never kills anything it did not start.

studio_docker_main() {
  local sock=/run/studio-docker/docker.sock
  local run_dir=/run/studio-docker
  local data_root=/var/lib/studio-ci-docker
  local log=/var/log/studio-dockerd.log
  local sudo=''
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo='sudo'; else
      echo "studio-docker: needs root (or sudo) to install and start dockerd" >&2
      return 1
    fi
  fi

  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  [ -x /usr/sbin/debootstrap ] || command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "studio-docker: installing ${missing[*]}" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >&2 || return 1
  fi

  if ! DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1; then
    $sudo mkdir -p "$run_dir/exec" "$data_root"
    # A pidfile left by a dead dockerd makes the next one refuse to start; only remove it when
    # the process it names is gone.
    if [ -f "$run_dir/docker.pid" ] && ! $sudo kill -0 "$(cat "$run_dir/docker.pid")" 2>/dev/null; then
      $sudo rm -f "$run_dir/docker.pid"
    fi
    echo "studio-docker: starting dockerd on $sock (log: $log)" >&2
    $sudo sh -c "nohup dockerd \
      --host 'unix://$sock' \
      --data-root '$data_root' \
      --exec-root '$run_dir/exec' \
      --pidfile '$run_dir/docker.pid' \
      --bridge none \
      >>'$log' 2>&1 </dev/null &"
    local waited=0
    until DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1; do
      if [ "$waited" -ge 60 ]; then
        echo "studio-docker: dockerd did not answer within 60 s; last log lines:" >&2
        $sudo tail -n 30 "$log" >&2
        return 1
      fi
      sleep 1
      waited=$((waited + 1))
    done
    # Let the CI user (if not root) use the socket.
    if [ -n "$sudo" ]; then $sudo chown "$(id -u)" "$sock"; fi
  fi

  echo "export DOCKER_HOST=unix://$sock"
  return 0
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: export into the caller's shell; print nothing on stdout.
  if studio_docker_exports="$(studio_docker_main)"; then
    eval "$studio_docker_exports"
    unset studio_docker_exports
  else
    unset studio_docker_exports
    return 1
  fi
else
  set -euo pipefail
  studio_docker_main
fi
