#!/usr/bin/env python3
"""Writes the PNG/JPEG decoder fixtures and the preprocessing oracle, once, with Pillow + numpy.

    pip install pillow numpy   # Pillow 13.0.0 / libjpeg-turbo and numpy 2.4.6 were used
    python3 benchmarks/tools/make_image_fixtures.py [scikit-image wheel or data dir]

For every image NAME.png / NAME.jpg it writes NAME.ppm (or NAME.pgm): the pixels Pillow gives for
ImageOps.exif_transpose(Image.open(NAME)).convert("RGB") (grey files: mode L kept, as P5).
16-bit grey PNGs open in Pillow as mode I;16, whose convert("RGB") clips at 255 instead of scaling;
for those the expected pixels are the high byte (value >> 8), which is what Pillow does for 16-bit
RGB, RGBA and LA and what the Swift decoder does for every 16-bit file.

PNGs are written by the small encoder below (not Pillow's) so that every colour type, bit depth,
filter type, Adam7 and split IDAT chunks appear; JPEGs are written by Pillow (libjpeg-turbo) and,
when `cjpeg` is on PATH, by cjpeg for sampling factors Pillow cannot choose.

The preprocessing oracle follows torchvision's Resize(256) + CenterCrop(224) + ToTensor +
Normalize on PIL images, written out with Pillow + numpy (torchvision's PIL path calls
Image.resize with the same sizes and crop offsets).
"""
import io, os, struct, subprocess, sys, shutil, zlib, zipfile
import numpy as np
from PIL import Image, ImageOps

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "GlassboxDataTests", "Fixtures", "images")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(17)


def scene(w, h, channels=3, seed=0):
    """A deterministic test picture: gradients, a disc, stripes and noise (0…1 floats)."""
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        g = (x / max(w - 1, 1)) * (0.3 + 0.3 * c) + (y / max(h - 1, 1)) * (0.6 - 0.2 * c)
        disc = ((x - w * 0.6) ** 2 + (y - h * 0.4) ** 2) < (min(w, h) * 0.3) ** 2
        stripes = ((x + 2 * y + 3 * c) // 3) % 2
        p = 0.5 * g + 0.3 * disc + 0.1 * stripes + 0.1 * r.random((h, w))
        planes.append(np.clip(p, 0, 1))
    return np.stack(planes, -1)


# ---------------------------------------------------------------- PNG encoder
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """samples: 1-D int array of one row's samples → bytes."""
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    if depth == 16:
        return samples.astype(">u2").tobytes()
    per = 8 // depth
    out = bytearray((len(samples) * depth + 7) // 8)
    for i, v in enumerate(samples):
        out[i // per] |= int(v) << (8 - depth - (i % per) * depth)
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_row(kind, row, prev, bpp):
    out = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out[i] = (row[i] - pred) & 0xFF
    return bytes([kind]) + bytes(out)


def write_png(name, samples, depth, colour, interlace=False, palette=None, trns=None, exif=None, idat_split=None):
    """samples: int array [h, w, spp] of file samples (indices for palette images)."""
    h, w, spp = samples.shape
    bpp = max(1, spp * depth // 8)
    raw = bytearray()
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] if interlace else [(0, 0, 1, 1)]
    n = 0
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        prev = bytes((sub.shape[1] * spp * depth + 7) // 8)
        for row in sub:
            packed = pack_row(row.reshape(-1), depth)
            raw += filter_row(n % 5, packed, prev, bpp)  # every filter type in turn
            prev = packed
            n += 1
    z = zlib.compress(bytes(raw), 9)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 1 if interlace else 0))
    if exif is not None:
        out += png_chunk(b"eXIf", exif)
    if palette is not None:
        out += png_chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += png_chunk(b"tRNS", trns)
    step = idat_split or len(z)
    for i in range(0, len(z), step):
        out += png_chunk(b"IDAT", z[i:i + step])
    out += png_chunk(b"IEND", b"")
    path = os.path.join(OUT, name + ".png")
    open(path, "wb").write(out)
    return path


def expected(path, name):
    im = ImageOps.exif_transpose(Image.open(path))
    if im.mode in ("I", "I;16", "I;16B"):
        arr = (np.array(im).astype(np.int64) >> 8).astype(np.uint8)
        Image.fromarray(arr, "L").save(os.path.join(OUT, name + ".pgm"))
        return "L"
    mode = im.mode
    if mode in ("L", "1", "LA"):
        im.convert("L").save(os.path.join(OUT, name + ".pgm"))
    else:
        im.convert("RGB").save(os.path.join(OUT, name + ".ppm"))
    return mode


def quantise(img, depth):
    return np.round(img * ((1 << depth) - 1)).astype(np.int64)


manifest = []


def png_case(name, w, h, depth, colour, **kw):
    spp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    palette = None
    if colour == 3:
        entries = 1 << depth
        palette = (rng.integers(0, 256, size=(entries, 3))).reshape(-1).tolist()
        if kw.pop("short_palette", False):
            palette = palette[: 3 * max(1, entries // 2)]
        samples = (quantise(scene(w, h, 1, seed=len(manifest))[..., :1], depth))
    else:
        samples = quantise(scene(w, h, spp, seed=len(manifest)), depth)
    path = write_png(name, samples, depth, colour, palette=palette, **kw)
    manifest.append((name + ".png", expected(path, name)))


for d in (1, 2, 4, 8, 16):
    png_case(f"png_grey{d}", 13, 11, d, 0)
for d in (1, 2, 4, 8):
    png_case(f"png_palette{d}", 11, 9, d, 3)
png_case("png_rgb8", 17, 9, 8, 2, idat_split=37)
png_case("png_rgb16", 11, 7, 16, 2)
png_case("png_greyalpha8", 9, 7, 8, 4)
png_case("png_greyalpha16", 9, 7, 16, 4)
png_case("png_rgba8", 13, 9, 8, 6)
png_case("png_rgba16", 9, 7, 16, 6)
png_case("png_grey8_trns", 9, 7, 8, 0, trns=struct.pack(">H", 128))
png_case("png_rgb8_trns", 9, 7, 8, 2, trns=struct.pack(">HHH", 10, 20, 30))
png_case("png_palette4_trns", 9, 7, 4, 3, trns=bytes([0, 128, 255]))
png_case("png_palette2_short", 9, 7, 2, 3, short_palette=True)
png_case("png_adam7_grey1", 13, 11, 1, 0, interlace=True)
png_case("png_adam7_grey2", 10, 9, 2, 0, interlace=True)
png_case("png_adam7_palette4", 11, 13, 4, 3, interlace=True)
png_case("png_adam7_rgb8", 17, 11, 8, 2, interlace=True, idat_split=50)
png_case("png_adam7_rgba16", 9, 10, 16, 6, interlace=True)
png_case("png_adam7_greyalpha8", 3, 5, 8, 4, interlace=True)
png_case("png_adam7_1x1", 1, 1, 8, 2, interlace=True)
tiff = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01" + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + b"\x00\x00\x00\x00"
png_case("png_exif6", 7, 5, 8, 2, exif=tiff)

# ---------------------------------------------------------------- JPEG
def to_pil(img):
    a = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
    return Image.fromarray(a[..., 0], "L") if a.shape[2] == 1 else Image.fromarray(a, "RGB")


def jpeg_case(name, w, h, grey=False, **kw):
    im = to_pil(scene(w, h, 1 if grey else 3, seed=len(manifest)))
    if kw.pop("cmyk", False):
        im = im.convert("CMYK")
    path = os.path.join(OUT, name + ".jpg")
    im.save(path, "JPEG", **kw)
    manifest.append((name + ".jpg", expected(path, name)))


jpeg_case("jpeg_444", 37, 23, quality=90, subsampling=0)
jpeg_case("jpeg_422", 37, 23, quality=90, subsampling=1)
jpeg_case("jpeg_420", 37, 23, quality=85, subsampling=2)
jpeg_case("jpeg_420_q50_optimized", 33, 19, quality=50, subsampling=2, optimize=True)
jpeg_case("jpeg_grey", 29, 21, grey=True, quality=90)
jpeg_case("jpeg_progressive_420", 37, 23, quality=85, subsampling=2, progressive=True)
jpeg_case("jpeg_progressive_444", 27, 17, quality=95, subsampling=0, progressive=True)
jpeg_case("jpeg_progressive_grey", 23, 19, grey=True, quality=80, progressive=True)
jpeg_case("jpeg_restart_420", 41, 25, quality=85, subsampling=2, restart_marker_blocks=2)
jpeg_case("jpeg_restart_progressive", 35, 21, quality=85, subsampling=2, progressive=True, restart_marker_blocks=3)
jpeg_case("jpeg_tiny_1x1", 1, 1, quality=90, subsampling=2)
jpeg_case("jpeg_narrow_420", 4, 9, quality=90, subsampling=2)
jpeg_case("jpeg_narrow_422", 3, 5, quality=90, subsampling=1)
jpeg_case("jpeg_cmyk", 15, 11, quality=90, cmyk=True)
for o in range(1, 9):
    ex = Image.Exif()
    ex[0x0112] = o
    jpeg_case(f"jpeg_exif{o}", 11, 7, quality=90, subsampling=2, exif=ex.tobytes())

cjpeg = shutil.which("cjpeg")
if cjpeg:
    for name, args in [("jpeg_cjpeg_440", ["-sample", "1x2,1x1,1x1"]), ("jpeg_cjpeg_411", ["-sample", "4x1,1x1,1x1"]),
                       ("jpeg_cjpeg_h2v2_h1v2", ["-sample", "2x2,1x2,1x1"]), ("jpeg_cjpeg_rgb", ["-rgb"]),
                       ("jpeg_cjpeg_restart_rows", ["-restart", "1", "-sample", "2x2,1x1,1x1"]),
                       ("jpeg_cjpeg_arithmetic", ["-arithmetic"])]:
        ppm = io.BytesIO()
        to_pil(scene(27, 19, 3, seed=len(manifest))).save(ppm, "PPM")
        data = subprocess.run([cjpeg, "-quality", "88"] + args, input=ppm.getvalue(), capture_output=True, check=True).stdout
        path = os.path.join(OUT, name + ".jpg")
        open(path, "wb").write(data)
        if "arithmetic" in name:
            continue  # an error case: Pillow decodes it, the Swift decoder refuses it
        manifest.append((name + ".jpg", expected(path, name)))

with open(os.path.join(OUT, "manifest.txt"), "w") as f:
    for name, mode in manifest:
        f.write(f"{name} {mode}\n")
print(f"{len(manifest)} decoder fixtures in {os.path.normpath(OUT)}")

# ---------------------------------------------------------------- preprocessing oracle
def photos(source):
    """skimage's chelsea (451×300) and coffee (600×400) photos from its wheel or data directory."""
    names = ["chelsea.png", "coffee.png"]
    if source and source.endswith(".whl"):
        z = zipfile.ZipFile(source)
        return {n: Image.open(io.BytesIO(z.read(f"skimage/data/{n}"))).convert("RGB") for n in names}
    if source:
        return {n: Image.open(os.path.join(source, n)).convert("RGB") for n in names}
    return {}


def torchvision_like(im, resize, crop, resample, scale, mean, std, bgr=False):
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = resize, int(resize * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    if (nw, nh) != (w, h):
        im = im.resize((nw, nh), resample)
    ch, cw = crop
    top, left = int(round((nh - ch) / 2.0)), int(round((nw - cw) / 2.0))
    im = im.crop((left, top, left + cw, top + ch))
    a = np.asarray(im, dtype=np.float32)
    if bgr:
        a = a[..., ::-1]
    a = a / np.float32(scale)
    a = (a - np.array(mean, np.float32)) / np.array(std, np.float32)
    return a.transpose(2, 0, 1).astype(np.float32)


source = sys.argv[1] if len(sys.argv) > 1 else None
ph = photos(source)
if ph:
    imagenet = dict(scale=255, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    lite = dict(scale=1, mean=[127, 127, 127], std=[128, 128, 128])
    cases = [("chelsea", "chelsea.png", 256, (224, 224), Image.BILINEAR, imagenet, False),
             ("coffee", "coffee.png", 256, (224, 224), Image.BILINEAR, imagenet, False),
             ("chelsea_bicubic", "chelsea.png", 232, (224, 224), Image.BICUBIC, imagenet, False),
             ("coffee_lite_bgr", "coffee.png", 256, (224, 224), Image.BILINEAR, lite, True),
             ("chelsea_up", "chelsea.png", 320, (300, 288), Image.BICUBIC, imagenet, False)]
    for stem, src in [("chelsea", "chelsea.png"), ("coffee", "coffee.png")]:
        ph[src].save(os.path.join(OUT, f"photo_{stem}.jpg"), "JPEG", quality=70, subsampling=2)
    lines = []
    for name, src, resize, crop, resample, norm, bgr in cases:
        im = Image.open(os.path.join(OUT, f"photo_{src.split('.')[0]}.jpg")).convert("RGB")
        t = torchvision_like(im, resize, crop, resample, bgr=bgr, **norm)
        rows = [0, crop[0] // 2, crop[0] - 1]
        np.save(os.path.join(OUT, f"pre_{name}_rows.npy"), t[:, rows, :].astype(np.float32))
        sums = [float(t[c].astype(np.float64).sum()) for c in range(3)]
        sq = [float((t[c].astype(np.float64) ** 2).sum()) for c in range(3)]
        lines.append(" ".join([name, f"photo_{src.split('.')[0]}.jpg", str(resize), f"{crop[0]}x{crop[1]}",
                               "bicubic" if resample == Image.BICUBIC else "bilinear", str(norm["scale"]),
                               ",".join(map(str, norm["mean"])), ",".join(map(str, norm["std"])), "BGR" if bgr else "RGB",
                               ",".join(map(str, rows)), ",".join(f"{s:.6f}" for s in sums), ",".join(f"{s:.6f}" for s in sq)]))
    open(os.path.join(OUT, "preprocessing.txt"), "w").write("\n".join(lines) + "\n")
    print(f"{len(cases)} preprocessing cases")
