#!/usr/bin/env bash
# Java for the Spark tests (pyspark itself comes with the project's `spark` extra).
set -euo pipefail
if ! command -v java >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    openjdk-17-jre-headless
fi
java -version 2>&1 | head -n 1
