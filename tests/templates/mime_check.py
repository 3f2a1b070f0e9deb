#!/usr/bin/python3
"""Checks a message that hato built, with Python's own MIME parser.

usage: mime_check.py MESSAGE_FILE EXPECTED

EXPECTED is a JSON file (or a JSON object given inline). Every key is
optional:
  subject, from_name, from_local, from_domain, to_name, to_local, to_domain
  text, html          the decoded bodies (line ends compared as "\\n")
  charset, cte        of both parts ("utf-8"/"iso-2022-jp", "quoted-printable"/"7bit")
  headers             {"Name": "decoded value"}
  header_names        the exact list of header field names, in order
  header_line_max     the longest header line allowed (default 78)
  text_line_max       the longest line of the text part allowed (default 998)
  html_line_max       the same for the HTML part
  html_as_parsed      compare the HTML as html.parser reads it (tags, their
                      attributes, text, comments left out), not byte for
                      byte: line breaks between attributes, and comments
                      between characters, are allowed
  flowed              whether the text part is format=flowed (RFC 3676); its
                      text is compared as a reader of flowed text joins it
Always checked: CRLF line ends only; no line over 998 bytes; quoted-printable
lines at most 76; encoded-words at most 75 characters; no Bcc or Cc header;
multipart/alternative with text/plain first and text/html last; no defects;
every charset the HTML declares in a <meta> tag (read with Python's
html.parser) is the charset of its MIME part.
Exits 0 when everything holds, 1 with a reason otherwise.
"""
import email
import email.header
import email.policy
import email.utils
import html.parser
import json
import re
import sys

EW = re.compile(rb"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=")


def fail(msg):
    print("mime_check: " + msg, file=sys.stderr)
    sys.exit(1)


def check_lines(raw, header_max, text_max, html_max):
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    lines = raw.split(b"\r\n")
    in_headers, in_qp, part_headers, part = True, False, False, 0
    for i, line in enumerate(lines):
        if b"\r" in line or b"\n" in line:
            fail("line %d has a bare CR or LF: %r" % (i + 1, line[:80]))
        if len(line) > 998:
            fail("line %d is %d bytes long" % (i + 1, len(line)))
        if in_headers:
            if line == b"":
                in_headers = False
                continue
            if len(line) > header_max:
                fail("header line %d is %d bytes: %r" % (i + 1, len(line), line[:100]))
            for ew in EW.findall(line):
                if len(ew) > 75:
                    fail("encoded-word of %d characters: %r" % (len(ew), ew))
            continue
        if line.startswith(b"--=_hato_"):
            part_headers, in_qp = True, False
            part += 1
            continue
        if part_headers:
            if line.lower().startswith(b"content-transfer-encoding: quoted-printable"):
                in_qp = True
            if line == b"":
                part_headers = False
            continue
        if in_qp and len(line) > 76:
            fail("quoted-printable line %d is %d bytes" % (i + 1, len(line)))
        if part == 1 and len(line) > text_max:
            fail("text line %d is %d bytes: %r" % (i + 1, len(line), line[:100]))
        if part == 2 and len(line) > html_max:
            fail("HTML line %d is %d bytes: %r" % (i + 1, len(line), line[:100]))


def norm(s):
    return s.replace("\r\n", "\n")


def unflow(s, delsp):
    """Flowed text (RFC 3676) as a reader joins it: a line that ends in a
    space goes on in the next (that space dropped with DelSp=yes), and one
    space-stuffed loses its first space."""
    out, cur = [], ""
    for line in s.split("\n"):
        if line.startswith(" "):
            line = line[1:]
        if line.endswith(" ") and line != "-- ":
            cur += line[:-1] if delsp else line
            continue
        out.append(cur + line)
        cur = ""
    if cur:
        out.append(cur)
    return "\n".join(out)


def rfc2047_name(raw_msg, field):
    """The display name as RFC 2047 decodes it. Python 3.11's address parser
    puts a space between adjacent encoded-words in a phrase, which RFC 2047
    section 6.2 says to drop; decode_header() does it right."""
    name, _ = email.utils.parseaddr(str(raw_msg[field]))
    return str(email.header.make_header(email.header.decode_header(name)))


def check_addr(msg, raw_msg, field, exp):
    h = msg[field]
    if h is None:
        fail("no %s header" % field)
    addrs = h.addresses
    if len(addrs) != 1:
        fail("%s holds %d addresses: %r" % (field, len(addrs), str(h)))
    a = addrs[0]
    key = field.lower()
    if key + "_name" in exp:
        want = exp[key + "_name"]
        got = rfc2047_name(raw_msg, field)
        if got != want:
            fail("%s display name %r != %r" % (field, got, want))
        if a.display_name.replace(" ", "") != want.replace(" ", ""):
            fail("%s display name (email.policy.default) %r != %r" % (field, a.display_name, want))
    if key + "_local" in exp and a.username != exp[key + "_local"]:
        fail("%s local part %r != %r" % (field, a.username, exp[key + "_local"]))
    if key + "_domain" in exp and a.domain != exp[key + "_domain"]:
        fail("%s domain %r != %r" % (field, a.domain, exp[key + "_domain"]))


class Tokens(html.parser.HTMLParser):
    """An HTML document as html.parser reads it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []

    def handle_starttag(self, tag, attrs):
        self.out.append(("start", tag, attrs))

    def handle_endtag(self, tag):
        self.out.append(("end", tag))

    def handle_data(self, data):
        # A comment splits no text: "a<!-- -->b" reads as "ab".
        if self.out and self.out[-1][0] == "data":
            self.out[-1] = ("data", self.out[-1][1] + data)
        else:
            self.out.append(("data", data))


def tokens(doc):
    p = Tokens()
    p.feed(doc)
    p.close()
    return p.out


class MetaCharsets(html.parser.HTMLParser):
    """The charsets an HTML document's <meta> tags declare."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag != "meta":
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        if "charset" in a:
            self.found.append(a["charset"].strip())
        if a.get("http-equiv", "").lower() == "content-type":
            m = re.search(r"charset\s*=\s*([^\s;]+)", a.get("content", ""), re.I)
            if m:
                self.found.append(m.group(1))


def check_meta_charset(part):
    p = MetaCharsets()
    p.feed(part.get_content())
    p.close()
    for c in p.found:
        if c.lower() != (part.get_content_charset() or "").lower():
            fail("the HTML declares charset %r but its part is %r" % (c, part.get_content_charset()))


def main():
    if len(sys.argv) != 3:
        fail("usage: mime_check.py MESSAGE_FILE EXPECTED")
    raw = open(sys.argv[1], "rb").read()
    arg = sys.argv[2]
    exp = json.loads(arg) if arg.lstrip().startswith("{") else json.load(open(arg, encoding="utf-8"))
    check_lines(raw, exp.get("header_line_max", 78), exp.get("text_line_max", 998),
                exp.get("html_line_max", 998))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.defects:
        fail("message defects: %r" % msg.defects)
    for bad in ("Bcc", "Cc", "Resent-To", "Resent-Bcc"):
        if msg[bad] is not None:
            fail("an injected %s header: %r" % (bad, str(msg[bad])))
    if "header_names" in exp and list(msg.keys()) != exp["header_names"]:
        fail("header names %r != %r" % (list(msg.keys()), exp["header_names"]))
    if msg.get_content_type() != "multipart/alternative":
        fail("top type is %s" % msg.get_content_type())
    if msg["MIME-Version"] != "1.0":
        fail("MIME-Version is %r" % msg["MIME-Version"])
    parts = list(msg.iter_parts())
    types = [p.get_content_type() for p in parts]
    if types != ["text/plain", "text/html"]:
        fail("parts are %r" % types)
    if "subject" in exp and str(msg["Subject"]) != exp["subject"]:
        fail("subject %r != %r" % (str(msg["Subject"]), exp["subject"]))
    raw_msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    check_addr(msg, raw_msg, "From", exp)
    check_addr(msg, raw_msg, "To", exp)
    for name, value in exp.get("headers", {}).items():
        if msg[name] is None or str(msg[name]) != value:
            fail("header %s is %r, not %r" % (name, msg[name], value))
    for p, key in zip(parts, ("text", "html")):
        if p.defects:
            fail("%s part defects: %r" % (key, p.defects))
        if "charset" in exp and p.get_content_charset() != exp["charset"]:
            fail("%s charset %r != %r" % (key, p.get_content_charset(), exp["charset"]))
        if "cte" in exp and p["Content-Transfer-Encoding"] != exp["cte"]:
            fail("%s transfer encoding %r != %r" % (key, p["Content-Transfer-Encoding"], exp["cte"]))
        flowed = p.get_param("format", "").lower() == "flowed"
        if key == "text" and "flowed" in exp and flowed != exp["flowed"]:
            fail("text part format=flowed is %r, not %r" % (flowed, exp["flowed"]))
        got = norm(p.get_content())
        if flowed:
            got = unflow(got, p.get_param("delsp", "no").lower() == "yes")
        if key == "html" and exp.get("html_as_parsed"):
            got, want = tokens(got), tokens(norm(exp[key]))
            if got != want:
                fail("html differs as parsed:\n%r\n%r" % (got[:20], want[:20]))
            continue
        if key in exp and got != norm(exp[key]):
            fail("%s body differs:\n--- got (%d chars)\n%r\n--- expected (%d chars)\n%r"
                 % (key, len(got), got[:400], len(exp[key]), norm(exp[key])[:400]))
    check_meta_charset(parts[1])
    sys.exit(0)


if __name__ == "__main__":
    main()
