"""Tooling that runs beside the content pack: catalog generator and content loader.

The content itself (what Panther runs) lives in rules/, global_helpers/, queries/,
data_models/ and packs/; nothing there imports this package.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
