#!/usr/bin/env bash
# Install the system packages FieldForce needs, only those missing, with sudo
# when not root. Debian 12+ / Ubuntu 24.04+ (PostgreSQL 15 or newer with PostGIS 3).
set -euo pipefail

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()

# Python 3.11+ with venv and pip.
if ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "FieldForce needs Python 3.11 or newer as python3" >&2
    missing+=(python3)
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing+=(python3-venv)
fi

# PostgreSQL 15+ server binaries with the PostGIS extension.
have_postgis=no
for control in /usr/share/postgresql/*/extension/postgis.control; do
    [ -e "$control" ] || continue
    version=$(basename "$(dirname "$(dirname "$control")")")
    if [ "$version" -ge 15 ] 2>/dev/null && [ -x "/usr/lib/postgresql/$version/bin/initdb" ]; then
        have_postgis=yes
    fi
done
if [ "$have_postgis" = no ]; then
    missing+=(postgresql postgresql-contrib postgis-server)
fi

# runuser (util-linux) drops root to the postgres user for the local cluster.
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)

# Virtual display and a browser for the UI tests (Kivy window, web pages).
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

# Node and npm install the dashboard's browser packages (npm ci, from the lock file).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
packages=()
for package in "${missing[@]}"; do
    if [ "$package" = postgis-server ]; then
        # The distribution's default PostgreSQL major version, e.g. 15 on Debian 12.
        major=$(apt-cache depends postgresql 2>/dev/null | sed -n 's/.*Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1)
        if [ -z "$major" ]; then
            echo "cannot tell which PostgreSQL version apt provides" >&2
            exit 1
        fi
        packages+=("postgresql-$major" "postgresql-$major-postgis-3")
    else
        packages+=("$package")
    fi
done
as_root apt-get install -y -qq --no-install-recommends "${packages[@]}"
