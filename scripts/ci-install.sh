#!/usr/bin/env bash
# System packages the tests need besides npm's: Debian's docker-registry, the local OCI registry the Helm
# tests push charts to (test/support/helm-repositories.ts starts it on a free loopback port).
set -euo pipefail
if command -v docker-registry >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker-registry
