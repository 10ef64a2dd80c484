"""A small image folder and Pillow's decode of fixed crops of it, the reference for harness/data/images/.

tests/test_image_folder.cpp runs this script and checks semharness's decoder against its output. It writes
into --out:
  train/CLASS/*.JPEG and val/CLASS/*.JPEG: 3 classes of odd-sized images (4:2:0, 4:4:4 and progressive
  JPEGs, a greyscale JPEG, a CMYK JPEG, a PNG named .JPEG), plus a notes.txt the reader must skip;
  cases.json: for each case the file, the crop box of the original image (left, top, right, bottom), the
  output side, the filter, the flip, the decode scale and case_<k>.rgb, Pillow's pixels (out x out x 3, RGB
  interleaved): Image.open, draft("RGB", size / scale) when scale > 1 (libjpeg's DCT scaling, as the harness
  decodes), convert("RGB"), resize((out, out), filter, box / scale), mirrored when flip.
"""
import argparse
import json
import os

import numpy as np
from PIL import Image, ImageOps


def smooth_image(height, width, seed):
    """Smooth colour gradients with some texture: what JPEG compresses the way photos compress."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    channels = []
    for c in range(3):
        fy, fx, phase = rng.uniform(0.005, 0.05), rng.uniform(0.005, 0.05), rng.uniform(0, 6.3)
        wave = np.sin(fy * y * (c + 1) + fx * x + phase) * 0.5 + 0.5
        channels.append(wave * 200 + rng.normal(0, 12, size=(height, width)) + 20)
    return Image.fromarray(np.clip(np.stack(channels, -1), 0, 255).astype(np.uint8), "RGB")


def write_folder(out):
    files = {}
    specs = {
        "train/n01/a.JPEG": (333, 517, dict(quality=90, subsampling=2)),  # 4:2:0
        "train/n01/b.JPEG": (1000, 750, dict(quality=85, subsampling=0)),  # 4:4:4, large enough for 1/8
        "train/n02/c.JPEG": (217, 301, dict(quality=80, progressive=True)),
        "train/n02/gray.JPEG": (250, 180, "L"),
        "train/n03/cmyk.JPEG": (240, 320, "CMYK"),
        "train/n03/png_named.JPEG": (150, 203, "PNG"),
        "val/n01/v1.JPEG": (375, 500, dict(quality=90)),
        "val/n02/v2.JPEG": (500, 375, dict(quality=90)),
        "val/n03/v3.JPEG": (300, 300, dict(quality=90)),
    }
    for seed, (name, (height, width, how)) in enumerate(sorted(specs.items())):
        path = os.path.join(out, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        image = smooth_image(height, width, seed)
        if how == "L":
            image.convert("L").save(path, "JPEG", quality=90)
        elif how == "CMYK":
            image.convert("CMYK").save(path, "JPEG", quality=90)
        elif how == "PNG":
            image.save(path, "PNG")
        else:
            image.save(path, "JPEG", **how)
        files[name] = (height, width)
    with open(os.path.join(out, "train", "n01", "notes.txt"), "w") as notes:
        notes.write("not an image\n")
    return files


def decode_scale(box, out, is_jpeg):
    """harness/data/images/crop_sampler.h decode_scale_for: the largest of 8, 4, 2 whose scaled box keeps at
    least out pixels on its shorter side; 1 otherwise and for PNG."""
    shorter = min(box[2] - box[0], box[3] - box[1])
    if is_jpeg:
        for scale in (8, 4, 2):
            if shorter >= out * scale:
                return scale
    return 1


def pillow_view(path, box, out, resample, flip, scale):
    image = Image.open(path)
    if scale > 1:
        image.draft("RGB", (image.size[0] // scale, image.size[1] // scale))
    image = image.convert("RGB")
    view = image.resize((out, out), resample, box=tuple(v / scale for v in box))
    return ImageOps.mirror(view) if flip else view


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    files = write_folder(args.out)
    filters = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}
    cases = []
    for name, (height, width) in sorted(files.items()):
        path = os.path.join(args.out, name)
        is_jpeg = open(path, "rb").read(3) == b"\xff\xd8\xff"
        boxes = [
            (0, 0, width, height, 32, "bicubic", False),  # the whole image
            (width // 7, height // 5, width // 7 + width // 2, height // 5 + height // 3, 24, "bicubic", True),
            (width - 40, height - 33, width, height, 24, "bicubic", False),  # the bottom right corner
            (3, 5, 3 + min(width, height) // 3, 5 + min(width, height) // 3, 16, "bilinear", False),
            (10.5, 7.25, width - 12.75, height - 3.5, 20, "bilinear", True),  # fractional, as eval boxes are
        ]
        for left, top, right, bottom, out, filter_name, flip in boxes:
            box = (left, top, right, bottom)
            scale = decode_scale(box, out, is_jpeg)
            view = pillow_view(path, box, out, filters[filter_name], flip, scale)
            k = len(cases)
            np.asarray(view, dtype=np.uint8).tofile(os.path.join(args.out, f"case_{k}.rgb"))
            cases.append(dict(file=name, box=list(box), out=out, filter=filter_name, flip=flip, scale=scale,
                              pixels=f"case_{k}.rgb", height=height, width=width))
    with open(os.path.join(args.out, "cases.json"), "w") as handle:
        json.dump(cases, handle, indent=1)


if __name__ == "__main__":
    main()
