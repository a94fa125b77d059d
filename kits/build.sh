#!/usr/bin/env bash
# Assembles every board kit into public/kits (placeholder until the Pi kit recipe lands).
set -euo pipefail
