#!/usr/bin/env python3
"""mutate.py SEED_DIR... -o OUT -n N [-s SEED]: write N mutated copies of
the .eml files under the seed folders into OUT (flipped and deleted bytes,
spliced runs, cuts, and tokens that stress the MIME, DSN and SMTP
readers).  The same seed writes the same files, so a crash can be
reproduced."""
import argparse
import os
import random

TOKENS = [
    b"\n--", b"\r\n\r\n", b"\n\n", b"Content-Type: multipart/mixed; boundary=\"x\"\n",
    b"Content-Type: message/delivery-status\n\n", b"Content-Type: message/rfc822\n\n",
    b"Content-Transfer-Encoding: base64\n", b"Content-Transfer-Encoding: quoted-printable\n",
    b"=?utf-8?b?", b"=?iso-2022-jp?b?GyRC", b"\x1b$B", b"\\x{", b"550-5.1.1 ", b"550 ",
    b"<", b">", b"@", b"\x00", b";", b":", b"=\n", b"=", b"\xff\xfe",
    b"Final-Recipient: rfc822;", b"Action: failed\n", b"Status: 5.", b"Diagnostic-Code: smtp;",
    b"From ", b"Recipient: ", b"Address: ", b" said: ", b"(in reply to RCPT TO command)",
]


def mutate(rng, data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 24)):
        if not b:
            break
        pos = rng.randrange(len(b))
        op = rng.random()
        if op < 0.25:
            b[pos] = rng.randrange(256)
        elif op < 0.45:
            del b[pos:pos + rng.randint(1, 200)]
        elif op < 0.65:
            q = rng.randrange(len(b))
            b[pos:pos] = b[q:q + rng.randint(1, 400)]
        elif op < 0.9:
            b[pos:pos] = rng.choice(TOKENS) * rng.choice([1, 1, 1, 2, 50])
        else:
            del b[pos:]
    return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("seeds", nargs="+")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("-s", "--seed", type=int, default=1)
    a = ap.parse_args()
    files = []
    for d in a.seeds:
        for root, _, names in os.walk(d):
            files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".eml")]
    if not files:
        raise SystemExit("mutate.py: no .eml files under " + " ".join(a.seeds))
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.n):
        src = rng.choice(files)
        with open(src, "rb") as f:
            data = mutate(rng, f.read())
        with open(os.path.join(a.out, "m%05d.eml" % i), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
