#!/usr/bin/python3
"""Derives a hato store's data key from a user's keyslot, with PyNaCl (not
our code), so that a test can open the database with the sqlcipher CLI as an
attacker holding the key would.

Usage: dbkey.py STORE USER PASSWORD_FILE  ->  prints the key as 64 hex digits.

The keyslot file STORE.keys has lines
  slot NAME OPS MEM SALT BOXPK SKNONCE SKWRAPPED SEALEDDK FAILS LASTFAIL LOCKED
(binary fields base64): Argon2id(password, SALT, OPS, MEM) opens SKWRAPPED
(secretbox) to an X25519 key, which opens SEALEDDK (box_seal) to the data key.
"""
import base64
import sys

import nacl.pwhash
import nacl.public
import nacl.secret


def main():
    store, user, pwfile = sys.argv[1:4]
    password = open(pwfile, "rb").read().split(b"\n")[0]
    for line in open(store + ".keys"):
        f = line.split()
        if len(f) < 9 or f[0] != "slot" or f[1] != user:
            continue
        ops, mem = int(f[2]), int(f[3])
        salt, boxpk, nonce, wrapped, sealed = (base64.b64decode(x) for x in f[4:9])
        kek = nacl.pwhash.argon2id.kdf(32, password, salt, opslimit=ops, memlimit=mem)
        sk = nacl.secret.SecretBox(kek).decrypt(wrapped, nonce)
        dk = nacl.public.SealedBox(nacl.public.PrivateKey(sk)).decrypt(sealed)
        print(dk.hex())
        return 0
    print("no keyslot for %s" % user, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
