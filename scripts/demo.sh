#!/usr/bin/env bash
# The main job on the bundled sample: read the image's calibration, then check the reference plan
# drawn on it (a thin patient's upper trapezius, 38 mm needle), printing every finding.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="sample_dicom/upper_trapezius_thin_frame.dcm"
PLAN="sample_dicom/upper_trapezius_thin_frame.plan.json"
echo "== needleplan info $IMAGE"
needleplan info "$IMAGE"
echo
echo "== needleplan check $PLAN --image $IMAGE"
# check exits non-zero when a finding blocks the plan; the demo shows it and carries on.
needleplan check "$PLAN" --image "$IMAGE" || echo "(check exit status $?: the plan has blocking findings)"
echo
echo "== needleplan suggest $PLAN"
needleplan suggest "$PLAN" || true
