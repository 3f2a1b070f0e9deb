#!/usr/bin/python3
"""Independent DKIM check of a message signed by hato, using dkimpy.

Usage: dkim_verify.py MESSAGE RECORDS [--algs rsa-sha256,ed25519-sha256]

RECORDS is a file of lines "NAME<TAB>TXT VALUE" (for example
"sel._domainkey.example.com<TAB>v=DKIM1; k=rsa; p=..."), served to dkimpy
instead of DNS.

Checks every DKIM-Signature field in the message:
  - it verifies (dkimpy, with the records above);
  - a= is rsa-sha256 or ed25519-sha256; with --algs, the signatures use
    exactly those algorithms, in that order;
  - there is no l= tag; c= is relaxed/relaxed;
  - h= holds list-unsubscribe and list-unsubscribe-post, never return-path or
    received, and names from, subject, date, to and message-id once more than
    the message has them (oversigning).

Exit status: 0 all good, 1 a signature does not verify, 2 a signature
verifies but breaks a rule above (or there is none), 3 usage or input error.
"""
import sys

import dkim
from dkim.util import parse_tag_value

OVERSIGNED = [b"from", b"subject", b"date", b"to", b"message-id",
              b"list-unsubscribe", b"list-unsubscribe-post", b"content-type",
              b"reply-to"]


def load_records(path):
    recs = {}
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            if not line:
                continue
            name, _, value = line.partition(b"\t")
            recs[name.lower().rstrip(b".")] = value
    return recs


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 3
    with open(argv[1], "rb") as f:
        msg = f.read()
    recs = load_records(argv[2])
    algs = None
    if len(argv) == 5 and argv[3] == "--algs":
        algs = argv[4].encode().split(b",")

    def dnsfunc(name, timeout=5):
        return recs.get(name.lower().rstrip(b"."))

    d = dkim.DKIM(msg)
    sigs = [i for i, (n, _) in enumerate(d.headers) if n.lower() == b"dkim-signature"]
    if not sigs:
        print("no DKIM-Signature field")
        return 2
    counts = {}
    for n, _ in d.headers:
        counts[n.lower()] = counts.get(n.lower(), 0) + 1

    status = 0
    seen_algs = []
    for idx in range(len(sigs)):
        value = d.headers[sigs[idx]][1]
        tags = parse_tag_value(value)
        a = tags.get(b"a", b"")
        seen_algs.append(a)
        h = [x.strip().lower() for x in tags.get(b"h", b"").split(b":")]
        why = ""
        try:
            ok = dkim.DKIM(msg).verify(idx=idx, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            ok, why = False, " (%s)" % e
        print("signature %d: a=%s d=%s s=%s verify=%s%s" % (
            idx, a.decode(), tags.get(b"d", b"").decode(),
            tags.get(b"s", b"").decode(), ok, why))
        if not ok:
            status = 1
            continue
        problems = []
        if a not in (b"rsa-sha256", b"ed25519-sha256"):
            problems.append("algorithm %r" % a)
        if b"l" in tags:
            problems.append("l= present")
        if tags.get(b"c") != b"relaxed/relaxed":
            problems.append("c=%r" % tags.get(b"c"))
        for need in (b"list-unsubscribe", b"list-unsubscribe-post"):
            if need not in h:
                problems.append("h= lacks " + need.decode())
        for never in (b"return-path", b"received"):
            if never in h:
                problems.append("h= signs " + never.decode())
        for o in OVERSIGNED:
            if h.count(o) != counts.get(o, 0) + 1:
                problems.append("%s in h= %d times, in message %d times" % (
                    o.decode(), h.count(o), counts.get(o, 0)))
        if problems:
            print("  rule broken: " + "; ".join(problems))
            status = max(status, 2)
    if algs is not None and seen_algs != algs:
        print("algorithms %r, expected %r" % (seen_algs, algs))
        status = max(status, 2)
    return status


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except OSError as e:
        print(e, file=sys.stderr)
        sys.exit(3)
