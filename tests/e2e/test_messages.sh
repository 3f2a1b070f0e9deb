#!/usr/bin/env bash
# End to end: templates, rendering, DKIM and the domain check, with the real
# binary, checked by tools we did not write: dkimpy verifies the signatures,
# Python's email package parses the MIME, dnsmasq serves the DNS.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
SRC=$(cd "$(dirname "$0")/../.." && pwd)
new_store || { not_ok "store set-up"; exit 1; }

as admin config set sender.from "ニュース編集部 <news@example.com>" >/dev/null
as admin config set sender.name "鳩商事株式会社" >/dev/null
as admin config set sender.postal_address "東京都千代田区丸の内1-2-3" >/dev/null
as admin config set sender.contact "support@example.com" >/dev/null
as admin config set unsubscribe.url "https://example.com/u/" >/dev/null
as admin config set unsubscribe.mailto "unsubscribe@example.com" >/dev/null

expect 0 "admin makes an RSA DKIM key" as admin dkim keygen example.com rsa1 --alg rsa
check "the record is named SELECTOR._domainkey.DOMAIN" grep -q '^rsa1._domainkey.example.com IN TXT' "$T/out"
check "its strings are at most 255 characters" $PY -c "
import re,sys
s=open('$T/out').read()
parts=re.findall(r'\"([^\"]*)\"', s)
sys.exit(0 if len(parts)>=2 and all(len(p)<=255 for p in parts) else 1)"
$PY -c "
import re
s=open('$T/out').read()
print('rsa1._domainkey.example.com\t'+''.join(re.findall(r'\"([^\"]*)\"', s)))" >"$T/records"
expect 0 "admin makes an Ed25519 DKIM key" as admin dkim keygen example.com ed1 --alg ed25519
$PY -c "
import re
s=open('$T/out').read()
print('ed1._domainkey.example.com\t'+''.join(re.findall(r'\"([^\"]*)\"', s)))" >>"$T/records"
check "the Ed25519 record has k=ed25519" grep -q 'k=ed25519; p=' "$T/records"
expect 77 "a marketer cannot make DKIM keys" as marketer dkim keygen example.com x1
expect 65 "RSA under 1024 bits is refused" as admin dkim keygen example.com small --bits 512
expect 0 "dkim ls lists both keys" as operator dkim ls
check "with both selectors" sh -c "grep -q rsa1 '$T/out' && grep -q ed1 '$T/out'"
check "and no private key" sh -c "! grep -q 'PRIVATE KEY' '$T/out'"
check "the private keys are not in the store file in clear" sh -c "! grep -aq 'PRIVATE KEY' '$STORE' '$STORE-wal' 2>/dev/null"

# ---- Templates -------------------------------------------------------------------
cat >"$T/news.md" <<'MD'
# {{name|お客様}}さん、こんにちは

Your city: **{{attr.city}}**. {{#attr.vip}}Thank you for being a VIP.{{/attr.vip}}

Read [our news](https://example.com/news).
MD
expect 0 "a marketer adds a Markdown template" as marketer template add news "$T/news.md" --layout newsletter
expect 0 "template ls lists it" as viewer template ls
check "as markdown with its layout" grep -q '^news  *markdown  *newsletter' "$T/out"
expect 0 "template copy works" as marketer template copy news news2
expect 0 "template show shows the source" as marketer template show news2
check "the copy has the same source" grep -q '{{attr.city}}' "$T/out"
printf '{{#attr.vip}}never closed\n' >"$T/bad.md"
expect 65 "an unclosed section is refused" as marketer template add bad "$T/bad.md"
check "with line:column and what was expected" grep -q '1:[0-9]*.*expected' "$T/err"
printf 'hello \xff\xfe world\n' >"$T/badutf.md"
expect 65 "invalid UTF-8 is refused" as marketer template add badutf "$T/badutf.md"
check "with a clear error" clear_error
head -c 52428800 /dev/zero | tr '\0' 'a' >"$T/huge.md"
expect 65 "a 50 MB template is refused" as marketer template add huge "$T/huge.md"
check "with a clear error" clear_error
$PY -c "print('{{#a}}'*10000 + 'x' + '{{/a}}'*10000)" >"$T/deep.md"
expect 65 "nesting 10,000 deep is refused" as marketer template add deep "$T/deep.md"
check "with a clear error" clear_error
expect 66 "a missing file gets 66" as marketer template add nofile "$T/none.md"

# ---- Rendering, checked by others' tools --------------------------------------------
as marketer list add members --name "会員" >/dev/null
expect 0 "a subscriber with a Japanese name is added" as marketer subscriber add taro@example.jp --list members --name "山田 太郎" --attr city=東京 --attr vip=1
expect 0 "template render prints the message" as operator template render news --to taro@example.jp --subject "{{name}}様へ 今月のお知らせ"
cp "$T/out" "$T/msg.eml"
expect 0 "the message verifies with dkimpy (RSA and Ed25519, dual)" $PY "$SRC/tests/send/dkim_verify.py" "$T/msg.eml" "$T/records"
check "two signatures" test "$(grep -c '^DKIM-Signature:' "$T/msg.eml")" = 2
cat >"$T/expect.json" <<'JSON'
{"header_line_max": 200, "subject": "山田 太郎様へ 今月のお知らせ", "from_name": "ニュース編集部", "to_name": "山田 太郎",
 "headers": {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}
JSON
expect 0 "Python's email package parses it; Subject and names decode to the Japanese" $PY "$SRC/tests/templates/mime_check.py" "$T/msg.eml" "$T/expect.json"
check "it is personalised" $PY -c "
import email, email.policy, sys
m = email.message_from_binary_file(open('$T/msg.eml','rb'), policy=email.policy.default)
text = m.get_body(('plain',)).get_content()
html = m.get_body(('html',)).get_content()
ok = '東京' in text and 'VIP' in text and '山田 太郎' in html and '鳩商事株式会社' in text
ok = ok and '東京都千代田区丸の内1-2-3' in html and 'https://example.com/u/' in html
lu = m['List-Unsubscribe']
ok = ok and lu.startswith('<https://example.com/u/') and 'mailto:unsubscribe@example.com' in lu
sys.exit(0 if ok else 1)"
check "the newsletter layout's banner shows the list's name (会員), not its id (members)" $PY -c "
import email, email.policy, sys
m = email.message_from_binary_file(open('$T/msg.eml','rb'), policy=email.policy.default)
text, html = m.get_body(('plain',)).get_content(), m.get_body(('html',)).get_content()
sys.exit(0 if text.startswith('会員\n====') and '>会員</td>' in html and 'members' not in text + html else 1)"
printf 'This is {{list.name}}.\n' >"$T/ln.md"
as marketer template add ln "$T/ln.md" >/dev/null || not_ok "template ln"
expect 0 "template render --list members" as operator template render ln --to taro@example.jp --list members
check "{{list.name}} is the list's name, 会員, in both parts" $PY -c "
import email, email.policy, sys
m = email.message_from_bytes(open('$T/out','rb').read(), policy=email.policy.default)
text, html = m.get_body(('plain',)).get_content(), m.get_body(('html',)).get_content()
sys.exit(0 if 'This is 会員.' in text and 'This is 会員.' in html else 1)"
expect 77 "a viewer cannot render a subscriber's message" as viewer template render news --to taro@example.jp

# ---- From: one mailbox; a quoted display name is unquoted once ---------------------
EVE='"Eve" <news@example.com>, x@evil.example'
expect 0 "template render --from '\"Hato, Inc.\" <news@example.com>'" \
	as operator template render news --to taro@example.jp --from '"Hato, Inc." <news@example.com>'
cp "$T/out" "$T/from.eml"
expect 0 "the From's name reads back as Hato, Inc., without the quotes" \
	$PY "$SRC/tests/templates/mime_check.py" "$T/from.eml" \
	'{"header_line_max": 200, "from_name": "Hato, Inc.", "from_local": "news", "from_domain": "example.com"}'
check "written quoted once: From: \"Hato, Inc.\" <news@example.com>" \
	grep -q '^From: "Hato, Inc." <news@example.com>' "$T/from.eml"
expect 0 "and dkimpy verifies it" $PY "$SRC/tests/send/dkim_verify.py" "$T/from.eml" "$T/records"
expect 0 "a quoted Japanese name is encoded (RFC 2047)" \
	as operator template render news --to taro@example.jp --from '"鳩, 株式会社" <news@example.com>'
cp "$T/out" "$T/from2.eml"
expect 0 "and decodes back to 鳩, 株式会社" $PY "$SRC/tests/templates/mime_check.py" "$T/from2.eml" \
	'{"header_line_max": 200, "from_name": "鳩, 株式会社", "from_local": "news"}'
expect 65 "campaign add --from with a second address is refused" \
	as marketer campaign add evil --template news --list members --subject Hi --from "$EVE"
check "  with a clear error" sh -c "head -1 '$T/err' | grep -q '^hato: the From holds more than one address'"
expect 66 "  and no campaign was made" as marketer campaign show evil
expect 0 "campaign add --from with a quoted name" \
	as marketer campaign add good --template news --list members --subject Hi \
	--from '"Hato, Inc." <news@example.com>'
expect 0 "campaign preview shows its From" as marketer campaign preview good --to taro@example.jp
check "  as \"Hato, Inc.\" <news@example.com>" grep -q '^From: "Hato, Inc." <news@example.com>' "$T/out"
expect 65 "campaign edit --from to two addresses is refused" \
	as marketer campaign edit good --from 'a@example.com, b@example.com'
expect 65 "config set sender.from with a second address is refused" \
	as admin config set sender.from "$EVE"
check "  with the same reason" grep -q 'more than one address' "$T/err"
expect 65 "template render --from with a second address is refused too" \
	as operator template render news --to taro@example.jp --from "$EVE"

# ---- ISO-2022-JP to a carrier: the HTML's <meta> charset says it too ---------------
as marketer subscriber add 'a..b@docomo.ne.jp' --list members --name "佐藤 花子" --attr city=大阪 >/dev/null
as admin config set send.iso2022jp carriers >/dev/null
expect 0 "send.iso2022jp carriers: template render to a..b@docomo.ne.jp" \
	as operator template render news --to 'a..b@docomo.ne.jp' --subject "お知らせ"
cp "$T/out" "$T/jis.eml"
expect 0 "it is 7bit ISO-2022-JP, and every <meta> charset of its HTML (read with html.parser) says ISO-2022-JP" \
	$PY "$SRC/tests/templates/mime_check.py" "$T/jis.eml" \
	'{"header_line_max": 200, "charset": "iso-2022-jp", "cte": "7bit", "to_local": "a..b", "to_name": "佐藤 花子"}'
check "the newsletter layout's <meta charset> names ISO-2022-JP, not utf-8" \
	sh -c "grep -q '<meta charset=\"ISO-2022-JP\">' '$T/jis.eml' && ! grep -qi 'charset=\"utf-8\"' '$T/jis.eml'"
expect 0 "to taro@example.jp the same template stays UTF-8, and says so" \
	$PY "$SRC/tests/templates/mime_check.py" "$T/msg.eml" '{"header_line_max": 200, "charset": "utf-8"}'
as admin config set send.iso2022jp off >/dev/null

# ---- Pre-send checks ----------------------------------------------------------------
expect 0 "template check passes a clean template" as marketer template check news --subject "お知らせ"
cat >"$T/sloppy.html" <<'HTML'
<p>Hello {{nmae}}</p><p><a href="http://evil.example/x">https://example.com/account</a></p>
<img src="https://example.com/a.png">
HTML
as marketer template add sloppy "$T/sloppy.html" --layout none >/dev/null
expect 65 "template check fails a sloppy template" as marketer template check sloppy --subject ""
for code in unknown-tag no-unsubscribe footer-missing subject-empty http-link link-mismatch img-no-alt; do
	check "it reports $code" grep -q "$code" "$T/out"
done
check "with the place in the template" grep -q 'body:1:' "$T/out"
# An HTML template with the legal footer in its HTML, and a --text part with
# the unsubscribe link only: the text part lacks the sender's identity.
cat >"$T/footer.html" <<'HTML'
<p>Hello {{name|there}}</p>
<p>{{sender.name}}<br>{{sender.postal_address}}<br>Contact: {{sender.contact}}</p>
<p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>
HTML
printf 'Hello {{name|there}}\n\nUnsubscribe: {{unsubscribe_url}}\n' >"$T/bare.txt"
as marketer template add texty "$T/footer.html" --text "$T/bare.txt" --layout none >/dev/null
expect 65 "template check fails a text part without the sender's identity" \
	as marketer template check texty --subject "Hello"
check "it reports footer-missing for the text part, three times (name, address, contact)" \
	test "$(grep -c '^error *text *footer-missing' "$T/out")" = 3
check "and counts them as errors" grep -q '^3 errors' "$T/out"
printf 'Hello\n\n{{sender.name}}\n{{sender.postal_address}}\n{{sender.contact}}\nUnsubscribe: {{unsubscribe_url}}\n' >"$T/full.txt"
as marketer template add texty2 "$T/footer.html" --text "$T/full.txt" --layout none >/dev/null
expect 0 "with the identity in the text part too, template check passes" \
	as marketer template check texty2 --subject "Hello"

# ---- Domain check against a real DNS server ---------------------------------------------
port=""
for p in $(shuf -i 20000-40000 -n 10); do
	rsa=$(grep '^rsa1' "$T/records" | cut -f2)
	ed=$(grep '^ed1' "$T/records" | cut -f2)
	# dnsmasq splits TXT strings on commas; a DKIM key has none.
	rsa_strings=$($PY -c "import sys; v=sys.argv[1]; print(','.join(v[i:i+250] for i in range(0,len(v),250)))" "$rsa")
	/usr/sbin/dnsmasq --no-daemon --port="$p" --listen-address=127.0.0.1 --bind-interfaces \
		--no-resolv --no-hosts --conf-file=/dev/null --user=root \
		--txt-record=example.com,"v=spf1 ip4:192.0.2.0/24 -all" \
		--txt-record=_dmarc.example.com,"v=DMARC1; p=reject; adkim=r; aspf=r" \
		--txt-record="rsa1._domainkey.example.com,$rsa_strings" \
		--txt-record="ed1._domainkey.example.com,$ed" \
		--mx-host=example.com,mx.example.com,10 --host-record=mx.example.com,192.0.2.10 \
		--txt-record=nodmarc.example,"v=spf1 -all" --host-record=nodmarc.example,192.0.2.20 \
		--host-record=out.example.com,192.0.2.7 --local=/in-addr.arpa/ \
		>"$T/dnsmasq.log" 2>&1 &
	dpid=$!
	sleep 0.5
	if kill -0 "$dpid" 2>/dev/null; then port=$p; break; fi
done
on_exit "kill $dpid 2>/dev/null"
check "dnsmasq runs on loopback" test -n "$port"
expect 0 "domain check passes a well set-up domain" as marketer domain check example.com --dns "127.0.0.1:$port" --ip 192.0.2.7
check "SPF, DKIM, DMARC and MX pass" sh -c "grep -q '^PASS *SPF' '$T/out' && grep -q '^PASS *DKIM' '$T/out' && grep -q '^PASS *DMARC' '$T/out' && grep -q '^PASS *MX' '$T/out'"
check "and the sending IP's reverse DNS, forward-confirmed" grep -q '^PASS *PTR *192.0.2.7 is out.example.com, which resolves back to it' "$T/out"
expect 65 "an IP in SPF without reverse DNS fails" as marketer domain check example.com --dns "127.0.0.1:$port" --ip 192.0.2.8
check "  on PTR" grep -q '^FAIL *PTR *192.0.2.8 has no PTR record' "$T/out"
expect 65 "a sending IP outside SPF fails" as marketer domain check example.com --dns "127.0.0.1:$port" --ip 198.51.100.1
expect 65 "a domain with no DMARC fails" as marketer domain check nodmarc.example --dns "127.0.0.1:$port"
check "and says what to publish" grep -qi '_dmarc' "$T/out"

# ---- The unsubscribe link, followed: what serves unsubscribe.url runs this -------
as marketer list add letters --name "Letters" >/dev/null
as marketer subscriber add hana@example.jp --list letters >/dev/null
as marketer subscriber add hana@example.jp --list members >/dev/null
expect 0 "a message to hana from letters" as operator template render news --to hana@example.jp --list letters
url=$($PY -c "
import email, email.policy
m = email.message_from_binary_file(open('$T/out','rb'), policy=email.policy.default)
print(m['List-Unsubscribe'].split('<')[1].split('>')[0])")
check "carries an https unsubscribe link" grep -q '^https://example.com/u/' <<<"$url"
expect 77 "a viewer may not follow it for someone" as viewer subscriber unsubscribe --link "$url"
expect 0 "the link, whole, unsubscribes" as marketer subscriber unsubscribe --link "$url?utm=x"
check "the person it names from its list, without showing the address" sh -c "grep -qx 'unsubscribed the person the link names from letters' '$T/out' && ! grep -q hana '$T/out'"
expect 0 "hana's record" as marketer subscriber show hana@example.jp
check "is unsubscribed from letters, by the link" grep -q 'unsubscribed *letters.*by the unsubscribe link of a message' "$T/out"
check "and still on members" grep -q '^ *members *active' "$T/out"
expect 0 "its token alone, again" as marketer subscriber unsubscribe --link "${url##*/}"
check "has nothing to do" grep -qx 'nothing to do: the person the link names is already unsubscribed from letters' "$T/out"
last=${url: -1}
[ "$last" = A ] && other=B || other=A
expect 65 "a token changed by one character is refused" as marketer subscriber unsubscribe --link "${url%?}$other"
check "as not this store's" grep -q 'its token does not verify' "$T/err"
expect 65 "so is a link with no token" as marketer subscriber unsubscribe --link "https://example.com/u/"
expect 64 "a link and an address together are a usage error" as marketer subscriber unsubscribe hana@example.jp --link "$url"
finish
