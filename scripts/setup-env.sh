# Sourced by demo.sh and test.sh: Debian packages (when missing) and .venv with the project.
# Usage: source scripts/setup-env.sh; apt_install PKG...; make_venv EXTRAS
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
APT_UPDATED=""

# Install Debian packages (apt-get update once, first).
apt_install() {
  [ "$#" -gt 0 ] || return 0
  echo "==> apt-get install $*"
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A Python >= 3.11 that can make virtualenvs (python3-venv on Debian).
find_python() {
  PYTHON="${PYTHON:-python3}"
  if ! command -v "$PYTHON" >/dev/null; then apt_install python3 python3-venv; fi
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Python >= 3.11 required ($PYTHON is older)" >&2; exit 1; }
  if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then apt_install python3-venv; fi
}

# Create .venv if missing and install the project (editable) with the given extras.
make_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    find_python
    echo "==> creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
  fi
  echo "==> pip install -e .${extras:+[$extras]}"
  quiet_pip install --upgrade pip
  quiet_pip install -e ".${extras:+[$extras]}"
}

# pip -q, without the per-package notes about absent local mirrors some machines configure.
quiet_pip() {
  .venv/bin/python -m pip -q "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }
}

# A free TCP port on 127.0.0.1.
free_port() {
  .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
