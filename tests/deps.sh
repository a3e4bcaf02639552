#!/bin/bash
# deps.sh: install the Debian 12 packages pgha needs to build, test and run
# its sandbox, without letting the packages start their own services.
# Needs root. Installs only what is missing.
set -euo pipefail

packages=(
	build-essential autoconf automake pkg-config
	libpq-dev libcurl4-openssl-dev libcjson-dev liblua5.4-dev
	postgresql-15 postgresql-client-15
	etcd-server etcd-client
	patroni python3-etcd python3-psycopg2
	curl valgrind procps
	lz4 zstd
)

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: installing packages needs root: run it with sudo" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps.sh: all ${#packages[@]} packages are installed"
	exit 0
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian's postinst scripts would start a PostgreSQL on 5432 and an etcd on
# 2379; the sandbox runs its own, so keep services from starting meanwhile.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	created_policy=yes
fi
trap '[ "$created_policy" = yes ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
