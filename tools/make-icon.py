#!/usr/bin/env python3
"""Draws the package icon (src/Backprop/Package/icon.png, 128x128 RGBA): a 3-4-2 network whose
edges carry a gradient colour from output back to input. Pure standard library (zlib), no PIL."""
import math, struct, sys, zlib

N = 128
img = [[(0, 0, 0, 0)] * N for _ in range(N)]

def blend(x, y, rgb, a):
    if 0 <= x < N and 0 <= y < N and a > 0:
        r0, g0, b0, a0 = img[y][x]
        a1 = a + a0 * (1 - a)
        if a1 == 0: return
        img[y][x] = tuple(int((c * a + c0 * a0 * (1 - a)) / a1) for c, c0 in zip(rgb, (r0, g0, b0))) + (a1,)

def rounded_square(radius, rgb):
    for y in range(N):
        for x in range(N):
            dx = max(radius - x, 0, x - (N - 1 - radius)); dy = max(radius - y, 0, y - (N - 1 - radius))
            d = math.hypot(dx, dy) - radius
            blend(x, y, rgb, min(1.0, max(0.0, 0.5 - d)))

def line(x0, y0, x1, y1, width, rgb):
    for y in range(N):
        for x in range(N):
            vx, vy = x1 - x0, y1 - y0
            t = max(0.0, min(1.0, ((x - x0) * vx + (y - y0) * vy) / (vx * vx + vy * vy)))
            d = math.hypot(x - (x0 + t * vx), y - (y0 + t * vy)) - width / 2
            blend(x, y, rgb, min(1.0, max(0.0, 0.5 - d)))

def disc(cx, cy, r, rgb):
    for y in range(int(cy - r - 2), int(cy + r + 3)):
        for x in range(int(cx - r - 2), int(cx + r + 3)):
            d = math.hypot(x - cx, y - cy) - r
            blend(x, y, rgb, min(1.0, max(0.0, 0.5 - d)))

rounded_square(22, (24, 32, 56))
layers = [[40, 64, 88], [28, 52, 76, 100], [52, 76]]
xs = [26, 64, 102]
colours = [(255, 140, 60), (255, 200, 80)]   # gradient flowing back: warm at the output side
for i in range(2):
    for ya in layers[i]:
        for yb in layers[i + 1]:
            line(xs[i], ya, xs[i + 1], yb, 2.2, colours[1 - i])
for i, ys in enumerate(layers):
    for y in ys:
        disc(xs[i], y, 8, (235, 240, 250))

raw = b"".join(b"\x00" + bytes(c for px in row for c in (px[0], px[1], px[2], int(px[3] * 255))) for row in img)
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
open(sys.argv[1] if len(sys.argv) > 1 else "src/Backprop/Package/icon.png", "wb").write(png)
