#!/usr/bin/python3
"""A real SMTP server for hato's tests, on aiosmtpd (Debian's python3-aiosmtpd).

Run it with /usr/bin/python3. It listens on 127.0.0.1 and prints
"READY <port>" on stdout once it accepts connections (--port 0 picks a free
port). SIGTERM or SIGINT stops it, and so does the death of its parent.

Options
  --port N           port to listen on (0: a free one)
  --cert F --key F   offer STARTTLS with this certificate, and require it
                     before AUTH and MAIL
  --implicit-tls     TLS from the first byte (smtps) with --cert/--key
  --no-starttls      never offer STARTTLS (even with --cert)
  --pipelining       list PIPELINING (RFC 2920) in the EHLO reply; aiosmtpd
                     reads commands in order, so it serves a pipelining
                     client as such
  --auth USER:PASS   require AUTH PLAIN/LOGIN (only accepted over TLS when
                     the server has TLS) before MAIL
  --maildir DIR      write each message once per recipient as
                     DIR/NNNNNN-R.eml (the bytes received, dot-unstuffed)
                     and its envelope (MAIL FROM and its options, RCPT,
                     RCPT's path as written (rcpt_raw), session, TLS) as
                     DIR/NNNNNN-R.json
  --stats FILE       JSON, rewritten after every event: sessions, tls
                     sessions, auth successes/failures, MAIL FROM count,
                     messages accepted, and messages per session

Behaviour by the recipient's local part
  defer*      451 4.3.0 at RCPT
  greylist*   451 4.7.1 at RCPT the first time an address is seen, then
              accepted (greylisting: a retry gets through)
  fail*       550 5.1.1 at RCPT
  unauth*     550-5.7.26 at RCPT, Gmail's reply to mail neither SPF nor DKIM
              authenticates, on two lines
  reject*     550 5.1.1 at RCPT quoting the address, as Postfix does
  latedefer*  451 4.3.0 after the data (end of DATA)
  latefail*   554 5.7.1 after the data
  drop*       the connection is closed after the data, before any reply
  slow*       the reply to RCPT comes half a second late; what follows
              "slow" is then read as above (slowfail: 550 half a second late)
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Stats:
    def __init__(self, path):
        self.path = path
        self.sessions = 0
        self.tls_sessions = 0
        self.auth_ok = 0
        self.auth_failed = 0
        self.mail_from = 0
        self.messages = 0
        self.per_session = []
        self.write()

    def write(self):
        if not self.path:
            return
        doc = {
            "sessions": self.sessions,
            "tls_sessions": self.tls_sessions,
            "auth_ok": self.auth_ok,
            "auth_failed": self.auth_failed,
            "mail_from": self.mail_from,
            "messages": self.messages,
            "per_session": self.per_session,
        }
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, self.path)


def local_part(addr):
    return addr.rsplit("@", 1)[0].strip('"').lower()


class Handler:
    def __init__(self, args, stats):
        self.pipelining = args.pipelining
        self.maildir = args.maildir
        self.stats = stats
        self.count = 0
        self.greylisted = set()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.stats.mail_from += 1
        self.stats.write()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        lp = local_part(address)
        if lp.startswith("slow"):
            await asyncio.sleep(0.5)
            lp = lp[len("slow"):]
        if lp.startswith("defer"):
            return "451 4.3.0 try later"
        if lp.startswith("greylist") and lp not in self.greylisted:
            self.greylisted.add(lp)
            return "451 4.7.1 greylisted, try again later"
        if lp.startswith("reject"):
            return ("550 5.1.1 <%s>: Recipient address rejected: "
                    "User unknown in local recipient table" % address)
        if lp.startswith("fail"):
            return "550 5.1.1 no such user"
        if lp.startswith("unauth"):
            return ("550-5.7.26 This mail is unauthenticated, which poses a security risk\r\n"
                    "550 5.7.26 to the sender and Gmail users.")
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        if not hasattr(envelope, "hato_rcpt_raw"):
            envelope.hato_rcpt_raw = []
        envelope.hato_rcpt_raw.append(getattr(session, "hato_rcpt_raw", address))
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        lps = [local_part(r) for r in envelope.rcpt_tos]
        if any(lp.startswith("drop") for lp in lps):
            server.transport.abort()
            return "421 4.3.0 dropped"
        if any(lp.startswith("latedefer") for lp in lps):
            return "451 4.3.0 try later"
        if any(lp.startswith("latefail") for lp in lps):
            return "554 5.7.1 rejected after data"
        self.count += 1
        n = self.count
        if self.maildir:
            for i, rcpt in enumerate(envelope.rcpt_tos):
                base = os.path.join(self.maildir, "%06d-%d" % (n, i))
                with open(base + ".json", "w") as f:
                    json.dump({"mail_from": envelope.mail_from, "rcpt": rcpt,
                               "rcpt_raw": envelope.hato_rcpt_raw[i],
                               "mail_options": envelope.mail_options,
                               "session": session.hato_id,
                               "tls": session.ssl is not None}, f)
                with open(base + ".eml.tmp", "wb") as f:
                    f.write(envelope.original_content)
                os.replace(base + ".eml.tmp", base + ".eml")
        self.stats.messages += 1
        self.stats.per_session[session.hato_id - 1] += 1
        self.stats.write()
        return "250 2.0.0 Ok: queued as %06d" % n


class CountingSMTP(SMTP):
    """Counts sessions (a STARTTLS upgrade is not a new session)."""

    def __init__(self, stats, implicit_tls, *a, **kw):
        self.hato_stats = stats
        self.hato_implicit = implicit_tls
        super().__init__(*a, **kw)

    async def smtp_RCPT(self, arg):
        # The path as the client wrote it, between < and >: aiosmtpd hands
        # the handler the address parsed, with a quoted local part unquoted
        # where it need not be.
        raw = arg or ""
        lt, gt = raw.find("<"), raw.find(">")
        self.session.hato_rcpt_raw = raw[lt + 1:gt] if 0 <= lt < gt else raw
        await super().smtp_RCPT(arg)

    def connection_made(self, transport):
        upgraded = self._original_transport is not None
        super().connection_made(transport)
        st = self.hato_stats
        if upgraded:
            st.tls_sessions += 1
            self.session.hato_id = self.hato_id
        else:
            st.sessions += 1
            st.per_session.append(0)
            self.hato_id = st.sessions
            self.session.hato_id = self.hato_id
            if self.hato_implicit:
                st.tls_sessions += 1
        st.write()


def make_authenticator(userpass, stats):
    user, _, password = userpass.partition(":")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        if ok:
            stats.auth_ok += 1
        else:
            stats.auth_failed += 1
        stats.write()
        # handled=False: aiosmtpd answers 535 itself on failure.
        return AuthResult(success=ok, handled=False)

    return authenticator


async def serve(args):
    stats = Stats(args.stats)
    handler = Handler(args, stats)
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    kw = {"hostname": "hato-test.localhost", "ident": "hato test smtpd"}
    if ctx and not args.implicit_tls and not args.no_starttls:
        kw["tls_context"] = ctx
        kw["require_starttls"] = True
    if args.auth:
        kw["authenticator"] = make_authenticator(args.auth, stats)
        kw["auth_required"] = True
        # With STARTTLS, AUTH only after it; a cleartext test server accepts
        # it, and so does an implicit-TLS one (aiosmtpd counts only STARTTLS
        # as TLS, but every byte of an smtps session is encrypted).
        kw["auth_require_tls"] = bool(ctx) and not args.implicit_tls
    implicit = bool(ctx and args.implicit_tls)

    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    server = await loop.create_server(
        lambda: CountingSMTP(stats, implicit, handler, loop=loop, **kw),
        sock=sock, ssl=ctx if implicit else None, backlog=128)
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
    print("READY %d" % sock.getsockname()[1], flush=True)
    # A test that dies without stopping us must not leave us behind.
    parent = os.getppid()
    while not stop.done():
        await asyncio.wait([stop], timeout=1)
        if os.getppid() != parent:
            break
    server.close()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--no-starttls", action="store_true")
    p.add_argument("--pipelining", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--maildir")
    p.add_argument("--stats")
    args = p.parse_args()
    if bool(args.cert) != bool(args.key):
        p.error("--cert and --key go together")
    if args.implicit_tls and not args.cert:
        p.error("--implicit-tls needs --cert and --key")
    if args.maildir:
        os.makedirs(args.maildir, exist_ok=True)
    import logging
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # aiosmtpd logs a traceback for every refused TLS handshake (which the
    # tests provoke) and a deprecation note per AUTH: keep stderr quiet.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    import warnings
    warnings.simplefilter("ignore")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
