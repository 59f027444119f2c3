"""Text for the compression tests (t0250, t0470): words of 2 to 9 letters
drawn once, then strung together, so that deflate finds matches near and
far (some across a block boundary). Deterministic for a given random.Random.

    import random, gztext
    text = gztext.Text(random.Random(250))
    data = text(100000)        # 100000 bytes of words, spaces and newlines
"""


class Text:
    def __init__(self, r):
        self.r = r
        self.words = [bytes(r.choice(b"abcdefghijklmnopqrstuvwxyz")
                            for _ in range(r.randrange(2, 10)))
                      for _ in range(600)]

    def __call__(self, n):
        out = bytearray()
        while len(out) < n:
            out += self.r.choice(self.words) + (b"\n" if self.r.randrange(12) == 0 else b" ")
        return bytes(out[:n])
