#!/usr/bin/env bash
# Installs what the libvirt (dedicated hosts) adapter needs to build and test:
#   - libvirt-dev + pkg-config: build the `virt` crate (the adapter's `libvirt` feature);
#   - libvirt-clients: `virsh`, handy to inspect a pool by hand;
#   - libvirt-daemon: the `libvirtd` binary. The tests run several unprivileged libvirtd
#     instances, each with its own config and runtime dirs, serving the built-in test driver over
#     a unix socket (`test+unix:///default?socket=...`), to play a multi-host pool through the
#     remote protocol. No system service is enabled, no qemu is installed.
# Idempotent: does nothing when everything is present; runs `apt-get update` first only when
# something is missing. Nothing is installed outside apt's own locations, so
# ${NUAGE_TOOLS_DIR:-$HOME/.cache/nuage-tools}/libvirt only records where the tools are found.
set -euo pipefail

packages=(libvirt-dev pkg-config libvirt-clients libvirt-daemon)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "libvirt deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  # --no-install-recommends keeps qemu, lvm2 and the other hypervisor drivers out.
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

libvirtd_bin=$(command -v libvirtd || true)
if [ -z "$libvirtd_bin" ] && [ -x /usr/sbin/libvirtd ]; then libvirtd_bin=/usr/sbin/libvirtd; fi
if [ -z "$libvirtd_bin" ]; then
  echo "libvirt deps: libvirtd not found after installing libvirt-daemon" >&2
  exit 1
fi
pkg-config --exists libvirt || { echo "libvirt deps: pkg-config cannot find libvirt" >&2; exit 1; }

tools="${NUAGE_TOOLS_DIR:-$HOME/.cache/nuage-tools}/libvirt"
mkdir -p "$tools"
printf '%s\n' "$libvirtd_bin" > "$tools/libvirtd.path"
echo "libvirt deps: ready (libvirt $(pkg-config --modversion libvirt), libvirtd at $libvirtd_bin)"
