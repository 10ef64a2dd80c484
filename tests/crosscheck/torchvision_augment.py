"""Reference numbers for semharness's augmentation ops (harness/data/augment_ops.h), computed by torchvision.

tests/test_augment_ops.cpp runs this script and checks each op against its output. It writes into --out:
  image_rgb.npy [3, 32, 32] and image_gray.npy [1, 28, 28], two fixed test images in [0, 1];
  case_<k>.npy, the output of one op with fixed parameters, and cases.json naming each case's image, op and
  parameters;
  boxes_<name>.npy [draws, 4] (top, left, height, width) of RandomResizedCrop.get_params drawn `draws` times,
  and boxes.json with the image size and scale range of each draw set.
"""
import argparse
import json
import os
import warnings

import numpy as np
import torch

warnings.simplefilter("ignore")
from torchvision.transforms import InterpolationMode, RandomResizedCrop  # noqa: E402
from torchvision.transforms import functional as F  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--draws", type=int, default=50000)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    def save(name, tensor):
        np.save(os.path.join(args.out, name + ".npy"), tensor.detach().numpy().astype(np.float32))

    generator = torch.Generator().manual_seed(0)
    images = {"rgb": torch.rand(3, 32, 32, generator=generator), "gray": torch.rand(1, 28, 28, generator=generator)}
    for name, image in images.items():
        save("image_" + name, image)

    cases = []

    def case(image, op, params, output):
        name = "case_{}".format(len(cases))
        save(name, output)
        cases.append({"file": name + ".npy", "image": image, "op": op, "params": params})

    for image_name, image in images.items():
        for factor in (0.6, 1.37):
            case(image_name, "brightness", [factor], F.adjust_brightness(image, factor))
        for factor in (0.5, 1.8):
            case(image_name, "contrast", [factor], F.adjust_contrast(image, factor))
        for factor in (0.2, 1.6):
            case(image_name, "saturation", [factor], F.adjust_saturation(image, factor))
        for shift in (-0.5, -0.1, 0.2, 0.45):
            case(image_name, "hue", [shift], F.adjust_hue(image, shift))
        case(image_name, "grayscale", [], F.rgb_to_grayscale(image))
        case(image_name, "solarize", [], F.solarize(image, 0.5))
        case(image_name, "flip", [], F.hflip(image))
        size = image.shape[-1]
        boxes = [(0, 0, size, size, size, size), (3, 5, 20, 11, size, size), (10, 0, 7, size - 2, size, size),
                 (5, 6, 16, 16, size, size), (1, 2, 1, 1, size, size), (0, 0, size, size, 16, 16),
                 (2, 3, size - 2, size - 7, 20, 12)]
        for top, left, height, width, out_h, out_w in boxes:
            output = F.resized_crop(image, top, left, height, width, [out_h, out_w],
                                    interpolation=InterpolationMode.BICUBIC, antialias=True)
            case(image_name, "resized_crop", [top, left, height, width, out_h, out_w], output)
        # ColorJitter with a fixed order (0 brightness, 1 contrast, 2 saturation, 3 hue) and fixed factors.
        for order, factors in (([3, 1, 0, 2], [1.2, 0.7, 1.5, 0.1]), ([0, 2, 3, 1], [0.8, 1.3, 0.4, -0.25])):
            output = image
            for op in order:
                output = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue][op](
                    output, factors[op])
            case(image_name, "color_jitter", order + factors, output)

    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)

    torch.manual_seed(1)
    draw_sets = {"cifar": (32, 32, 0.08), "fmnist_vicreg": (28, 28, 0.2), "wide": (20, 40, 0.08)}
    for name, (height, width, min_scale) in draw_sets.items():
        image = torch.empty(1, height, width)
        boxes = [RandomResizedCrop.get_params(image, [min_scale, 1.0], [3.0 / 4.0, 4.0 / 3.0])
                 for _ in range(args.draws)]
        np.save(os.path.join(args.out, "boxes_" + name + ".npy"), np.array(boxes, dtype=np.float32))
    with open(os.path.join(args.out, "boxes.json"), "w") as f:
        json.dump([{"name": n, "height": h, "width": w, "min_scale": s} for n, (h, w, s) in draw_sets.items()], f)


if __name__ == "__main__":
    main()
