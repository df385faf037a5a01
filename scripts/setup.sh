#!/usr/bin/env bash
# Install everything needleplan needs on a fresh Debian machine: the system libraries the napari
# GUI tests need (Xvfb, Mesa GL, the xcb libraries Qt 6 loads) and the two Python distributions.
# Idempotent: re-running it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(xvfb xauth libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libxcb-xfixes0 libxcb-shape0
  libxcb-cursor0 libdbus-1-3 libfontconfig1 fonts-dejavu-core
  orthanc orthanc-dicomweb    # a real PACS for the DICOMweb tests; the tests start their own server
  poppler-utils               # pdftotext/pdftoppm: the report tests read the PDF as a person would
  dicom3tools dcmtk             # dciodvfy checks exported SR; dcmtk's dcmdump for inspecting DICOM
  orthanc-postgresql postgresql)   # the department archive's PostgreSQL index (tests start a throw-away cluster)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # Keep package installs from starting system services (Orthanc's): the tests run their own.
  policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ "$policy_added" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check \
  -e ".[test]" -e "plugins/needleplan-napari[testing]"
