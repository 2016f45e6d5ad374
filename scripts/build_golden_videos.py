"""Build the short test videos of the golden event set (tests/golden/videos/*.mp4).

Every frame is a real photo: held-out *val* images of the labelled sets under ../shared/data
(the detectors are trained on the train splits), held still for tens of seconds and encoded
as small H.264 files (5 fps, CRF 30, yuv420p). A little seeded sensor noise changes each
frame so the video is not perfectly static; the scene itself never moves. The one edit is in the
``garbage_dumping*.mp4`` clips: the first part is the same real photo with the garbage pile
removed (the labelled garbage boxes, slightly dilated, filled by ``cv2.inpaint`` with the texture
of the ground just below the pile added back), the second part the original photo with the pile.

The output is deterministic (fixed noise seeds, single-threaded bit-exact x264), so running
the script again rewrites the same files. Run from the repo root:

    .venv/bin/python scripts/build_golden_videos.py [--shared ../shared] [--out tests/golden/videos]

tests/golden/golden.yaml lists the expected events; tests/golden/config.yaml the cameras.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
FPS = 5
CRF = 30
GOP = 150  # a keyframe every 30 s (x264 adds one at a scene cut)
NOISE_SIGMA = 1.5  # grey levels of per-frame Gaussian noise

# The chosen val images (looked at one by one; labels in labels/val, YOLO txt).
GARBAGE = "data/garbage-cn"  # classes: 0 garbage, 1 garbage_bin, 2 overflow
HELMET = "data/helmet-sfchd"  # classes: 0 helmet, 1 no_helmet, 2 no_wear, 3 wear
VENDOR = "data/vendor-aerial"  # class 0 street_vendor; 640x640 aerial chips
# a pile of bags against a wall on an asphalt lane; the ground below the pile is clean
DUMP_PHOTO = "00871_001989_jpg.jpg"
# overflowing green bins with a pile of garbage spilled in front, on a pavement
PRESENT_PHOTO = "00048_000120_jpg.jpg"
# a clean paved plaza with two bins at the left edge (bins only: no garbage, no overflow)
CLEAN_PHOTO = "00728_001655_jpg.jpg"
# a rebar deck on a building site: two workers in yellow helmets and orange vests
HELMETS_PHOTO = "00228_000397_jpg.jpg"
# an indoor site: four workers in helmets by a ladder, one man at the right with a bare head
BARE_HEAD_PHOTO = "00451_000720_jpg.jpg"
# four people in yellow helmets at a mine tunnel entrance
HELMETS_ONLY_PHOTO = "00509_000802_jpg.jpg"
# three vendor umbrellas on a plaza, seen from above (the un-augmented copy of the chip)
VENDOR_CHIP = "ortofoto-bogota-2021_2_chip_21_44_png.rf.5d0f230f2d7e1fd87dd4ce59b0928ce4.jpg"
# a street corner and a building roof, seen from above: no vendors (no labels)
EMPTY_CHIP = "ortofoto-bogota-2021_2_chip_24_43_png.rf.274f6ca69914311af0868639f6fae732.jpg"

# More clips per type (each a different photo or chip; looked at one by one with its labels).
# garbage, there from the start: an overflowing green bin in an alley by a red wall
PRESENT_ALLEY_PHOTO = "00198_000450_jpg.jpg"
# garbage: a big wheeled bin overflowing with bags at a street kerb
PRESENT_KERB_PHOTO = "00137_000317_jpg.jpg"
# garbage: a large heap of plastic bags on a wet pavement by a road
PRESENT_HEAP_PHOTO = "00888_002036_jpg.jpg"
# clean: four closed bins (green, blue, yellow, grey) on a pavement by a park
CLEAN_BINS_PHOTO = "00922_002096_jpg.jpg"
# clean: two closed green bins on a paved path by a flower bed
CLEAN_PATH_PHOTO = "00973_002223_jpg.jpg"
# dumping: one tied bag of garbage on hexagonal paving beside a closed street bin
DUMP_BAG_PHOTO = "00629_001418_jpg.jpg"
# dumping: a pile of bags against a tiled wall beside three small bins, on an asphalt lane
DUMP_WALL_PHOTO = "00558_001255_jpg.jpg"
# dumping: a heap of bags in a forecourt by a gate; a speed bump lies below it, so the ground
# texture is taken from a narrower band just below the pile
DUMP_GATE_PHOTO = "00889_002038_jpg.jpg"
DUMP_GATE_BAND = 32
# missing_helmet: a bridge site, four workers in white helmets and one man in glasses (centre)
# with a bare head
BRIDGE_PHOTO = "01109_part2_000013_jpg.jpg"
# missing_helmet: a workshop, two men in white helmets with certificates, a woman between them
# with a bare head
WORKSHOP_PHOTO = "01247_part2_000303_jpg.jpg"
# missing_helmet: a building site, workers in yellow and white helmets around a policeman
# (right of centre) with a bare head
POLICE_PHOTO = "00291_000487_jpg.jpg"
# missing_helmet: a site office, helmets on the table, two men with bare heads (one standing,
# one seated at the left edge)
OFFICE_PHOTO = "00187_000343_jpg.jpg"
# no missing_helmet: two masons in yellow helmets laying blocks
MASONS_PHOTO = "00365_000603_jpg.jpg"
# no missing_helmet: three workers in yellow helmets in a steel works (a welder in a mask behind)
STEEL_PHOTO = "01127_part2_000061_jpg.jpg"
# street_vending: vendor umbrellas at a street crossing in Girardot (one copy of the chip)
GIRARDOT_CHIP = "girardot_reample_chip_46_35_png.rf.41c4ab0b2da36302a8a1b7492d278e9b.jpg"
# street_vending: four vendor umbrellas in a row on a wide pavement (one copy of the chip)
SIDEWALK_CHIP = (
    "ortofoto_bogota_kennedy_2021_rgb__chip_39_29_png.rf.865f21d37cc4bd263be065404ccc3bdc.jpg"
)
# street_vending: umbrellas along a park path by a bus roof (one copy of the chip)
PARK_PATH_CHIP = "ortofoto-bogota-2021_rgb__chip_24_12_png.rf.a89891d5a03a9f7c17663362b8bfc812.jpg"
# no vendors (no labels): a road with zigzag markings, a taxi and a bus shelter
EMPTY_ROAD_CHIP = "igac_reample_chip_15_13_png.rf.d3739e6700636e15705e3b355a0b7249.jpg"
# no vendors (no labels): a paved square with a playground and benches
EMPTY_SQUARE_CHIP = (
    "ortofoto_bogota_kennedy_2021_rgb__chip_7_83_png.rf.6ccc179d6e6b366223061f422f862d0e.jpg"
)

# The noise seed of every video. The first seven are the seeds they were first built with
# (1000 + their index in name order then); a new video takes the next free seed, so adding
# one never changes the bytes of the others.
SEEDS = {
    "garbage_clean.mp4": 1000,
    "garbage_dumping.mp4": 1001,
    "garbage_present.mp4": 1002,
    "helmet_negative.mp4": 1003,
    "helmet_site.mp4": 1004,
    "vending_eagle.mp4": 1005,
    "vending_empty.mp4": 1006,
    "garbage_present_alley.mp4": 1007,
    "garbage_present_kerb.mp4": 1008,
    "garbage_present_heap.mp4": 1009,
    "garbage_clean_bins.mp4": 1010,
    "garbage_clean_path.mp4": 1011,
    "garbage_dumping_bag.mp4": 1012,
    "garbage_dumping_wall.mp4": 1013,
    "garbage_dumping_gate.mp4": 1014,
    "helmet_bridge.mp4": 1015,
    "helmet_workshop.mp4": 1016,
    "helmet_police.mp4": 1017,
    "helmet_office.mp4": 1018,
    "helmet_negative_masons.mp4": 1019,
    "helmet_negative_steel.mp4": 1020,
    "vending_girardot.mp4": 1021,
    "vending_sidewalk.mp4": 1022,
    "vending_park.mp4": 1023,
    "vending_empty_road.mp4": 1024,
    "vending_empty_square.mp4": 1025,
}


@dataclass(frozen=True)
class Segment:
    image: np.ndarray
    seconds: float


class BuildError(Exception):
    pass


def image(shared: Path, dataset: str, name: str) -> np.ndarray:
    path = shared / dataset / "images" / "val" / name
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise BuildError(f"cannot read {path}")
    return img


def boxes(shared: Path, dataset: str, name: str, classes: set[int], shape) -> list[tuple]:
    """Pixel boxes (x1, y1, x2, y2) of the given classes from the image's YOLO label file."""
    path = shared / dataset / "labels" / "val" / (Path(name).stem + ".txt")
    h, w = shape[:2]
    out = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) < 5 or int(parts[0]) not in classes:
            continue
        cx, cy, bw, bh = (float(v) for v in parts[1:5])
        out.append(
            (
                max(0, round((cx - bw / 2) * w)),
                max(0, round((cy - bh / 2) * h)),
                min(w, round((cx + bw / 2) * w)),
                min(h, round((cy + bh / 2) * h)),
            )
        )
    return out


def fit(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale to cover width x height, then centre-crop (no padding, no distortion)."""
    h, w = img.shape[:2]
    scale = max(width / w, height / h)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(img, size, interpolation=interp)
    y0, x0 = (size[1] - height) // 2, (size[0] - width) // 2
    return np.ascontiguousarray(scaled[y0 : y0 + height, x0 : x0 + width])


def remove_piles(img: np.ndarray, piles: list[tuple], margin: int = 10, band: int = 64):
    """The same photo with the pile boxes inpainted: ``cv2.inpaint`` (Telea) over the boxes
    dilated by ``margin``, smoothed, plus the fine texture of the ground in the ``band`` rows
    just below each box (mirrored to the box's height), feathered into the photo."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    for x1, y1, x2, y2 in piles:
        cv2.rectangle(mask, (x1, y1), (x2 - 1, y2 - 1), 255, -1)
    mask = cv2.dilate(mask, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    base = cv2.inpaint(img, mask, 5, cv2.INPAINT_TELEA).astype(np.float32)
    base = np.where(mask[..., None] > 0, cv2.GaussianBlur(base, (0, 0), 12), base)
    photo = img.astype(np.float32)
    detail = photo - cv2.GaussianBlur(photo, (0, 0), 4)
    texture = np.zeros_like(base)
    for x1, y1, x2, y2 in piles:
        x1, y1 = max(0, x1 - margin), max(0, y1 - margin)
        x2, y2 = min(w, x2 + margin), min(h, y2 + margin)
        rows = max(8, min(band, h - y2))
        source = detail[y2 : y2 + rows, x1:x2] if y2 + rows <= h else detail[y1 - rows : y1, x1:x2]
        tiles = [source, source[::-1]] * ((y2 - y1) // (2 * len(source)) + 1)
        texture[y1:y2, x1:x2] = np.concatenate(tiles)[: y2 - y1]
    alpha = cv2.GaussianBlur((mask > 0).astype(np.float32), (0, 0), 4)[..., None]
    return np.clip(alpha * (base + texture) + (1 - alpha) * photo, 0, 255).astype(np.uint8)


def encode(path: Path, segments: list[Segment], seed: int) -> None:
    """Write the segments as one H.264 MP4 at FPS frames/s with seeded per-frame noise."""
    height, width = segments[0].image.shape[:2]
    if width % 2 or height % 2:
        raise BuildError(f"{path.name}: frame size {width}x{height} is not even")
    if any(s.image.shape != segments[0].image.shape for s in segments):
        raise BuildError(f"{path.name}: segments differ in size")
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", str(FPS),
        "-i", "-",
        "-c:v", "libx264", "-preset", "medium", "-crf", str(CRF), "-g", str(GOP),
        "-pix_fmt", "yuv420p", "-threads", "1", "-x264-params", "threads=1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
        "-movflags", "+faststart", str(path),
    ]  # fmt: skip
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with subprocess.Popen(command, stdin=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        for segment in segments:
            still = segment.image.astype(np.int16)
            for _ in range(round(segment.seconds * FPS)):
                noise = rng.normal(0.0, NOISE_SIGMA, still.shape).round().astype(np.int16)
                proc.stdin.write(np.clip(still + noise, 0, 255).astype(np.uint8).tobytes())
        proc.stdin.close()
        if proc.wait() != 0:
            raise BuildError(f"ffmpeg failed writing {path}")


def dumping(shared: Path, name: str, clean_s: float, pile_s: float, band: int = 64):
    """The photo with its garbage piles inpainted for ``clean_s``, then as it is for ``pile_s``."""
    photo = image(shared, GARBAGE, name)
    piles = boxes(shared, GARBAGE, name, {0}, photo.shape)
    return [Segment(remove_piles(photo, piles, band=band), clean_s), Segment(photo, pile_s)]


def still(shared: Path, dataset: str, name: str, seconds: float, size=None) -> list[Segment]:
    """One photo held for ``seconds`` (fitted to ``size`` = (width, height) if given)."""
    photo = image(shared, dataset, name)
    return [Segment(fit(photo, *size) if size else photo, seconds)]


def videos(shared: Path) -> dict[str, list[Segment]]:
    dump = image(shared, GARBAGE, DUMP_PHOTO)
    piles = boxes(shared, GARBAGE, DUMP_PHOTO, {0}, dump.shape)
    helmets = fit(image(shared, HELMET, HELMETS_PHOTO), 900, 600)
    bare = fit(image(shared, HELMET, BARE_HEAD_PHOTO), 900, 600)
    more = {
        "garbage_present_alley.mp4": still(shared, GARBAGE, PRESENT_ALLEY_PHOTO, 60),
        "garbage_present_kerb.mp4": still(shared, GARBAGE, PRESENT_KERB_PHOTO, 60),
        "garbage_present_heap.mp4": still(shared, GARBAGE, PRESENT_HEAP_PHOTO, 60),
        "garbage_clean_bins.mp4": still(shared, GARBAGE, CLEAN_BINS_PHOTO, 60),
        "garbage_clean_path.mp4": still(shared, GARBAGE, CLEAN_PATH_PHOTO, 60),
        "garbage_dumping_bag.mp4": dumping(shared, DUMP_BAG_PHOTO, 40, 40),
        "garbage_dumping_wall.mp4": dumping(shared, DUMP_WALL_PHOTO, 40, 40),
        "garbage_dumping_gate.mp4": dumping(shared, DUMP_GATE_PHOTO, 40, 40, DUMP_GATE_BAND),
        "helmet_bridge.mp4": still(shared, HELMET, BRIDGE_PHOTO, 60, (960, 540)),
        "helmet_workshop.mp4": still(shared, HELMET, WORKSHOP_PHOTO, 60, (800, 600)),
        "helmet_police.mp4": still(shared, HELMET, POLICE_PHOTO, 60, (720, 480)),
        "helmet_office.mp4": still(shared, HELMET, OFFICE_PHOTO, 60, (720, 480)),
        "helmet_negative_masons.mp4": still(shared, HELMET, MASONS_PHOTO, 60, (800, 600)),
        "helmet_negative_steel.mp4": still(shared, HELMET, STEEL_PHOTO, 60, (800, 600)),
        "vending_girardot.mp4": still(shared, VENDOR, GIRARDOT_CHIP, 60),
        "vending_sidewalk.mp4": still(shared, VENDOR, SIDEWALK_CHIP, 60),
        "vending_park.mp4": still(shared, VENDOR, PARK_PATH_CHIP, 60),
        "vending_empty_road.mp4": still(shared, VENDOR, EMPTY_ROAD_CHIP, 60),
        "vending_empty_square.mp4": still(shared, VENDOR, EMPTY_SQUARE_CHIP, 60),
    }
    return more | {
        "garbage_dumping.mp4": [Segment(remove_piles(dump, piles), 40), Segment(dump, 60)],
        "garbage_present.mp4": [Segment(image(shared, GARBAGE, PRESENT_PHOTO), 90)],
        "garbage_clean.mp4": [Segment(image(shared, GARBAGE, CLEAN_PHOTO), 90)],
        "helmet_site.mp4": [Segment(helmets, 30), Segment(bare, 40)],
        "helmet_negative.mp4": [
            Segment(fit(image(shared, HELMET, HELMETS_ONLY_PHOTO), 960, 720), 60)
        ],
        "vending_eagle.mp4": [Segment(image(shared, VENDOR, VENDOR_CHIP), 120)],
        "vending_empty.mp4": [Segment(image(shared, VENDOR, EMPTY_CHIP), 120)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("STREETWATCH_SHARED", REPO.parent / "shared")),
        help="the shared data folder (default: $STREETWATCH_SHARED or ../shared)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "golden" / "videos")
    parser.add_argument("--only", nargs="*", help="build only these file names")
    args = parser.parse_args(argv)
    try:
        for name, segments in sorted(videos(args.shared).items()):
            if args.only and name not in args.only:
                continue
            if name not in SEEDS:
                raise BuildError(f"{name}: no noise seed in SEEDS (give it the next free one)")
            path = args.out / name
            encode(path, segments, seed=SEEDS[name])
            seconds = sum(s.seconds for s in segments)
            print(f"{path}: {seconds:g} s, {path.stat().st_size / 1024:.0f} KiB")
    except (BuildError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
