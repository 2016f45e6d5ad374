#!/usr/bin/env bash
# Set up streetwatch on a fresh Debian/Ubuntu machine: system packages (apt), a virtual
# environment in .venv with the project and its dev tools. Safe to run again: it skips what is done.
#   scripts/setup.sh          what the service needs
#   scripts/setup.sh --test   plus what the test suite needs (GStreamer's RTSP server, Redis)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg)  # ffmpeg + ffprobe: the decoder of every camera
if [ "${1:-}" = "--test" ]; then
  # a real RTSP server on 127.0.0.1 for the live-camera tests, run by Debian's python3 (gi)
  APT_PACKAGES+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-tools
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
    gstreamer1.0-plugins-bad gstreamer1.0-libav)
  # a real Redis for the networked queue, spool and camera-lease tests
  APT_PACKAGES+=(redis-server)
  # headless Chromium for the review UI's browser tests (Playwright drives it; no
  # `playwright install`), and a CJK font so the Chinese labels render in its screenshots
  APT_PACKAGES+=(chromium fonts-wqy-zenhei)
fi
PYTHON=${PYTHON:-python3}

need_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${need_apt[*]} with apt-get"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.streetwatch-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing streetwatch and its dependencies into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$want" > "$stamp"
fi
echo "setup: ready ($(.venv/bin/streetwatch --help >/dev/null && echo streetwatch ok))"
