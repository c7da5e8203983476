#!/usr/bin/env python3
"""check_page.py OUT [--expect-figures N] [--expect-failed STAGE...]

Checks the page report-page wrote, OUT/index.html:
  * it parses as HTML and references nothing outside OUT (no http:, no
    absolute paths): images, links, stylesheets, scripts;
  * every referenced file exists;
  * every <img> is a valid PNG (signature, chunk CRCs, zlib stream, filter
    bytes; decoded here with the standard library) and is not blank: at
    least 0.5% of its pixels differ from the most common colour;
  * the results table has a measured number in every row (unless a stage
    is expected to have failed), and at least N figures are images;
  * no index.html.tmp is left behind.
Prints one line per image (size, share of non-background pixels).
Exit status 0 if all hold, 1 otherwise.
"""
import html.parser
import os
import struct
import sys
import zlib


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def png_pixels(path):
    """(width, height, channels, rows of bytes) of an 8-bit non-interlaced PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG signature")
    pos, idat, ihdr, seen_end = 8, b"", None, False
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError("truncated chunk header")
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc = data[pos + 8 + n:pos + 12 + n]
        if len(body) != n or len(crc) != 4:
            raise ValueError("truncated %s chunk" % kind)
        if zlib.crc32(kind + body) & 0xffffffff != struct.unpack(">I", crc)[0]:
            raise ValueError("bad CRC in %s chunk" % kind)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            seen_end = True
            break
        pos += 12 + n
    if not ihdr or not seen_end:
        raise ValueError("no IHDR or no IEND")
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or interlace:
        raise ValueError("depth %d interlace %d not handled by this checker" % (depth, interlace))
    ch = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if ch is None:
        raise ValueError("colour type %d not handled" % ctype)
    raw = zlib.decompress(idat)
    stride = w * ch
    if len(raw) != h * (stride + 1):
        raise ValueError("image data is %d bytes, expected %d" % (len(raw), h * (stride + 1)))
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ft > 4:
            raise ValueError("bad filter type %d in row %d" % (ft, y))
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, ch, rows


def png_pixels_fast(path):
    """png_pixels through Pillow when it is installed (python3-pil): same
    checks (CRCs, zlib, filters: load() decodes everything), much faster."""
    try:
        from PIL import Image
    except ImportError:
        return png_pixels(path)
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            raise ValueError("not a PNG signature")
    try:
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            im.load()
            if im.format != "PNG":
                raise ValueError("format " + str(im.format))
            if im.mode not in ("L", "LA", "RGB", "RGBA", "P"):
                raise ValueError("mode " + im.mode)
            im = im.convert("RGBA") if im.mode == "P" else im
            ch = len(im.getbands())
            w, h = im.size
            raw = im.tobytes()
    except ValueError:
        raise
    except Exception as e:   # Pillow raises OSError, SyntaxError, struct.error...
        raise ValueError(str(e))
    return w, h, ch, [raw[y * w * ch:(y + 1) * w * ch] for y in range(h)]


def nonblank_share(w, h, ch, rows):
    counts = {}
    for r in rows:
        for i in range(0, len(r), ch):
            px = r[i:i + ch]
            counts[px] = counts.get(px, 0) + 1
    top = max(counts.values())
    return 1.0 - top / float(w * h), len(counts)


class Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.links, self.other, self.tags = [], [], [], 0
        self.result_cells, self.in_results = [], False

    def handle_starttag(self, tag, attrs):
        self.tags += 1
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag in ("link", "script", "iframe", "source", "video", "audio", "object", "embed"):
            ref = a.get("href") or a.get("src") or a.get("data")
            if ref:
                self.other.append(ref)


def local(ref):
    return not (ref.startswith("#") or ref.startswith("data:"))


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    out = args[0]
    expect_figs, expect_failed = 0, []
    i = 1
    while i < len(args):
        if args[i] == "--expect-figures":
            expect_figs = int(args[i + 1])
            i += 2
        elif args[i] == "--expect-failed":
            expect_failed = args[i + 1:]
            break
        else:
            fail("unknown option " + args[i])
    page = os.path.join(out, "index.html")
    if not os.path.isfile(page):
        fail(page + " does not exist")
    if os.path.exists(page + ".tmp"):
        fail(page + ".tmp left behind")
    text = open(page, encoding="utf-8").read()
    if not text.rstrip().endswith("</html>"):
        fail("index.html does not end with </html> (half-written?)")
    p = Refs()
    p.feed(text)
    refs = [r for r in p.imgs + p.links + p.other if local(r)]
    for r in refs:
        if "://" in r or r.startswith("/") or r.startswith("//") or ".." in r.split("/"):
            fail("reference outside the page's folder: %r" % r)
        path = os.path.join(out, r.split("#")[0])
        if not os.path.isfile(path):
            fail("referenced file missing: %r" % r)
    print("%d references, all present (%d images)" % (len(refs), len(p.imgs)))
    worst = 1.0
    for src in p.imgs:
        path = os.path.join(out, src)
        try:
            w, h, ch, rows = png_pixels_fast(path)
        except (ValueError, zlib.error, struct.error) as e:
            fail("%s: not a valid PNG: %s" % (src, e))
        share, colours = nonblank_share(w, h, ch, rows)
        worst = min(worst, share)
        print("  %-45s %5dx%-5d %d channels, %6d colours, %.1f%% non-background"
              % (src, w, h, ch, colours, 100 * share))
        if share < 0.005 or colours < 2:
            fail("%s is blank (%.3f%% non-background pixels)" % (src, 100 * share))
    print("smallest non-background share: %.2f%%" % (100 * worst))
    if len(p.imgs) < expect_figs:
        fail("%d images in the page, expected at least %d" % (len(p.imgs), expect_figs))
    # Failed stages are named in the page; a complete run says so.
    for s in expect_failed:
        if "Stage <code>%s</code>" % s not in text:
            fail("the page does not report the failed stage %s" % s)
    if not expect_failed:
        if "Complete:" not in text:
            fail("the page does not say the run is complete")
        # Every row of the results table holds a number ("—" marks a missing one).
        results = text.split('id="results"', 1)[1].split("</table>", 1)[0]
        if "na\">" in results:
            fail("a measured number is missing from the results table")
    print("page OK: %s" % page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
