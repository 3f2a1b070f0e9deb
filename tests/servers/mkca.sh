#!/usr/bin/env bash
# tests/servers/mkca.sh DIR: makes test certificates with openssl in DIR:
#   ca.pem, ca.key           a test CA
#   server.pem, server.key   signed by the CA, for 127.0.0.1, ::1 and localhost
#   other.pem, other.key     signed by the CA, for other.invalid only (wrong name)
#   self.pem, self.key       self-signed for 127.0.0.1/localhost (unknown CA)
# EC P-256 keys, valid for 2 days. Quiet unless something fails.
set -eu
dir=${1:?usage: mkca.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

ossl() { openssl "$@" 2>/dev/null; }

ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=hato test CA" -keyout ca.key -out ca.pem \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

leaf() { # NAME CN SAN
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$1.key" -out "$1.csr"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" >"$1.ext"
	ossl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile "$1.ext" -out "$1.pem"
	rm -f "$1.csr" "$1.ext"
}
leaf server localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf other other.invalid "DNS:other.invalid"

ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=localhost" -keyout self.key -out self.pem \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
chmod 0644 ./*.pem
