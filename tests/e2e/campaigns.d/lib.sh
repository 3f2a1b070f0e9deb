# tests/e2e/campaigns.d/lib.sh: fixtures for the campaign tests, sourced after
# tests/lib.sh. A store with a sender, a DKIM key, a list and a template; a
# test CA; the real SMTP test server (tests/servers/smtpd.py) with STARTTLS
# and AUTH on loopback.
PY=/usr/bin/python3
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
SMTPD="$SRC/tests/servers/smtpd.py"
SMTP_USER=hato
SMTP_PASS='s3cret-relay-pw'

# start_smtpd NAME [OPTIONS...]: starts a server whose mail lands in
# $T/NAME/mail (NNNNNN-R.eml + .json); sets PORT and SMTPD_PID.
start_smtpd() {
	local name=$1 i; shift
	mkdir -p "$T/$name"
	"$PY" "$SMTPD" --port 0 --maildir "$T/$name/mail" --stats "$T/$name/stats.json" "$@" \
		>"$T/$name/out" 2>"$T/$name/err" &
	SMTPD_PID=$!
	on_exit "kill $SMTPD_PID 2>/dev/null; wait $SMTPD_PID 2>/dev/null"
	for i in $(seq 100); do
		PORT=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$T/$name/out")
		[ -n "$PORT" ] && return 0
		sleep 0.1
	done
	echo "# smtpd $name did not start: $(cat "$T/$name/err")"
	return 1
}

# stop_smtpd PID
stop_smtpd() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# The TLS+AUTH server: STARTTLS required, our CA.
start_tls_smtpd() {
	start_smtpd "$1" --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
		--auth "$SMTP_USER:$SMTP_PASS" "${@:2}"
}

# use_smtp PORT: points the store at 127.0.0.1:PORT with STARTTLS, our CA and AUTH.
use_smtp() {
	as admin config set smtp.url "smtp://127.0.0.1:$1" >/dev/null &&
		as admin config set smtp.ca_file "$T/ca/ca.pem" >/dev/null &&
		as admin config set smtp.user "$SMTP_USER" >/dev/null &&
		printf '%s\n' "$SMTP_PASS" | as admin config set smtp.password - >/dev/null
}

# The sender identity, unsubscribe settings and an Ed25519 DKIM key (records
# for dkim_verify.py in $T/records), a list "m" and a personalised template "t".
campaign_fixture() {
	bash "$SRC/tests/servers/mkca.sh" "$T/ca" || return 1
	local kv
	for kv in "sender.from News <news@example.com>" "sender.name Hato Ltd" \
		"sender.postal_address 1-2-3 Marunouchi, Tokyo" "sender.contact support@example.com" \
		"unsubscribe.url https://example.com/u/" "unsubscribe.mailto unsubscribe@example.com" \
		"send.retry_base 1"; do
		as admin config set "${kv%% *}" "${kv#* }" >/dev/null || return 1
	done
	as admin dkim keygen example.com ed1 --alg ed25519 >"$T/dkim.out" || return 1
	"$PY" -c "
import re
s=open('$T/dkim.out').read()
print('ed1._domainkey.example.com\t'+''.join(re.findall(r'\"([^\"]*)\"', s)))" >"$T/records"
	printf '# Hello {{name|there}}\n\nNews for {{attr.city}}, code {{attr.code|none}}.\n' >"$T/tpl.md"
	as marketer list add m --name Members >/dev/null &&
		as marketer template add t "$T/tpl.md" >/dev/null
}

# campaign_setup NAME: a new store with the campaign fixture, sending through
# a new TLS+AUTH server NAME; sets MAIL, where its mail lands. 1 on failure.
campaign_setup() {
	new_store || { not_ok "store set-up"; return 1; }
	campaign_fixture || { not_ok "campaign set-up"; return 1; }
	start_tls_smtpd "$1" || { not_ok "SMTP server"; return 1; }
	use_smtp "$PORT" || { not_ok "smtp settings"; return 1; }
	MAIL="$T/$1/mail"
}

# arrived ADDR: how many messages reached ADDR in $MAIL.
arrived() {
	"$PY" "$SRC/tests/e2e/campaigns.d/arrived.py" "$MAIL" counts |
		awk -v r="$1" '$1 == r {print $2}' | grep . || echo 0
}

# send_now NAME: submit as marketer, approve as operator, send now.
send_now() {
	as marketer campaign submit "$1" >/dev/null &&
		as operator campaign approve "$1" >/dev/null &&
		as operator campaign send "$1" >/dev/null
}

# count_to DIR ADDR: how many messages in a maildir went to ADDR.
count_to() {
	local n=0 f
	for f in "$1"/*.json; do
		[ -e "$f" ] || continue
		grep -q "\"rcpt\": \"$2\"" "$f" && n=$((n + 1))
	done
	echo "$n"
}

# sql SQL...: runs SQL on the store with the sqlcipher CLI and the data key
# (derived from admin's keyslot by dbkey.py): what someone holding the key
# could do behind hato's back.
sql() {
	[ -n "${DATA_KEY:-}" ] || DATA_KEY=$("$PY" "$SRC/tests/e2e/campaigns.d/dbkey.py" "$STORE" admin "$T/pw.admin")
	printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_page_size = 8192;\n.bail on\n%s;\n" "$DATA_KEY" "$*" |
		sqlcipher -batch -noheader -list "$STORE" | grep -v '^ok$'
}
