#!/usr/bin/python3
"""What reached the test SMTP server, read with Python's email package.

Usage:
  arrived.py MAILDIR counts   "RCPT<TAB>N" per recipient, sorted
  arrived.py MAILDIR fields   per message: RCPT, MAIL FROM, Message-ID,
                              Subject (decoded), the text/plain part
                              (decoded, whitespace folded), the .eml path;
                              tab-separated

MAILDIR holds smtpd.py's NNNNNN-R.json (envelope) and NNNNNN-R.eml files.
"""
import collections
import email
import email.header
import email.policy
import glob
import json
import os
import sys


def messages(d):
    for js in sorted(glob.glob(os.path.join(d, "*.json"))):
        env = json.load(open(js))
        eml = js[:-5] + ".eml"
        yield env, eml


def main():
    d, what = sys.argv[1], sys.argv[2]
    if what == "counts":
        c = collections.Counter(env["rcpt"].lower() for env, _ in messages(d))
        for k in sorted(c):
            print("%s\t%d" % (k, c[k]))
        return 0
    for env, eml in messages(d):
        msg = email.message_from_binary_file(open(eml, "rb"), policy=email.policy.default)
        text = ""
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                text = " ".join(part.get_content().split())
                break
        print("\t".join([env["rcpt"].lower(), env["mail_from"], str(msg["Message-ID"]),
                         str(msg["Subject"]), text, eml]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
