"""corpus.py - the benchmark inputs' one way to read the shared corpus."""
import os


def load_messages(corpus):
    """Every *.eml under corpus (recursively, sorted by path), as bytes,
    without a leading mbox "From " line; [] when there is none."""
    files = []
    for root, _, names in os.walk(corpus):
        files += [os.path.join(root, n) for n in names if n.endswith('.eml')]
    files.sort()
    msgs = []
    for f in files:
        with open(f, 'rb') as fh:
            data = fh.read()
        if data.startswith(b'From '):
            data = data.split(b'\n', 1)[1] if b'\n' in data else b''
        msgs.append(data)
    return msgs
