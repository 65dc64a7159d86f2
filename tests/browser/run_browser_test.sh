#!/usr/bin/env bash
# Real-browser test of the explorer (Voila + headless Chromium), a separate command from `pytest`.
# Needs: apt-get install -y chromium chromium-driver (as root), and the project venv active.
# Optional: EXPLORER_CHECKPOINT=/path/checkpoint.pt to serve Res2NetFuse instead of DenseFuse;
#           EXPLORER_SCREENSHOT=path.png (default results/explorer/screenshot.png).
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_WAIT_POLICY=PASSIVE MPLBACKEND=Agg
exec python -m pytest tests/browser -q -s -p no:cacheprovider -rs "$@"
