# Fixtures for the rows in *.rows: sourced by test_roles.sh after new_store.
# sender.name is "Hato", the value the config set row of test_roles.sh writes:
# a changed setting would leave fs's approval stale, and campaign send refuse it.
mkdir -p "$T/outbox"
for kv in "smtp.url file:$T/outbox" "sender.from News <news@example.com>" "sender.name Hato" \
	"sender.postal_address 1-2-3 Marunouchi, Tokyo" "sender.contact support@example.com" \
	"unsubscribe.url https://example.com/u/" "unsubscribe.mailto unsubscribe@example.com"; do
	as admin config set "${kv%% *}" "${kv#* }" >/dev/null || not_ok "setup: config ${kv%% *}"
done
as admin dkim keygen example.com fx --alg ed25519 >/dev/null || not_ok "setup: dkim"
printf '# Hello {{name|there}}\n\nNews for {{attr.city}}.\n' >"$T/tpl.md"
printf 'email,name,city\nimp1@example.com,Imp One,Osaka\nimp2@example.com,Imp Two,Tokyo\n' >"$T/import.csv"
as marketer list add m --name Members >/dev/null || not_ok "setup: list"
as marketer subscriber add sub@example.com --list m --name "Sub Scriber" --attr city=Tokyo >/dev/null || not_ok "setup: subscriber"
as marketer template add t "$T/tpl.md" >/dev/null || not_ok "setup: template"
as marketer segment add gx --list m --where 'attr.city = "Tokyo"' >/dev/null || not_ok "setup: segment"
for c in fx fa fr fs; do
	as marketer campaign add "$c" --template t --list m --subject "News" >/dev/null || not_ok "setup: campaign $c"
done
for c in fa fr fs; do
	as marketer campaign submit "$c" >/dev/null || not_ok "setup: submit $c"
done
as operator campaign approve fs >/dev/null || not_ok "setup: approve fs"
# A DSN naming nobody on file, for bounce read.
printf '%s\n' "Content-Type: multipart/report; report-type=delivery-status; boundary=b" "" \
	"--b" "Content-Type: message/delivery-status" "" "Reporting-MTA: dns; mx.example.org" "" \
	"Final-Recipient: rfc822; nobody@example.org" "Action: failed" "Status: 5.1.1" "--b--" \
	>"$T/dsn.eml"
