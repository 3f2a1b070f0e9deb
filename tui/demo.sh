#!/usr/bin/env bash
# make run: opens hato on a demo store in demo/, creating it on first use.
# The demo users' passwords are printed once, when the store is made.
# The demo sends through the file transport into demo/outbox, so a campaign
# goes from draft to "sent" without any mail server.
set -euo pipefail
cd "$(dirname "$0")/.."
HATO=${HATO:-$PWD/hato}
DEMO=${HATO_DEMO_DIR:-$PWD/demo}
STORE=$DEMO/hato.db

if [ ! -f "$STORE" ]; then
	umask 077 # the password files below are private
	mkdir -p "$DEMO"
	chmod 700 "$DEMO"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	declare -A pw
	for u in admin marketer operator viewer; do
		pw[$u]=$(openssl rand -base64 15 | tr -d '/+=' | head -c 16)
		printf '%s\n' "${pw[$u]}" >"$tmp/$u"
	done
	h() { local u=$1; shift; "$HATO" --store "$STORE" --user "$u" --password-file "$tmp/$u" "$@" >/dev/null; }
	"$HATO" --store "$STORE" --password-file "$tmp/admin" init --admin admin --kdf interactive >/dev/null
	for u in marketer operator viewer; do
		h admin user add "$u" --role "$u" --kdf interactive --new-password-file "$tmp/$u"
	done
	h admin config set smtp.url "file:$DEMO/outbox"
	h admin config set sender.from "Hato Demo <news@demo.example>"
	h admin config set sender.name "Hato Demo Co."
	h admin config set sender.postal_address "1-2-3 Marunouchi, Chiyoda-ku, Tokyo 100-0005, Japan"
	h admin config set sender.contact "support@demo.example"
	h admin config set unsubscribe.url "https://demo.example/u/"
	h admin config set unsubscribe.mailto "unsubscribe@demo.example"
	h admin dkim keygen demo.example demo --alg ed25519
	h marketer list add english --name "English newsletter" --description "Monthly news in English"
	h marketer list add japanese --name "日本語ニュース" --description "日本語の月刊ニュース"
	h marketer import english tui/demo/english.csv
	h marketer import japanese tui/demo/japanese.csv
	h marketer segment add tokyo --list japanese --where 'attr.city = "東京"'
	h marketer template add welcome tui/demo/welcome.md --layout newsletter
	h marketer campaign add welcome --template welcome --list japanese \
		--subject "{{name|お客様}}さん、ようこそ"
	cat <<MSG
The demo store is in $DEMO/, with these users. Their passwords are shown
this once; write them down:

  admin     ${pw[admin]}
  marketer  ${pw[marketer]}
  operator  ${pw[operator]}
  viewer    ${pw[viewer]}

A draft campaign "welcome" is waiting: log in as marketer to submit it,
then as operator to approve and send it. Messages sent from the demo land
in $DEMO/outbox as .eml files.
MSG
	read -r -p "Press Enter to open hato. " _ || true
fi
exec "$HATO" --store "$STORE"
