#!/usr/bin/env bash
# Installs the Debian packages that building, running and testing hato need,
# but only those that are missing. Uses sudo when not root.
set -euo pipefail

pkgs=(
	build-essential pkg-config clang libclang-rt-14-dev
	libncurses-dev libsqlcipher-dev sqlcipher libcurl4-openssl-dev libsodium-dev
	libopendkim-dev libcmark-dev libcsv-dev libssl-dev libidn2-dev libunistring-dev libcmocka-dev sqlite3
	openssl ca-certificates tmux faketime dnsmasq-base bc time groff-base procps locales
	python3 python3-aiosmtpd python3-dkim python3-dnspython python3-nacl
	postfix
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
# Postfix is only here for smtp-sink and smtp-source (make bench); keep it unconfigured.
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
