#!/usr/bin/env bash
# The main job on the bundled sample: read the image's calibration, then check the reference plan
# drawn on it (a thin patient's upper trapezius, 38 mm needle), printing every finding.
set -euo pipefail
cd "$(dirname "$0")/.."
needleplan() { "${PYTHON:-python3}" -m needleplan "$@"; }  # the interpreter `make setup` installed into
IMAGE="sample_dicom/upper_trapezius_thin_frame.dcm"
PLAN="sample_dicom/upper_trapezius_thin_frame.plan.json"
echo "== needleplan info $IMAGE"
needleplan info "$IMAGE"
echo
echo "== needleplan check $PLAN --image $IMAGE"
needleplan check "$PLAN" --image "$IMAGE"
echo
echo "== needleplan suggest $PLAN"
needleplan suggest "$PLAN"
